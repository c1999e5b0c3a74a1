"""F6: the hospital's editable working-day table over the official calendar.

A ``CalendarDay`` overrides one date (a 调休 working Saturday, an extra day off); a
``CalendarYear`` records that a year's official schedule was loaded, which silences the
administrator's warning for that year.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.calendars.choices import DaySource


class CalendarDay(models.Model):
    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(_("名称"), max_length=64, blank=True)
    source = models.CharField(
        _("来源"), max_length=12, choices=DaySource.choices, default=DaySource.MANUAL
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("工作日") if self.is_workday else _("休息日")
        return f"{self.date:%Y-%m-%d} {kind} {self.name}".strip()


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    loaded_at = models.DateTimeField(_("载入时间"), default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("载入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_name = models.CharField(_("来源文件"), max_length=200, blank=True)
    days = models.PositiveIntegerField(_("载入天数"), default=0)

    class Meta:
        verbose_name = _("已载入的官方日历")
        verbose_name_plural = _("已载入的官方日历")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)
