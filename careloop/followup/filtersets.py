import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.accounts.models import User
from careloop.followup.choices import OPEN_STATUSES, Channel, Exclusion, TaskStatus
from careloop.followup.models import FollowUpTask, Policy, Stage
from careloop.org.models import Department


class TaskFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("病历号/姓名/就诊号"))
    policy = django_filters.ModelChoiceFilter(
        queryset=Policy.objects.all(), to_field_name="slug", label=_("回访制度")
    )
    stage = django_filters.ModelChoiceFilter(
        queryset=Stage.objects.select_related("policy"), label=_("阶段")
    )
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, label=_("状态"))
    exclusion = django_filters.ChoiceFilter(choices=Exclusion.choices, label=_("不予回访原因"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("方式"))
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("科室")
    )
    assignee = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True), label=_("执行人")
    )
    window_from = django_filters.DateFilter(
        field_name="window_end",
        lookup_expr="gte",
        label=_("窗口起"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    window_to = django_filters.DateFilter(
        field_name="window_start",
        lookup_expr="lte",
        label=_("窗口止"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # Dashboard links ("done today") and supervisors: when the call was finished (local day).
    completed_from = django_filters.DateFilter(
        field_name="completed_at",
        lookup_expr="date__gte",
        label=_("完成日期起"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    completed_to = django_filters.DateFilter(
        field_name="completed_at",
        lookup_expr="date__lte",
        label=_("完成日期止"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("仅逾期"), widget=forms.CheckboxInput
    )

    class Meta:
        model = FollowUpTask
        fields = [
            "q",
            "policy",
            "stage",
            "status",
            "exclusion",
            "channel",
            "department",
            "assignee",
            "window_from",
            "window_to",
            "completed_from",
            "completed_to",
            "overdue",
        ]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and user.scope != "all":
            # Own-department roles choose among their own departments and colleagues (O3).
            ids = user.department_ids
            self.filters["department"].queryset = Department.objects.filter(pk__in=ids)
            self.filters["assignee"].queryset = User.objects.filter(
                is_active=True, departments__in=ids
            ).distinct()
        for field in self.form.fields.values():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else None
            if css is None:
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(patient__patient_no=value)
            | Q(patient__name__icontains=value)
            | Q(visit__visit_no=value)
        )

    def filter_overdue(self, queryset, name, value):
        """F7: overdue = still open after the window closed."""
        if not value:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES, window_end__lt=timezone.localdate())
