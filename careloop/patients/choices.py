from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    """GB/T 2261.1."""

    UNKNOWN = "0", _("未知")
    MALE = "1", _("男")
    FEMALE = "2", _("女")
    UNSPECIFIED = "9", _("未说明")


class PhoneOwner(models.TextChoices):
    SELF = "self", _("本人")
    FAMILY = "family", _("家属")
    OTHER = "other", _("其他")


class VisitType(models.TextChoices):
    INPATIENT = "inpatient", _("住院")
    OUTPATIENT = "outpatient", _("门诊")
    EMERGENCY = "emergency", _("急诊")


class Disposition(models.TextChoices):
    """离院方式, 病案首页 codes (P2)."""

    ORDERED = "1", _("医嘱离院")
    TRANSFER = "2", _("医嘱转院")
    COMMUNITY = "3", _("医嘱转社区/乡镇卫生院")
    AGAINST_ADVICE = "4", _("非医嘱离院")
    DEATH = "5", _("死亡")
    OTHER = "9", _("其他")


class VisitStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    CANCELLED = "cancelled", _("已取消入院")


class Source(models.TextChoices):
    IMPORT = "import", _("文件导入")
    HL7 = "hl7", _("HL7 接口")
    API = "api", _("REST 接口")
    MANUAL = "manual", _("手工")
    DEMO = "demo", _("演示数据")
    CALL = "call", _("回访电话")
    SMS = "sms", _("短信")
    SURVEY = "survey", _("患者自填问卷")


class EventKind(models.TextChoices):
    """P5: what happened after the fact, for the follow-up planner to act on."""

    DEATH = "death", _("死亡")
    ADMIT_CANCELLED = "admit_cancelled", _("取消入院")
    DISCHARGE_CANCELLED = "discharge_cancelled", _("取消出院")
    DEPARTMENT_CHANGED = "department_changed", _("科室变更")
    DISCHARGE_TIME_CHANGED = "discharge_time_changed", _("出院时间变更")
    MERGED = "merged", _("患者合并")
    REFUSED = "refused", _("拒绝回访")
