"""`careloop policy list | activate | deactivate` (F1–F5)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from careloop.followup.choices import TaskStatus
from careloop.followup.models import Policy
from careloop.followup.tests.uihelpers import make_policy, make_stage, make_task, make_visit

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("policy", *args, stdout=out)
    return out.getvalue()


def test_list_shows_every_policy_active_first(org):
    policy = make_policy(is_active=True)
    stage = make_stage(policy)
    for i, status in enumerate([TaskStatus.DUE, TaskStatus.PLANNED, TaskStatus.CANCELLED]):
        visit = make_visit(org["cardio"], patient_no=f"P{i}", name="病人", visit_no=f"Z{i}")
        make_task(stage, visit, status=status)
    lines = [line.split() for line in run("list").splitlines()]
    assert lines[0] == ["slug", "名称", "启用", "阶段数", "未完成任务"]
    assert lines[1:] == [
        ["test-policy", "测试回访制度", "是", "1", "2"],
        ["discharge-nurse", "出院病人回访", "否", "2", "0"],
        ["doctor-7-90", "主管医师回访", "否", "2", "0"],
        ["kf-phone", "客服部电话回访", "否", "3", "0"],
        ["two-level", "院科两级回访", "否", str(Policy.objects.get(slug="two-level").stages.count()), "0"],
    ]  # fmt: skip


def test_activate_and_deactivate(org):
    assert "已启用回访制度 kf-phone" in run("activate", "kf-phone")
    assert Policy.objects.get(slug="kf-phone").is_active is True
    policy = Policy.objects.get(slug="kf-phone")
    visit = make_visit(org["cardio"], patient_no="P1", name="病人", visit_no="Z1")
    task = make_task(policy.stages.first(), visit)
    assert "取消任务 1 个" in run("deactivate", "kf-phone")
    task.refresh_from_db()
    assert (Policy.objects.get(slug="kf-phone").is_active, task.status) == (
        False,
        TaskStatus.CANCELLED,
    )


def test_unknown_slug_lists_the_valid_ones(db):
    with pytest.raises(CommandError) as error:
        run("activate", "nope")
    assert str(error.value) == (
        "没有代码为“nope”的回访制度；可用：discharge-nurse、doctor-7-90、kf-phone、two-level"
    )


def test_service_refusal_becomes_a_command_error(db):
    make_policy(slug="empty", name="空制度")
    with pytest.raises(CommandError, match="没有任何阶段，不能启用"):
        run("activate", "empty")


@pytest.mark.django_db(transaction=True)
def test_unknown_slug_exits_with_status_1_and_a_chinese_message(capsys):
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["careloop", "policy", "deactivate", "nope"])
    assert exit_.value.code == 1
    assert "没有代码为“nope”的回访制度" in capsys.readouterr().err
