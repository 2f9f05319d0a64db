"""Synthetic school export files for the education connector, from the synthetic LA's children.

Reads the children of the synthetic case-management database (same UPNs, names, dates of
birth) and their latent traits (`deploy.synth.population.latent`) and writes, per school
(the establishment in UPN positions 5-8), one academic year of the files an LA receives:
EYFSP results of the reception cohort, termly attendance (2024 codes), suspensions and
permanent exclusions, SEN status, FSM periods, in one of `exports.STYLES`; plus one LA file
of EHCP milestones. About `bad_rate` of records carry one fault (`connectors.education.faults`);
the summary says which events and dead letters (by rule) the connector should produce. Rates
are rough shapes of national tables (GLD ~67%, persistent absence ~20%, suspensions ~11 and
permanent exclusions ~0.1 per 100 pupils), not calibrated statistics. Deterministic by seed:
draws come from a `random.Random` seeded per school or per child.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.education.codes import ELGS
from connectors.education.exports import STYLES, write_csv, write_school
from connectors.education.faults import break_record
from connectors.education.formats import CSV_EXPORTS
from deploy.synth.codes import WeightedCodes
from deploy.synth.population import Child, children, latent


def _weights(spec: str) -> WeightedCodes:
    """'I:72 M:12' -> codes with relative weights."""
    return WeightedCodes.of(
        tuple((c, float(w)) for c, _, w in (p.partition(":") for p in spec.split()))
    )


TERMS = (("AUT", 140), ("SPR", 118), ("SUM", 126))  # census term, typical sessions possible
_GLD_CUT = -0.44  # P(0.6 d + 0.8 e > cut) = 0.67
_ELG_BIAS = (-0.5, -0.5, -0.6, -0.6, -0.6, -1.5, -0.5, -0.2, 0.0, 0.5, -0.3, -0.3)
AUTHORISED = _weights("I:72 M:12 C:6 R:3 C2:2 E:1.3 T:1 J1:.5 S:.5 Q:.5 Y3:.5 Y7:.5 C1:.2")
UNAUTHORISED = _weights("O:50 G:25 N:15 U:10")
REASONS = _weights(
    "DB:45 VA:12 PP:12 VP:7 PA:5 DA:4 OW:3 DM:3 BU:2 MT:2 RA:1.5 TH:1 SM:1 LG:.5 DS:.3 PH:.1"
)
SUSPENSION_SESSIONS = _weights("2:45 1:10 4:15 3:5 6:8 10:6 5:3 8:3 20:2")
NEEDS_K = _weights(
    "SLCN:24 SEMH:21 MLD:15 SPLD:13 ASD:11 NSA:5 OTH:3 PD:2 HI:1.5 VI:1 SLD:.5 MSI:.3 PMLD:.1"
)
NEEDS_E = _weights("ASD:33 SLCN:20 SEMH:15 SLD:9 MLD:7 PD:4 PMLD:3 SPLD:3 HI:2 OTH:2 VI:1 MSI:.5")


@dataclass
class EducationSummary:
    """What was written, and what the connector should make of it."""

    files: int = 0
    schools: int = 0
    pupils: int = 0
    events: Counter[str] = field(default_factory=Counter)  # by export kind
    rejected: Counter[str] = field(default_factory=Counter)  # by rule
    rates: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def by_event_type(self) -> dict[str, int]:
        types = {e.name: e.event_type for e in CSV_EXPORTS}  # export kind -> event type
        return {types[k]: n for k, n in self.events.items()}


@dataclass
class _Pupil:
    child: Child
    rng: random.Random
    year_group: int
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    parts_base: dict[str, Any] = field(default_factory=dict)


def _age(dob: dt.date, on: dt.date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    day = lo + dt.timedelta(days=rng.randrange(max(1, (hi - lo).days + 1)))
    return day - dt.timedelta(days=max(0, day.weekday() - 4))  # a weekday


def _poisson(rng: random.Random, lam: float) -> int:
    k, p, cut = 0, rng.random(), math.exp(-lam)
    while p > cut:
        k, p = k + 1, p * rng.random()
    return k


class _Generator:
    def __init__(self, seed: int, la_code: str, year: int, bad_rate: float) -> None:
        self.seed, self.la, self.year, self.bad_rate = seed, la_code, year, bad_rate
        self.yy = f"{year}/{(year + 1) % 100:02d}"
        self.first, self.last = dt.date(year, 9, 2), dt.date(year + 1, 7, 18)
        self.summary = EducationSummary()
        self.stats: Counter[str] = Counter()
        self.ehcp: list[dict[str, Any]] = []

    # -- one pupil's records, as flat dicts keyed by the CSV columns

    def pupil(self, child: Child, year_group: int, urn: str) -> _Pupil:
        lat = latent(self.seed, child.person_id)
        p = _Pupil(child, random.Random(f"{self.seed}:edu:{child.person_id}"), year_group)
        p.parts_base = base = dict(
            LA=self.la, Estab=child.upn[4:8], URN=urn, UPN=child.upn, Surname=child.surname,
            Forename=child.forename, DOB=child.dob.isoformat(), Sex=child.sex,
        )  # fmt: skip
        if year_group == 0:
            self._eyfsp(p, base, lat.development)
        self._attendance(p, base, lat)
        self._exclusions(p, base, lat)
        if lat.sen != "N":
            self._sen(p, base, lat)
        if lat.fsm:
            self._fsm(p, base)
        return p

    def _eyfsp(self, p: _Pupil, base: dict[str, Any], d: float) -> None:
        rng = p.rng
        a = 0.6 * d + 0.8 * rng.gauss(0, 1)
        if rng.random() < 0.004:
            results = ["A"] * 17
        elif a > _GLD_CUT:
            results = ["2"] * 12 + ["2" if rng.random() < 0.95 else "1" for _ in range(5)]
        else:
            bias = list(_ELG_BIAS)
            bias[0] = bias[1] = -0.5 - 1.5 * d  # communication and language follow development
            probs = [1 / (1 + math.exp(-(b + 2.0 * (_GLD_CUT - a)))) for b in bias]
            results = ["1" if rng.random() < q else "2" for q in probs]
            if "1" not in results:
                results[max(range(12), key=probs.__getitem__)] = "1"
            results += ["2" if rng.random() < 0.5 + 0.2 * a else "1" for _ in range(5)]
        self.stats["eyfsp"] += 1
        self.stats["gld"] += all(r == "2" for r in results[:12])
        date = dt.date(self.year + 1, 6, 20).isoformat()
        p.parts["eyfsp"].append(
            {
                **base,
                "AcademicYear": self.yy,
                "AssessmentDate": date,
                **dict(zip(ELGS, results, strict=True)),
            }
        )

    def _attendance(self, p: _Pupil, base: dict[str, Any], lat: Any) -> None:
        rng = p.rng
        risk = (1.5 if lat.fsm else 1.0) * {"K": 1.3, "E": 1.6}.get(lat.sen, 1.0)
        risk *= (1.15 if p.year_group >= 7 else 1.0) * (1.2 if lat.development < -1.3 else 1.0)
        if rng.random() < 0.012 * risk:
            rate = rng.uniform(0.5, 0.95)
        else:
            rate = min(0.9, math.exp(rng.gauss(-3.35, 0.75)) * risk)
        unauth_share = min(
            0.9, 0.25 + 0.1 * lat.fsm + 0.05 * (p.year_group >= 7) + 0.2 * (rate >= 0.5)
        )
        late_share = rng.uniform(0, 0.04)
        for term, typical in TERMS:
            possible = typical - (rng.randrange(10, 60) if rng.random() < 0.03 else 0)
            r = min(0.97, rate * math.exp(rng.gauss(0, 0.3)))
            absent = max(
                0,
                min(
                    possible,
                    round(rng.gauss(possible * r, math.sqrt(possible * r * (1 - r)) + 1e-9)),
                ),
            )
            unauth = sum(rng.random() < unauth_share for _ in range(absent))
            by_code: Counter[str] = Counter(UNAUTHORISED.pick(rng) for _ in range(unauth))
            by_code.update(AUTHORISED.pick(rng) for _ in range(absent - unauth))
            present = possible - absent
            for code, share in (("V", 0.01), ("P", 0.002), ("B", 0.002)):
                by_code[code] = min(
                    present - sum(by_code[c] for c in "VPB"),
                    sum(rng.random() < share for _ in range(4)),
                )
            rest = present - sum(by_code[c] for c in "VPB")
            by_code["L"] = round(rest * late_share)
            by_code["/"] = (rest - by_code["L"] + 1) // 2
            by_code["\\"] = rest - by_code["L"] - by_code["/"]
            self.stats["terms"] += 1
            self.stats["pa"] += absent >= 0.1 * possible
            self.stats["severe"] += absent >= 0.5 * possible
            self.stats["absent"] += absent
            self.stats["possible"] += possible
            p.parts["attendance"].append(
                {
                    **base,
                    "AcademicYear": self.yy,
                    "Term": term,
                    "SessionsPossible": possible,
                    "SessionsAuthorised": absent - unauth,
                    "SessionsUnauthorised": unauth,
                    "SessionsByCode": {c: n for c, n in by_code.items() if n > 0},
                }
            )

    def _exclusions(self, p: _Pupil, base: dict[str, Any], lat: Any) -> None:
        rng = p.rng
        risk = (2.4 if p.year_group >= 7 else 0.35) * (2.2 if lat.fsm else 0.65)
        risk *= {"K": 2.2, "E": 2.5}.get(lat.sen, 0.75)
        n = _poisson(rng, 0.085 * risk * rng.gammavariate(0.3, 1 / 0.3))
        perm = rng.random() < 0.0012 * risk
        for i in range(n + perm):
            permanent = perm and i == n
            start = _day(rng, self.first, self.last)
            reasons = [REASONS.pick(rng)]
            while rng.random() < 0.15 and len(reasons) < 3:
                extra = REASONS.pick(rng)
                reasons += [extra] if extra not in reasons else []
            self.stats["permanent" if permanent else "suspensions"] += 1
            p.parts["exclusions"].append(
                {
                    **base,
                    "ExclusionID": f"EX{p.child.person_id[1:]}{i:02d}",
                    "Category": "PERM" if permanent else "SUSP",
                    "StartDate": start.isoformat(),
                    "Sessions": "" if permanent else SUSPENSION_SESSIONS.pick(rng),
                    **{f"Reason{j + 1}": r for j, r in enumerate(reasons)},
                }
            )

    def _sen(self, p: _Pupil, base: dict[str, Any], lat: Any) -> None:
        rng, dob = p.rng, p.child.dob
        lo = max(dt.date(dob.year + 4, 9, 1), dt.date(self.year - 6, 9, 1))
        start = _day(rng, lo, self.last)
        table = NEEDS_K if lat.sen == "K" else NEEDS_E
        first = table.pick(rng)
        if lat.development < -1.3 and rng.random() < 0.3:
            first = "SLCN"
        second = table.pick(rng) if first != "NSA" and rng.random() < 0.35 else None
        second = None if second in (first, "NSA") else second
        self.stats["sen_" + lat.sen] += 1
        p.parts["sen"].append(
            {
                **base,
                "EffectiveDate": start.isoformat(),
                "SENProvision": lat.sen,
                "SENNeed1": first,
                "SENNeed2": second,
            }
        )
        if lat.sen == "E":
            self._ehcp(p, base, start)
        elif rng.random() < 0.05:
            requested = _day(rng, self.first, self.last - dt.timedelta(days=60))
            self._milestones(
                p, base, requested, (("REQUEST_RECEIVED", 0), ("DECISION_NOT_TO_ASSESS", 42))
            )

    def _ehcp(self, p: _Pupil, base: dict[str, Any], start: dt.date) -> None:
        rng = p.rng
        if start >= self.first:  # a new plan this year: the whole request chain
            weeks = rng.choice((14, 16, 18, 19, 20, 22, 26, 30))
            requested = start - dt.timedelta(weeks=weeks)
            steps = (
                ("REQUEST_RECEIVED", 0),
                ("DECISION_TO_ASSESS", 6 * 7),
                ("PLAN_ISSUED", weeks * 7),
            )
            self._milestones(p, base, requested, steps)
        elif rng.random() < 0.8:
            self._milestones(
                p, base, None, (("ANNUAL_REVIEW", 0),), _day(rng, self.first, self.last)
            )

    Steps = tuple[tuple[str, int], ...]

    def _milestones(
        self, p: _Pupil, base: dict[str, Any], requested: dt.date | None, steps: Steps,
        on: dt.date | None = None,
    ) -> None:  # fmt: skip
        for milestone, days in steps:
            when = on or requested + dt.timedelta(days=days)  # type: ignore[operator]
            late = milestone == "PLAN_ISSUED" and days > 140
            p.parts["ehcp"].append(dict(
                LA=self.la, UPN=base["UPN"], RequestID=f"EHCR{p.child.person_id[1:]}",
                Milestone=milestone, MilestoneDate=when.isoformat(),
                RequestDate=requested.isoformat() if requested else "",
                Exception=("Y" if p.rng.random() < 0.1 else "N") if late else "",
            ))  # fmt: skip

    def _fsm(self, p: _Pupil, base: dict[str, Any]) -> None:
        rng = p.rng
        school_start = dt.date(p.child.dob.year + 4 + (p.child.dob.month >= 9), 9, 1)
        start = _day(rng, max(school_start, dt.date(self.year - 5, 9, 1)), self.last)
        end = _day(rng, start, self.last) if rng.random() < 0.15 else None
        if rng.random() < 0.1 and start - school_start > dt.timedelta(days=400):
            earlier = _day(rng, school_start, start - dt.timedelta(days=300))
            p.parts["fsm"].append(
                {
                    **base,
                    "FSMStartDate": earlier.isoformat(),
                    "FSMEndDate": (earlier + dt.timedelta(days=200)).isoformat(),
                    "UKCountry": "ENG",
                }
            )
        self.stats["fsm"] += 1
        p.parts["fsm"].append(
            {
                **base,
                "FSMStartDate": start.isoformat(),
                "FSMEndDate": end.isoformat() if end else "",
                "UKCountry": "ENG",
            }
        )

    # -- faults

    def fault(self, rng: random.Random, kind: str, rec: dict[str, Any], *, upn: bool = True) -> str:
        """Break one thing in ``rec`` about bad_rate of the time; returns the rule, or ''."""
        return break_record(rng, kind, rec, upn=upn) if rng.random() < self.bad_rate else ""

    # --------------------------------------------------------------------------- files

    # -- files

    def school(self, out: Path, estab: str, urn: str, style: str, pupils: list[_Pupil]) -> None:
        """Break about bad_rate of the records (not XML UPNs: see faults), then write the files."""
        for p in pupils:
            for kind, recs in p.parts.items():
                if kind == "ehcp":
                    self.ehcp.extend((p, rec) for rec in recs)
                    continue
                for rec in recs:
                    self.count(kind, self.fault(p.rng, kind, rec, upn=style == "csv"))
        school = [{"base": p.parts_base, **p.parts} for p in pupils]
        where = {"la": self.la, "estab": estab, "urn": urn}
        written = write_school(out, style=style, year=self.year + 1, pupils=school, **where)
        self.summary.files += len(written)

    def count(self, kind: str, rule: str) -> None:
        if rule:
            self.summary.rejected[rule] += 1
        else:
            self.summary.events[kind] += 1

    def ehcp_file(self, out: Path) -> None:
        if self.ehcp:
            for p, rec in self.ehcp:
                self.count("ehcp", self.fault(p.rng, "ehcp", rec))
            name = f"{self.la}_ehcp_milestones_{self.yy.replace('/', '')}.csv"
            write_csv(out / name, "ehcp", [rec for _, rec in self.ehcp])
            self.summary.files += 1


def write_education_files(
    db_url: str,
    out_dir: Path,
    seed: int,
    la_code: str,
    *,
    academic_year: int = 2024,
    bad_rate: float = 0.005,
) -> EducationSummary:
    """Write one academic year's school export files for the children in ``db_url``."""
    started = time.monotonic()
    gen = _Generator(seed, la_code, academic_year, bad_rate)
    out_dir.mkdir(parents=True, exist_ok=True)
    cutoff = dt.date(academic_year, 8, 31)
    schools: dict[str, list[tuple[Child, int]]] = defaultdict(list)
    for child in children(db_url):
        if not child.upn or (child.death_date and child.death_date < gen.first):
            continue
        year_group = _age(child.dob, cutoff) - 4  # reception 0 ... year 11
        if 0 <= year_group <= 11:
            schools[child.upn[4:8]].append((child, year_group))
    for estab in sorted(schools):
        urn = f"1{estab}{la_code[-1]}"
        style = random.Random(f"{seed}:style:{estab}").choice(STYLES)
        pupils = [gen.pupil(child, yg, urn) for child, yg in schools[estab]]
        gen.school(out_dir, estab, urn, style, pupils)
        gen.summary.pupils += len(pupils)
    gen.ehcp_file(out_dir)
    s, st = gen.summary, gen.stats
    s.schools = len(schools)
    s.rates = {
        "gld": st["gld"] / max(1, st["eyfsp"]),
        "persistent_absence_termly": st["pa"] / max(1, st["terms"]),
        "severe_absence_termly": st["severe"] / max(1, st["terms"]),
        "absence": st["absent"] / max(1, st["possible"]),
        "suspensions_per_100": 100 * st["suspensions"] / max(1, s.pupils),
        "permanent_per_100": 100 * st["permanent"] / max(1, s.pupils),
        "fsm": st["fsm"] / max(1, s.pupils),
        "sen_support": st["sen_K"] / max(1, s.pupils),
        "ehcp": st["sen_E"] / max(1, s.pupils),
    }
    s.seconds = time.monotonic() - started
    return s
