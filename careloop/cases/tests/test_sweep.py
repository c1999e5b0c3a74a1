"""C3 through the services, with time frozen: a case's reply clock on the calendar-day and the
working-day rule across National Day 2026, and the hourly sweep — a reminder once, the service
supervisor at the deadline, medical affairs ``second_after`` later; a late sweep tells both in
order; a replied case is never escalated. C1 disposal steps go the same way."""

from __future__ import annotations

import pytest
import time_machine

from careloop.cases import jobs
from careloop.cases.choices import (
    CaseEventKind,
    CaseKind,
    CaseSource,
    CaseStatus,
    DeadlineSubject,
    DeadlineUnit,
    Finding,
)
from careloop.cases.models import Case, CaseEvent
from careloop.cases.services import (
    advance_case,
    deadline_state,
    open_disposal_form,
    register_case,
    sweep_deadlines,
    update_case,
)
from careloop.cases.tests.conftest import at
from careloop.notify.models import Notification

pytestmark = pytest.mark.django_db

REGISTERED = "2026-09-29 10:00"
NOTHING = {"reminded": 0, "escalated": 0}


def register(people, org, when=REGISTERED, **extra):
    values = {
        "by": people["agent"], "kind": CaseKind.COMPLAINT, "source": CaseSource.HOTLINE,
        "summary": "护士态度生硬", "description": "患者来电反映夜班护士态度生硬。",
        "departments": [org["cardio"]],
    }  # fmt: skip
    values.update(extra)
    with time_machine.travel(at(when), tick=False):
        return register_case(**values)


def sweep(when):
    with time_machine.travel(at(when), tick=False):
        return sweep_deadlines()


def state(case, when):
    with time_machine.travel(at(when), tick=False):
        return deadline_state(Case.objects.get(pk=case.pk))


def deadline_notes(**filters):
    """(recipient username, key suffix) of the deadline notifications, oldest first."""
    rows = Notification.objects.filter(kind="deadline", **filters).order_by("pk")
    return [(n.recipient.username, n.key.split(":")[2]) for n in rows]


def use_working_days(rules):
    rule = rules[(DeadlineSubject.CASE, "", "")]
    rule.unit = DeadlineUnit.WORKING_DAYS
    rule.save()


def test_preset_rule_is_7_calendar_days_warn_48h_then_2_days_C3(rules):
    rule = rules[(DeadlineSubject.CASE, "", "")]
    assert (rule.amount, rule.unit, rule.warn_hours, rule.second_after) == (
        7,
        DeadlineUnit.CALENDAR_DAYS,
        48,
        2,
    )


def test_calendar_day_and_working_day_rules_across_national_day_C3(rules, people, org):
    by_calendar = register(people, org)
    use_working_days(rules)
    by_working = register(people, org, summary="病房太吵")
    assert (by_calendar.due_at, by_calendar.warn_at, by_calendar.second_due_at) == (
        at("2026-10-06 10:00"),
        at("2026-10-04 10:00"),
        at("2026-10-08 10:00"),
    )
    # 09-30, 10-08, 10-09, 10-10 (adjusted Saturday), 10-12, 10-13, 10-14; then 10-15, 10-16.
    assert (by_working.due_at, by_working.warn_at, by_working.second_due_at) == (
        at("2026-10-14 10:00"),
        at("2026-10-12 10:00"),
        at("2026-10-16 10:00"),
    )
    table = [
        ("2026-10-04 09:59", "ok", "ok"),
        ("2026-10-04 10:00", "near", "ok"),
        ("2026-10-05 10:00", "near", "ok"),
        ("2026-10-06 09:59", "near", "ok"),
        ("2026-10-06 10:00", "overdue", "ok"),
        ("2026-10-12 09:59", "overdue", "ok"),
        ("2026-10-12 10:00", "overdue", "near"),
        ("2026-10-14 10:00", "overdue", "overdue"),
    ]
    found = [(when, state(by_calendar, when), state(by_working, when)) for when, _c, _w in table]
    assert found == table


