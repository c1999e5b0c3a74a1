import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from careloop.org.models import Department
from careloop.surveys.choices import Dimension, Rating, ResponseChannel
from careloop.surveys.models import Answer, Questionnaire, Response


class ResponseFilterSet(django_filters.FilterSet):
    questionnaire = django_filters.ModelChoiceFilter(
        field_name="version__questionnaire",
        queryset=Questionnaire.objects.all(),
        to_field_name="code",
        label=_("问卷"),
    )
    department = django_filters.ModelChoiceFilter(
        field_name="task__department", queryset=Department.objects.all(), label=_("科室")
    )
    channel = django_filters.ChoiceFilter(choices=ResponseChannel.choices, label=_("方式"))
    date_from = django_filters.DateFilter(
        field_name="submitted_at",
        lookup_expr="date__gte",
        label=_("提交日期起"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="submitted_at",
        lookup_expr="date__lte",
        label=_("提交日期止"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    dimension = django_filters.ChoiceFilter(
        choices=Dimension.choices, method="filter_rating", label=_("维度")
    )
    rating = django_filters.ChoiceFilter(
        choices=Rating.choices, method="filter_rating", label=_("评价")
    )

    class Meta:
        model = Response
        fields = ["questionnaire", "department", "channel", "date_from", "date_to"]
        fields += ["dimension", "rating"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and user.scope != "all":
            self.filters["department"].queryset = Department.objects.filter(
                pk__in=user.department_ids
            )
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def filter_rating(self, queryset, name, value):
        """Responses with a rating (of one dimension, when chosen): "who said 差 about 服务态度"."""
        data = self.form.cleaned_data
        rating, dimension = data.get("rating"), data.get("dimension")
        if name == "dimension" and rating:
            return queryset  # applied once, by the rating filter
        answers = Answer.objects.exclude(rating="")
        if rating:
            answers = answers.filter(rating=rating)
        if dimension:
            answers = answers.filter(dimension=dimension)
        return queryset.filter(pk__in=answers.values("response_id"))
