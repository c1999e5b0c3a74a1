"""The loop in the demo hospital (issue 6): a few complaints, opinions and praise at different
steps (one overdue), two follow-ups rated 差 with their disposal forms, one clinical escalation.
Built once: when any case exists the demo leaves the loop as people have changed it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from careloop.accounts.models import User
from careloop.cases import services
from careloop.cases.choices import CaseKind, CaseSource, CaseStatus, Finding, Severity
from careloop.cases.models import Case, CaseCategory
from careloop.cases.presets import ensure_case_presets
from careloop.followup import calls
from careloop.followup.choices import Rating, TaskStatus
from careloop.followup.models import FollowUpTask
from careloop.org.models import Department

# (kind, source, severity, category, department, summary, description, steps)
CASES = [
    (CaseKind.COMPLAINT, CaseSource.HOTLINE, Severity.GENERAL, "attitude-nurse", "XNK",
     "夜班护士态度生硬", "患者家属反映夜间呼叫护士时，护士语气不耐烦，未解释用药情况。", []),
    (CaseKind.COMPLAINT, CaseSource.FOLLOWUP, Severity.IMPORTANT, "process-waiting", "GK",
     "出院结算排队两小时", "出院当日结算窗口只开一个，排队近两小时，老人站立困难。",
     [CaseStatus.ACCEPTED, CaseStatus.INVESTIGATING]),
    (CaseKind.OPINION, CaseSource.DESK, Severity.MINOR, "environment-food", "XNK",
     "病区膳食偏咸", "建议为心血管病人提供低盐饮食选择。", [CaseStatus.ACCEPTED]),
    (CaseKind.SUGGESTION, CaseSource.ONLINE, Severity.MINOR, "process-appointment", "",
     "希望开通复诊线上预约", "公众号只能预约首诊，复诊还要到窗口。", []),
    (CaseKind.PRAISE, CaseSource.LETTER, Severity.GENERAL, "praise-letter", "GK",
     "感谢骨科团队", "患者来信感谢骨科医护人员术后细心照顾。", [CaseStatus.CLOSED]),
    (CaseKind.COMPLAINT, CaseSource.HOTLINE, Severity.GENERAL, "billing-fee", "XNK",
     "检查费用疑问", "患者认为出院清单中一项检查未做却收费。", [CaseStatus.CLOSED]),
]  # fmt: skip


def build_loop() -> dict:
    ensure_case_presets()
    if Case.objects.exists():
        return {"cases": 0, "disposal": 0, "escalations": 0}
    agent = User.objects.get(username="agent1")
    supervisor = User.objects.get(username="supervisor")
    now = timezone.now()
    made = {"cases": 0, "disposal": 0, "escalations": 0}
    with transaction.atomic():
        for index, (kind, source, severity, cat, dept, summary, text, steps) in enumerate(CASES):
            # Spread over the last ten days so one complaint is already overdue.
            at = now - dt.timedelta(days=9 - index, hours=2)
            departments = list(Department.objects.filter(code=dept)) if dept else []
            case = services.register_case(
                by=agent, kind=kind, source=source, severity=severity, summary=summary,
                description=text, category=CaseCategory.objects.filter(code=cat).first(),
                contact_name="患者家属", contact_phone="13900001111", departments=departments,
                at=at,
            )  # fmt: skip
            made["cases"] += 1
            for step in steps:
                values = {}
                if step == CaseStatus.CLOSED:
                    values = {"finding": Finding.TRUE if kind == CaseKind.PRAISE else Finding.FALSE,
                              "investigation": "经核实。",
                              "reply": "" if kind == CaseKind.PRAISE else "已向患者解释收费明细。"}  # fmt: skip
                services.advance_case(case, step, by=supervisor, at=at + dt.timedelta(hours=3),
                                      **values)  # fmt: skip
        tasks = list(
            FollowUpTask.objects.filter(status=TaskStatus.DUE, channel="phone")
            .filter(Q(assignee=agent) | Q(assignee__isnull=True))
            .select_related("visit")
            .order_by("pk")[:3]
        )
        for task, overall in zip(tasks[:2], (Rating.POOR, Rating.POOR), strict=False):
            task = calls.claim_task(task, by=agent)
            record = calls.complete_followup(
                task, by=agent,
                record={"condition": "恢复尚可", "overall": overall,
                        "opinions": "住院期间呼叫铃响很久没人来，出院指导也没讲清楚。"},
            )  # fmt: skip
            if services.open_disposal_form(task, by=agent, record=record):
                made["disposal"] += 1
        if len(tasks) == 3:
            services.raise_escalation(
                tasks[2], by=agent, reason="post_op",
                description="术后第 8 天伤口红肿、渗液，伴低热 37.8℃。",
            )  # fmt: skip
            made["escalations"] += 1
    return made