def test_sweep_reminds_once_then_supervisor_then_medical_affairs_C3(rules, people, org):
    case = register(people, org)
    assert sweep("2026-10-04 09:59") == NOTHING
    # 48 hours before the deadline: the owner (no handler yet: the supervisors) is reminded.
    assert sweep("2026-10-04 10:00") == {"reminded": 1, "escalated": 0}
    assert sweep("2026-10-04 11:00") == NOTHING
    assert sweep("2026-10-05 10:00") == NOTHING
    assert deadline_notes() == [("supervisor", "warn")]
    # The deadline: the service supervisors only.
    assert sweep("2026-10-06 10:00") == {"reminded": 0, "escalated": 1}
    assert sweep("2026-10-06 11:00") == NOTHING
    assert deadline_notes() == [("supervisor", "warn"), ("supervisor", "esc1")]
    assert not Notification.objects.filter(recipient=people["medical_affairs"]).exists()
    assert Case.objects.get(pk=case.pk).escalation_level == 1
    # second_after = 2 calendar days later: medical affairs.
    assert sweep("2026-10-08 09:59") == NOTHING
    with time_machine.travel(at("2026-10-08 10:00"), tick=False):
        assert jobs.sweep() == {"reminded": 0, "escalated": 1}
    assert sweep("2026-10-08 11:00") == NOTHING
    assert sweep("2026-10-20 10:00") == NOTHING
    assert deadline_notes() == [
        ("supervisor", "warn"),
        ("supervisor", "esc1"),
        ("medaffairs", "esc2"),
    ]
    assert Case.objects.get(pk=case.pk).escalation_level == 2
    events = list(
        CaseEvent.objects.filter(case=case)
        .exclude(kind=CaseEventKind.CREATED)
        .values_list("kind", "at", "note")
    )
    assert events == [
        (CaseEventKind.REMINDED, at("2026-10-04 10:00"), "期限 2026-10-06 10:00"),
        (CaseEventKind.ESCALATED, at("2026-10-06 10:00"), "逾期第 1 级升级，已通知：客服主管"),
        (CaseEventKind.ESCALATED, at("2026-10-08 10:00"), "逾期第 2 级升级，已通知：medaffairs"),
    ]


def test_escalation_notifications_are_sms_flagged_and_link_to_the_case_C3(rules, people, org):
    case = register(people, org)
    sweep("2026-10-06 10:00")
    note = Notification.objects.get(kind="deadline", key__contains=":esc1:")
    assert (note.recipient, note.title, note.body, note.url) == (
        people["supervisor"],
        "已逾期：投诉“护士态度生硬”",
        "期限 2026-10-06 10:00，仍未完成",
        f"/cases/{case.pk}/",
    )


def test_working_day_case_is_not_escalated_during_the_holiday_C3(rules, people, org):
    use_working_days(rules)
    case = register(people, org)
    for when in ("2026-10-01 10:00", "2026-10-06 10:00", "2026-10-08 10:00", "2026-10-12 09:59"):
        assert sweep(when) == NOTHING
    assert sweep("2026-10-12 10:00") == {"reminded": 1, "escalated": 0}
    assert sweep("2026-10-14 10:00") == {"reminded": 0, "escalated": 1}
    assert sweep("2026-10-16 10:00") == {"reminded": 0, "escalated": 1}
    assert Case.objects.get(pk=case.pk).escalation_level == 2
    assert deadline_notes() == [
        ("supervisor", "warn"),
        ("supervisor", "esc1"),
        ("medaffairs", "esc2"),
    ]


