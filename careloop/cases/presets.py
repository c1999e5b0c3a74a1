"""Presets the hospital starts with and may edit: the C2 category tree and the C3 deadline
rules (seed 003 8: an answer within 7 days; seed 001 四: major complaints go up at once)."""

from __future__ import annotations

from careloop.cases.choices import CaseKind, DeadlineSubject, DeadlineUnit, Severity
from careloop.cases.models import CaseCategory, DeadlineRule

# (code, name, kind, children[(code, name)])
CATEGORIES = [
    ("attitude", "服务态度", "", [
        ("attitude-doctor", "医生"), ("attitude-nurse", "护士"),
        ("attitude-tech", "医技/药房"), ("attitude-window", "窗口/收费"),
        ("attitude-logistics", "后勤/保安/保洁"),
    ]),
    ("quality", "医疗技术与质量", "", [
        ("quality-diagnosis", "诊断与治疗"), ("quality-surgery", "手术与操作"),
        ("quality-nursing", "护理质量"), ("quality-medication", "用药"),
    ]),
    ("ethics", "医德医风", "", [("ethics-gifts", "收受红包/回扣"), ("ethics-conduct", "言行不当")]),
    ("guidance", "出院指导与健康宣教", "", []),
    ("process", "就诊流程与等候", "", [
        ("process-waiting", "等候时间"), ("process-appointment", "预约挂号"),
        ("process-signage", "指引标识"),
    ]),
    ("billing", "收费与医保", "", [("billing-fee", "收费疑问"), ("billing-insurance", "医保报销")]),
    ("environment", "就医环境与后勤", "", [
        ("environment-clean", "卫生"), ("environment-food", "膳食"),
        ("environment-parking", "停车"), ("environment-facility", "设施设备"),
    ]),
    ("other", "其他", "", []),
    ("praise-letter", "表扬信", CaseKind.PRAISE, []),
    ("praise-banner", "锦旗", CaseKind.PRAISE, []),
    ("praise-verbal", "口头/电话表扬", CaseKind.PRAISE, []),
]  # fmt: skip

DEADLINE_RULES = [
    # subject, kind, severity, amount, unit, warn_hours, second_after
    (DeadlineSubject.CASE, "", "", 7, DeadlineUnit.CALENDAR_DAYS, 48, 2),
    (DeadlineSubject.CASE, CaseKind.COMPLAINT, Severity.MAJOR, 3, DeadlineUnit.CALENDAR_DAYS, 24, 1),
    (DeadlineSubject.DISPOSAL_DEPARTMENT, "", "", 3, DeadlineUnit.WORKING_DAYS, 24, 2),
    (DeadlineSubject.DISPOSAL_MEDICAL, "", "", 3, DeadlineUnit.WORKING_DAYS, 24, 2),
    (DeadlineSubject.ESCALATION, "", "", 24, DeadlineUnit.HOURS, 4, 24),
    (DeadlineSubject.REFOLLOW, "", "", 3, DeadlineUnit.WORKING_DAYS, 24, 0),
]  # fmt: skip


def ensure_case_presets() -> None:
    """Create what is missing; never overwrite what the hospital changed."""
    for position, (code, name, kind, children) in enumerate(CATEGORIES):
        parent, _ = CaseCategory.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "position": position * 10}
        )
        for sub, (child_code, child_name) in enumerate(children):
            CaseCategory.objects.get_or_create(
                code=child_code,
                defaults={"name": child_name, "kind": kind, "parent": parent, "position": sub},
            )
    for subject, kind, severity, amount, unit, warn, second in DEADLINE_RULES:
        DeadlineRule.objects.get_or_create(
            subject=subject,
            kind=kind,
            severity=severity,
            defaults={"amount": amount, "unit": unit, "warn_hours": warn, "second_after": second},
        )


def ensure_presets_after_migrate(sender, **kwargs):
    if sender.label == "cases":
        ensure_case_presets()
