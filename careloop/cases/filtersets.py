"""The case list's filters (C2/C3), shared by the page and its export."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.cases.choices import CaseKind, CaseSource, CaseStatus, DeadlineState, Severity
from careloop.cases.models import Case, CaseCategory
from careloop.core.fields import blind_lookup
from careloop.lib.masking import normalize_phone
from careloop.org.models import Department

# The reply clock runs until the patient has an answer (C3; services.deadline_state).
CLOCK_RUNNING = [
    CaseStatus.REGISTERED,
    CaseStatus.ACCEPTED,
    CaseStatus.INVESTIGATING,
    CaseStatus.HANDLING,
]


def clock_filter(state: str, now=None) -> Q:
    """The rows whose ``services.deadline_state`` is ``state`` (near or overdue)."""
    now = now or timezone.now()
    running = Q(status__in=CLOCK_RUNNING, due_at__isnull=False)
    if state == DeadlineState.OVERDUE:
        return running & Q(due_at__lte=now)
    if state == DeadlineState.NEAR:
        return running & Q(due_at__gt=now, warn_at__lte=now)
    return Q()


class CaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("编号/摘要/反映人/患者/电话"))
    kind = django_filters.ChoiceFilter(choices=CaseKind.choices, label=_("类型"))
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, label=_("状态"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("严重程度"))
    source = django_filters.ChoiceFilter(choices=CaseSource.choices, label=_("来源"))
    department = django_filters.ModelChoiceFilter(
        field_name="departments",
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        label=_("涉及科室"),
        method="filter_department",
    )
    category = django_filters.ModelChoiceFilter(
        queryset=CaseCategory.objects.all(), label=_("分类"), method="filter_category"
    )
    # The dashboards' "未结投诉": everything not yet closed, whatever its step.
    open = django_filters.BooleanFilter(
        method="filter_open", label=_("仅未关闭"), widget=forms.CheckboxInput
    )
    deadline = django_filters.ChoiceFilter(
        choices=[(DeadlineState.NEAR, DeadlineState.NEAR.label),
                 (DeadlineState.OVERDUE, DeadlineState.OVERDUE.label)],
        label=_("期限"),
        method="filter_deadline",
    )  # fmt: skip

    class Meta:
        model = Case
        fields = ["q", "kind", "status", "severity", "source", "department", "category"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and user.scope != "all":
            self.filters["department"].queryset = Department.objects.filter(
                pk__in=user.department_ids
            )
        self.filters["category"].field.label_from_instance = lambda c: c.path
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        query = (
            Q(number=value)
            | Q(summary__icontains=value)
            | Q(contact_name__icontains=value)
            | Q(patient__name__icontains=value)
            | Q(patient__patient_no=value)
        )
        if len(normalize_phone(value)) >= 7:
            query |= Q(**blind_lookup(Case, "contact_phone_bidx", value))
        return queryset.filter(query)

    def filter_department(self, queryset, name, value):
        if not value:
            return queryset
        # A subquery, so a case of two departments is listed once.
        return queryset.filter(pk__in=Case.objects.filter(departments=value).values("pk"))

    def filter_category(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Q(category=value) | Q(category__parent=value))

    def filter_open(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.exclude(status=CaseStatus.CLOSED)

    def filter_deadline(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(clock_filter(value))
