"""F11 through the services: an escalation goes to the visit's attending doctor, who must
acknowledge within 24 hours and record what was done; a visit without a doctor goes straight to
the department head; unacknowledged, the sweep tells the department head after 24 hours and
medical affairs after 48."""

from __future__ import annotations

import pytest
import time_machine

from careloop.cases.choices import EscalationStatus
from careloop.cases.models import Escalation
from careloop.cases.services import (
    CaseError,
    acknowledge_escalation,
    raise_escalation,
    sweep_deadlines,
)
from careloop.cases.tests.conftest import at
from careloop.notify.models import Notification

pytestmark = pytest.mark.django_db

RAISED = "2026-04-01 10:30"
NOTHING = {"reminded": 0, "escalated": 0}


@pytest.fixture
def raise_(build, people, rules):
    def make(*, doctor=True, when=RAISED, **extra):
        task = build.task(doctor=people["doctor"] if doctor else None)
        values = {"reason": "post_op", "description": "术后伤口红肿、发热三天"}
        values.update(extra)
        with time_machine.travel(at(when), tick=False):
            return raise_escalation(task, by=people["agent"], **values)

    return make


def fresh(esc) -> Escalation:
    return Escalation.objects.get(pk=esc.pk)


def snapshot(esc):
    names = [f.attname for f in Escalation._meta.concrete_fields]
    return Escalation.objects.filter(pk=esc.pk).values_list(*names).get()


def sweep(when):
    with time_machine.travel(at(when), tick=False):
        return sweep_deadlines()


def notes(**filters):
    rows = Notification.objects.filter(**filters).order_by("pk")
    return [(n.recipient.username, n.key.split(":")[2]) for n in rows]


def test_escalation_goes_to_the_attending_doctor_due_in_24_hours_F11(raise_, people, org):
    esc = raise_()
    assert (esc.doctor, esc.department, esc.status, esc.escalation_level) == (
        people["doctor"],
        org["cardio"],
        EscalationStatus.OPEN,
        0,
    )
    assert (esc.raised_at, esc.due_at, esc.warn_at, esc.second_due_at) == (
        at("2026-04-01 10:30"),
        at("2026-04-02 10:30"),
        at("2026-04-02 06:30"),
        at("2026-04-03 10:30"),
    )
    note = Notification.objects.get(kind="escalation")
    assert (note.recipient, note.title, note.url) == (
        people["doctor"],
        f"临床转介：{esc.patient.name}（术后不适）",
        f"/cases/escalations/{esc.pk}/",
    )
    assert note.body == "术后伤口红肿、发热三天 · 请在 2026-04-02 10:30 前确认"


def test_24_hours_is_24_hours_even_over_a_holiday_F11(raise_):
    esc = raise_(when="2026-09-30 18:00")
    assert esc.due_at == at("2026-10-01 18:00")


def test_visit_without_doctor_goes_straight_to_the_department_heads_F11(raise_, people):
    esc = raise_(doctor=False)
    assert (esc.doctor, esc.escalation_level, esc.due_at) == (None, 1, at("2026-04-02 10:30"))
    assert notes(kind="escalation") == [("head.xnk", "new"), ("headnurse.xnk", "new")]


def test_escalation_needs_a_description_and_is_idempotent_F11(raise_):
    with pytest.raises(CaseError) as err:
        raise_(description="  ")
    assert str(err.value) == "请填写患者反映的情况"
    assert not Escalation.objects.exists()
    first = raise_(request_key="esc-1")
    again = raise_escalation(first.task, by=first.raised_by, reason="other",
                             description="重复提交", request_key="esc-1")  # fmt: skip
    assert again.pk == first.pk and Escalation.objects.count() == 1


@pytest.mark.parametrize("who", ["ortho_doctor", "ortho_head", "agent", "cardio_nurse"])
def test_only_the_doctor_or_the_department_head_may_acknowledge_F11(raise_, people, who):
    esc = raise_()
    before = snapshot(esc)
    with pytest.raises(CaseError) as err:
        acknowledge_escalation(esc, by=people[who], action_taken="已电话联系患者", done=True)
    assert str(err.value) == "只有该就诊的主管医生或本科室科主任可以确认"
    assert snapshot(esc) == before


def test_another_doctor_of_the_same_department_may_not_acknowledge_F11(raise_, make_user, org):
    from careloop.accounts.roles import Role

    colleague = make_user("doctor2.xnk", Role.DOCTOR, departments=[org["cardio"]])
    esc = raise_()
    with pytest.raises(CaseError):
        acknowledge_escalation(esc, by=colleague)
    assert fresh(esc).status == EscalationStatus.OPEN


