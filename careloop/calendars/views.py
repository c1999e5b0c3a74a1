"""F6 calendar screens: the year view, the hospital's day-by-day edits and the official file
upload. Reading needs ``view_calendarday``; every write needs ``change_calendarday`` and goes
through ``services``/``loader`` (audited)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from careloop.calendars import services
from careloop.calendars.forms import CalendarDayForm, CalendarUploadForm
from careloop.calendars.loader import load_calendar
from careloop.calendars.models import CalendarDay, CalendarYear
from careloop.core.permissions import require_perm

VIEW, CHANGE = "calendars.view_calendarday", "calendars.change_calendarday"
YEARS = range(2004, 2101)


def _year_url(year: int) -> str:
    return f"{reverse('calendars:calendar')}?year={year}"


@login_required
def calendar(request):
    require_perm(request, VIEW)
    year = timezone.localdate().year
    raw = request.GET.get("year", "")
    if raw:
        if raw.isdigit() and int(raw) in YEARS:
            year = int(raw)
        else:
            messages.error(
                request, _("年份“%(y)s”无效，应为 2004 到 2100 之间的年份。") % {"y": raw}
            )
    warnings = services.warnings_for(request.user)
    if not services.year_is_official(year):
        banner = services.unofficial_year_warning(year)
        warnings = [banner] + [w for w in warnings if w != banner]
    context = {
        "year": year,
        "months": services.year_grid(year),
        "warnings": warnings,
        "overrides": CalendarDay.objects.filter(date__year=year).select_related("updated_by"),
        "loaded": CalendarYear.objects.filter(year=year).select_related("loaded_by").first(),
        "official": services.year_is_official(year),
        "weekdays": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
    }
    return render(request, "calendars/calendar.html", context)


def _day_form(request, override: CalendarDay | None):
    require_perm(request, CHANGE)
    initial = None
    if override is None and request.GET.get("date"):
        initial = {"date": request.GET["date"]}
    form = CalendarDayForm(request.POST or None, instance=override, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_override(
                day=form.cleaned_data["date"],
                is_workday=form.cleaned_data["is_workday"],
                name=form.cleaned_data["name"],
                by=request.user,
                override=override,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已保存：%(d)s") % {"d": saved})
            return redirect(_year_url(saved.date.year))
    return render(request, "calendars/calendarday_form.html", {"form": form, "override": override})


@login_required
def calendarday_add(request):
    return _day_form(request, None)


@login_required
def calendarday_edit(request, pk):
    require_perm(request, CHANGE)
    return _day_form(request, get_object_or_404(CalendarDay, pk=pk))


@login_required
def calendarday_delete(request, pk):
    require_perm(request, CHANGE)
    override = get_object_or_404(CalendarDay, pk=pk)
    if request.method == "POST":
        year, text = override.date.year, str(override)
        services.delete_override(override, by=request.user)
        messages.success(request, _("已删除：%(d)s，这一天恢复按官方日历计算。") % {"d": text})
        return redirect(_year_url(year))
    return render(request, "calendars/calendarday_confirm_delete.html", {"override": override})


@login_required
def calendar_upload(request):
    require_perm(request, CHANGE)
    form = CalendarUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = load_calendar(upload, by=request.user, source_name=upload.name)
        if result.ok:
            messages.success(request, result.summary())
            return redirect(_year_url(min(result.years)))
    context = {"form": form, "result": result, "next_year": timezone.localdate().year + 1}
    return render(request, "calendars/calendar_upload.html", context)
