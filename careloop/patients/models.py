"""P1 patients with their phones, P2 visits and diagnoses, P5 events for the planner.

Sensitive data (phones, id number, address) is encrypted at rest (P3); phones and id numbers are
found through blind indexes. Age and length of stay are derived, never stored.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.core.fields import BlindIndexField, EncryptedTextField
from careloop.core.querysets import ScopedQuerySet
from careloop.lib.masking import (
    mask_address,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)
from careloop.patients.choices import (
    Disposition,
    EventKind,
    PhoneOwner,
    Sex,
    Source,
    VisitStatus,
    VisitType,
)


class Patient(models.Model):
    patient_no = models.CharField(_("病历号"), max_length=64, unique=True)
    name = models.CharField(_("姓名"), max_length=64, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    birth_date_estimated = models.BooleanField(_("出生日期为按年龄估算"), default=False)
    id_number = EncryptedTextField(_("身份证号"), mask=mask_id_number)
    id_number_bidx = BlindIndexField(
        source="id_number", normalizer=normalize_id_number, purpose="id_number"
    )
    address = EncryptedTextField(_("家庭住址"), mask=mask_address)
    is_deceased = models.BooleanField(_("已故"), default=False)
    deceased_at = models.DateTimeField(_("死亡时间"), null=True, blank=True)
    do_not_contact = models.BooleanField(_("拒访"), default=False)
    open_dispute = models.BooleanField(_("医疗纠纷未处理"), default=False)
    privacy_sensitive = models.BooleanField(_("隐私敏感"), default=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    created_at = models.DateTimeField(_("建档时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    # O3: a patient belongs to the departments of its visits.
    scope_field = "visits__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("患者")
        verbose_name_plural = _("患者")
        ordering = ["-updated_at", "-pk"]
        permissions = [("reveal_patient", _("查看未脱敏的患者信息"))]

    def __str__(self) -> str:
        return f"{self.name}（{self.patient_no}）"

    def get_absolute_url(self) -> str:
        return reverse("patients:patient_detail", args=[self.pk])

    def age(self, on: date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        on = on or timezone.localdate()
        years = on.year - self.birth_date.year
        if (on.month, on.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return max(years, 0)

    @property
    def title(self) -> str:
        """先生/女士 for the call script (F10)."""
        return {Sex.MALE: "先生", Sex.FEMALE: "女士"}.get(self.sex, "")

    def preferred_phone(self):
        phones = list(self.phones.all())
        return next((p for p in phones if p.is_preferred), phones[0] if phones else None)


class PatientPhone(models.Model):
    patient = models.ForeignKey(
        Patient, verbose_name=_("患者"), on_delete=models.CASCADE, related_name="phones"
    )
    number = EncryptedTextField(_("电话号码"), mask=mask_phone)
    number_bidx = BlindIndexField(source="number", normalizer=normalize_phone, purpose="phone")
    owner = models.CharField(
        _("号码归属"), max_length=8, choices=PhoneOwner.choices, default=PhoneOwner.SELF
    )
    is_preferred = models.BooleanField(_("首选"), default=False)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    scope_field = "patient__visits__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("患者电话")
        verbose_name_plural = _("患者电话")
        ordering = ["patient", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "number_bidx"], name="patients_phone_unique_per_patient"
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(is_preferred=True),
                name="patients_phone_one_preferred",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_owner_display()} {mask_phone(self.number)}"


class Visit(models.Model):
    patient = models.ForeignKey(
        Patient, verbose_name=_("患者"), on_delete=models.PROTECT, related_name="visits"
    )
    visit_type = models.CharField(_("就诊类型"), max_length=12, choices=VisitType.choices)
    visit_no = models.CharField(_("住院号/门诊号"), max_length=64)
    department = models.ForeignKey(
        "org.Department", verbose_name=_("科室"), on_delete=models.PROTECT, related_name="visits"
    )
    attending_doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主管医生"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    attending_doctor_name = models.CharField(_("主管医生（HIS 登记）"), max_length=64, blank=True)
    responsible_nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任护士"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    responsible_nurse_name = models.CharField(_("责任护士（HIS 登记）"), max_length=64, blank=True)
    admitted_at = models.DateTimeField(_("入院时间"), null=True, blank=True)
    discharged_at = models.DateTimeField(_("出院时间"), null=True, blank=True, db_index=True)
    visit_at = models.DateTimeField(_("就诊时间"), null=True, blank=True, db_index=True)
    disposition = models.CharField(
        _("离院方式"), max_length=1, choices=Disposition.choices, blank=True
    )
    cleared_out = models.BooleanField(_("欠费清理/拒不出院"), default=False)
    total_cost = models.DecimalField(
        _("总费用（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    first_visit = models.BooleanField(_("初诊"), default=False)
    lost = models.BooleanField(_("流失"), default=False)
    special = models.BooleanField(_("特殊病人"), default=False)
    chronic = models.BooleanField(_("慢病"), default=False)
    guidance_medication = models.TextField(_("出院指导：用药"), blank=True)
    guidance_diet = models.TextField(_("出院指导：饮食"), blank=True)
    guidance_rehab = models.TextField(_("出院指导：康复"), blank=True)
    revisit_date = models.DateField(_("复诊日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.ACTIVE
    )
    source = models.CharField(
        _("来源"), max_length=8, choices=Source.choices, default=Source.MANUAL
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    scope_field = "department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("就诊")
        verbose_name_plural = _("就诊")
        ordering = ["-discharged_at", "-visit_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit_type", "visit_no"], name="patients_visit_unique_no_per_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_visit_type_display()} {self.visit_no}"

    def get_absolute_url(self) -> str:
        return reverse("patients:patient_detail", args=[self.patient_id]) + f"#visit-{self.pk}"

    @property
    def length_of_stay(self):
        """P2: derived; a timedelta, or None while the patient is still in hospital."""
        if self.admitted_at and self.discharged_at:
            return self.discharged_at - self.admitted_at
        return None

    @property
    def length_of_stay_days(self) -> int | None:
        stay = self.length_of_stay
        return None if stay is None else max(stay.days, 0)

    @property
    def principal_diagnosis(self):
        return next((d for d in self.diagnoses.all() if d.is_principal), None)


class Diagnosis(models.Model):
    visit = models.ForeignKey(
        Visit, verbose_name=_("就诊"), on_delete=models.CASCADE, related_name="diagnoses"
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    code = models.CharField(_("ICD-10 编码"), max_length=16, blank=True, db_index=True)
    text = models.CharField(_("诊断"), max_length=200, blank=True)
    is_principal = models.BooleanField(_("主要诊断"), default=False)

    scope_field = "visit__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("诊断")
        verbose_name_plural = _("诊断")
        ordering = ["visit", "position"]

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class PatientEvent(models.Model):
    """P5: an event after the fact (death, cancelled admission or discharge, a changed department
    or discharge time, a merge) that the follow-up planner must act on. ``planned_at`` is set by
    the planner once it has applied the event."""

    patient = models.ForeignKey(
        Patient, verbose_name=_("患者"), on_delete=models.CASCADE, related_name="events"
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("就诊"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=24, choices=EventKind.choices, db_index=True)
    occurred_at = models.DateTimeField(_("发生时间"), default=timezone.now)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    planned_at = models.DateTimeField(_("已由计划处理"), null=True, blank=True, db_index=True)

    scope_field = "patient__visits__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("患者事件")
        verbose_name_plural = _("患者事件")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.patient}"


class VisitChange(models.Model):
    """A visit whose follow-up plan must be recomputed (written in the same transaction as the
    change). The planner reads up to a known id and deletes what it planned, so a change that
    arrives while it works is planned by the next run and never lost."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("就诊"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("待重排就诊")
        verbose_name_plural = _("待重排就诊")

    def __str__(self) -> str:
        return f"{self.visit_id} @ {self.created_at:%Y-%m-%d %H:%M:%S}"