def test_late_first_sweep_tells_supervisor_then_medical_affairs_C3(rules, people, org):
    case = register(people, org)
    # The job did not run for days: both levels are due at once; nobody is "reminded" of a
    # deadline already past.
    assert sweep("2026-10-09 08:00") == {"reminded": 0, "escalated": 1}
    assert deadline_notes() == [("supervisor", "esc1"), ("medaffairs", "esc2")]
    events = list(
        CaseEvent.objects.filter(case=case, kind=CaseEventKind.ESCALATED)
        .order_by("at", "pk")
        .values_list("note", flat=True)
    )
    assert events == ["逾期第 1 级升级，已通知：客服主管", "逾期第 2 级升级，已通知：medaffairs"]
    assert sweep("2026-10-09 09:00") == NOTHING


def test_replied_case_is_never_escalated_C3(rules, people, org):
    case = register(people, org)
    with time_machine.travel(at("2026-10-02 15:00"), tick=False):
        advance_case(case, CaseStatus.REPLIED, by=people["supervisor"], finding=Finding.FALSE,
                     reply="经核实，护士按规定操作，已向患者解释。")  # fmt: skip
    for when in ("2026-10-04 10:00", "2026-10-06 10:00", "2026-10-08 10:00", "2026-11-01 10:00"):
        assert sweep(when) == NOTHING
        assert state(case, when) == "done"
    case.refresh_from_db()
    assert (case.escalation_level, case.reminded_at) == (0, None)
    assert deadline_notes() == []
    assert not CaseEvent.objects.filter(
        case=case, kind__in=[CaseEventKind.REMINDED, CaseEventKind.ESCALATED]
    ).exists()


def test_case_with_a_handler_reminds_the_handler_C3(rules, people, org):
    case = register(people, org)
    with time_machine.travel(at("2026-09-29 11:00"), tick=False):
        advance_case(case, CaseStatus.ACCEPTED, by=people["dept_head"])
    assert Case.objects.get(pk=case.pk).handler == people["dept_head"]
    sweep("2026-10-04 10:00")
    assert deadline_notes() == [("head.xnk", "warn")]


def test_major_complaint_has_3_days_and_escalates_after_1_more_C3(rules, people, org):
    case = register(people, org, severity="major")
    assert (case.due_at, case.warn_at, case.second_due_at) == (
        at("2026-10-02 10:00"),
        at("2026-10-01 10:00"),
        at("2026-10-03 10:00"),
    )
    assert sweep("2026-10-02 10:00")["escalated"] == 1
    assert sweep("2026-10-03 10:00")["escalated"] == 1
    assert [k for _u, k in deadline_notes()] == ["esc1", "esc2"]


def test_disposal_form_overdue_goes_to_supervisor_then_medical_affairs_C1(rules, people, poor_task):
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        form = open_disposal_form(poor_task)
    # 3 working days: 09-30, 10-08, 10-09; warned 24 hours before; second 2 working days on.
    assert (form.due_at, form.warn_at, form.second_due_at) == (
        at("2026-10-09 10:00"),
        at("2026-10-08 10:00"),
        at("2026-10-12 10:00"),
    )
    assert sweep("2026-10-08 10:00") == {"reminded": 1, "escalated": 0}
    assert sweep("2026-10-09 10:00") == {"reminded": 0, "escalated": 1}
    assert sweep("2026-10-12 10:00") == {"reminded": 0, "escalated": 1}
    # Reminded: the department's heads; then the supervisor; then medical affairs.
    assert deadline_notes() == [
        ("head.xnk", "warn"),
        ("headnurse.xnk", "warn"),
        ("supervisor", "esc1"),
        ("medaffairs", "esc2"),
    ]


def test_editing_severity_keeps_the_escalation_of_an_unchanged_deadline_C3(rules, people, org):
    case = register(people, org)
    assert sweep("2026-10-08 10:00") == {"reminded": 0, "escalated": 1}
    with time_machine.travel(at("2026-10-08 11:00"), tick=False):
        update_case(case, by=people["supervisor"], severity="minor")
    case.refresh_from_db()
    # Minor and general share the 7-day rule: the same deadline, already escalated twice.
    assert (case.due_at, case.escalation_level) == (at("2026-10-06 10:00"), 2)
    assert sweep("2026-10-08 12:00") == NOTHING
    assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.ESCALATED).count() == 2


