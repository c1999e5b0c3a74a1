"""Role-based navigation: a menu item is shown when its check passes for the user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from careloop.accounts.roles import ADMIN_SITE_ROLES, Role


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str | Promise
    url_name: str
    allowed: Callable


def _perm(codename):
    return lambda user: user.has_perm(codename)


MENU: list[MenuItem] = [
    MenuItem("home", _("工作台"), "core:home", lambda user: True),
    MenuItem("workspace", _("今日回访"), "workspace:queue", _perm("followup.view_followuptask")),
    MenuItem(
        "homevisits",
        _("上门回访"),
        "notify:home_visits",
        lambda user: user.has_role(Role.NURSE, Role.HEAD_NURSE),
    ),
    MenuItem("patients", _("患者档案"), "patients:patient_list", _perm("patients.view_patient")),
    MenuItem("tasks", _("回访任务"), "followup:task_list", _perm("followup.view_followuptask")),
    MenuItem("cases", _("投诉与意见"), "cases:case_list", _perm("cases.view_case")),
    MenuItem("disposal", _("处置反馈表"), "cases:disposal_list", _perm("cases.view_disposalform")),
    MenuItem("escalations", _("临床转介"), "cases:escalation_list", _perm("cases.view_escalation")),
    MenuItem("workload", _("回访员工作量"), "workspace:workload", _perm("followup.reassign_task")),
    MenuItem(
        "monthly", _("科室月度统计"), "reports:monthly", _perm("reports.view_monthlysnapshot")
    ),
    MenuItem("ranking", _("满意率排名"), "reports:ranking", _perm("reports.view_monthlysnapshot")),
    MenuItem(
        "register",
        _("回访登记表"),
        "reports:register",
        lambda user: (
            user.has_perm("reports.view_monthlysnapshot") and user.has_perm("patients.view_patient")
        ),
    ),
    MenuItem("summaries", _("领导汇总报告"), "reports:summary_list", _perm("reports.view_summary")),
    MenuItem("policies", _("回访制度"), "followup:policy_list", _perm("followup.view_policy")),
    MenuItem(
        "surveys",
        _("满意度问卷"),
        "surveys:questionnaire_list",
        _perm("surveys.change_questionnaire"),
    ),
    MenuItem(
        "scripts", _("回访话术"), "workspace:script_list", _perm("followup.change_callscript")
    ),
    MenuItem("sms", _("短信"), "notify:outbox_list", _perm("notify.view_outboxmessage")),
    MenuItem("letters", _("信函"), "notify:letter_batch", _perm("notify.print_letter")),
    MenuItem("departments", _("科室"), "org:department_list", _perm("org.view_department")),
    MenuItem("roster", _("排班"), "org:rosterentry_list", _perm("org.view_rosterentry")),
    MenuItem("calendar", _("工作日历"), "calendars:calendar", _perm("calendars.view_calendarday")),
    MenuItem("imports", _("数据导入"), "intake:importrun_list", _perm("intake.view_importrun")),
    MenuItem("hl7", _("HL7 消息"), "intake:hl7message_list", _perm("intake.view_hl7message")),
    MenuItem("jobs", _("后台任务"), "jobs:scheduledjob_list", _perm("jobs.view_scheduledjob")),
    MenuItem(
        "audit", _("审计日志"), "audit:auditevent_list", lambda user: user.has_role(Role.AUDITOR)
    ),
    MenuItem("admin", _("系统管理"), "admin:index", lambda user: user.has_role(*ADMIN_SITE_ROLES)),
]


def menu_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    return [
        {"key": item.key, "label": item.label, "url": reverse(item.url_name)}
        for item in MENU
        if item.allowed(user)
    ]
