"""F11 clinical escalations. (Complaints, disposal forms and deadlines arrive with the loop
issue; this model is what the workspace raises during a call.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.cases.choices import EscalationStatus
from careloop.core.querysets import ScopedQuerySet


class Escalation(models.Model):
    task = models.ForeignKey(
        "followup.FollowUpTask",
        verbose_name=_("回访任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalations",
    )
    visit = models.ForeignKey(
        "patients.Visit", verbose_name=_("就诊"), on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", verbose_name=_("患者"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("科室"), on_delete=models.PROTECT, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主管医生"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("类别"), max_length=40)
    description = models.TextField(_("患者反映的情况"))
    due_at = models.DateTimeField(_("应确认时间"))
    status = models.CharField(
        _("状态"), max_length=12, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    action_taken = models.TextField(_("处理情况"), blank=True)
    request_key = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )

    scope_field = "department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("临床转介")
        verbose_name_plural = _("临床转介")
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reason} {self.raised_at:%Y-%m-%d %H:%M}"
