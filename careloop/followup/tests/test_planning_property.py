"""Property (F6, F7): for random visits, stages and calendars, no window opens on a non-working
day, closes before it opens or on a non-working day (unless it closes the day it opens), and no
stage yields two tasks for one visit — planned twice, the result is the same."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from careloop.calendars.services import official_is_workday
from careloop.followup.planning import StageRule, VisitFacts, plan_visit
from careloop.lib.workdays import WorkCalendar

TZ = dt.timezone(dt.timedelta(hours=8))
START, END = dt.date(2025, 1, 1), dt.date(2027, 12, 31)

days = st.dates(min_value=START, max_value=END)
calendars = st.dictionaries(days, st.booleans(), max_size=120).map(
    lambda overrides: WorkCalendar(overrides, official_is_workday)
)


@st.composite
def stages(draw, ident):
    start = draw(st.integers(0, 120))
    return StageRule(
        id=ident,
        policy_id=1,
        visit_types=draw(
            st.sampled_from([frozenset(), frozenset({"inpatient"}), frozenset({"outpatient"})])
        ),
        anchor=draw(st.sampled_from(["discharge", "visit"])),
        start_day=start,
        last_day=start + draw(st.integers(0, 40)),
        channel=draw(st.sampled_from(["phone", "sms", "home_visit"])),
    )


@st.composite
def visits(draw):
    day = draw(days)
    at = dt.datetime.combine(day, dt.time(draw(st.integers(0, 23))), tzinfo=TZ)
    inpatient = draw(st.booleans())
    return VisitFacts(
        visit_id=1, patient_id=1, department_id=1, department_kind="inpatient",
        visit_type="inpatient" if inpatient else "outpatient",
        admitted_at=at - dt.timedelta(hours=draw(st.integers(1, 500))) if inpatient else None,
        discharged_at=at if inpatient else None, discharge_date=day if inpatient else None,
        visit_at=None if inpatient else at, visit_date=None if inpatient else day,
        dispute=draw(st.booleans()), refused=draw(st.booleans()), has_phone=draw(st.booleans()),
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(visit=visits(), cal=calendars, rules=st.lists(st.integers(1, 10**6), min_size=1, max_size=5, unique=True).flatmap(
    lambda ids: st.tuples(*[stages(i) for i in ids])
))  # fmt: skip
def test_windows_open_on_working_days_and_are_never_duplicated_F6(visit, cal, rules):
    planned = plan_visit(visit, list(rules), cal)
    assert len({p.stage_id for p in planned}) == len(planned)
    for task in planned:
        assert cal.is_workday(task.window_start)
        assert task.window_end >= task.window_start
        assert cal.is_workday(task.window_end) or task.window_end == task.window_start
    assert plan_visit(visit, list(rules), cal) == planned
