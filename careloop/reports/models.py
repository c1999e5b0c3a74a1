"""R1/R4 monthly snapshots and R3 kept summaries.

Numbers are always computable live from the tasks (``queries.department_figures``); a snapshot
keeps a month's figures as they were when the month was closed (the 1st of the next month), so
the ranking (R4) reads 24 months without recounting them and leadership sees the numbers that
were reported. A snapshot can be regenerated (late calls change a month) by whoever may.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.core.querysets import ScopedQuerySet


class MonthlySnapshot(models.Model):
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    department = models.ForeignKey(
        "org.Department", verbose_name=_("科室"), on_delete=models.CASCADE, related_name="+"
    )
    # The counts of ``definitions.Figures`` (rates are derived, never stored).
    figures = models.JSONField(_("统计数"), default=dict)
    # R4: the ranking figure (Q3 over 总评价), kept as computed so the ranking of an old month
    # does not move when the satisfaction mode setting changes.
    satisfaction = models.DecimalField(
        _("满意率"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    rated = models.PositiveIntegerField(_("总评价份数"), default=0)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    scope_field = "department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("科室月度统计")
        verbose_name_plural = _("科室月度统计")
        ordering = ["-month", "department__code"]
        permissions = [
            ("export_report", _("导出统计报表")),
            ("refresh_report", _("重新生成月度统计")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "department"], name="reports_snapshot_once_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department}"


class ClosedMonth(models.Model):
    """A month whose snapshots were written — also when no department had numbers, so that an
    empty month is not recounted on every page view."""

    month = models.DateField(_("月份"), unique=True)
    closed_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    departments = models.PositiveIntegerField(_("科室数"), default=0)

    class Meta:
        verbose_name = _("已生成的统计月份")
        verbose_name_plural = _("已生成的统计月份")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class SummaryKind(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")


class Summary(models.Model):
    """R3: a leadership summary as generated (PDF and Excel kept in the database, so backups
    carry them)."""

    kind = models.CharField(_("类型"), max_length=8, choices=SummaryKind.choices)
    period_key = models.CharField(_("统计期间"), max_length=16)  # 2026-10, 2026-Q4
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期（不含）"))
    pdf = models.BinaryField(_("PDF"), editable=False)
    xlsx = models.BinaryField(_("Excel"), editable=False)
    data = models.JSONField(_("数据"), default=dict)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("领导汇总报告")
        verbose_name_plural = _("领导汇总报告")
        ordering = ["-period_start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_key"], name="reports_summary_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_key}"
