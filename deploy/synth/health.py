"""Write synthetic FHIR R4 health files for the children of a synthetic case-management database.

For every child whose 2-2½ year review falls in [start, end] it writes, into a
monthly NDJSON file, the child's Patient (the same NHS number as the
case-management database), the review Encounter, the ASQ-3 results (five
Observations, one panel Observation, or a QuestionnaireResponse), concerns,
onward referral and, for some, a parent's comment; plus monthly Bundles of CP-IS
access notifications for a few children. Codes are the connector's
(``connectors/health/codes.py``).

Synthetic only: communication scores follow ``latent.development`` (below the
cut-off for about 12%), parent concerns ``latent.parent_concern``; comments are
built from the invented TEMPLATES; no ASQ-3 item wording. The monitoring zone
uses a synthetic threshold (cut-off + 5 points). About ``bad_rate`` of events
get a realistic fault (NHS number failing mod 11, an impossible date, an
unknown code), listed in the summary with file, entry and rule. Deterministic:
every draw comes from ``random.Random`` seeded by (seed, child).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from connectors.health import codes as c
from connectors.health import examples as fx
from connectors.health.review import age_in_months
from deploy.synth.population import Child, children, latent

REVIEW = "health.development_review_completed"
COMMENT = "health.parent_comment_recorded"
CPIS = "health.unscheduled_care_attendance_notified"
_NS = uuid.UUID("0f6b8a52-3c1e-4e55-9a0b-6d2f8e7c1a90")
_PRONOUNS = {"F": ("she", "her", "her"), "M": ("he", "his", "him")}
_WEIGHT = {"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}
_CONCERN_WEIGHTS = (("TALKING", 35), ("UNDERSTOOD", 15), ("BEHAVIOUR", 15), ("OTHER", 9),
                    ("MOVEMENT", 8), ("HEARING", 8), ("VISION", 5), ("MEDICAL", 5))  # fmt: skip
_SETTINGS = (("ED", 50), ("WIC", 10), ("MIU", 12), ("OOH_GP", 8), ("NHS111", 8),
             ("AMBULANCE", 6), ("PAEDIATRIC_WARD", 6))  # fmt: skip
_ACTIVITIES = ("books at bedtime", "playing in the park", "building blocks", "singing songs",
               "messy play", "helping in the kitchen")  # fmt: skip
#: Invented wording for parent comments; {he}/{his} follow the child's recorded sex.
TEMPLATES = (
    "{He} has started putting two words together and loves {activity}.",
    "{He} is very active and climbs everything. Nursery say {he} is settling in well.",
    "I would like some ideas to help with {his} sleep, bedtime is hard at the moment.",
    "Thank you for the visit, it was useful to talk about how {he} is getting on.",
    "{He} enjoys {activity} and is getting better at sharing with other children.",
    "We have just moved house and {he} has found the change unsettling.",
)
WORRIED_TEMPLATES = (
    "We are a bit worried {he} is not saying many words yet compared with {his} cousins.",
    "{He} understands a lot of what we say but does not talk much yet.",
    "Family find it hard to understand {him} and {he} gets frustrated when we do not.",
)


@dataclass(frozen=True)
class BadEntry:
    """A deliberately faulty entry: the dead letter the connector should write for it."""

    file: str
    index: int
    rule: str
    event_type: str


@dataclass
class HealthSynthSummary:
    files: list[str] = field(default_factory=list)
    children_read: int = 0
    reviews: int = 0
    events: Counter[str] = field(default_factory=Counter)  # good events the files hold
    bad: list[BadEntry] = field(default_factory=list)
    seconds: float = 0.0


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    r = rng.random() * sum(w for _, w in weighted)
    for value, w in weighted:
        r -= w
        if r < 0:
            return value
    return weighted[-1][0]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Files:
    """Monthly output files, written under a temporary name and renamed when complete."""

    def __init__(self, out_dir: Path, la_code: str) -> None:
        self.out_dir, self.la_code = out_dir, la_code
        self.open: dict[str, tuple[TextIO, Path]] = {}
        self.lines: Counter[str] = Counter()
        self.bundles: dict[str, list[dict[str, Any]]] = {}

    def ndjson(self, kind: str, month: str, resources: list[dict[str, Any]]) -> tuple[str, int]:
        """Append resources; returns the file name and the line number of the first one."""
        name = f"{self.la_code}-{kind}-{month}.ndjson"
        if name not in self.open:
            tmp = self.out_dir / (name + ".part")
            self.open[name] = (open(tmp, "w", encoding="utf-8"), tmp)  # noqa: SIM115
        fh = self.open[name][0]
        first = self.lines[name] + 1
        for r in resources:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")
        self.lines[name] += len(resources)
        return name, first

    def bundle(self, kind: str, month: str, resources: list[dict[str, Any]]) -> tuple[str, int]:
        name = f"{self.la_code}-{kind}-{month}.json"
        entries = self.bundles.setdefault(name, [])
        first = len(entries)
        for r in resources:
            url = f"urn:uuid:{uuid.uuid5(_NS, r['resourceType'] + '/' + r['id'])}"
            entries.append({"fullUrl": url, "resource": r})
        return name, first

    def close(self, markers: bool) -> list[str]:
        for name, (fh, tmp) in self.open.items():
            fh.close()
            tmp.replace(self.out_dir / name)
        for name, entries in self.bundles.items():
            doc = {"resourceType": "Bundle", "type": "collection", "entry": entries}
            tmp = self.out_dir / (name + ".part")
            tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
            tmp.replace(self.out_dir / name)
        names = sorted([*self.open, *self.bundles])
        if markers:
            for name in names:
                (self.out_dir / (name + ".done")).touch()
        return names


def _score(rng: random.Random, cutoff: float, z: float) -> float:
    """A score 12 points above the cut-off per SD of z; a multiple of 5 unless adjusted."""
    raw = cutoff + 10.0 * (z + 1.2)
    if rng.random() < 0.03:  # an adjusted score (an item left blank)
        return round(min(60.0, max(0.0, raw)), 1)
    return float(min(60, max(0, 5 * round(raw / 5))))


@dataclass
class _Review:
    """What one synthetic review says, before it is written as FHIR."""

    eid: str
    pid: str
    moment: datetime
    stamp: str
    results: fx.Results
    comment: tuple[str, bool, bool] | None
    fault: str | None = None


def _draw(rng: random.Random, seed: int, child: Child, pid: str, day: date) -> _Review:
    lat = latent(seed, child.person_id)
    hour, quarter = 9 + int(rng.random() * 8), int(rng.random() * 4)
    moment = datetime(day.year, day.month, day.day, hour, 15 * quarter)
    stamp = _iso(moment + timedelta(minutes=15 * int(rng.random() * 288)))
    interval = _interval_for(*age_in_months(child.dob, day))
    areas: dict[str, tuple[float, str]] = {}
    for domain in c.ASQ3_DOMAINS:
        weight = 0.85 if domain == "communication" else 0.5
        z = weight * lat.development + (1 - weight * weight) ** 0.5 * rng.gauss(0, 1)
        cutoff = c.ASQ3_CUTOFFS[interval][domain]
        score = _score(rng, cutoff, z if domain == "communication" else z + 0.35)
        zone = "BELOW" if score < cutoff else "MONITOR" if score < cutoff + 5 else "ABOVE"
        areas[domain] = (score, zone)
    concerns: set[str] = set()
    if lat.parent_concern:
        while len(concerns) < 1 + (rng.random() < 0.3):
            concerns.add(_pick(rng, _CONCERN_WEIGHTS))
    below = [d for d, (_, z) in areas.items() if z == "BELOW"]
    results = fx.Results(interval, areas, sorted(concerns), rng.random() < (0.7 if below else 0.05))
    if "communication" in below and rng.random() < 0.85:
        results.referral = _pick(rng, (("SALT", 80), ("PAEDIATRICS", 10), ("EARLY_HELP", 10)))
    elif below and rng.random() < 0.6:
        results.referral = _pick(
            rng, (("PAEDIATRICS", 50), ("CHILDRENS_CENTRE", 40), ("OTHER", 10))
        )
    elif "HEARING" in concerns and rng.random() < 0.5:
        results.referral = "AUDIOLOGY"
    if rng.random() < 0.5:
        results.asqse2 = 5 * int(rng.random() * (30 if lat.development > -1 else 50))
    comment = None
    if rng.random() < (0.6 if lat.parent_concern else 0.3):
        worried = lat.development < -1 and rng.random() < 0.7
        he, his, him = _PRONOUNS.get(child.sex, ("they", "their", "them"))
        text = rng.choice(WORRIED_TEMPLATES if worried else TEMPLATES).format(
            he=he, his=his, him=him, He=he.capitalize(), activity=rng.choice(_ACTIVITIES)
        )
        comment = (text, rng.random() < 0.7, rng.random() < 0.3)
    return _Review(f"{pid}-r1", pid, moment, stamp, results, comment)


def _interval_for(months: int, days: int) -> str:
    age = (months, days)
    return next((i for i, lo, hi in c.INTERVAL_WINDOWS if lo <= age <= hi), "I30")


def _nhs(child: Child, bad: bool) -> str | None:
    nhs = child.nhs_number
    if nhs and bad:  # any other last digit fails the mod-11 check
        return nhs[:9] + str((int(nhs[9]) + 1) % 10)
    return nhs


class _Writer:
    def __init__(self, out: _Files, seed: int, start: date, end: date, bad_rate: float,
                 cpis_rate: float, summary: HealthSynthSummary) -> None:  # fmt: skip
        self.out, self.seed, self.start, self.end = out, seed, start, end
        self.bad_rate, self.cpis_rate, self.summary = bad_rate, cpis_rate, summary

    def child(self, child: Child) -> None:
        rng = random.Random(f"{self.seed}:health:{child.person_id}")
        late = rng.random() >= 0.92
        days = (913 + int(rng.random() * 180)) if late else (730 + int(rng.random() * 190))
        day = child.dob + timedelta(days=days)
        alive = child.death_date is None or child.death_date > day
        pid = f"hv{uuid.uuid5(_NS, f'{self.seed}:{child.person_id}').hex[:12]}"
        if self.start <= day <= self.end and alive:
            self.review(rng, child, pid, day)
        if child.nhs_number and rng.random() < self.cpis_rate:
            self.notifications(rng, child, pid)

    def _patient(self, child: Child, pid: str, stamp: str, bad_nhs: bool) -> dict[str, Any]:
        gender = {"F": "female", "M": "male"}.get(child.sex, "unknown")
        name = (child.surname, child.forename)
        born = child.dob.isoformat()
        return fx.patient(pid, born, _nhs(child, bad_nhs), stamp=stamp, name=name, gender=gender)

    def review(self, rng: random.Random, child: Child, pid: str, day: date) -> None:
        r = _draw(rng, self.seed, child, pid, day)
        form = rng.random()  # < 0.35 five Observations, < 0.7 a panel, else a form
        if rng.random() < self.bad_rate:
            r.fault = rng.choice(("nhs_number.check", "fhir.structure", "asq3.code_unknown"))
            if r.fault == "nhs_number.check" and (r.comment or not child.nhs_number):
                r.fault = "fhir.structure"  # a bad Patient would take the comment down too
            if r.fault == "asq3.code_unknown" and form >= 0.7:
                r.fault = "fhir.structure"  # a QuestionnaireResponse has no such code
        when = _iso(r.moment)
        start = f"{day.year}-02-30T10:00:00Z" if r.fault == "fhir.structure" else when
        res = [
            self._patient(child, pid, r.stamp, r.fault == "nhs_number.check"),
            fx.review_encounter(r.eid, pid, start, stamp=r.stamp),
        ]
        fault_at = {"nhs_number.check": 0, "fhir.structure": 1}.get(r.fault or "", -1)
        if form < 0.7:
            wrong = {"fine_motor": "asq3-fine-motr"} if r.fault == "asq3.code_unknown" else None
            obs = fx.review_observations(
                r.eid, pid, when, r.results, panel=form >= 0.35, stamp=r.stamp, area_codes=wrong
            )
            if wrong:
                fault_at = 2 + (0 if form >= 0.35 else c.ASQ3_DOMAINS.index("fine_motor"))
            res += obs
            if r.comment:
                text, reporting, quotes = r.comment
                mode = "VERBAL" if rng.random() < 0.3 else "WRITTEN"
                cid = f"{r.eid}-pc"
                res.append(
                    fx.parent_comment(cid, pid, r.eid, when, text, reporting=reporting,
                                      quotes=quotes, mode=mode, stamp=r.stamp)
                )  # fmt: skip
        else:
            res.append(
                fx.review_questionnaire(
                    r.eid, pid, when, r.results, comment=r.comment, stamp=r.stamp
                )
            )
        if rng.random() < 0.2:  # not ours: the connector skips it
            weight = {"value": round(10 + 4 * rng.random(), 1), "unit": "kg"}
            res.append({"resourceType": "Observation", "id": f"{r.eid}-w", "status": "final",
                        "code": {"coding": [_WEIGHT]}, "subject": {"reference": f"Patient/{pid}"},
                        "effectiveDateTime": when, "valueQuantity": weight})  # fmt: skip
        name, first = self.out.ndjson("hv-reviews", day.strftime("%Y-%m"), res)
        self.summary.reviews += 1
        if r.fault:
            self.summary.bad.append(BadEntry(name, first + fault_at, r.fault, REVIEW))
        else:
            self.summary.events[REVIEW] += 1
        if r.comment:
            self.summary.events[COMMENT] += 1

    def notifications(self, rng: random.Random, child: Child, pid: str) -> None:
        first_day = max(child.dob, self.start)
        if first_day > self.end:
            return
        for n in range(1 + int(rng.random() * 3)):
            day = first_day + timedelta(days=int(rng.random() * ((self.end - first_day).days + 1)))
            hour, minute = int(rng.random() * 24), int(rng.random() * 60)
            when = datetime(day.year, day.month, day.day, hour, minute)
            setting = _pick(rng, _SETTINGS)
            bad = rng.random() < self.bad_rate * 4  # few notifications: a few more faults
            nid, stamp = f"{pid}-cpis{n}", _iso(when + timedelta(hours=1 + int(rng.random() * 6)))
            res = [self._patient(child, pid, stamp, False)] + fx.cpis_notification(
                nid,
                pid,
                f"{pid}-att{n}",
                _iso(when),
                setting="AE" if bad else setting,
                ods=f"RZZ{int(rng.random() * 90) + 10}",
                plan=_pick(rng, (("CPP", 55), ("LAC", 45))),
                message_id=str(uuid.uuid5(_NS, nid)),
                stamp=stamp,
            )
            name, first = self.out.bundle("cpis-notifications", day.strftime("%Y-%m"), res)
            if bad:
                self.summary.bad.append(BadEntry(name, first + 1, "cpis.care_setting", CPIS))
            else:
                self.summary.events[CPIS] += 1


def write_health_files(
    db_url: str,
    out_dir: Path,
    seed: int,
    la_code: str,
    *,
    start: date = date(2024, 4, 1),
    end: date = date(2026, 3, 31),
    bad_rate: float = 0.005,
    cpis_rate: float = 0.01,
    done_markers: bool = False,
) -> HealthSynthSummary:
    """Write the health files for the children in the case-management database at ``db_url``."""
    began = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = HealthSynthSummary()
    files = _Files(out_dir, la_code)
    writer = _Writer(files, seed, start, end, bad_rate, cpis_rate, summary)
    try:
        for child in children(db_url):
            summary.children_read += 1
            writer.child(child)
    finally:
        summary.files = files.close(done_markers)
    summary.seconds = time.perf_counter() - began
    return summary
