from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("待医生确认")
    ACKNOWLEDGED = "acknowledged", _("医生已确认")
    CLOSED = "closed", _("已处理")


# F11 (seed 000 九.3): what an agent hears that a doctor must handle.
ESCALATION_REASONS = [
    ("post_op", _("术后不适")),
    ("psychological", _("心理压力过大")),
    ("worsening", _("症状加重")),
    ("medication", _("用药问题")),
    ("other", _("其他")),
]


class CaseKind(models.TextChoices):
    """C2/C4."""

    COMPLAINT = "complaint", _("投诉")
    OPINION = "opinion", pgettext_lazy("case kind", "意见")
    SUGGESTION = "suggestion", _("建议")
    PRAISE = "praise", _("表扬")


class CaseSource(models.TextChoices):
    """C2: where a case came from (seed 001 一: 信函、电话、传真或来访)."""

    FOLLOWUP = "followup", _("回访")
    HOTLINE = "hotline", _("服务热线")
    DESK = "desk", _("服务台/来访")
    ONLINE = "online", _("网络/公众号")
    LETTER = "letter", _("信函")
    OTHER = "other", _("其他")


class Severity(models.TextChoices):
    """Seed 001 四: 轻微投诉 / 重要投诉 / 重大投诉, with 一般 between."""

    MINOR = "minor", _("轻微")
    GENERAL = "general", pgettext_lazy("severity", "一般")
    IMPORTANT = "important", _("重要")
    MAJOR = "major", _("重大")


class CaseStatus(models.TextChoices):
    """C2: 登记 → 受理 → 调查核实 → 处理 → 答复患者 → 关闭."""

    REGISTERED = "registered", _("登记")
    ACCEPTED = "accepted", _("受理")
    INVESTIGATING = "investigating", _("调查核实")
    HANDLING = "handling", _("处理")
    REPLIED = "replied", _("答复患者")
    CLOSED = "closed", _("关闭")


CASE_FLOW = [
    CaseStatus.REGISTERED,
    CaseStatus.ACCEPTED,
    CaseStatus.INVESTIGATING,
    CaseStatus.HANDLING,
    CaseStatus.REPLIED,
    CaseStatus.CLOSED,
]


class Finding(models.TextChoices):
    TRUE = "true", _("属实")
    PARTLY = "partly", _("部分属实")
    FALSE = "false", _("不属实")


class CaseEventKind(models.TextChoices):
    CREATED = "created", _("登记")
    STATUS = "status", _("状态变更")
    UPDATED = "updated", _("修改")
    ASSIGNED = "assigned", _("指派")
    NOTE = "note", _("备注")
    ATTACHMENT = "attachment", _("附件")
    REMINDED = "reminded", _("临近期限提醒")
    ESCALATED = "escalated", _("逾期升级")
    REFOLLOW = "refollow", _("回访患者")
    REOPENED = "reopened", _("重新处理")


class DisposalStatus(models.TextChoices):
    """C1: the department signs first, then medical affairs; only then closed."""

    DEPARTMENT = "department", _("待科室处理")
    MEDICAL_AFFAIRS = "medical_affairs", _("待医务科审核")
    CLOSED = "closed", _("已关闭")


class DeadlineSubject(models.TextChoices):
    """What a deadline rule applies to (C3 for cases, C1 per signing step, F11)."""

    CASE = "case", _("投诉/意见/建议/表扬的答复")
    DISPOSAL_DEPARTMENT = "disposal_department", _("处置反馈表：科室签字")
    DISPOSAL_MEDICAL = "disposal_medical", _("处置反馈表：医务科签字")
    ESCALATION = "escalation", _("临床转介：医生确认")
    REFOLLOW = "refollow", _("结案后回访患者")


class DeadlineUnit(models.TextChoices):
    CALENDAR_DAYS = "calendar_days", _("自然日")
    WORKING_DAYS = "working_days", _("工作日")
    HOURS = "hours", _("小时")


class DeadlineState(models.TextChoices):
    OK = "ok", _("正常")
    NEAR = "near", _("临近期限")
    OVERDUE = "overdue", _("已逾期")
    DONE = "done", _("已完成")


class RefollowOutcome(models.TextChoices):
    """C3 loop closure: did the answer satisfy the patient?"""

    SATISFIED = "satisfied", _("满意")
    UNSATISFIED = "unsatisfied", _("不满意")
    UNREACHABLE = "unreachable", _("联系不上")


class RefollowStatus(models.TextChoices):
    DUE = "due", _("待回访")
    DONE = "done", _("已回访")
    CANCELLED = "cancelled", _("已取消")