def test_done_needs_what_was_done_F11(raise_, people):
    esc = raise_()
    before = snapshot(esc)
    with pytest.raises(CaseError) as err:
        acknowledge_escalation(esc, by=people["doctor"], action_taken="  ", done=True)
    assert str(err.value) == "请填写处理情况"
    assert snapshot(esc) == before


def test_doctor_acknowledges_then_records_and_closes_F11(raise_, people):
    esc = raise_()
    with time_machine.travel(at("2026-04-01 15:00"), tick=False):
        acknowledge_escalation(esc, by=people["doctor"])
    esc = fresh(esc)
    assert (esc.status, esc.acknowledged_by, esc.acknowledged_at, esc.closed_at) == (
        EscalationStatus.ACKNOWLEDGED,
        people["doctor"],
        at("2026-04-01 15:00"),
        None,
    )
    with time_machine.travel(at("2026-04-02 09:00"), tick=False):
        acknowledge_escalation(esc, by=people["doctor"], action_taken="已约患者明日复诊换药",
                               done=True)  # fmt: skip
    esc = fresh(esc)
    assert (esc.status, esc.acknowledged_at, esc.closed_at, esc.action_taken) == (
        EscalationStatus.CLOSED,
        at("2026-04-01 15:00"),
        at("2026-04-02 09:00"),
        "已约患者明日复诊换药",
    )
    # The agent who raised it hears of both.
    assert notes(recipient=people["agent"]) == [("agent1", "ack"), ("agent1", "done")]
    with pytest.raises(CaseError) as err:
        acknowledge_escalation(esc, by=people["doctor"], action_taken="再次处理", done=True)
    assert str(err.value) == "该转介已处理完毕"


def test_department_head_may_acknowledge_for_the_doctor_F11(raise_, people):
    esc = raise_()
    acknowledge_escalation(
        esc, by=people["dept_head"], action_taken="已安排值班医生联系", done=True
    )
    assert (fresh(esc).status, fresh(esc).acknowledged_by) == (
        EscalationStatus.CLOSED,
        people["dept_head"],
    )


def test_unacknowledged_goes_to_department_head_at_24h_and_medical_affairs_at_48h_F11(
    raise_, people
):
    esc = raise_()
    assert sweep("2026-04-02 06:29") == NOTHING
    # 4 hours before the deadline the doctor is reminded, once.
    assert sweep("2026-04-02 06:30") == {"reminded": 1, "escalated": 0}
    assert sweep("2026-04-02 10:29") == NOTHING
    assert sweep("2026-04-02 10:30") == {"reminded": 0, "escalated": 1}
    assert sweep("2026-04-03 10:29") == NOTHING
    assert sweep("2026-04-03 10:30") == {"reminded": 0, "escalated": 1}
    assert sweep("2026-04-04 10:30") == NOTHING
    assert notes(kind="deadline") == [
        ("doctor.xnk", "warn"),
        ("head.xnk", "esc1"),
        ("headnurse.xnk", "esc1"),
        ("medaffairs", "esc2"),
    ]
    assert fresh(esc).escalation_level == 2


def test_without_doctor_the_heads_are_not_told_twice_and_medical_affairs_at_48h_F11(raise_, people):
    esc = raise_(doctor=False)
    assert sweep("2026-04-02 06:30") == {"reminded": 1, "escalated": 0}
    # Level 1 (the heads) was reached when it was raised.
    assert sweep("2026-04-02 10:30") == NOTHING
    assert sweep("2026-04-03 10:30") == {"reminded": 0, "escalated": 1}
    assert notes(kind="deadline") == [
        ("head.xnk", "warn"),
        ("headnurse.xnk", "warn"),
        ("medaffairs", "esc2"),
    ]
    assert fresh(esc).escalation_level == 2


def test_acknowledged_escalation_is_not_escalated_F11(raise_, people):
    esc = raise_()
    with time_machine.travel(at("2026-04-01 12:00"), tick=False):
        acknowledge_escalation(esc, by=people["doctor"])
    for when in ("2026-04-02 06:30", "2026-04-02 10:30", "2026-04-03 10:30"):
        assert sweep(when) == NOTHING
    assert notes(kind="deadline") == []
    assert fresh(esc).escalation_level == 0


def test_done_may_rest_on_the_record_written_when_acknowledging_F11(raise_, people):
    esc = raise_()
    acknowledge_escalation(esc, by=people["doctor"], action_taken="电话指导换药，明日复诊")
    esc = acknowledge_escalation(fresh(esc), by=people["doctor"], done=True)
    assert (esc.status, esc.action_taken) == (EscalationStatus.CLOSED, "电话指导换药，明日复诊")
