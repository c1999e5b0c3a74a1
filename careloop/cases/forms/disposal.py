"""C1: the disposal form's list filters and the three actions on a form — the department's
signature, medical affairs' signature and medical affairs sending it back. The rules themselves
(who may sign, in which order) are the services'; these forms only check that the text is there,
so the message sits next to the empty field."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.cases.models import DisposalForm
from careloop.org.models import Department

TEXT_MAX = 4000


def _text(label, message, rows=4):
    return forms.CharField(
        label=label,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": rows, "class": "form-control"}),
        error_messages={"required": message},
    )


class DepartmentSignForm(forms.Form):
    """C1 step 1 (科主任/护士长): 处理措施, 整改计划, 科主任意见."""

    measures = _text(_("处理措施"), _("请填写处理措施"))
    plan = _text(_("整改计划"), _("请填写整改计划"))
    opinion = _text(_("科主任意见"), _("请填写科主任意见"), rows=3)


class MedicalSignForm(forms.Form):
    """C1 step 2 (医务科)."""

    opinion = _text(_("医务科意见"), _("请填写医务科意见"), rows=3)


class ReturnForm(forms.Form):
    reason = _text(_("退回原因"), _("请填写退回原因"), rows=2)


def parse_month(value: str) -> tuple[dt.date, dt.date]:
    """ "2026-04" → the first day of that month and of the next."""
    try:
        year, month = (int(part) for part in value.split("-"))
        if not 2000 <= year <= 2100:
            raise ValueError(year)
        first = dt.date(year, month, 1)
        following = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    except (ValueError, TypeError):
        raise ValidationError(_("请按“年-月”选择月份，例如 2026-04")) from None
    return first, following


def _validate_month(value: str) -> None:
    parse_month(value)


class DisposalFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("患者姓名/住院号"))
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("科室")
    )
    month = django_filters.CharFilter(
        method="filter_month",
        label=_("月份"),
        validators=[_validate_month],
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-04"}),
    )

    class Meta:
        model = DisposalForm
        fields = ["q", "department", "month"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and user.scope != "all":
            # Own-department roles choose among their own departments (O3).
            self.filters["department"].queryset = Department.objects.filter(
                pk__in=user.department_ids
            )
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(patient__name__icontains=value) | Q(visit__visit_no=value))

    def filter_month(self, queryset, name, value):
        """The month the form was raised (the follow-up that found the 差)."""
        if not value:
            return queryset
        first, following = parse_month(value)
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(following, dt.time.min, tzinfo=tz)
        return queryset.filter(created_at__gte=start, created_at__lt=end)
