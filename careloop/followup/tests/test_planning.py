"""F1–F6 windows and E1–E6 exclusions as tables of hand-computed cases on the 2026 calendar.

The 2026 facts used (State Council notice): 2026-09-20 (Sunday) is a working day; Mid-Autumn
09-25 to 09-27 off; National Day 10-01 to 10-07 off; 2026-10-10 (Saturday) is a working day.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import replace
from decimal import Decimal

import pytest

from careloop.calendars.services import official_is_workday
from careloop.followup.planning import StageRule, VisitFacts, exclusion, plan_visit, window
from careloop.followup.presets import PRESETS
from careloop.lib.icd10 import parse_codes
from careloop.lib.workdays import WorkCalendar

D = dt.date.fromisoformat
CAL = WorkCalendar({}, official_is_workday)
TZ = dt.timezone(dt.timedelta(hours=8))


def rule(slug: str, code: str, **extra) -> StageRule:
    """The preset stage as shipped (PRESETS), as the planner sees it."""
    preset = next(p for p in PRESETS if p["slug"] == slug)
    spec = next(s for s in preset["stages"] if s["code"] == code)
    start = spec["window_start_day"]
    return StageRule(
        id=zlib.crc32(f"{slug}:{code}".encode()),
        policy_id=1,
        code=code,
        visit_types=frozenset(spec.get("visit_types", ())),
        department_kinds=frozenset(spec.get("department_kinds", ())),
        first_visit=spec.get("first_visit"),
        lost=spec.get("lost"),
        special=spec.get("special"),
        anchor=spec.get("anchor", "discharge"),
        depends_on_id=1 if spec.get("depends_on") else None,
        start_day=start,
        last_day=spec.get("window_end_day") or start + 6,
        channel=spec["channel"],
        assignee_role=spec["assignee_role"],
        **extra,
    )


def inpatient(discharged: str, **extra) -> VisitFacts:
    out = dt.datetime.fromisoformat(discharged + "T10:00").replace(tzinfo=TZ)
    base = VisitFacts(
        visit_id=1, patient_id=1, department_id=1, department_kind="inpatient",
        visit_type="inpatient", admitted_at=out - dt.timedelta(days=5), discharged_at=out,
        discharge_date=out.date(),
    )  # fmt: skip
    return replace(base, **extra)


def outpatient(seen: str, kind: str, **extra) -> VisitFacts:
    at = dt.datetime.fromisoformat(seen + "T09:30").replace(tzinfo=TZ)
    base = VisitFacts(
        visit_id=2, patient_id=2, department_id=2, department_kind=kind,
        visit_type="outpatient", visit_at=at, visit_date=at.date(), first_visit=True,
    )  # fmt: skip
    return replace(base, **extra)


WINDOWS = [
    # (preset, stage, anchor date, expected opens, expected closes, why)
    # F1 inpatient, days 7–13: day 7 is the adjusted working Sunday, day 13 (09-26) is inside
    # Mid-Autumn, so it closes on Thursday 09-24.
    ("kf-phone", "inpatient", "2026-09-13", "2026-09-20", "2026-09-24", "F1 F6 adjusted Sunday"),
    # Day 7 = 10-01 inside National Day → opens 10-08; day 13 = 10-07 would close before it
    # opens → closes the day it opens.
    ("kf-phone", "inpatient", "2026-09-24", "2026-10-08", "2026-10-08", "F1 F6 National Day"),
    # Day 7 is the working Saturday 10-10; day 13 = Friday 10-16.
    ("kf-phone", "inpatient", "2026-10-03", "2026-10-10", "2026-10-16", "F1 F6 working Saturday"),
    # An ordinary week: day 7 Monday 11-23, day 13 Sunday 11-29 → Friday 11-27.
    ("kf-phone", "inpatient", "2026-11-16", "2026-11-23", "2026-11-27", "F1 weekend close"),
    # F1 specialist first visit day 7 (Saturday 10-17 → Monday 10-19), day 13 Friday 10-23.
    ("kf-phone", "specialist-first", "2026-10-10", "2026-10-19", "2026-10-23", "F1 specialist"),
    # F1 basic first visit day 10: 09-10 + 10 = 09-20 working Sunday; day 16 = 09-26 → 09-24.
    ("kf-phone", "basic-first", "2026-09-10", "2026-09-20", "2026-09-24", "F1 basic day 10"),
    # F2 days 15–30: 09-05 + 15 = 09-20 (working Sunday); +30 = 10-05 (National Day) → 09-30.
    ("discharge-nurse", "phone", "2026-09-05", "2026-09-20", "2026-09-30", "F2 phone"),
    # F2: day 15 = 10-01 → opens 10-08; day 30 = Friday 10-16.
    ("discharge-nurse", "phone", "2026-09-16", "2026-10-08", "2026-10-16", "F2 National Day"),
    ("discharge-nurse", "home-visit", "2026-09-16", "2026-10-08", "2026-10-16", "F2 home visit"),
    # F3 days 1–7: 09-19 + 1 = working Sunday 09-20; +7 = 09-26 Mid-Autumn → 09-24.
    ("doctor-7-90", "first", "2026-09-19", "2026-09-20", "2026-09-24", "F3 first call"),
    # F3 second call days 60–90: 08-02 + 60 = 10-01 → 10-08; +90 = Saturday 10-31 → 10-30.
    ("doctor-7-90", "second", "2026-08-02", "2026-10-08", "2026-10-30", "F3 second call"),
    # F4 service days 1–5: 10-05 + 1 = 10-06 holiday → 10-08; +5 = working Saturday 10-10.
    ("two-level", "service", "2026-10-05", "2026-10-08", "2026-10-10", "F4 service 5 days"),
    ("two-level", "doctor", "2026-10-05", "2026-10-08", "2026-10-20", "F4 doctor 15 days"),
    # F4 a month after the doctor's call (anchor: its completion 09-01): 10-01 → 10-08;
    # day 36 = 10-07 would close before → 10-08.
    ("two-level", "doctor-month", "2026-09-01", "2026-10-08", "2026-10-08", "F4 month"),
    # F4 quarterly: completion 06-22 + 90 = working Sunday 09-20; +96 = 09-26 → 09-24.
    ("two-level", "quarterly", "2026-06-22", "2026-09-20", "2026-09-24", "F4 quarterly"),
]


@pytest.mark.parametrize("slug,code,anchor,opens,closes,why", WINDOWS, ids=[w[-1] for w in WINDOWS])
def test_preset_windows_on_the_2026_calendar_F6(slug, code, anchor, opens, closes, why):
    assert window(D(anchor), rule(slug, code), CAL) == (D(opens), D(closes))


def test_window_opens_on_adjusted_sunday_F6():
    (task,) = plan_visit(inpatient("2026-09-13"), [rule("kf-phone", "inpatient")], CAL)
    assert (task.window_start, task.window_end) == (
        D("2026-09-20"),
        D("2026-09-20") + dt.timedelta(4),
    )


def test_plan_visit_applies_the_F1_conditions():
    stages = [rule("kf-phone", c) for c in ("inpatient", "specialist-first", "basic-first")]
    assert [t.stage_id for t in plan_visit(inpatient("2026-10-03"), stages, CAL)] == [stages[0].id]
    spec = outpatient("2026-10-10", "specialist")
    assert [t.stage_id for t in plan_visit(spec, stages, CAL)] == [stages[1].id]
    basic = outpatient("2026-09-10", "basic")
    assert [t.stage_id for t in plan_visit(basic, stages, CAL)] == [stages[2].id]
    # F1: not a first visit, or a lost patient, or an emergency: no task.
    assert plan_visit(outpatient("2026-10-10", "specialist", first_visit=False), stages, CAL) == []
    assert plan_visit(outpatient("2026-10-10", "specialist", lost=True), stages, CAL) == []
    assert plan_visit(outpatient("2026-10-10", "emergency"), stages, CAL) == []


def test_F2_special_patient_gets_a_home_visit_instead_of_a_call():
    stages = [rule("discharge-nurse", "phone"), rule("discharge-nurse", "home-visit")]
    (task,) = plan_visit(inpatient("2026-09-16", special=True), stages, CAL)
    assert task.stage_id == stages[1].id
    (task,) = plan_visit(inpatient("2026-09-16"), stages, CAL)
    assert task.stage_id == stages[0].id


def test_not_discharged_and_dependent_stages_make_no_root_task_F5():
    stages = [rule("doctor-7-90", "first"), rule("doctor-7-90", "second")]
    assert (
        plan_visit(inpatient("2026-09-19", discharged_at=None, discharge_date=None), stages, CAL)
        == []
    )
    assert [t.stage_id for t in plan_visit(inpatient("2026-09-19"), stages, CAL)] == [stages[0].id]


def test_effective_from_skips_older_visits_F5():
    stage = rule("kf-phone", "inpatient", effective_from=D("2026-10-01"))
    assert plan_visit(inpatient("2026-09-30"), [stage], CAL) == []
    assert len(plan_visit(inpatient("2026-10-01"), [stage], CAL)) == 1


def test_single_day_window_is_seven_days_F5():
    stage = rule("kf-phone", "inpatient")
    assert (stage.start_day, stage.last_day) == (7, 13)


def test_cost_age_chronic_and_diagnosis_conditions_F5():
    base = rule("doctor-7-90", "first")
    costly = StageRule(**{**_fields(base), "min_cost": Decimal("10000")})
    assert plan_visit(inpatient("2026-11-02", total_cost=Decimal("10000.01")), [costly], CAL)
    assert not plan_visit(inpatient("2026-11-02", total_cost=Decimal("10000")), [costly], CAL)
    assert not plan_visit(inpatient("2026-11-02"), [costly], CAL)
    elderly = StageRule(**{**_fields(base), "age_min": 65})
    assert plan_visit(inpatient("2026-11-02", birth_date=D("1961-11-02")), [elderly], CAL)
    assert not plan_visit(inpatient("2026-11-02", birth_date=D("1961-11-03")), [elderly], CAL)
    chronic = StageRule(**{**_fields(base), "chronic": True})
    assert not plan_visit(inpatient("2026-11-02"), [chronic], CAL)
    hypertension = StageRule(**{**_fields(base), "diagnosis": parse_codes("I10-I15")})
    assert plan_visit(
        inpatient("2026-11-02", diagnosis_codes=("K35.9", "I11.0")), [hypertension], CAL
    )
    assert not plan_visit(inpatient("2026-11-02", diagnosis_codes=("K35.9",)), [hypertension], CAL)


def _fields(stage: StageRule) -> dict:
    return {name: getattr(stage, name) for name in StageRule.__slots__}


# -- E1–E6 ---------------------------------------------------------------------------------

PHONE = rule("kf-phone", "inpatient")
HOME = rule("discharge-nurse", "home-visit")


def stay(hours: float) -> VisitFacts:
    out = dt.datetime(2026, 11, 2, 10, 0, tzinfo=TZ)
    return inpatient("2026-11-02", admitted_at=out - dt.timedelta(hours=hours), discharged_at=out)


@pytest.mark.parametrize(
    "facts,expected",
    [
        (inpatient("2026-11-02"), ""),
        (inpatient("2026-11-02", dispute=True), "E1"),
        (inpatient("2026-11-02", cleared_out=True), "E2"),
        (stay(23.99), "E3"),
        (stay(24), ""),  # E3: exactly 24 hours is not under 24 hours
        (stay(24.01), ""),
        (inpatient("2026-11-02", deceased=True), "E4"),
        (inpatient("2026-11-02", diagnosis_codes=("A51.0",)), "E5"),
        # E5 on a secondary diagnosis, the principal one harmless.
        (inpatient("2026-11-02", diagnosis_codes=("I21.9", "B20")), "E5"),
        (inpatient("2026-11-02", diagnosis_codes=("O04.9",)), "E5"),
        (inpatient("2026-11-02", diagnosis_codes=("O03",)), ""),
        (inpatient("2026-11-02", refused=True), "E6"),
        (inpatient("2026-11-02", has_phone=False), "E6"),
        # The first in the order E1…E6 is recorded.
        (inpatient("2026-11-02", dispute=True, deceased=True, refused=True), "E1"),
        (inpatient("2026-11-02", cleared_out=True, deceased=True), "E2"),
        (inpatient("2026-11-02", deceased=True, diagnosis_codes=("B24",), refused=True), "E4"),
        (inpatient("2026-11-02", diagnosis_codes=("A60",), has_phone=False), "E5"),
    ],
)
def test_exclusions_in_order_E1_to_E6(facts, expected):
    assert exclusion(facts, PHONE) == expected


def test_E3_applies_to_inpatients_only():
    seen = outpatient("2026-11-02", "specialist")
    assert exclusion(seen, PHONE) == ""


def test_E6_no_phone_only_for_phone_and_sms_stages():
    assert exclusion(inpatient("2026-11-02", has_phone=False), HOME) == ""
    assert exclusion(inpatient("2026-11-02", refused=True), HOME) == "E6"


def test_lifted_exclusion_is_not_applied_again_E7():
    facts = inpatient("2026-11-02", dispute=True, refused=True)
    assert exclusion(facts, PHONE, {"E1"}) == "E6"
    assert exclusion(facts, PHONE, {"E1", "E6"}) == ""


def test_configurable_privacy_list_E5():
    narrow = StageRule(**{**_fields(PHONE), "sensitive": parse_codes("F20-F29")})
    assert exclusion(inpatient("2026-11-02", diagnosis_codes=("F20.0",)), narrow) == "E5"
    assert exclusion(inpatient("2026-11-02", diagnosis_codes=("B20",)), narrow) == ""
