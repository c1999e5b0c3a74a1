import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careloop.org.choices import DepartmentKind
from careloop.org.models import Campus, Department, RosterEntry, ShiftPattern, Team


class DepartmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("编码/名称"))
    kind = django_filters.ChoiceFilter(choices=DepartmentKind.choices, label=_("类别"))
    campus = django_filters.ModelChoiceFilter(queryset=Campus.objects.all(), label=_("院区"))
    is_active = django_filters.BooleanFilter(label=_("启用"))

    class Meta:
        model = Department
        fields = ["q", "kind", "campus", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(code__icontains=value) | Q(name__icontains=value) | Q(building__icontains=value)
        )


class RosterEntryFilterSet(django_filters.FilterSet):
    date_from = django_filters.DateFilter(
        field_name="date",
        lookup_expr="gte",
        label=_("起始日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="date",
        lookup_expr="lte",
        label=_("截止日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("科室")
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("班组"))
    shift = django_filters.ModelChoiceFilter(queryset=ShiftPattern.objects.all(), label=_("班次"))
    q = django_filters.CharFilter(method="search", label=_("人员"))

    class Meta:
        model = RosterEntry
        fields = ["date_from", "date_to", "department", "team", "shift", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(staff__username__icontains=value)
            | Q(staff__full_name__icontains=value)
            | Q(staff__staff_no=value)
        )
