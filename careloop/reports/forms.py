"""R1 and its drill-down: the month / department / policy choice, limited to the user's scope."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careloop.reports import periods
from careloop.reports.definitions import R1_DIMENSIONS
from careloop.reports.queries import METRICS
from careloop.surveys.rates import RATINGS


class MonthField(forms.CharField):
    """ "2026-10" → the Period of that month; blank → last month."""

    widget = forms.TextInput(attrs={"type": "month", "class": "form-control"})

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if not text:
            return periods.last_month()
        try:
            period = periods.parse(text)
        except periods.PeriodError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if period.kind != "month":
            raise forms.ValidationError(_("请选择一个月份，如 2026-10"))
        return period


class ReportFilterForm(forms.Form):
    month = MonthField(label=_("统计月份"), required=False)
    department = forms.ModelChoiceField(
        label=_("科室"),
        queryset=None,
        required=False,
        empty_label=_("全部（可见科室）"),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": _("无权查看该科室或科室不存在")},
    )
    policy = forms.ModelChoiceField(
        label=_("回访制度"),
        queryset=None,
        required=False,
        empty_label=_("全部制度"),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": _("回访制度不存在")},
    )

    def __init__(self, data=None, *, allowed: list[int] | None, **kwargs):
        from careloop.followup.models import Policy
        from careloop.org.models import Department

        super().__init__(data, **kwargs)
        departments = Department.objects.order_by("code")
        if allowed is not None:
            departments = departments.filter(pk__in=allowed)
        self.fields["department"].queryset = departments
        self.fields["policy"].queryset = Policy.objects.order_by("name")

    @classmethod
    def from_query(cls, query, **kwargs):
        """Bound to the URL's query, with last month filled in when none is given (so the month
        box shows what the table counts)."""
        data = query.copy()
        if not (data.get("month") or "").strip():
            data["month"] = periods.last_month().key
        return cls(data, **kwargs)

    def period(self) -> periods.Period:
        return self.cleaned_data.get("month") or periods.last_month()


DIMENSION_CHOICES = [("", "")] + [(d, d) for d in R1_DIMENSIONS]
RATING_CHOICES = [("", "")] + [(r, r) for r in RATINGS]


class DrillForm(ReportFilterForm):
    """The number a drill-down opens: a metric of ``queries.METRICS``, and for ratings the
    dimension and rating."""

    metric = forms.ChoiceField(
        label=_("统计项"),
        choices=list(METRICS.items()),
        error_messages={
            "required": _("请指定统计项"),
            "invalid_choice": _("未知的统计项"),
        },
    )
    dimension = forms.ChoiceField(
        choices=DIMENSION_CHOICES,
        required=False,
        error_messages={"invalid_choice": _("未知的评价维度")},
    )
    rating = forms.ChoiceField(
        choices=RATING_CHOICES,
        required=False,
        error_messages={"invalid_choice": _("未知的评价")},
    )

    def clean(self):
        data = super().clean()
        metric = data.get("metric")
        if metric == "rating" and not (data.get("dimension") and data.get("rating")):
            raise forms.ValidationError(_("按评价查看时须指定维度和评价"))
        if metric == "overall" and not data.get("rating"):
            raise forms.ValidationError(_("按总评价查看时须指定评价"))
        return data
