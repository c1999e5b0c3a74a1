"""Policy pages (F1–F5): the list, a policy's stages in Chinese, editing, the switch, stages
with their validation, the refusal to delete a stage with tasks, and the preview."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from careloop.accounts.roles import Role
from careloop.followup.choices import TaskStatus
from careloop.followup.forms import last_month
from careloop.followup.models import FollowUpTask, Policy, Stage
from careloop.followup.tests.uihelpers import (
    TZ,
    client_for,
    make_policy,
    make_stage,
    make_task,
    make_visit,
)
from careloop.followup.views import describe_stage
from careloop.patients.models import Patient, PatientPhone

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(org, make_user):
    return make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]])


@pytest.fixture
def policy(org):
    policy = make_policy(is_active=True)
    make_stage(policy, position=1)
    return policy


def stage_data(**overrides):
    data = {
        "code": "second",
        "name": "第二次回访",
        "position": 2,
        "visit_types": ["inpatient"],
        "first_visit": "unknown",
        "lost": "unknown",
        "special": "unknown",
        "chronic": "unknown",
        "anchor": "discharge",
        "window_start_day": 15,
        "window_end_day": 30,
        "channel": "phone",
        "assignee_role": "responsible_nurse",
        "repeat": "none",
    }
    data.update(overrides)
    return data


def test_list_shows_active_first_with_open_task_counts(personas, policy, org):
    stage = policy.stages.get()
    for i, status in enumerate([TaskStatus.DUE, TaskStatus.PLANNED, TaskStatus.COMPLETED]):
        visit = make_visit(org["cardio"], patient_no=f"P{i}", name=f"病人{i}", visit_no=f"Z{i}")
        make_task(stage, visit, status=status)
    html = client_for(personas["agent"]).get("/followup/policies/").content.decode()
    slugs = [s for s in ("test-policy", "doctor-7-90", "kf-phone") if f'data-slug="{s}"' in html]
    assert slugs == ["test-policy", "doctor-7-90", "kf-phone"]
    assert html.index('data-slug="test-policy"') < html.index('data-slug="doctor-7-90"')
    row = html[html.index('data-slug="test-policy"') :]
    assert '<td class="open-tasks">2</td>' in row[: row.index("</tr>")]


def test_open_task_counts_follow_the_scope_O3(personas, policy, org):
    visit = make_visit(org["cardio"], patient_no="P1", name="心内病人", visit_no="Z1")
    make_task(policy.stages.get(), visit)
    html = client_for(personas["ortho_nurse"]).get("/followup/policies/").content.decode()
    row = html[html.index('data-slug="test-policy"') :]
    assert '<td class="open-tasks">0</td>' in row[: row.index("</tr>")]


def test_detail_describes_stages_in_chinese_F5(personas):
    html = client_for(personas["cardio_nurse"]).get("/followup/policies/kf-phone/").content
    html = html.decode()
    assert "住院 · 出院后第 7–13 天 · 电话 · 客服回访员（公共池）" in html
    assert "门诊 · 专科门诊 · 初诊 · 非流失 · 就诊后第 7–13 天 · 电话" in html
    assert "基础门诊 · 初诊 · 非流失 · 就诊后第 10–16 天" in html
    # A nurse reads; she gets no edit buttons.
    assert "修改制度" not in html and "新增阶段" not in html


def test_describe_stage_covers_every_condition_F5(org):
    policy = make_policy()
    first = make_stage(policy, code="first", name="首次")
    stage = make_stage(
        policy,
        code="later",
        visit_types=["inpatient", "outpatient"],
        chronic=True,
        min_cost=10000,
        age_min=65,
        diagnosis_codes="I10-I15",
        depends_on=first,
        window_start_day=90,
        window_end_day=None,
        channel="sms",
        assignee_role="attending_doctor",
        repeat="until_recovered",
        repeat_every_days=90,
    )
    stage.departments.set([org["cardio"]])
    assert describe_stage(stage) == (
        "住院/门诊 · 限 心血管内科病区 · 慢病 · 费用高于 10,000 元 · 65 岁及以上 · 诊断 I10-I15 · "
        "出院后第 90–96 天 · 在“首次”完成后 · 短信 · 主管医生 · 每 90 天一次直至康复"
    )


def test_policy_pages_need_the_view_permission(personas):
    client = client_for(personas["leader"])
    assert client.get("/followup/policies/").status_code == 403
    assert client.get("/followup/policies/kf-phone/").status_code == 403


def test_edit_policy_and_the_plan_is_redone(supervisor, policy):
    Policy.objects.filter(pk=policy.pk).update(needs_full_plan=False)
    client = client_for(supervisor)
    response = client.post(
        "/followup/policies/test-policy/edit/",
        {"name": "改名后的制度", "call_hours": "09:00-11:30", "sensitive_icd10": "A50-A64"},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.call_hours, policy.needs_full_plan) == (
        "改名后的制度",
        "09:00-11:30",
        True,
    )


def test_edit_policy_shows_model_errors_in_chinese(supervisor, policy):
    response = client_for(supervisor).post(
        "/followup/policies/test-policy/edit/",
        {"name": "x", "call_hours": "上午", "sensitive_icd10": ""},
    )
    assert response.status_code == 200
    assert "呼叫时段“上午”格式不对，应如 10:00-12:00" in response.content.decode()
    assert Policy.objects.get(pk=policy.pk).name == "测试回访制度"


def test_nurse_cannot_edit_activate_or_add_stages(personas, policy):
    client = client_for(personas["cardio_nurse"])
    assert client.post("/followup/policies/test-policy/edit/", {"name": "x"}).status_code == 403
    assert client.post("/followup/policies/test-policy/deactivate/").status_code == 403
    assert (
        client.post("/followup/policies/test-policy/stages/add/", stage_data()).status_code == 403
    )
    stage = policy.stages.get()
    assert (
        client.post(f"/followup/policies/test-policy/stages/{stage.pk}/delete/").status_code == 403
    )
    policy.refresh_from_db()
    assert (policy.name, policy.is_active, policy.stages.count()) == ("测试回访制度", True, 1)


def test_activate_asks_for_confirmation_then_activates(supervisor):
    client = client_for(supervisor)
    confirm = client.get("/followup/policies/kf-phone/activate/")
    assert confirm.status_code == 200 and "确认启用" in confirm.content.decode()
    assert Policy.objects.get(slug="kf-phone").is_active is False
    response = client.post("/followup/policies/kf-phone/activate/")
    assert response.status_code == 302
    assert Policy.objects.get(slug="kf-phone").is_active is True


def test_deactivate_cancels_the_open_tasks(supervisor, policy, org):
    visit = make_visit(org["cardio"], patient_no="P1", name="病人", visit_no="Z1")
    task = make_task(policy.stages.get(), visit)
    client = client_for(supervisor)
    assert (
        "1 个未完成的任务将被取消"
        in client.get("/followup/policies/test-policy/deactivate/").content.decode()
    )
    response = client.post("/followup/policies/test-policy/deactivate/", follow=True)
    assert "取消未完成任务 1 个" in response.content.decode()
    task.refresh_from_db()
    assert (Policy.objects.get(pk=policy.pk).is_active, task.status) == (
        False,
        TaskStatus.CANCELLED,
    )


def test_activating_a_policy_without_stages_shows_the_reason(supervisor):
    make_policy(slug="empty", name="空制度")
    response = client_for(supervisor).post("/followup/policies/empty/activate/", follow=True)
    assert "没有任何阶段，不能启用" in response.content.decode()
    assert Policy.objects.get(slug="empty").is_active is False


def test_add_stage_with_multi_selects_F5(supervisor, policy, org):
    data = stage_data(
        visit_types=["inpatient", "emergency"],
        department_kinds=["inpatient"],
        departments=[org["cardio"].pk],
        special="true",
    )
    response = client_for(supervisor).post("/followup/policies/test-policy/stages/add/", data)
    assert response.status_code == 302
    stage = Stage.objects.get(policy=policy, code="second")
    assert stage.visit_types == ["inpatient", "emergency"]
    assert stage.department_kinds == ["inpatient"]
    assert list(stage.departments.all()) == [org["cardio"]]
    assert (stage.special, stage.first_visit, stage.window_last_day) == (True, None, 30)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"window_start_day": 30, "window_end_day": 15}, "窗口结束日不能早于开始日"),
        ({"anchor": "previous"}, "以上一阶段完成时间起算时，必须选择前置阶段"),
        ({"repeat": "every"}, "“每隔 N 天”需要填写间隔天数"),
        ({"code": "phone"}, "本制度已有代码为“phone”的阶段"),
        ({"window_start_day": ""}, "该字段是必填项。"),
    ],
)
def test_stage_form_errors_in_chinese_F5(supervisor, policy, overrides, message):
    response = client_for(supervisor).post(
        "/followup/policies/test-policy/stages/add/", stage_data(**overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(policy.stages.values_list("code", flat=True)) == ["phone"]


def test_depends_on_offers_only_the_same_policys_stages(supervisor, policy):
    other = make_stage(make_policy(slug="other", name="别的制度"), code="x", name="别的阶段")
    response = client_for(supervisor).post(
        "/followup/policies/test-policy/stages/add/",
        stage_data(anchor="previous", depends_on=other.pk),
    )
    assert "选择一个有效的选项" in response.content.decode()
    assert not Stage.objects.filter(policy=policy, code="second").exists()


def test_edit_stage(supervisor, policy):
    stage = policy.stages.get()
    response = client_for(supervisor).post(
        f"/followup/policies/test-policy/stages/{stage.pk}/",
        stage_data(code="phone", name="改过的阶段", window_start_day=5, window_end_day=""),
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.name, stage.window_start_day, stage.window_last_day) == ("改过的阶段", 5, 11)


def test_stage_with_tasks_cannot_be_deleted(supervisor, policy, org):
    stage = policy.stages.get()
    make_task(stage, make_visit(org["cardio"], patient_no="P1", name="病人", visit_no="Z1"))
    client = client_for(supervisor)
    assert (
        "不能删除"
        in client.get(f"/followup/policies/test-policy/stages/{stage.pk}/delete/").content.decode()
    )
    response = client.post(f"/followup/policies/test-policy/stages/{stage.pk}/delete/", follow=True)
    assert "已生成 1 个回访任务，不能删除" in response.content.decode()
    assert Stage.objects.filter(pk=stage.pk).exists()


def test_stage_without_tasks_is_deleted(supervisor, policy):
    extra = make_stage(policy, code="extra", name="多余阶段")
    response = client_for(supervisor).post(
        f"/followup/policies/test-policy/stages/{extra.pk}/delete/"
    )
    assert response.status_code == 302
    assert list(policy.stages.values_list("code", flat=True)) == ["phone"]


def test_last_month_is_the_previous_calendar_month():
    assert last_month(dt.date(2026, 3, 15)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert last_month(dt.date(2026, 1, 1)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))


@time_machine.travel(dt.datetime(2026, 4, 8, 2, 0, tzinfo=dt.UTC), tick=False)
def test_preview_counts_last_months_visits_without_saving_F5(supervisor, policy, org):
    march = [dt.datetime(2026, 3, d, 10, 0, tzinfo=TZ) for d in (2, 12, 20)]
    make_visit(org["cardio"], patient_no="P1", name="甲", visit_no="Z1", discharged=march[0])
    make_visit(org["ortho"], patient_no="P2", name="乙", visit_no="Z2", discharged=march[1])
    disputed = make_visit(org["cardio"], patient_no="P3", name="丙", visit_no="Z3",
                          discharged=march[2])  # fmt: skip
    Patient.objects.filter(pk=disputed.patient_id).update(open_dispute=True)
    for patient in Patient.objects.all():  # E6 excludes a phone stage without a phone
        PatientPhone.objects.create(patient=patient, number=f"1380000000{patient.pk % 10}")
    # Outside the month, and an outpatient: neither is caught.
    make_visit(org["cardio"], patient_no="P4", name="丁", visit_no="Z4",
               discharged=dt.datetime(2026, 4, 2, 10, 0, tzinfo=TZ))  # fmt: skip
    make_visit(org["cardio"], patient_no="P5", name="戊", visit_no="M5", visit_type="outpatient",
               admitted_at=None, discharged=None, visit_at=march[1])  # fmt: skip
    client = client_for(supervisor)
    page = client.get("/followup/policies/test-policy/stages/add/").content.decode()
    assert 'value="2026-03-01"' in page and 'value="2026-03-31"' in page

    form = stage_data(department_kinds=["inpatient"], window_end_day="")
    form.update({"preview_start": "2026-03-01", "preview_end": "2026-03-31"})
    html = client.post("/followup/policies/test-policy/stages/preview/", form).content.decode()
    assert re.search(r'preview-counts">([^<]*)', html).group(1) == (
        "起算日期在 2026-03-01 至 2026-03-31 的就诊 3 个，符合条件 3 个，其中不予回访 1 个。"
    )
    assert all(name in html for name in ("甲", "乙", "丙")) and "丁" not in html
    assert "2026-03-02" in html and "E1" in html
    assert not policy.stages.filter(code="second").exists()

    # The departments as entered (not yet saved) narrow the preview.
    form["departments"] = [org["ortho"].pk]
    html = client.post("/followup/policies/test-policy/stages/preview/", form).content.decode()
    assert "符合条件 1 个，其中不予回访 0 个" in html and "乙" in html and "甲" not in html


def test_preview_of_an_invalid_stage_lists_the_errors(supervisor, policy):
    stage = policy.stages.get()
    form = stage_data(window_start_day=30, window_end_day=15)
    form.update({"preview_start": "2026-03-01", "preview_end": "2026-03-31"})
    html = (
        client_for(supervisor)
        .post(f"/followup/policies/test-policy/stages/{stage.pk}/preview/", form)
        .content.decode()
    )
    assert "条件填写有误" in html and "窗口结束日不能早于开始日" in html


def test_preview_is_refused_to_readers(personas, policy):
    response = client_for(personas["agent"]).post(
        "/followup/policies/test-policy/stages/preview/", stage_data()
    )
    assert response.status_code == 403
    assert FollowUpTask.objects.count() == 0
