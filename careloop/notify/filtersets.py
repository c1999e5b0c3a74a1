import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from careloop.core.fields import blind_lookup
from careloop.notify.choices import OutboxStatus
from careloop.notify.models import InboundSms, OutboxMessage


def _style(filterset) -> None:
    for field in filterset.form.fields.values():
        css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else None
        if css is None:
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class OutboxFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OutboxStatus.choices, label=_("状态"))
    phone = django_filters.CharFilter(method="filter_phone", label=_("手机号"))
    q = django_filters.CharFilter(method="search", label=_("病历号/姓名"))

    class Meta:
        model = OutboxMessage
        fields = ["status", "phone", "q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def filter_phone(self, queryset, name, value):
        # Encrypted: exact search through the blind index only (P3).
        return (
            queryset.filter(**blind_lookup(OutboxMessage, "phone_bidx", value))
            if value
            else queryset
        )

    def search(self, queryset, name, value):
        from django.db.models import Q

        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(patient__patient_no=value) | Q(patient__name__icontains=value))


class InboundFilterSet(django_filters.FilterSet):
    opt_out = django_filters.BooleanFilter(
        label=_("仅退订"), widget=forms.CheckboxInput, method="filter_opt_out"
    )
    phone = django_filters.CharFilter(method="filter_phone", label=_("手机号"))

    class Meta:
        model = InboundSms
        fields = ["opt_out", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def filter_opt_out(self, queryset, name, value):
        return queryset.filter(opt_out=True) if value else queryset

    def filter_phone(self, queryset, name, value):
        return (
            queryset.filter(**blind_lookup(InboundSms, "phone_bidx", value)) if value else queryset
        )
