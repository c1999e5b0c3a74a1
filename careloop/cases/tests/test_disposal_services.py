"""C1 through the services: any 差 opens exactly one 病人回访处置反馈表 for the visit's department;
the department head or head nurse of that department signs first (measures, plan, opinion),
then medical affairs, who may send it back; each step has its own deadline on the calendar."""

from __future__ import annotations

import pytest
import time_machine

from careloop.audit.models import AuditEvent
from careloop.cases.choices import DisposalStatus
from careloop.cases.models import DisposalForm
from careloop.cases.services import (
    CaseError,
    can_sign_department,
    open_disposal_form,
    poor_items,
    return_disposal,
    sign_disposal_department,
    sign_disposal_medical,
)
from careloop.cases.tests.conftest import at, complete_call
from careloop.notify.models import Notification

pytestmark = pytest.mark.django_db

OPENED = "2026-09-29 10:00"
SIGNATURE = {"measures": "已与当班护士谈话", "plan": "每周服务礼仪培训", "opinion": "同意整改"}


@pytest.fixture
def form(poor_task, rules):
    with time_machine.travel(at(OPENED), tick=False):
        return open_disposal_form(poor_task)


def fresh(form) -> DisposalForm:
    return DisposalForm.objects.get(pk=form.pk)


def snapshot(form):
    """Every column of the form: "the refusal changed nothing"."""
    names = [f.attname for f in DisposalForm._meta.concrete_fields]
    return DisposalForm.objects.filter(pk=form.pk).values_list(*names).get()


def sign_dept(form, by, when="2026-10-08 15:00", **values):
    with time_machine.travel(at(when), tick=False):
        return sign_disposal_department(form, by=by, **{**SIGNATURE, **values})


def told(key):
    return sorted(
        Notification.objects.filter(key=key).values_list("recipient__username", flat=True)
    )


# --- Opening (one per task) -------------------------------------------------------------------


def test_poor_rating_opens_one_form_for_the_visit_department_C1(form, poor_task, org, people):
    record = poor_task.record
    assert (form.task, form.visit, form.patient, form.department) == (
        poor_task,
        poor_task.visit,
        poor_task.patient,
        org["cardio"],
    )
    assert (form.status, form.followed_up_at, form.followed_up_by) == (
        DisposalStatus.DEPARTMENT,
        record.at,
        people["agent"],
    )
    assert form.poor_items == ["服务态度", "总评价"]
    assert form.problem == (
        "满意度评价为“差”：服务态度、总评价。\n"
        "请问您对哪些方面不满意？：等候时间太长\n"
        "患者意见：护士态度生硬"
    )
    # The heads of the visit's department are told; not the orthopaedics head.
    assert told(f"disposal:{form.pk}:new") == ["head.xnk", "headnurse.xnk"]


def test_opening_twice_keeps_one_form_C1(form, poor_task):
    again = open_disposal_form(poor_task)
    assert again.pk == form.pk
    assert DisposalForm.objects.count() == 1
    assert Notification.objects.filter(kind="disposal").count() == 2


def test_no_poor_rating_opens_nothing_C1(build, people, surveys_ready, rules):
    task = build.task()
    complete_call(task, people["agent"], attitude="fair", overall="fair")
    assert poor_items(task.record, task.survey_responses.get()) == []
    assert open_disposal_form(task) is None
    assert not DisposalForm.objects.exists()
    assert not Notification.objects.filter(kind="disposal").exists()


def test_one_poor_dimension_is_enough_C1(build, people, surveys_ready, rules):
    task = build.task(dept="ortho")
    complete_call(task, people["agent"], guidance="poor")
    form = open_disposal_form(task)
    assert (form.department.code, form.poor_items) == ("GK", ["出院指导"])
    assert form.problem == "满意度评价为“差”：出院指导。"
    assert told(f"disposal:{form.pk}:new") == ["head.gk"]


def test_poor_overall_on_the_record_alone_is_enough_C1(build, people, rules):
    from careloop.followup.calls import claim_task, complete_followup

    task = build.task()
    claim_task(task, by=people["agent"])
    complete_followup(task, by=people["agent"], record={"overall": "poor", "opinions": "太吵"})
    form = open_disposal_form(task)
    assert (form.poor_items, form.problem) == (
        ["总评价"],
        "满意度评价为“差”：总评价。\n患者意见：太吵",
    )


# --- Deadlines per step -----------------------------------------------------------------------


def test_each_step_has_its_deadline_on_the_calendar_C1(form, people):
    # Department: 3 working days from Tue 09-29: 09-30, 10-08, 10-09 (National Day between).
    assert (form.due_at, form.warn_at, form.second_due_at) == (
        at("2026-10-09 10:00"),
        at("2026-10-08 10:00"),
        at("2026-10-12 10:00"),
    )
    # Medical affairs: 3 working days from Fri 10-09: 10-10 (adjusted Saturday), 10-12, 10-13.
    form = sign_dept(form, people["dept_head"], "2026-10-09 09:00")
    assert (form.due_at, form.warn_at, form.second_due_at, form.escalation_level) == (
        at("2026-10-13 09:00"),
        at("2026-10-12 09:00"),
        at("2026-10-15 09:00"),
        0,
    )


# --- Signing ----------------------------------------------------------------------------------