def test_editing_severity_to_a_shorter_rule_restarts_the_escalation_C3(rules, people, org):
    case = register(people, org)
    assert sweep("2026-10-04 10:00") == {"reminded": 1, "escalated": 0}
    with time_machine.travel(at("2026-10-04 11:00"), tick=False):
        update_case(case, by=people["supervisor"], severity="major")
    case.refresh_from_db()
    # Major: 3 days from registration, overdue since 10-02; second level a day later.
    assert (case.due_at, case.second_due_at, case.escalation_level, case.reminded_at) == (
        at("2026-10-02 10:00"),
        at("2026-10-03 10:00"),
        0,
        None,
    )
    assert sweep("2026-10-04 12:00") == {"reminded": 0, "escalated": 1}
    assert deadline_notes() == [
        ("supervisor", "warn"),
        ("supervisor", "esc1"),
        ("medaffairs", "esc2"),
    ]


def test_the_sweep_is_an_hourly_job_of_the_scheduler_C3():
    import datetime as dt

    from careloop.jobs import registry

    spec = registry.get("cases-deadlines")
    assert (spec.func_path, spec.every) == ("careloop.cases.jobs.sweep", dt.timedelta(hours=1))
    assert spec.func() == {"reminded": 0, "escalated": 0}


def test_overdue_never_reminded_is_escalated_once_then_left_alone_C3(people, org, rules):
    """A rule that warns 0 hours ahead (or a job that was down through the warning window):
    the item is escalated, and later sweeps do not keep re-reading it (bench/sweep finding)."""
    from careloop.cases.services.sweep import _open_items

    rule = rules[(DeadlineSubject.CASE, "", "")]
    rule.warn_hours, rule.second_after = 0, 0
    rule.save()
    case = register(people, org)
    assert sweep("2026-10-06 10:00") == {"reminded": 0, "escalated": 1}
    assert deadline_notes() == [("supervisor", "esc1")]
    with time_machine.travel(at("2026-10-07 10:00"), tick=False):
        assert list(_open_items(at("2026-10-07 10:00"))) == []
    assert sweep("2026-10-20 10:00") == NOTHING
    assert Case.objects.get(pk=case.pk).reminded_at is None


def test_an_item_answered_after_the_sweep_read_it_is_left_alone_C3_C1(
    rules, people, org, poor_task
):
    """The sweep reads its list first; a case replied to, or a form step signed, between that
    read and its turn is not escalated on the stale copy (review finding)."""
    from careloop.cases.models import DisposalForm
    from careloop.cases.services import sign_disposal_department
    from careloop.cases.services.sweep import _People, _sweep_one

    case = register(people, org)
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        form = open_disposal_form(poor_task)
    stale_case = Case.objects.get(pk=case.pk)
    stale_form = DisposalForm.objects.get(pk=form.pk)
    with time_machine.travel(at("2026-10-10 09:00"), tick=False):
        advance_case(case, CaseStatus.REPLIED, by=people["supervisor"], finding=Finding.FALSE,
                     reply="已向患者解释。")  # fmt: skip
        sign_disposal_department(form, by=people["dept_head"], measures="科室培训",
                                 plan="每周检查", opinion="同意")  # fmt: skip
        now = at("2026-10-10 09:00")
        assert _sweep_one(stale_case, now, _People()) == (0, 0)
        assert _sweep_one(stale_form, now, _People()) == (0, 0)
    assert deadline_notes() == []
    assert Case.objects.get(pk=case.pk).escalation_level == 0
    fresh = DisposalForm.objects.get(pk=form.pk)
    assert (fresh.status, fresh.escalation_level) == ("medical_affairs", 0)
