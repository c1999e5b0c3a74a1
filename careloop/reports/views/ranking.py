"""R4 page: the month's department ranking by 满意率, the six-months flags with their evidence,
the award-year list (?year=2026) and the button that regenerates a month's snapshot.

O3: whole-hospital roles see every department; a department head or head nurse sees only their
own department's row — its rank among all ranked departments ("第 N 名/共 M 个科室") and its own
flag, never another department's name or rate. Bad input (month, year) is shown in Chinese and
the page falls back to the last closed month; it is never a 404, 400 or 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careloop.core.permissions import require_perm
from careloop.reports import periods, scope, services
from careloop.reports.models import ClosedMonth
from careloop.reports.ranking import RUN_TO_FLAG, month_ranking, year_ranking


def closed_month(text: str | None, today=None):
    """The month asked for, if it is a month that is over; raises PeriodError (Chinese)."""
    today = today or timezone.localdate()
    period = periods.parse(text, default=periods.last_month(today))
    if period.kind != "month":
        raise periods.PeriodError(_("排名按月统计，请选择月份（如 2026-10）"))
    if period.end > today:
        raise periods.PeriodError(
            _("%(month)s 尚未结束，排名在次月 1 日生成") % {"month": period.label}
        )
    return period


def _year(text: str, today) -> int:
    try:
        year = int(text.strip())
    except ValueError:
        raise periods.PeriodError(
            _("无法识别的年度“%(text)s”，应为 4 位年份") % {"text": text[:10]}
        ) from None
    if not 2000 <= year <= today.year:
        raise periods.PeriodError(_("年度应在 2000 至 %(year)s 之间") % {"year": today.year})
    return year


def _monthly_url() -> str | None:
    # The R1 page is another module's; link to it only once it exists.
    try:
        return reverse("reports:monthly")
    except NoReverseMatch:
        return None


@login_required
def ranking(request):
    require_perm(request, scope.VIEW)
    today = timezone.localdate()
    allowed = scope.department_ids(request.user)
    error = None
    context = {
        "title": _("科室满意率排名"),
        "whole_hospital": allowed is None,
        "may_refresh": request.user.has_perm(scope.REFRESH),
        "run_to_flag": RUN_TO_FLAG,
        "monthly_url": _monthly_url(),
        "max_month": f"{periods.last_month(today).start:%Y-%m}",
    }
    if (year_text := request.GET.get("year")) is not None:
        try:
            year = _year(year_text, today)
        except periods.PeriodError as exc:
            error = str(exc)
        else:
            context.update(year=year, flags=year_ranking(year, departments=allowed, today=today))
            return render(request, "reports/ranking.html", context)
    try:
        month = closed_month(request.GET.get("month"), today)
    except periods.PeriodError as exc:
        error = error or str(exc)
        month = periods.last_month(today)
    result = month_ranking(month, departments=allowed, today=today)
    # The ranking reads the month as closed (R4): say when, since later calls do not move it.
    closed = ClosedMonth.objects.filter(month=month.start).values_list("closed_at", flat=True)
    context.update(
        month=month,
        result=result,
        error=error,
        year_default=month.start.year,
        closed_at=closed.first(),
    )
    return render(request, "reports/ranking.html", context)


@login_required
@require_POST
def ranking_refresh(request):
    """Regenerate one closed month's snapshots (audited by ``close_month``)."""
    require_perm(request, scope.REFRESH)
    try:
        month = closed_month(request.POST.get("month"))
    except periods.PeriodError as exc:
        messages.error(request, str(exc))
        return redirect("reports:ranking")
    count = services.close_month(month, by=request.user)
    messages.success(
        request,
        _("已重新生成 %(month)s 科室月度统计（%(count)s 个科室）")
        % {"month": month.label, "count": count},
    )
    return redirect(f"{reverse('reports:ranking')}?month={month.key}")


urlpatterns = [
    path("ranking/", ranking, name="ranking"),
    path("ranking/refresh/", ranking_refresh, name="ranking_refresh"),
]