def test_department_head_signs_then_medical_affairs_closes_C1(form, people):
    form = sign_dept(form, people["dept_head"])
    form = fresh(form)
    assert (form.status, form.dept_signed_by, form.dept_signed_at) == (
        DisposalStatus.MEDICAL_AFFAIRS,
        people["dept_head"],
        at("2026-10-08 15:00"),
    )
    assert (form.measures, form.plan, form.dept_opinion) == (
        "已与当班护士谈话",
        "每周服务礼仪培训",
        "同意整改",
    )
    assert told(f"disposal:{form.pk}:ma:{int(at('2026-10-08 15:00').timestamp())}") == [
        "medaffairs"
    ]
    with time_machine.travel(at("2026-10-09 10:00"), tick=False):
        sign_disposal_medical(form, by=people["medical_affairs"], opinion="同意，归档")
    form = fresh(form)
    assert (form.status, form.ma_signed_by, form.ma_signed_at, form.ma_opinion) == (
        DisposalStatus.CLOSED,
        people["medical_affairs"],
        at("2026-10-09 10:00"),
        "同意，归档",
    )
    signed = AuditEvent.objects.filter(
        object_type="cases.disposalform", object_id=str(form.pk), message__contains="签字"
    )
    assert list(signed.order_by("pk").values_list("actor_name", "message")) == [
        ("head.xnk", "科室签字"),
        ("medaffairs", "医务科签字，关闭"),
    ]


def test_head_nurse_of_the_department_may_sign_C1(form, people):
    assert sign_dept(form, people["head_nurse"]).status == DisposalStatus.MEDICAL_AFFAIRS


@pytest.mark.parametrize(
    "who", ["ortho_head", "doctor", "cardio_nurse", "agent", "supervisor", "medical_affairs"]
)
def test_only_a_head_of_the_form_department_signs_for_it_C1(form, people, who):
    before = snapshot(form)
    assert can_sign_department(form, people[who]) is False
    with pytest.raises(CaseError) as err:
        sign_dept(form, people[who])
    assert str(err.value) == "只有心血管内科病区的科主任或护士长可以在科室栏签字"
    assert snapshot(form) == before
    assert can_sign_department(form, people["dept_head"]) is True


def test_medical_affairs_cannot_sign_before_the_department_C1(form, people):
    before = snapshot(form)
    with pytest.raises(CaseError) as err:
        sign_disposal_medical(form, by=people["medical_affairs"], opinion="同意")
    assert str(err.value) == "科主任（护士长）尚未签字，医务科不能先签"
    assert snapshot(form) == before


def test_only_medical_affairs_signs_the_medical_part_C1(form, people):
    form = sign_dept(form, people["dept_head"])
    before = snapshot(form)
    for who in ("dept_head", "supervisor"):
        with pytest.raises(CaseError) as err:
            sign_disposal_medical(form, by=people[who], opinion="同意")
        assert str(err.value) == "只有医务科可以在医务科栏签字"
    with pytest.raises(CaseError) as err:
        sign_disposal_medical(form, by=people["medical_affairs"], opinion="  ")
    assert str(err.value) == "请填写医务科意见"
    assert snapshot(form) == before


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"measures": "", "plan": "", "opinion": ""}, "请填写：处理措施、整改计划、科主任意见"),
        ({"plan": " ", "opinion": ""}, "请填写：整改计划、科主任意见"),
        ({"measures": "\n"}, "请填写：处理措施"),
    ],
)
def test_department_signature_needs_measures_plan_and_opinion_C1(form, people, values, message):
    before = snapshot(form)
    with pytest.raises(CaseError) as err:
        sign_dept(form, people["dept_head"], **values)
    assert str(err.value) == message
    assert snapshot(form) == before


def test_department_cannot_sign_twice_C1(form, people):
    sign_dept(form, people["dept_head"])
    with pytest.raises(CaseError) as err:
        sign_dept(form, people["head_nurse"])
    assert str(err.value) == "科室已签字，不能重复签字"


def test_medical_affairs_returns_it_and_the_department_signs_again_C1(form, people):
    sign_dept(form, people["dept_head"])
    with pytest.raises(CaseError) as err:
        return_disposal(form, by=people["medical_affairs"], reason="")
    assert str(err.value) == "请填写退回原因"
    with pytest.raises(CaseError) as err:
        return_disposal(form, by=people["dept_head"], reason="自己退回")
    assert str(err.value) == "只有医务科可以退回处置反馈表"
    with time_machine.travel(at("2026-10-09 16:00"), tick=False):
        return_disposal(form, by=people["medical_affairs"], reason="整改计划不具体")
    form = fresh(form)
    # Back to the department on a new 3-working-day clock: 10-10, 10-12, 10-13.
    assert (form.status, form.dept_signed_by, form.dept_signed_at, form.ma_opinion) == (
        DisposalStatus.DEPARTMENT,
        None,
        None,
        "退回（2026-10-09）：整改计划不具体",
    )
    assert (form.due_at, form.escalation_level, form.reminded_at) == (
        at("2026-10-13 16:00"),
        0,
        None,
    )
    stamp = int(at("2026-10-09 16:00").timestamp())
    assert told(f"disposal:{form.pk}:return:{stamp}") == ["head.xnk", "headnurse.xnk"]
    with pytest.raises(CaseError) as err:
        return_disposal(form, by=people["medical_affairs"], reason="再退一次")
    assert str(err.value) == "只有待医务科审核的表可以退回"
    sign_dept(form, people["head_nurse"], "2026-10-10 09:00", plan="每周一次礼仪培训，月底考核")
    form = fresh(form)
    assert (form.status, form.dept_signed_by, form.plan) == (
        DisposalStatus.MEDICAL_AFFAIRS,
        people["head_nurse"],
        "每周一次礼仪培训，月底考核",
    )
    sign_disposal_medical(form, by=people["medical_affairs"], opinion="同意")
    assert fresh(form).status == DisposalStatus.CLOSED
    with pytest.raises(CaseError) as err:
        sign_disposal_medical(form, by=people["medical_affairs"], opinion="同意")
    assert str(err.value) == "处置反馈表已关闭"
