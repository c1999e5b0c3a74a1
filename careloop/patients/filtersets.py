"""Filters for patients and visits, shared by the API and (later) the list pages and exports.

Filters narrow a queryset that is already scoped by ``visible_to`` (O3); none of them widens it.
Phone and id number are matched exactly through their blind indexes (P3), never by plaintext.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from careloop.core.fields import blind_lookup
from careloop.patients.choices import Disposition, Source, VisitStatus, VisitType
from careloop.patients.models import Patient, PatientPhone, Visit


class PatientFilterSet(django_filters.FilterSet):
    patient_no = django_filters.CharFilter(label=_("病历号"))
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("姓名"))
    phone = django_filters.CharFilter(method="filter_phone", label=_("电话（精确）"))
    id_number = django_filters.CharFilter(method="filter_id_number", label=_("身份证号（精确）"))
    department = django_filters.CharFilter(method="filter_department", label=_("科室编码"))
    is_deceased = django_filters.BooleanFilter(label=_("已故"))
    do_not_contact = django_filters.BooleanFilter(label=_("拒访"))
    open_dispute = django_filters.BooleanFilter(label=_("医疗纠纷未处理"))

    class Meta:
        model = Patient
        fields = [
            "patient_no",
            "name",
            "phone",
            "id_number",
            "department",
            "is_deceased",
            "do_not_contact",
            "open_dispute",
        ]

    def filter_phone(self, queryset, name, value):
        owners = PatientPhone.objects.filter(**blind_lookup(PatientPhone, "number_bidx", value))
        return queryset.filter(pk__in=owners.values("patient_id"))

    def filter_id_number(self, queryset, name, value):
        return queryset.filter(**blind_lookup(Patient, "id_number_bidx", value))

    def filter_department(self, queryset, name, value):
        # Only visits the reader may see (O3): otherwise filtering a visible patient by another
        # department would tell a nurse that the patient was treated there. A subquery, not a
        # join, so a patient with two visits in the department is listed once.
        user = getattr(self.request, "user", None)
        visits = Visit.objects.visible_to(user) if user is not None else Visit.objects.all()
        return queryset.filter(pk__in=visits.filter(department__code=value).values("patient_id"))


class VisitFilterSet(django_filters.FilterSet):
    department = django_filters.CharFilter(field_name="department__code", label=_("科室编码"))
    visit_type = django_filters.ChoiceFilter(choices=VisitType.choices, label=_("就诊类型"))
    visit_no = django_filters.CharFilter(label=_("住院号/门诊号"))
    patient_no = django_filters.CharFilter(field_name="patient__patient_no", label=_("病历号"))
    # Whole days in the hospital's time zone (USE_TZ: ``__date`` converts before comparing).
    discharged_from = django_filters.DateFilter(
        field_name="discharged_at__date",
        lookup_expr="gte",
        label=_("出院日期起"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    discharged_to = django_filters.DateFilter(
        field_name="discharged_at__date",
        lookup_expr="lte",
        label=_("出院日期止"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    disposition = django_filters.ChoiceFilter(choices=Disposition.choices, label=_("离院方式"))
    status = django_filters.ChoiceFilter(choices=VisitStatus.choices, label=_("状态"))
    source = django_filters.ChoiceFilter(choices=Source.choices, label=_("来源"))

    class Meta:
        model = Visit
        fields = [
            "department",
            "visit_type",
            "visit_no",
            "patient_no",
            "discharged_from",
            "discharged_to",
            "disposition",
            "status",
            "source",
        ]
