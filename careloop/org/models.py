"""O1 departments and campuses; O4 teams, shift patterns and the duty roster."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from careloop.core.querysets import ScopedQuerySet
from careloop.org.choices import DepartmentKind


class Campus(models.Model):
    code = models.CharField(_("院区编码"), max_length=32, unique=True)
    name = models.CharField(_("院区名称"), max_length=64, unique=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("院区")
        verbose_name_plural = _("院区")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """O1. Department lists are organisation data every role may read (names on forms)."""

    code = models.CharField(_("科室编码"), max_length=32, unique=True)
    name = models.CharField(_("科室名称"), max_length=64, unique=True)
    kind = models.CharField(_("类别"), max_length=16, choices=DepartmentKind.choices)
    campus = models.ForeignKey(
        Campus,
        verbose_name=_("院区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
    )
    building = models.CharField(_("楼宇"), max_length=64, blank=True)
    phone_ext = models.CharField(_("科室电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    # Reference data every role with the permission may read (names on forms and filters).
    scope_field = None
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("科室")
        verbose_name_plural = _("科室")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("org:department_detail", args=[self.pk])

    @property
    def is_outpatient(self) -> bool:
        return self.kind in (DepartmentKind.SPECIALIST, DepartmentKind.BASIC)


class Team(models.Model):
    """O4: a service group (内科组, 外科组, 急诊组) of porters and desk staff."""

    code = models.CharField(_("班组编码"), max_length=32, unique=True)
    name = models.CharField(_("班组名称"), max_length=64, unique=True)
    department = models.ForeignKey(
        Department, verbose_name=_("所属科室"), on_delete=models.PROTECT, related_name="teams"
    )
    location = models.CharField(_("服务台位置"), max_length=100, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), blank=True, related_name="teams"
    )

    class Meta:
        verbose_name = _("班组")
        verbose_name_plural = _("班组")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ShiftPattern(models.Model):
    """O4: e.g. 早班 7:30–15:30, 中班 15:30–23:00, 夜班 23:00–7:30 (crosses midnight)."""

    code = models.CharField(_("班次编码"), max_length=32, unique=True)
    name = models.CharField(_("班次名称"), max_length=32)
    start = models.TimeField(_("开始时间"))
    end = models.TimeField(_("结束时间"))
    team = models.ForeignKey(
        Team,
        verbose_name=_("适用班组"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="shifts",
    )

    class Meta:
        verbose_name = _("班次")
        verbose_name_plural = _("班次")
        ordering = ["start", "code"]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start == self.end:
            raise ValidationError({"end": _("结束时间不能与开始时间相同。")})

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def bounds(self, day) -> tuple[datetime, datetime]:
        """Naive start and end datetimes of this shift when it starts on ``day``."""
        start = datetime.combine(day, self.start)
        end = datetime.combine(day + timedelta(days=1) if self.crosses_midnight else day, self.end)
        return start, end


class RosterEntryQuerySet(ScopedQuerySet):
    def on_duty(self, moment: datetime):
        """Entries whose shift covers ``moment`` (naive local time); a night shift started yesterday counts."""
        day = moment.date()
        candidates = self.filter(date__in=[day, day - timedelta(days=1)]).select_related("shift")
        ids = [
            e.pk
            for e in candidates
            if e.shift.bounds(e.date)[0] <= moment < e.shift.bounds(e.date)[1]
        ]
        return self.filter(pk__in=ids)


class RosterEntry(models.Model):
    """O4: who is on duty, in which department and team, on which shift. Scoped by department (O3)."""

    date = models.DateField(_("日期"), db_index=True)
    shift = models.ForeignKey(ShiftPattern, verbose_name=_("班次"), on_delete=models.PROTECT)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("值班人员"),
        on_delete=models.CASCADE,
        related_name="roster_entries",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("科室"), on_delete=models.PROTECT, related_name="roster"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("班组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roster",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)

    scope_field = "department"
    objects = RosterEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("排班")
        verbose_name_plural = _("排班")
        ordering = ["-date", "shift__start", "staff__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "shift", "staff"], name="org_roster_unique_staff_shift"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.shift.name} {self.staff.display_name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("org:rosterentry_detail", args=[self.pk])


class Leave(models.Model):
    """F12: a person on leave does not keep follow-up tasks while away."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.CASCADE,
        related_name="leaves",
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    note = models.CharField(_("事由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("请假")
        verbose_name_plural = _("请假")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="org_leave_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff.display_name} {self.starts_on}–{self.ends_on}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("结束日期不能早于开始日期")})
