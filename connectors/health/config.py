"""Settings of the health (FHIR) connector, each declared once; see the README for examples.

The secret for a server never sits in the settings file: ``auth_header_env``
names an environment variable and ``auth_header_file`` a file that holds the
header's value (for example ``Bearer <token>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.common.settings import ConfigError, Setting, one_of, positive

SOURCES = ("folder", "server")
SOURCE_SYSTEMS = ("SYSTMONE", "EMIS", "RIO", "OTHER")


def _not_negative(value: float) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _http_url(value: str) -> str | None:
    ok = value == "" or value.startswith(("http://", "https://"))
    return None if ok else "must start with http:// or https://"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "source",
        str,
        "Where FHIR resources come from: folder or server.",
        "folder",
        one_of(SOURCES),
    ),
    Setting(
        "source_system",
        str,
        "Kind of system that holds the records (SYSTMONE, EMIS, RIO or OTHER).",
        "OTHER",
        one_of(SOURCE_SYSTEMS),
    ),
    Setting("folder", str, "Folder mode: the folder the FHIR files are delivered to.", ""),
    Setting(
        "settle_s",
        float,
        "Folder mode: seconds a file must be unchanged before it is read (or has <name>.done).",
        30.0,
        _not_negative,
    ),
    Setting(
        "require_done_marker",
        bool,
        "Folder mode: read a file only once <name>.done exists, however old the file is.",
        False,
    ),
    Setting(
        "base_url", str, "Server mode: the FHIR R4 base URL (https://.../fhir).", "", _http_url
    ),
    Setting(
        "auth_header_name",
        str,
        "Server mode: the header that carries the credential.",
        "Authorization",
    ),
    Setting(
        "auth_header_env",
        str,
        "Server mode: environment variable holding the header value (never the value itself).",
        "",
    ),
    Setting("auth_header_file", str, "Server mode: file holding the header value.", ""),
    Setting("ca_file", str, "Server mode: CA bundle to trust for https (empty: the system's).", ""),
    Setting("page_size", int, "Server mode: resources per search page (_count).", 200, positive),
    Setting(
        "request_timeout_s", float, "Server mode: seconds to wait for one response.", 30.0, positive
    ),
)


def check(settings: Mapping[str, Any], source: str = "config") -> None:
    """Problems that involve more than one setting, all at once."""
    problems: list[str] = []
    if settings["source"] == "folder" and not settings["folder"]:
        problems.append("setting 'folder' is required when source is folder")
    if settings["source"] == "server":
        if not settings["base_url"]:
            problems.append("setting 'base_url' is required when source is server")
        if settings["auth_header_env"] and settings["auth_header_file"]:
            problems.append("set auth_header_env or auth_header_file, not both")
    if problems:
        raise ConfigError(source, problems)


def auth_header(settings: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(header name, value) from the named variable or file; None when no credential is set."""
    name = settings["auth_header_name"]
    if settings["auth_header_env"]:
        value = environ.get(settings["auth_header_env"], "")
        if not value:
            raise ConfigError(
                "health connector",
                [f"environment variable {settings['auth_header_env']} (auth_header_env) is unset"],
            )
        return name, value.strip()
    if settings["auth_header_file"]:
        path = Path(settings["auth_header_file"])
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                "health connector", [f"auth_header_file {path} cannot be read ({exc.strerror})"]
            ) from None
        if not value:
            raise ConfigError("health connector", [f"auth_header_file {path} is empty"])
        return name, value
    return None
