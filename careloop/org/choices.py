from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentKind(models.TextChoices):
    """O1 and §9: the kind decides which follow-up stages apply (F1 specialist vs basic)."""

    INPATIENT = "inpatient", _("住院病区")
    SPECIALIST = "specialist", _("专科门诊")
    BASIC = "basic", _("基础门诊")
    EMERGENCY = "emergency", _("急诊")
    FUNCTIONAL = "functional", _("职能")


# §9 accepts the Chinese names and these English spellings in the 类别 / kind column.
KIND_ALIASES = {
    "住院病区": DepartmentKind.INPATIENT,
    "病区": DepartmentKind.INPATIENT,
    "住院": DepartmentKind.INPATIENT,
    "inpatient": DepartmentKind.INPATIENT,
    "inpatient ward": DepartmentKind.INPATIENT,
    "ward": DepartmentKind.INPATIENT,
    "专科门诊": DepartmentKind.SPECIALIST,
    "专科": DepartmentKind.SPECIALIST,
    "specialist": DepartmentKind.SPECIALIST,
    "specialist clinic": DepartmentKind.SPECIALIST,
    "基础门诊": DepartmentKind.BASIC,
    "基础科室": DepartmentKind.BASIC,
    "基础": DepartmentKind.BASIC,
    "basic": DepartmentKind.BASIC,
    "basic clinic": DepartmentKind.BASIC,
    "急诊": DepartmentKind.EMERGENCY,
    "emergency": DepartmentKind.EMERGENCY,
    "职能": DepartmentKind.FUNCTIONAL,
    "职能科室": DepartmentKind.FUNCTIONAL,
    "functional": DepartmentKind.FUNCTIONAL,
}
