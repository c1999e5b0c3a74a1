"""R1/R4 monthly snapshots: closing a month keeps its figures; closing again replaces them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from careloop.reports.definitions import figures_to_dict
from careloop.reports.models import MonthlySnapshot
from careloop.reports.periods import month, quarter
from careloop.reports.queries import department_figures
from careloop.reports.services import close_month, snapshot_figures, snapshots

SEP, OCT, NOV = month(2026, 9), month(2026, 10), month(2026, 11)
TODAY = dt.date(2026, 11, 5)
NOW = dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def rows(period):
    return {s.department_id: s for s in MonthlySnapshot.objects.filter(month=period.start)}


def test_close_month_writes_one_row_per_department_with_numbers_R1(october):
    cardio, ortho = october.org["cardio"].pk, october.org["ortho"].pk
    assert close_month(OCT, today=TODAY) == 2
    snaps = rows(OCT)
    assert set(snaps) == {cardio, ortho}  # service centre and medical affairs had nothing
    live = department_figures(OCT, today=TODAY)
    for dept in (cardio, ortho):
        assert snaps[dept].month == dt.date(2026, 10, 1)
        assert snaps[dept].figures == figures_to_dict(live[dept])
        assert snapshot_figures(snaps[dept]) == live[dept]
    # the hand-computed cells of the fixture month (test_fixture_month)
    c = snapshot_figures(snaps[cardio])
    assert (c.discharges, c.due, c.completed, c.excluded) == (17, 15, 10, 2)
    assert c.satisfaction("skill") == Decimal("85.71")
    assert (snaps[cardio].satisfaction, snaps[cardio].rated) == (Decimal("77.78"), 9)
    assert (snaps[ortho].satisfaction, snaps[ortho].rated) == (Decimal("66.67"), 3)


def test_snapshot_satisfaction_uses_the_mode_of_the_day_R4(october, settings):
    settings.CARELOOP_SATISFACTION_MODE = "top_box"
    close_month(OCT, today=TODAY)
    snaps = rows(OCT)
    assert snaps[october.org["cardio"].pk].satisfaction == Decimal("44.44")  # 4/9
    assert snaps[october.org["ortho"].pk].satisfaction == Decimal("33.33")  # 1/3
    # kept as computed: changing the setting later does not move the stored figure
    settings.CARELOOP_SATISFACTION_MODE = "top2"
    assert rows(OCT)[october.org["cardio"].pk].satisfaction == Decimal("44.44")


def test_closing_again_replaces_not_duplicates_R1(october):
    cardio = october.org["cardio"].pk
    with time_machine.travel(NOW, tick=False):
        close_month(OCT)
    first = rows(OCT)[cardio]
    assert first.figures["completed"] == 10
    # a late call on C12 (window closed 10-16) made on 11-06: October's numbers change
    from careloop.followup.models import FollowUpTask

    FollowUpTask.objects.filter(pk=october.tasks["C12"].pk).update(
        status="completed", completed_at=NOW + dt.timedelta(days=1)
    )
    later = NOW + dt.timedelta(days=2)
    with time_machine.travel(later, tick=False):
        assert close_month(OCT) == 2
    assert MonthlySnapshot.objects.filter(month=OCT.start).count() == 2
    again = rows(OCT)[cardio]
    assert (again.figures["completed"], again.figures["overdue"], again.figures["due"]) == (
        11,
        2,
        15,
    )
    assert again.figures["on_time"] == 8  # late: not inside the window
    assert again.generated_at == later
    # other months untouched
    close_month(SEP, today=TODAY)
    close_month(OCT, today=TODAY)
    assert MonthlySnapshot.objects.filter(month=SEP.start).count() == 2
    assert MonthlySnapshot.objects.count() == 4


def test_close_month_refuses_a_quarter_R1(october):
    with pytest.raises(ValueError, match="只能按月生成科室月度统计"):
        close_month(quarter(2026, 4), today=TODAY)
    assert not MonthlySnapshot.objects.exists()


def test_close_month_by_a_person_is_audited_R1(october, personas):
    from careloop.audit.models import AuditEvent

    before = AuditEvent.objects.count()
    close_month(OCT, by=personas["medical_affairs"], today=TODAY)
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert len(events) == 1
    assert events[0].object_type == "reports.monthlysnapshot"
    assert "2026年10月" in events[0].object_repr and "2 个科室" in events[0].object_repr


def test_snapshots_close_missing_past_months_but_not_the_current_one_R4(october):
    cardio, ortho = october.org["cardio"].pk, october.org["ortho"].pk
    with time_machine.travel(NOW, tick=False):
        got = snapshots([SEP, OCT, NOV])
    assert list(got) == [SEP.start, OCT.start, NOV.start]
    assert set(got[SEP.start]) == {cardio, ortho}
    assert set(got[OCT.start]) == {cardio, ortho}
    assert got[NOV.start] == {}  # November is not over
    assert not MonthlySnapshot.objects.filter(month=NOV.start).exists()
    # September: C20 and O11, both called late in October, both rated 差
    sep = snapshot_figures(got[SEP.start][cardio])
    assert (sep.completed, sep.due, sep.on_time) == (1, 1, 0)
    assert got[SEP.start][cardio].satisfaction == Decimal("0.00")
    assert got[OCT.start][cardio].satisfaction == Decimal("77.78")
    assert got[OCT.start][ortho].figures == figures_to_dict(
        department_figures(OCT, today=TODAY)[ortho]
    )


def test_snapshots_do_not_recount_a_closed_month_R4(october):
    cardio = october.org["cardio"].pk
    with time_machine.travel(NOW, tick=False):
        snapshots([OCT])
    stamp = rows(OCT)[cardio].generated_at
    # the data change, but a closed month keeps what was reported until someone regenerates it
    from careloop.followup.models import FollowUpTask

    FollowUpTask.objects.filter(pk=october.tasks["C12"].pk).update(
        status="completed", completed_at=NOW
    )
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        got = snapshots([OCT])
    assert got[OCT.start][cardio].generated_at == stamp
    assert got[OCT.start][cardio].figures["completed"] == 10


def test_snapshots_close_the_month_that_ended_yesterday_R4(october):
    # On 11-01 October is over (end 11-01 <= today) and November has just begun.
    with time_machine.travel(dt.datetime(2026, 11, 1, 0, 5, tzinfo=NOW.tzinfo), tick=False):
        got = snapshots([OCT, NOV])
    assert len(got[OCT.start]) == 2
    assert got[NOV.start] == {}
    # and on 10-31 23:55 October is still the current month
    MonthlySnapshot.objects.all().delete()
    with time_machine.travel(dt.datetime(2026, 10, 31, 23, 55, tzinfo=NOW.tzinfo), tick=False):
        got = snapshots([OCT])
    assert got[OCT.start] == {}
    assert not MonthlySnapshot.objects.exists()


def test_snapshot_of_an_empty_month_R4(db):
    with time_machine.travel(NOW, tick=False):
        assert close_month(month(2026, 8)) == 0
        assert snapshots([month(2026, 8)]) == {dt.date(2026, 8, 1): {}}
    assert not MonthlySnapshot.objects.exists()
