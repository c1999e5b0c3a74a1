from django.db import models
from django.utils.translation import gettext_lazy as _


class Anchor(models.TextChoices):
    """F5: what the due window counts from."""

    DISCHARGE = "discharge", _("出院时间")
    VISIT = "visit", _("就诊时间")
    PREVIOUS = "previous", _("上一阶段完成时间")


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    LETTER = "letter", _("信函")
    HOME_VISIT = "home_visit", _("上门")
    WECHAT = "wechat", _("微信")


class AssigneeRole(models.TextChoices):
    """F5/F12: who does a stage, resolved per visit."""

    RESPONSIBLE_NURSE = "responsible_nurse", _("责任护士")
    ATTENDING_DOCTOR = "attending_doctor", _("主管医生")
    AGENT_POOL = "agent_pool", _("客服回访员（公共池）")


class Repeat(models.TextChoices):
    NONE = "none", _("不重复")
    EVERY = "every", _("每隔 N 天")
    UNTIL_RECOVERED = "until_recovered", _("直至康复")


class TaskStatus(models.TextChoices):
    """F7."""

    PLANNED = "planned", _("待开始")
    DUE = "due", _("待回访")
    IN_PROGRESS = "in_progress", _("回访中")
    COMPLETED = "completed", _("已完成")
    UNREACHABLE = "unreachable", _("失访")
    EXCLUDED = "excluded", _("不予回访")
    CANCELLED = "cancelled", _("已取消")


OPEN_STATUSES = (TaskStatus.PLANNED, TaskStatus.DUE, TaskStatus.IN_PROGRESS)


class Exclusion(models.TextChoices):
    """E1–E6, in the order that decides which one a task records."""

    E1 = "E1", _("E1 医疗纠纷未处理")
    E2 = "E2", _("E2 欠费清理/拒不出院")
    E3 = "E3", _("E3 住院不足 24 小时")
    E4 = "E4", _("E4 患者已故")
    E5 = "E5", _("E5 隐私敏感诊断")
    E6 = "E6", _("E6 拒访或无可用电话")


class TaskEventKind(models.TextChoices):
    CREATED = "created", _("生成")
    MOVED = "moved", _("窗口调整")
    EXCLUDED = "excluded", _("不予回访")
    LIFTED = "lifted", _("解除不予回访")
    CANCELLED = "cancelled", _("取消")
    ASSIGNED = "assigned", _("分配")
    REASSIGNED = "reassigned", _("改派")
    MERGED = "merged", _("患者合并")
    COMPLETED = "completed", _("完成")
