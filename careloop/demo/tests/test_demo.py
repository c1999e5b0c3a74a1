"""`careloop demo`: an account for every role, and patient data with every case the rules need."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import F

from careloop.accounts.models import User
from careloop.accounts.roles import Role
from careloop.org.models import Department, RosterEntry
from careloop.patients.models import Diagnosis, Patient, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def out():
    return io.StringIO()


def test_demo_builds_everything_once(out):
    call_command("demo", "--password", "Demo-Pass-2026!", stdout=out)
    counts = (
        Department.objects.count(),
        User.objects.count(),
        RosterEntry.objects.count(),
        Visit.objects.count(),
    )
    call_command("demo", stdout=io.StringIO())
    assert (
        Department.objects.count(),
        User.objects.count(),
        RosterEntry.objects.count(),
        Visit.objects.count(),
    ) == counts
    assert counts[3] == 840

    held = set(User.objects.values_list("groups__name", flat=True))
    assert {r.value for r in Role} <= held  # every O2 role has a demo account
    assert {"内科组", "外科组", "急诊组"} <= set(
        Department.objects.get(code="KFZX").teams.values_list("name", flat=True)
    )

    inpatient = Visit.objects.filter(visit_type="inpatient")
    assert set(inpatient.exclude(disposition="").values_list("disposition", flat=True)) == {
        "1",
        "2",
        "3",
        "4",
        "5",
        "9",
    }
    assert (
        Patient.objects.filter(is_deceased=True).count()
        == inpatient.filter(disposition="5").count()
    )
    short = [
        v
        for v in inpatient.exclude(discharged_at=None)
        if v.length_of_stay < dt.timedelta(hours=24)
    ]
    assert short, "E3 needs stays under 24 hours"
    assert Patient.objects.filter(open_dispute=True).exists()
    assert Patient.objects.filter(do_not_contact=True).exists()
    assert Patient.objects.filter(phones__isnull=True).exists()
    assert Diagnosis.objects.filter(code__in=["A53.9", "B20", "O04.9"], is_principal=False).exists()
    assert inpatient.filter(cleared_out=True).exists()
    outpatient = Visit.objects.filter(visit_type="outpatient")
    kinds = set(outpatient.values_list("department__kind", "first_visit"))
    assert kinds == {("specialist", True), ("specialist", False), ("basic", True), ("basic", False)}
    assert outpatient.filter(first_visit=True, lost=True).exists()
    oldest = Visit.objects.order_by(F("admitted_at").asc(nulls_last=True)).first().admitted_at
    assert dt.timedelta(days=100) < dt.datetime.now(dt.UTC) - oldest <= dt.timedelta(days=121)
    assert "以上密码只显示这一次" in out.getvalue()


def test_demo_has_the_loop_at_every_step_once_C1_C2_F11():
    from careloop.cases.models import Case, CaseRefollow, DisposalForm, Escalation

    call_command("demo", "--password", "Demo-Pass-2026!", stdout=io.StringIO())
    call_command("demo", stdout=io.StringIO())
    assert Case.objects.count() == 6
    assert set(Case.objects.values_list("status", flat=True)) == {
        "registered", "accepted", "investigating", "closed",
    }  # fmt: skip
    assert Case.objects.filter(kind="praise", points_ready=True).count() == 1
    assert CaseRefollow.objects.count() == 1  # the closed complaint; praise is not re-followed
    assert DisposalForm.objects.filter(status="department").count() == 2
    assert Escalation.objects.count() == 1


def test_demo_has_follow_ups_done_so_reports_have_numbers_R1_R3():
    """Issue 7: past windows mostly done through the workspace services, inside the window,
    each with its record and questionnaire; last month closed and summarised by the job."""
    from django.utils import timezone

    from careloop.followup.models import FollowUpRecord, FollowUpTask
    from careloop.reports.models import MonthlySnapshot, Summary
    from careloop.reports.periods import last_month
    from careloop.surveys.models import Response

    call_command("demo", "--password", "Demo-Pass-2026!", stdout=io.StringIO())
    done = FollowUpTask.objects.filter(status="completed")
    history = done.filter(record__opinions__in=["", "希望出院结算更快一些", "病房晚上有点吵",
                                                "护士讲解很耐心，谢谢"])  # fmt: skip
    assert history.count() > 100
    local = timezone.get_current_timezone()
    for task in history.select_related("record"):
        day = task.completed_at.astimezone(local).date()
        assert task.window_start <= day <= task.window_end, task.pk
        assert task.record.overall in {"very_good", "good", "fair", "poor"}
    assert Response.objects.filter(task__in=history).count() == history.count()
    assert FollowUpRecord.objects.count() == done.count() - done.filter(channel="sms").count()
    month = last_month()
    assert MonthlySnapshot.objects.filter(month=month.start).count() > 5
    assert Summary.objects.filter(kind="month", period_key=month.key).count() == 1
    # Built once: a second run adds no follow-ups.
    before = done.count()
    call_command("demo", stdout=io.StringIO())
    assert FollowUpTask.objects.filter(status="completed").count() == before
