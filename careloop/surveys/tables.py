import django_tables2 as tables
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.surveys.choices import Rating
from careloop.surveys.models import Response


class ResponseTable(tables.Table):
    submitted_at = tables.Column(verbose_name=_("提交时间"), linkify=True)
    questionnaire = tables.Column(
        accessor="version__questionnaire__name", verbose_name=_("问卷"), orderable=False
    )
    version = tables.Column(accessor="version__number", verbose_name=_("版本"))
    department = tables.Column(accessor="task__department__name", verbose_name=_("科室"))
    patient = tables.Column(accessor="patient__name", verbose_name=_("患者"))
    channel = tables.Column(verbose_name=_("方式"))
    overall = tables.Column(verbose_name=_("总评价"), empty_values=("", None))
    submitted_by = tables.Column(verbose_name=_("填写人"), empty_values=())

    class Meta:
        model = Response
        fields = [
            "submitted_at",
            "questionnaire",
            "version",
            "department",
            "patient",
            "channel",
            "overall",
            "submitted_by",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("没有符合条件的答卷。")

    def render_submitted_at(self, value):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"

    def render_version(self, value):
        return _("第 %(n)s 版") % {"n": value}

    def render_overall(self, value):
        return Rating(value).label if value in Rating.values else value

    def render_submitted_by(self, value):
        return value.display_name if value is not None else _("患者自填")
