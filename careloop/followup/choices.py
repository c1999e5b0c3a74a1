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
    CLAIMED = "claimed", _("领取")
    RELEASED = "released", _("放回")
    ATTEMPT = "attempt", _("拨打")
    RESCHEDULED = "rescheduled", _("约定改时间")
    UNREACHABLE = "unreachable", _("失访")


class AttemptOutcome(models.TextChoices):
    """F8: the outcome of one call attempt."""

    REACHED_SELF = "reached_self", _("接通本人")
    REACHED_FAMILY = "reached_family", _("接通家属")
    NO_ANSWER = "no_answer", _("无人接听")
    BUSY = "busy", _("占线")
    POWERED_OFF = "powered_off", _("关机/停机")
    WRONG_NUMBER = "wrong_number", _("空号/错号")
    REFUSED = "refused", _("拒绝回访")
    RESCHEDULE = "reschedule", _("约定改时间")
    DECEASED = "deceased", _("患者已故")


# F8: attempts that count towards "unreachable".
FAILED_OUTCOMES = frozenset(
    {
        AttemptOutcome.NO_ANSWER,
        AttemptOutcome.BUSY,
        AttemptOutcome.POWERED_OFF,
        AttemptOutcome.WRONG_NUMBER,
    }
)
REACHED_OUTCOMES = frozenset({AttemptOutcome.REACHED_SELF, AttemptOutcome.REACHED_FAMILY})


class Rating(models.TextChoices):
    """Q1/F9: the four-level rating of the paper form."""

    VERY_GOOD = "very_good", _("很好")
    GOOD = "good", _("好")
    FAIR = "fair", _("一般")
    POOR = "poor", _("差")


class Adherence(models.TextChoices):
    """F9: medication adherence."""

    REGULAR = "regular", _("遵医嘱规律服药")
    IRREGULAR = "irregular", _("未按医嘱服药")
    STOPPED = "stopped", _("已自行停药")
    NONE = "none", _("无需服药")


class Education(models.TextChoices):
    """F9: health education given on the call."""

    DIET = "diet", _("饮食")
    MEDICATION = "medication", _("用药")
    SELF_CARE = "self_care", _("自我保健")
    RECHECK = "recheck", _("按时复查")
    EXERCISE = "exercise", _("康复锻炼")
