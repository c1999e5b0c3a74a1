"""The planner's rules as plain functions over plain values (F1–F6, E1–E6).

No ORM here: ``planner.py`` loads ``VisitFacts`` and ``StageRule`` and writes the results.
Every rule cites its spec id; the tests in ``tests/test_planning.py`` are tables of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from careloop.lib.icd10 import CodeSet, parse_codes
from careloop.lib.workdays import WorkCalendar

DAY = dt.timedelta(days=1)
E3_MIN_STAY = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """What the planner needs to know of one visit, its patient and its department."""

    visit_id: int
    patient_id: int
    department_id: int
    department_kind: str
    visit_type: str
    admitted_at: dt.datetime | None = None
    discharged_at: dt.datetime | None = None
    visit_at: dt.datetime | None = None
    # Local calendar dates of the anchors (the loader converts once).
    discharge_date: dt.date | None = None
    visit_date: dt.date | None = None
    first_visit: bool = False
    lost: bool = False
    special: bool = False
    chronic: bool = False
    total_cost: Decimal | None = None
    birth_date: dt.date | None = None
    cleared_out: bool = False
    cancelled: bool = False
    diagnosis_codes: tuple[str, ...] = ()
    dispute: bool = False
    refused: bool = False
    deceased: bool = False
    has_phone: bool = True
    responsible_nurse_id: int | None = None
    attending_doctor_id: int | None = None


@dataclass(frozen=True, slots=True)
class StageRule:
    """A stage (F5) with its policy's settings, ready to evaluate."""

    id: int
    policy_id: int
    code: str = ""
    visit_types: frozenset = frozenset()
    department_kinds: frozenset = frozenset()
    departments: frozenset = frozenset()
    first_visit: bool | None = None
    lost: bool | None = None
    special: bool | None = None
    chronic: bool | None = None
    min_cost: Decimal | None = None
    age_min: int | None = None
    age_max: int | None = None
    diagnosis: CodeSet = field(default_factory=lambda: parse_codes(""))
    anchor: str = "discharge"  # discharge | visit | previous
    depends_on_id: int | None = None
    after_recovery: bool = False
    start_day: int = 7
    last_day: int = 13
    channel: str = "phone"
    assignee_role: str = "agent_pool"
    repeat: str = "none"  # none | every | until_recovered
    repeat_every_days: int | None = None
    repeat_max: int | None = None
    # Policy-level settings every stage of the policy shares.
    effective_from: dt.date | None = None
    sensitive: CodeSet = field(default_factory=lambda: parse_codes("A50-A64, B20-B24, O04"))

    @property
    def is_root(self) -> bool:
        """Planned from the visit itself; the others are created when a stage completes."""
        return self.depends_on_id is None


def age_on(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return max(years, 0)


def anchor_date(stage: StageRule, visit: VisitFacts) -> dt.date | None:
    """F5: the date a root stage's days count from; None when the visit has no such time yet
    (an inpatient not discharged, or whose discharge was cancelled)."""
    if stage.anchor == "discharge":
        return visit.discharge_date
    if stage.anchor == "visit":
        return visit.visit_date or visit.discharge_date
    return None


def anchor_time(stage: StageRule, visit: VisitFacts) -> dt.datetime | None:
    if stage.anchor == "discharge":
        return visit.discharged_at
    if stage.anchor == "visit":
        return visit.visit_at or visit.discharged_at
    return None


def applies(stage: StageRule, visit: VisitFacts) -> bool:
    """F5: does the stage's condition catch this visit? (Anchor and exclusions are separate.)"""
    if visit.cancelled:
        return False
    if stage.visit_types and visit.visit_type not in stage.visit_types:
        return False
    if stage.department_kinds and visit.department_kind not in stage.department_kinds:
        return False
    if stage.departments and visit.department_id not in stage.departments:
        return False
    for wanted, actual in (
        (stage.first_visit, visit.first_visit),
        (stage.lost, visit.lost),
        (stage.special, visit.special),
        (stage.chronic, visit.chronic),
    ):
        if wanted is not None and wanted != actual:
            return False
    if stage.min_cost is not None and (
        visit.total_cost is None or visit.total_cost <= stage.min_cost
    ):
        return False
    if stage.age_min is not None or stage.age_max is not None:
        on = visit.discharge_date or visit.visit_date
        age = age_on(visit.birth_date, on) if on else None
        if age is None:
            return False
        if stage.age_min is not None and age < stage.age_min:
            return False
        if stage.age_max is not None and age > stage.age_max:
            return False
    return not stage.diagnosis or stage.diagnosis.matches_any(visit.diagnosis_codes)


def window(anchor: dt.date, stage: StageRule, cal: WorkCalendar) -> tuple[dt.date, dt.date]:
    """F5/F6: days ``start_day``..``last_day`` after the anchor, moved onto working days: opens
    on the next working day, closes on the last working day on or before the nominal close,
    never before it opens."""
    return cal.window(anchor + stage.start_day * DAY, anchor + stage.last_day * DAY)


def repeat_window(
    completed_on: dt.date, stage: StageRule, cal: WorkCalendar
) -> tuple[dt.date, dt.date]:
    """A repeat (every N days, until recovered) opens N days after the last completion and stays
    open as long as the stage's own window is wide (at least 7 days)."""
    every = stage.repeat_every_days or stage.start_day
    width = max(stage.last_day - stage.start_day, 6)
    return cal.window(completed_on + every * DAY, completed_on + (every + width) * DAY)


def exclusion(
    visit: VisitFacts, stage: StageRule, lifted: frozenset[str] | set[str] = frozenset()
) -> str:
    """E1–E6: the first exclusion that holds, in that order, skipping the ones a supervisor
    lifted for this task (E7); '' when none holds."""
    if visit.dispute and "E1" not in lifted:
        return "E1"
    if visit.cleared_out and "E2" not in lifted:
        return "E2"
    if (
        "E3" not in lifted
        and visit.visit_type == "inpatient"
        and visit.admitted_at is not None
        and visit.discharged_at is not None
        and visit.discharged_at - visit.admitted_at < E3_MIN_STAY
    ):
        return "E3"
    if visit.deceased and "E4" not in lifted:
        return "E4"
    if (
        "E5" not in lifted
        and stage.sensitive
        and stage.sensitive.matches_any(visit.diagnosis_codes)
    ):
        return "E5"
    if "E6" not in lifted and (
        visit.refused or (stage.channel in ("phone", "sms") and not visit.has_phone)
    ):
        return "E6"
    return ""


def named_assignee(stage: StageRule, visit: VisitFacts) -> int | None:
    """F12: the person a stage names for this visit (None for the agents' pool)."""
    if stage.assignee_role == "responsible_nurse":
        return visit.responsible_nurse_id
    if stage.assignee_role == "attending_doctor":
        return visit.attending_doctor_id
    return None


@dataclass(frozen=True, slots=True)
class PlannedTask:
    stage_id: int
    sequence: int
    window_start: dt.date
    window_end: dt.date
    exclusion: str


def plan_visit(visit: VisitFacts, stages: list[StageRule], cal: WorkCalendar) -> list[PlannedTask]:
    """The root tasks a visit should have under the given stages (sequence 1 each)."""
    planned = []
    for stage in stages:
        if not stage.is_root or not applies(stage, visit):
            continue
        anchor = anchor_date(stage, visit)
        if anchor is None or (stage.effective_from and anchor < stage.effective_from):
            continue
        opens, closes = window(anchor, stage, cal)
        planned.append(PlannedTask(stage.id, 1, opens, closes, exclusion(visit, stage)))
    return planned
