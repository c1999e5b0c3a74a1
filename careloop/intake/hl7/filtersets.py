"""Filters of the HL7 message list (P4.2: all messages logged and searchable)."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from careloop.intake.choices import MessageStatus
from careloop.intake.hl7.mapping import EVENTS
from careloop.intake.models import HL7Message

EVENT_NAMES = {
    "A01": _("A01 入院"),
    "A02": _("A02 转科"),
    "A03": _("A03 出院"),
    "A04": _("A04 门急诊挂号"),
    "A08": _("A08 信息更新"),
    "A11": _("A11 取消入院"),
    "A13": _("A13 取消出院"),
    "A40": _("A40 患者合并"),
}


class HL7MessageFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices, label=_("状态"))
    message_type = django_filters.ChoiceFilter(
        choices=[(f"ADT^{event}", EVENT_NAMES[event]) for event in EVENTS],
        label=_("消息类型"),
    )
    control_id = django_filters.CharFilter(lookup_expr="icontains", label=_("消息控制号"))
    patient_no = django_filters.CharFilter(label=_("病历号"))
    visit_no = django_filters.CharFilter(label=_("就诊号"))
    date_from = django_filters.DateFilter(
        field_name="received_at",
        lookup_expr="date__gte",
        label=_("起始日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="received_at",
        lookup_expr="date__lte",
        label=_("截止日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    error = django_filters.CharFilter(lookup_expr="icontains", label=_("错误原因"))

    class Meta:
        model = HL7Message
        fields = []
