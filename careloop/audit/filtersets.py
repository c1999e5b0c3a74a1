import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    date_from = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__gte",
        label=_("起始日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__lte",
        label=_("截止日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    actor = django_filters.CharFilter(
        field_name="actor_name", lookup_expr="icontains", label=_("操作人账号")
    )
    action = django_filters.MultipleChoiceFilter(choices=Action.choices, label=_("操作"))
    object_type = django_filters.CharFilter(lookup_expr="icontains", label=_("对象类型"))
    ip = django_filters.CharFilter(lookup_expr="exact", label=_("IP 地址"))
    q = django_filters.CharFilter(method="search", label=_("关键词"))

    class Meta:
        model = AuditEvent
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(object_repr__icontains=value)
            | Q(message__icontains=value)
            | Q(object_id=value)
            | Q(path__icontains=value)
        )
