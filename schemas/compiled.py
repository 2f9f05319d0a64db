"""Avro binary encoders and decoders generated per schema, for the codec's hot path.

Why this exists: fastavro picks the branch of every union by validating the value
against each branch in turn, and a typical event has dozens of ``["null", T]``
fields, so encoding ran at about 25,000 records/s. Here a schema is turned, once,
into the source of two straight-line Python functions that write and read its
fields in order and take a union's branch from the *schema* (for ``["null", T]``:
``None`` is branch 0, anything else branch 1). ``schemas.codec`` runs that source
with the primitives it calls. The bytes and records are the same as fastavro's,
which ``tests/unit/test_codec_compiled.py`` proves for every example event.

A decoder may also be generated with some top-level fields left *raw*: walked over
without being decoded (so their text is not checked as UTF-8 then), and returned as
``_Raw(their Avro bytes, a reader of them, their name)`` (``schemas.codec.RawField``).
A consumer that only compares such a field, as a key, decodes it only for the values
it has not seen before.

What is not handled here is left to fastavro: a schema using something this
module does not know does not compile (``Unsupported``), and the generated
encoder raises on any value it does not take exactly as it is (an int in a
double field, a naive datetime, a union of more than null and one type, ...),
after which the codec has fastavro encode the record.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from fastavro.read import LOGICAL_READERS

NAMED = ("record", "error", "enum", "fixed")
PRIMITIVE = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
ONE = tuple(bytes((n,)) for n in range(128))  # the one-byte varints
# bytes taken by a string's one-byte length prefix and its content (0: not a one-byte prefix)
SLEN = tuple((b >> 1) + 1 if b < 128 and not b & 1 else 0 for b in range(256))


class Unsupported(Exception):
    """The schema uses something the generator leaves to fastavro."""


class Generated(NamedTuple):
    source: str  # defines encode(record) -> bytes and decode(data, pos) -> (record, pos)
    paths: dict[int, str]  # source line -> the field it handles ("" for none)
    constants: dict[str, Any]  # lookup tables the source refers to


def generate(schema: dict, text_limit: int, raw: tuple[str, ...] = ()) -> Generated:
    """The encoder and decoder of a (fastavro-parsed) schema, or Unsupported. With ``raw``
    (top-level field names), the source also defines ``decode_projected(data, pos)``,
    which leaves those fields raw, and ``read_<field>(data, pos)`` for each of them."""
    if text_limit < 64:
        raise ValueError("strings under 64 bytes are read with no length check")
    gen = _Generator(schema, text_limit)
    if raw:
        gen.projected(schema, raw)
    return Generated("\n".join(gen.lines) + "\n", gen.paths, gen.constants)


def _zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 127:
        out.append(n & 127 | 128)
        n >>= 7
    out.append(n)
    return bytes(out)


def logical(schema: Any) -> str | None:
    """The logical type the compiler handles, None for none, or Unsupported."""
    if not isinstance(schema, dict) or "logicalType" not in schema:
        return None
    key = f"{schema['type']}-{schema['logicalType']}"
    if key in ("int-date", "long-timestamp-millis", "long-timestamp-micros"):
        return key
    if key in LOGICAL_READERS:
        raise Unsupported(key)
    return None  # fastavro ignores logical types it does not know, and so do we


class _Generator:
    """Writes the source of ``encode(record) -> bytes`` and ``decode(data, pos)`` for a schema.

    Every emitted line is mapped to the field it handles (``self.paths``), with
    array indexes as ``{var}`` placeholders, filled from the frame on failure.
    """

    def __init__(self, schema: dict, text_limit: int) -> None:
        self.lines: list[str] = []
        self.paths: dict[int, str] = {}
        self.constants: dict[str, Any] = {}
        self.named: dict[str, dict] = {}
        self.text_limit, self.stack, self.count = text_limit, [], 0
        self._index(schema)
        self._emit(0, "def encode(r):", "")
        self._emit(1, "out = bytearray(_HDR)", "")
        self.write(schema, "r", "", 1)
        self._emit(1, "return bytes(out)", "")
        self._emit(0, "def decode(data, pos):", "")
        self.read(schema, "v", "", 1, text_limit)
        self._emit(1, "return v, pos", "")

    def _index(self, node: Any) -> None:
        if isinstance(node, list):
            for branch in node:
                self._index(branch)
        elif isinstance(node, dict):
            if node.get("type") in NAMED:
                self.named[node["name"]] = node
            for f in node.get("fields", ()):
                self._index(f["type"])
            for key in ("items", "values", "type"):
                if isinstance(node.get(key), dict | list):
                    self._index(node[key])

    def _emit(self, depth: int, line: str, path: str) -> None:
        self.lines.append("    " * depth + line)
        self.paths[len(self.lines)] = path

    def _var(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def _const(self, value: Any) -> str:
        if value is None or isinstance(value, bool | int | str | bytes):
            return repr(value)
        self.constants[f"_C{len(self.constants)}"] = value
        return f"_C{len(self.constants) - 1}"

    def _resolve(self, s: Any) -> tuple[Any, str]:
        """The schema without named references or ``{"type": {...}}`` wrappers, and its kind."""
        while True:
            if isinstance(s, list):
                return s, "union"
            if isinstance(s, str) and s in PRIMITIVE:
                return s, s
            if isinstance(s, str):
                if s not in self.named:
                    raise Unsupported(s)
                s = self.named[s]
            elif isinstance(s["type"], dict | list) or s["type"] in self.named:
                s = s["type"]
            else:
                return s, s["type"]

    # ------------------------------------------------------------------ encoder

    def write(
        self, s: Any, v: str, path: str, d: int, pre: bytes = b"", cast: bool = False
    ) -> None:
        """Code writing local ``v``, after the bytes ``pre`` (a union index), to ``out``."""
        s, t = self._resolve(s)
        lt = logical(s)

        def e(line: str, depth: int = d) -> None:
            self._emit(depth, line, path)

        if pre and t not in ("boolean", "string", "enum"):
            e(f"out += {pre!r}")
        if lt == "int-date":
            e(f"if {v}.__class__ is not _date: raise Mismatch")
            e(f"out += _long({v}.toordinal() - _DAYS, _INT)")
        elif lt is not None:
            e(f"out += _ts({v}, {'_MS' if lt.endswith('millis') else '_US'})")
        elif t == "union":
            self._write_union(s, v, path, d)
        elif t == "null":
            e(f"if {v} is not None: raise Mismatch")
        elif t == "boolean":  # as fastavro's truth test, for True, False, 1 and 0
            table = self._const({True: pre + ONE[1], False: pre + ONE[0]})
            e(f"out += {table}[{v}]")
        elif t in ("int", "long"):
            e(f"out += _long({v}{', _INT' if t == 'int' else ''})")
        elif t in ("float", "double"):
            if not cast:  # fastavro passes a record field of type float or double to float()
                e(f"if {v}.__class__ is not float: raise Mismatch")
            e(f"out += _pack{t[0]}({f'float({v})' if cast else v})")
        elif t in ("bytes", "fixed"):
            size = f" or len({v}) != {s['size']}" if t == "fixed" else ""
            e(f"if {v}.__class__ is not bytes{size}: raise Mismatch")
            if t == "bytes":
                e(f"out += _long(len({v}))")
            e(f"out += {v}")
        elif t == "string":
            short = self._const(tuple(pre + ONE[n << 1] for n in range(64)))
            e(f"b = _enc({v})")
            e("n = len(b)")
            e(f"out += {short}[n] if n < 64 else {pre!r} + _long(n)")
            e("out += b")
        elif t == "enum":
            table = self._const({x: pre + _zigzag(i) for i, x in enumerate(s["symbols"])})
            e(f"out += {table}[{v}]")
        elif t in ("array", "map"):
            self._write_block(s, t, v, path, d)
        elif t in ("record", "error"):
            self._write_record(s, v, path, d)
        else:
            raise Unsupported(str(t))

    def _write_union(self, s: list, v: str, path: str, d: int) -> None:
        if len(s) == 2 and s.count("null") == 1:
            null = s.index("null")
            self._emit(d, f"if {v} is None: out += {ONE[2 * null]!r}", path)
            self._emit(d, "else:", path)
            self.write(s[1 - null], v, path, d + 1, ONE[2 - 2 * null])
            return
        self._emit(d, "raise Mismatch  # fastavro chooses the branch of any other union", path)

    def _write_block(self, s: dict, t: str, v: str, path: str, d: int) -> None:
        self._emit(d, f"if {v}.__class__ is not {'list' if t == 'array' else 'dict'}:", path)
        self._emit(d + 1, "raise Mismatch", path)
        self._emit(d, f"if {v}:", path)
        self._emit(d + 1, f"out += _long(len({v}))", path)
        i, x = self._var(), self._var()
        if t == "array":
            self._emit(d + 1, f"for {i}, {x} in enumerate({v}):", path)
            self.write(s["items"], x, f"{path}[{{{i}}}]", d + 2)
        else:  # map keys are values too, so a path never names one
            self._emit(d + 1, f"for {i}, {x} in {v}.items():", path)
            self.write("string", i, path, d + 2)
            self.write(s["values"], x, f"{path}[*]", d + 2)
        self._emit(d, "out += b'\\x00'", path)

    def _write_record(self, s: dict, v: str, path: str, d: int) -> None:
        if s["name"] in self.stack:
            raise Unsupported("recursive record")
        self.stack.append(s["name"])
        self._emit(d, f"if {v}.__class__ is not dict: raise Mismatch", path)
        for f in s["fields"]:
            name, ft, x = f["name"], f["type"], self._var()
            child = f"{path}.{name}" if path else name
            if "default" in f and f["default"] is not None:
                get = f"{v}.get({name!r}, {self._const(f['default'])})"
            elif "default" in f or "null" in ft:  # as fastavro: missing and nullable is null
                get = f"{v}.get({name!r})"
            else:
                get = f"{v}[{name!r}]"
            self._emit(d, f"{x} = {get}", child)
            self.write(ft, x, child, d, cast=ft in ("float", "double"))
        self.stack.pop()

    # ------------------------------------------------------------------ decoder

    def read(self, s: Any, x: str, path: str, d: int, limit: int, k: int = 0) -> None:
        """Code reading local ``x`` from ``data`` at ``pos + k``, leaving pos after it."""
        s, t = self._resolve(s)
        lt = logical(s)

        def e(line: str, depth: int = d) -> None:
            self._emit(depth, line, path)

        at = f"pos + {k}" if k else "pos"
        if k and (lt is not None or t not in ("boolean", "int", "long", "bytes", "string", "enum")):
            e(f"pos += {k}")
            at = "pos"
        if t == "union":
            self._read_union(s, x, path, d, limit)
        elif t == "null":
            e(f"{x} = None")
        elif t == "boolean":
            e(f"{x} = data[{at}] != 0")
            e(f"pos += {k + 1}")
        elif t in ("int", "long") and lt is None:
            e(f"{x} = _ZZ[data[{at}]]")
            e(f"if {x} is None: {x}, pos = _rlong(data, {at})")
            e(f"else: pos += {k + 1}")
        elif lt == "int-date":
            e(f"{x}, pos = _rlong(data, pos)")
            e(f"{x} = _fromordinal({x} + _DAYS)")
        elif lt is not None:
            unit = "_MS" if lt.endswith("millis") else "_US"
            # six bytes, as every millisecond time of 1971-2248, inline; the rest in _rtime
            e("try: b0, b1, b2, b3, b4, b5 = data[pos:pos + 6]")
            e("except ValueError: b5 = 128")
            e("if b5 < 128 <= b4 & b3 & b2 & b1 & b0:")
            e("n = b0 - 128 | (b1 - 128) << 7 | (b2 - 128) << 14 | (b3 - 128) << 21", d + 1)
            e("n |= (b4 - 128 | b5 << 7) << 28", d + 1)
            e(
                f"{x} = _EPOCH - {unit} * ((n >> 1) + 1) if n & 1 else _EPOCH + {unit} * (n >> 1)",
                d + 1,
            )
            e("pos += 6", d + 1)
            e(f"else: {x}, pos = _rtime(data, pos, {unit})")
        elif t in ("float", "double"):
            e(f"{x}, = _unpack{t[0]}(data, pos)")
            e(f"pos += {4 if t == 'float' else 8}")
        elif t == "fixed":
            e(f"{x} = data[pos:(pos := pos + {s['size']})]")
            e(f"if len({x}) != {s['size']}: raise EOFError")
        elif t in ("bytes", "string"):
            # a prefix of one byte, so under 64 bytes: the common case, inline; a slice
            # running past the end leaves pos beyond it, which the codec reports
            text = t == "string"
            if text and isinstance(s, dict) and isinstance(s.get("maxLength"), int):
                limit = max(limit, s["maxLength"])
            slow = f"_rbytes(data, {at}{f', {limit}' if text else ''})"
            table = self._const(tuple(m + k if m else 0 for m in SLEN)) if k else "_SLEN"
            e(f"m = {table}[data[{at}]]")
            e(f"if m: {x} = data[pos + {k + 1}:(pos := pos + m)]{'.decode()' if text else ''}")
            e(f"else: {x}, pos = {slow}")
        elif t == "enum":
            symbols = tuple(s["symbols"])
            if len(symbols) > 64:
                raise Unsupported("enum of more than 64 symbols")
            table = tuple(symbols[b >> 1] if b < 2 * len(symbols) and not b & 1 else None
                          for b in range(256))  # fmt: skip
            e(f"if ({x} := {self._const(table)}[data[{at}]]) is None: raise ValueError('enum')")
            e(f"pos += {k + 1}")
        elif t in ("array", "map"):
            self._read_block(s, t, x, path, d, limit)
        elif t in ("record", "error"):
            if s["name"] in self.stack:
                raise Unsupported("recursive record")
            self.stack.append(s["name"])
            names = []
            for f in s["fields"]:
                names.append((f["name"], self._var()))
                child = f"{path}.{f['name']}" if path else f["name"]
                self.read(f["type"], names[-1][1], child, d, self._field_limit(f))
            self.stack.pop()
            e(f"{x} = {{{', '.join(f'{name!r}: {var}' for name, var in names)}}}")
        else:
            raise Unsupported(str(t))

    def _field_limit(self, f: dict) -> int:
        own = f.get("maxLength")
        return max(self.text_limit, own if isinstance(own, int) else 0)

    def projected(self, schema: dict, raw: tuple[str, ...]) -> None:
        """``decode_projected``: as ``decode``, with the top-level fields ``raw`` left raw."""
        s, t = self._resolve(schema)
        if t not in ("record", "error") or not set(raw) <= {f["name"] for f in s["fields"]}:
            raise Unsupported("raw fields must be top-level fields of a record")
        for f in s["fields"]:
            if f["name"] in raw:
                self._emit(0, f"def read_{f['name']}(data, pos):", "")
                self.read(f["type"], "v", f["name"], 1, self._field_limit(f))
                self._emit(1, "return v, pos", "")
        self._emit(0, "def decode_projected(data, pos):", "")
        self.stack.append(s["name"])
        names = []
        for f in s["fields"]:
            name, x = f["name"], self._var()
            names.append((name, x))
            if name in raw:
                self._emit(1, "start = pos", name)
                self.skip(f["type"], name, 1, self._field_limit(f))
                self._emit(1, f"{x} = _Raw(data[start:pos], read_{name}, {name!r})", name)
            else:
                self.read(f["type"], x, name, 1, self._field_limit(f))
        self.stack.pop()
        self._emit(1, f"v = {{{', '.join(f'{name!r}: {var}' for name, var in names)}}}", "")
        self._emit(1, "return v, pos", "")

    def skip(self, s: Any, path: str, d: int, limit: int) -> None:
        """Code moving pos past a value, checking its structure (union branches, enum
        symbols, lengths) but making no value and decoding no text."""
        s, t = self._resolve(s)
        lines = len(self.lines)

        def e(line: str, depth: int = d) -> None:
            self._emit(depth, line, path)

        if t == "union":
            if len(s) > 63:
                raise Unsupported("union of more than 63 branches")
            e("b = data[pos]")
            e("pos += 1")
            for i, branch in enumerate(s):
                e(f"{'if' if i == 0 else 'elif'} b == {2 * i}:")
                self.skip(branch, path, d + 1, limit)
            e("else: raise ValueError('union index')")
        elif t == "boolean":
            e("pos += 1")
        elif t in ("int", "long"):
            e("if data[pos] < 128: pos += 1")
            e("else: _, pos = _rlong(data, pos)")
        elif t in ("float", "double"):
            e(f"pos += {4 if t == 'float' else 8}")
        elif t == "fixed":
            e(f"pos += {s['size']}")
        elif t in ("bytes", "string"):
            e("m = _SLEN[data[pos]]")
            e("if m: pos += m")
            e(f"else: _, pos = _rbytes(data, pos{f', {limit}' if t == 'string' else ''})")
        elif t == "enum":
            table = tuple(b < 2 * len(s["symbols"]) and not b & 1 for b in range(256))
            e(f"if not {self._const(table)}[data[pos]]: raise ValueError('enum')")
            e("pos += 1")
        elif t in ("array", "map"):
            e("while True:")
            e("n, pos = _rblock(data, pos)", d + 1)
            e("if not n: break", d + 1)
            e("for _ in range(n):", d + 1)
            if t == "map":
                self.skip("string", path, d + 2, limit)
            self.skip(s["items" if t == "array" else "values"], f"{path}[*]", d + 2, limit)
        elif t in ("record", "error"):
            if s["name"] in self.stack:
                raise Unsupported("recursive record")
            self.stack.append(s["name"])
            for f in s["fields"]:
                child = f"{path}.{f['name']}" if path else f["name"]
                self.skip(f["type"], child, d, self._field_limit(f))
            self.stack.pop()
        elif t != "null":
            raise Unsupported(str(t))
        if len(self.lines) == lines:
            e("pass")  # a null, or a record of nothing

    def _read_union(self, s: list, x: str, path: str, d: int, limit: int) -> None:
        if len(s) > 63:
            raise Unsupported("union of more than 63 branches")
        self._emit(d, "b = data[pos]", path)
        for i, branch in enumerate(s):
            self._emit(d, f"{'if not b' if i == 0 else f'elif b == {2 * i}'}:", path)
            self.read(branch, x, path, d + 1, limit, k=1)
        self._emit(d, "else: raise ValueError('union index')", path)

    def _read_block(self, s: dict, t: str, x: str, path: str, d: int, limit: int) -> None:
        self._emit(d, f"{x} = {'[]' if t == 'array' else '{}'}", path)
        self._emit(d, "while True:", path)
        self._emit(d + 1, "n, pos = _rblock(data, pos)", path)
        self._emit(d + 1, "if not n: break", path)
        self._emit(d + 1, "for _ in range(n):", path)
        y = self._var()
        if t == "array":
            self.read(s["items"], y, f"{path}[{{{x}}}]", d + 2, limit)
            self._emit(d + 2, f"{x}.append({y})", path)
        else:
            key = self._var()
            self.read("string", key, path, d + 2, limit)
            self.read(s["values"], y, f"{path}[*]", d + 2, limit)
            self._emit(d + 2, f"{x}[{key}] = {y}", path)
