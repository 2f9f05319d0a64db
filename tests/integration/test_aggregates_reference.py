"""An independent batch recomputation of every aggregate's cells from synthetic shared events.

Written apart from the stream processors (plain loops over the event list, from
the aggregates' definitions in their docstrings), so the integration tests can
check every published cell against it. It gives each cell's members and their
values, named as the live tables name them (the child's pseudonym cut to 16
characters, with a record's when each record counts apart). No tests here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from streams.aggregates.care_leavers import DOMAINS, THEMES
from streams.aggregates.information_map import category, voice

ALL = "ALL"
Cells = dict[str, dict[str, dict[str, Any]]]


def m(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)[:7]


def idx(month: str | None) -> int | None:
    return None if month is None else int(month[:4]) * 12 + int(month[5:7]) - 1


def half(month: str) -> str:
    return f"{month[:4]}-H{1 if int(month[5:7]) <= 6 else 2}"


def age(dob: str | None, at: str) -> int | None:
    if dob is None or idx(at) < idx(dob):
        return None
    return (idx(at) - idx(dob)) // 12


def band(a: int | None) -> str:
    if a is None:
        return "UNKNOWN"
    for lo, hi, label in ((0, 0, "under 1"), (1, 4, "1-4"), (5, 9, "5-9"), (10, 15, "10-15")):
        if lo <= a <= hi:
            return label
    return "16+"


def ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def near(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and abs(idx(a) - idx(b)) <= 1


class Log:
    """The latest version of every record of every child, after purges and withdrawals."""

    def __init__(self, events: Iterable[tuple[str, dict]], withdrawn: dict[str, set[str]]):
        self.records: dict[tuple[str, str, str], dict] = {}
        for event_type, rec in events:
            if event_type.startswith("platform."):
                continue
            s = rec["share"]
            person = s["person_pseudonym"] or s["record_pseudonym"]
            types = withdrawn.get(person, set())
            key = (person, event_type.rsplit(".", 1)[1], s["record_pseudonym"][:16])
            if s["operation"] == "PURGE" or "*" in types or event_type in types:
                self.records.pop(key, None)
            else:
                self.records[key] = rec
        self.by_person: dict[str, dict[str, list[tuple[str, dict]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for (person, name, record), rec in self.records.items():
            self.by_person[person][name].append((record, rec))
        for names in self.by_person.values():
            for recs in names.values():
                recs.sort(key=lambda rr: (ms(rr[1]["share"]["event_time"]), rr[0]))

    def people(self):
        return self.by_person.items()

    @staticmethod
    def who(names) -> tuple[str | None, str]:
        regs = names.get("person_registered") or []
        if not regs:
            return None, "UNKNOWN"
        latest = max(regs, key=lambda rr: (ms(rr[1]["share"]["event_time"]), m(rr[1]["dob"]) or ""))
        return m(latest[1]["dob"]), latest[1].get("postcode") or "UNKNOWN"


def add(cells: Cells, table: str, dims: tuple, margins: tuple[int, ...], member: str, values):
    values = {k: v for k, v in values.items() if v}
    if not values:
        return
    combos = [()]
    for i in margins:
        combos += [c + (i,) for c in combos]
    for chosen in combos:
        key = "|".join((table, *(ALL if i in chosen else v for i, v in enumerate(dims))))
        cell = cells.setdefault(key, {})
        if member in cell:
            for k, v in values.items():
                cell[member][k] = cell[member].get(k, [] if k == "_s" else 0) + v
        else:
            cell[member] = dict(values)


def st(record: str, text: str, role: str) -> dict:
    return {"k": hashlib.sha256(record.encode()).hexdigest()[:16], "t": text, "r": role}


def quotable(rec: dict) -> bool:
    c = rec.get("consent_for_reports") or {}
    return bool(c.get("strategic_reporting") and c.get("verbatim_quotes") and rec.get("text"))


# --- the aggregates ------------------------------------------------------------------------


def referrals_by_source(log: Log) -> Cells:
    cells: Cells = {}
    for person, names in log.people():
        for record, rec in names.get("referral", []):
            key = f"{m(rec['referral_date'])}|{rec['referral_source'][3:]}"
            cells.setdefault(key, {})[f"{person[:16]}:{record}"] = {"referrals": 1}
    return cells


def care_leavers(log: Log) -> Cells:
    cells: Cells = {}
    for person, names in log.people():
        dob, area = log.who(names)
        quotes: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for record, rec in names.get("statement_recorded", []):
            if rec.get("context") != "PATHWAY_PLAN" or rec["author_role"] not in (
                "YOUNG_PERSON",
                "CHILD",
            ):
                continue
            if not quotable(rec):
                continue
            codes = list(rec.get("themes") or []) + [i["item_code"] for i in rec.get("items") or []]
            doms = {c.upper() if c.upper() in DOMAINS else THEMES.get(c.lower()) for c in codes}
            for d in sorted(doms - {None}) or ["ALL_DOMAINS"]:
                quotes[half(m(rec["expressed_at"]))][d].append(
                    st(record, rec["text"], rec["author_role"])
                )
        latest: dict[str, dict] = {}
        for _, rec in names.get("pathway_plan_reviewed", []):
            latest[half(m(rec["review_date"]))] = rec
        for period, rec in latest.items():
            own, theirs = [], []
            for d in rec["domains"]:
                yp, pa = d["young_person_rating"], d["adviser_rating"]
                own += [yp] if yp is not None else []
                theirs += [pa] if pa is not None else []
                v = ratings(yp, pa)
                v["_s"] = list(quotes[period][d["domain"]])
                add(cells, "domain_ratings", (period, area, d["domain"]), (1,), person[:16], v)
            v = ratings(
                sum(own) / len(own) if own else None, sum(theirs) / len(theirs) if theirs else None
            )
            v["_s"] = list(quotes[period]["ALL_DOMAINS"])
            add(cells, "domain_ratings", (period, area, "ALL_DOMAINS"), (1,), person[:16], v)
        contacts: dict[str, dict] = {}
        for _, rec in names.get("care_leaver_contact", []):
            contacts[half(m(rec["contact_date"]))] = rec
        for period, rec in contacts.items():
            a = age(dob, m(rec["contact_date"]))
            if a is None or not 17 <= a <= 21:
                continue
            v = {
                "n": 1,
                "in_touch": int(rec["in_touch"] == "YES"),
                "eet": int(
                    rec.get("activity")
                    in {
                        "ACT_F1",
                        "ACT_P1",
                        "ACT_F2",
                        "ACT_P2",
                        "ACT_F4",
                        "ACT_P4",
                        "ACT_F5",
                        "ACT_P5",
                    }
                ),
                "suit": int(rec.get("accommodation_suitable") is True),
            }
            group = "17-18" if a <= 18 else "19-21"
            add(cells, "contact_outcomes", (period, area, group), (1, 2), person[:16], v)
    return cells


def ratings(yp, pa) -> dict:
    v: dict[str, Any] = {"n": 1}
    for prefix, r in (("young_person", yp), ("adviser", pa)):
        if r is None:
            continue
        v[f"{prefix}_n"] = 1
        v[f"{prefix}_sum"] = r
        label = "0_3" if round(r) <= 3 else "4_6" if round(r) <= 6 else "7_10"
        v[f"{prefix}_{label}"] = 1
    if yp is not None and pa is not None:
        v.update(pair_n=1, gap_sum=yp - pa, yp_lower=int(yp < pa))
    return v


def early_help_voice(log: Log) -> Cells:
    cells: Cells = {}
    for person, names in log.people():
        _, area = log.who(names)
        eps: dict[str, dict] = {}
        for name in ("early_help_episode_started", "early_help_episode_ended"):
            for record, rec in names.get(name, []):
                ep = eps.setdefault(record, {"s": m(rec["start_date"]), "end": None, "notes": []})
                if name.endswith("ended"):
                    ep.update(s=m(rec["start_date"]), end=m(rec["end_date"]), why=rec["end_reason"])
        for _, rec in names.get("voice_note_recorded", []):
            n = m(rec["recorded_at"])
            owners = [
                (idx(ep["s"]), r)
                for r, ep in eps.items()
                if idx(ep["s"]) <= idx(n) + 1 and (ep["end"] is None or idx(n) <= idx(ep["end"]))
            ]
            if owners:
                eps[max(owners)[1]]["notes"].append(rec)
        csc = [idx(m(rec["referral_date"])) for _, rec in names.get("referral", [])]
        for record, ep in eps.items():
            member = f"{person[:16]}:{record}"
            hub = any(
                n["author_role"] == "PARENT_CARER"
                and m(n.get("hub_meeting_date"))
                and m(n["recorded_at"]) <= m(n["hub_meeting_date"])
                for n in ep["notes"]
            )
            add(cells, "referrals", (ep["s"], area), (1,), member, {"n": 1, "vn_hub": int(hub)})
            if not ep["end"]:
                continue
            s, e = idx(ep["s"]), idx(ep["end"])
            again = any(
                o is not ep and e <= idx(o["s"]) <= e + 12 and idx(o["s"]) > s for o in eps.values()
            )
            up = ep["why"] == "STEP_UP_CSC" or any(s <= r <= e + 12 for r in csc)
            note = "RECORDED" if ep["notes"] else "NOT_RECORDED"
            v = {"n": 1, "rereferred": int(again), "escalated": int(up)}
            add(cells, "outcomes", (half(ep["end"]), area, note), (1, 2), member, v)
    return cells


def early_years_communication(log: Log) -> Cells:
    cells: Cells = {}
    for person, names in log.people():
        _, area = log.who(names)
        reviews = names.get("development_review_completed", [])
        review = reviews[-1][1] if reviews else None
        if review:
            rm = m(review["review_date"])
            comments = [
                (r, c)
                for r, c in names.get("parent_comment_recorded", [])
                if c["author_role"] == "PARENT_CARER" and near(m(c["share"]["event_time"]), rm)
            ]
            concerns = set(review["parent_concerns"])
            by = review["concern_raised_by"]
            v = {
                "n": 1,
                "below": int(review["communication"]["zone"] == "BELOW"),
                "by_parent": int(by in ("PARENT", "BOTH")),
                "by_prac": int(by in ("PRACTITIONER", "BOTH")),
                "salt": int(review["onward_referral"] == "SALT"),
                "referred": int(review["onward_referral"] is not None),
                "talking": int(bool(concerns & {"TALKING", "UNDERSTOOD"})),
                "hearing": int("HEARING" in concerns),
                "comment": int(bool(comments)),
                "_s": [st(r, c["text"], c["author_role"]) for r, c in comments if quotable(c)],
            }
            add(cells, "reviews", (rm[:4], area), (1,), person[:16], v)
        results = names.get("eyfsp_assessed", [])
        if not results:
            continue
        result = max(
            results, key=lambda rr: (rr[1]["academic_year"], ms(rr[1]["share"]["event_time"]))
        )[1]
        goals = {o["elg"]: o["outcome"] for o in result["elg_outcomes"]}
        fsm = names.get("fsm_eligibility_changed", [])
        sen = names.get("sen_status_changed", [])
        latest_sen = (
            max(sen, key=lambda rr: (m(rr[1]["effective_date"]), ms(rr[1]["share"]["event_time"])))[
                1
            ]
            if sen
            else None
        )
        groups = {
            "area": area,
            "fsm": ("FSM" if any(r["eligible"] for _, r in fsm) else "NOT_FSM")
            if fsm
            else "UNKNOWN",
            "sen": {"E": "EHCP", "K": "SEN_SUPPORT", "N": "NO_SEN"}[latest_sen["sen_provision"]]
            if latest_sen
            else "UNKNOWN",
        }
        at_2 = (
            "NO_REVIEW"
            if review is None
            else ("BELOW" if review["communication"]["zone"] == "BELOW" else "NOT_BELOW")
        )
        v = {
            "n": 1,
            "cl": int(goals.get("ELG01") == goals.get("ELG02") == "EXPECTED"),
            "gld": int(bool(result["gld"])),
            "talking": int(
                bool(review) and bool(set(review["parent_concerns"]) & {"TALKING", "UNDERSTOOD"})
            ),
        }
        for by, group in groups.items():
            add(
                cells,
                f"outcomes_by_{by}",
                (result["academic_year"], group, at_2),
                (1, 2),
                person[:16],
                v,
            )
    return cells


SERVICES = {
    "assessment": ("CIN_ASSESSMENT", "ASSESSMENT", "start_date"),
    "cp_plan_reviewed": ("CHILD_PROTECTION", "CP_CONFERENCE", "review_date"),
    "cla_review": ("LOOKED_AFTER", "CLA_REVIEW", "review_date"),
    "pathway_plan_reviewed": ("CARE_LEAVERS", "PATHWAY_PLAN", "review_date"),
    "early_help_episode_started": ("EARLY_HELP", "EH_REVIEW", "start_date"),
    "development_review_completed": ("HEALTH_VISITING", "HV_REVIEW", "review_date"),
}


def participation(log: Log) -> Cells:
    cells: Cells = {}
    took_part = {f"PN{i}" for i in range(1, 7)}
    for person, names in log.people():
        dob, _ = log.who(names)
        statements = [r for _, r in names.get("statement_recorded", [])]
        family = [m(r["recorded_at"]) for _, r in names.get("voice_note_recorded", [])]
        family += [m(r["share"]["event_time"]) for _, r in names.get("parent_comment_recorded", [])]
        for name, (service, context, field) in SERVICES.items():
            for _, rec in names.get(name, []):
                when = m(rec.get(field))
                if not when or rec.get("cancelled"):
                    continue
                b, period = band(age(dob, when)), half(when)
                pn = (
                    rec.get("participation") if name in ("cla_review", "cp_plan_reviewed") else None
                )
                if name in ("cla_review", "cp_plan_reviewed"):
                    v = {"n": 1, pn or "none": 1}
                    if pn not in (None, "PN0"):
                        v.update(n4=1, took_part=int(pn in took_part))
                    kind = "CLA_REVIEW" if name == "cla_review" else "CP_REVIEW"
                    add(cells, "reviews", (period, kind, b), (1, 2), person[:16], v)
                roles = {"CHILD", "YOUNG_PERSON", "ADVOCATE"}
                own = False
                if name == "pathway_plan_reviewed":
                    own = any(d["young_person_rating"] is not None for d in rec["domains"])
                if name == "development_review_completed":
                    own = rec["concern_raised_by"] in ("PARENT", "BOTH")
                if service in ("EARLY_HELP", "HEALTH_VISITING"):
                    roles = roles | {"PARENT_CARER"}
                    own = own or any(near(f, when) for f in family)
                heard = (
                    pn in took_part
                    or own
                    or any(
                        s["context"] == context
                        and s["author_role"] in roles
                        and near(m(s["expressed_at"]), when)
                        for s in statements
                    )
                )
                v = {"n": 1, "voice": int(heard), "silent": int(not heard)}
                add(cells, "missing_voice", (period, service, b), (1, 2), person[:16], v)
    return cells


def information_map(entries: Iterable[tuple[str, dict]]) -> Cells:
    by_event: dict[str, dict[str, dict]] = defaultdict(dict)
    for event_type, e in entries:
        if event_type == "platform.ledger_entry":
            by_event[e["event_id"]][f"{e['recipient']}|{e['purpose']}"] = e
    cells: Cells = {}
    for event_id, decisions in by_event.items():
        et = next(iter(decisions.values()))["event_type"]
        received: dict[str, set[str]] = defaultdict(set)
        collected: set[str] = set()
        sr_reason: dict[str, str] = {}
        for e in decisions.values():
            rel = {
                category(et, f["field"])
                for f in e["fields_transformed"]
                if f["transform"] != "drop"
            }
            col = rel | {category(et, f) for f in e["fields_withheld"]}
            col |= {category(et, f["field"]) for f in e["fields_transformed"]}
            collected |= col
            received[e["purpose"]] |= rel
            if e["purpose"] == "strategic_reporting":
                for c in col - rel:
                    if e["outcome"] == "NOT_SHARED":
                        sr_reason[c] = e["reason"].split("; ", 1)[0]
                    elif c == "own_words" and "verbatim" in e["reason"]:
                        sr_reason[c] = (
                            "free text withheld: the person did not agree to verbatim quotes"
                        )
                    else:
                        sr_reason[c] = (
                            "not among the fields 'strategic_reporting' may receive "
                            "(policies/data/purposes.yaml)"
                        )
        member = event_id[:16]
        for c in collected:
            v = {"n": 1, "sr": int(c in received["strategic_reporting"])}
            if not v["sr"] and any(
                e["purpose"] == "strategic_reporting" for e in decisions.values()
            ):
                v["r:" + sr_reason.get(c, "")] = 1
            add(cells, "collected", (et, c, voice(c)), (0,), member, v)
        for purpose, cats in received.items():
            for c in cats:
                add(cells, "received", (et, c, voice(c), purpose), (0,), member, {"n": 1})
    return cells


def reference(
    events: list[tuple[str, dict]], withdrawn: dict[str, set[str]] | None = None
) -> dict[str, Cells]:
    """aggregate -> cell key -> member -> values, recomputed from scratch."""
    log = Log(events, withdrawn or {})
    return {
        "referrals_by_source": referrals_by_source(log),
        "care_leavers": care_leavers(log),
        "early_help_voice": early_help_voice(log),
        "early_years_communication": early_years_communication(log),
        "participation": participation(log),
        "information_map": information_map(events),
    }
