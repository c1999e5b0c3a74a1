"""R3 pages: the kept leadership summaries (newest first) with their PDF and Excel, the figures
and charts of one on screen, and — for whoever may regenerate statistics — a form to generate or
regenerate the summary of a chosen month or quarter.

Whole-hospital roles only (``reports.view_summary``: service supervisor, medical affairs, the
nursing department, leadership); everyone else gets a 403 with a Chinese message. A summary has no
patient identity; every download is audited (S3)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.reports import periods, scope
from careloop.reports.models import Summary
from careloop.reports.summary import SummaryError, check_period, generate, present

FORMATS = {
    "pdf": ("pdf", "application/pdf", "PDF"),
    "xlsx": (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
    ),
}


def _require_summary(request) -> None:
    if not request.user.has_perm(scope.SUMMARY):
        raise PermissionDenied(_("只有客服主管、医务科、护理部和院领导可以查看领导汇总报告。"))


def _may_generate(user) -> bool:
    return user.has_perm(scope.SUMMARY) and user.has_perm(scope.REFRESH)


def recent_choices(today=None) -> list[tuple[str, str]]:
    """The last twelve months and the last four quarters, newest first, for the form."""
    today = today or timezone.localdate()
    out, p = [], periods.last_month(today)
    for _i in range(12):
        out.append((p.key, p.label))
        p = p.previous()
    q = periods.quarter(today.year, (today.month - 1) // 3 + 1).previous()
    for _i in range(4):
        out.append((q.key, q.label))
        q = q.previous()
    return out


class GenerateForm(forms.Form):
    period = forms.CharField(
        label=gettext_lazy("统计期间"),
        max_length=16,
        help_text=gettext_lazy("月份如 2026-10，季度如 2026-Q3"),
    )
    refresh = forms.BooleanField(
        label=gettext_lazy("同时重新统计该期间各月数据（计入迟到的回访）"),
        required=False,
        initial=True,
    )

    def clean_period(self):
        try:
            period = periods.parse(self.cleaned_data["period"])
            check_period(period, timezone.localdate())
        except (periods.PeriodError, SummaryError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        return period


def _list_page(request, form=None, status=200):
    rows = Summary.objects.defer("pdf", "xlsx", "data").select_related("generated_by")
    context = {
        "title": _("领导汇总报告"),
        "rows": rows.order_by("-period_start", "kind"),
        "can_generate": _may_generate(request.user),
        "form": form or GenerateForm(initial={"period": periods.last_month().key}),
        "choices": recent_choices(),
    }
    return render(request, "reports/summary_list.html", context, status=status)


@login_required
def summary_list(request):
    _require_summary(request)
    return _list_page(request)


@login_required
@require_POST
def summary_generate(request):
    _require_summary(request)
    if not _may_generate(request.user):
        raise PermissionDenied(_("只有客服主管、医务科和护理部可以生成领导汇总报告。"))
    form = GenerateForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form=form, status=400)
    period = form.cleaned_data["period"]
    try:
        summary = generate(period, by=request.user, refresh=form.cleaned_data["refresh"])
    except SummaryError as exc:
        form.add_error("period", str(exc))
        return _list_page(request, form=form, status=400)
    messages.success(request, _("已生成 %(label)s 领导汇总报告") % {"label": period.label})
    return redirect("reports:summary_detail", pk=summary.pk)


@login_required
def summary_detail(request, pk: int):
    _require_summary(request)
    summary = get_object_or_404(Summary.objects.defer("pdf", "xlsx"), pk=pk)
    context = {
        "title": _("领导汇总报告 %(label)s") % {"label": summary.data.get("label", "")},
        "summary": summary,
        "s": present(summary.data),
        "can_generate": _may_generate(request.user),
    }
    return render(request, "reports/summary_detail.html", context)


@login_required
def summary_download(request, pk: int, fmt: str):
    _require_summary(request)
    if fmt not in FORMATS:
        return HttpResponse(
            _("未知的文件格式"), status=400, content_type="text/plain; charset=utf-8"
        )
    summary = get_object_or_404(Summary, pk=pk)
    ext, content_type, label = FORMATS[fmt]
    content = bytes(getattr(summary, fmt) or b"")
    record_event(
        Action.EXPORT,
        request=request,
        obj=summary,
        message=_("下载领导汇总报告 %(period)s（%(fmt)s）")
        % {"period": summary.data.get("label") or summary.period_key, "fmt": label},
    )
    response = HttpResponse(content, content_type=content_type)
    filename = f"leadership-summary-{summary.period_key}.{ext}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("summary/", summary_list, name="summary_list"),
    path("summary/generate/", summary_generate, name="summary_generate"),
    path("summary/<int:pk>/", summary_detail, name="summary_detail"),
    path("summary/<int:pk>/<str:fmt>/", summary_download, name="summary_download"),
]
