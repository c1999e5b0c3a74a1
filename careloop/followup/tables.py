import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from careloop.followup.models import FollowUpTask


class TaskTable(tables.Table):
    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "th__input": {
                "aria-label": _("全选本页"),
                "onclick": "document.querySelectorAll('input[name=task]')"
                ".forEach(function (c) { c.checked = this.checked; }, this)",
            },
            "td__input": {"name": "task", "form": "reassign-form", "aria-label": _("选择")},
        },
    )
    patient_no = tables.Column(
        accessor="patient__patient_no", verbose_name=_("病历号"), linkify=True
    )
    patient_name = tables.Column(accessor="patient__name", verbose_name=_("姓名"), linkify=True)
    visit_no = tables.Column(accessor="visit__visit_no", verbose_name=_("就诊号"))
    department = tables.Column(accessor="department__name", verbose_name=_("科室"))
    policy = tables.Column(accessor="policy__name", verbose_name=_("回访制度"))
    stage = tables.Column(accessor="stage__name", verbose_name=_("阶段"))
    assignee = tables.Column(
        accessor="assignee", verbose_name=_("执行人"), order_by="assignee__full_name"
    )
    window = tables.Column(
        accessor="window_start", verbose_name=_("回访窗口"), order_by=("window_start", "pk")
    )
    status = tables.Column(verbose_name=_("状态"))

    class Meta:
        model = FollowUpTask
        fields = [
            "select",
            "patient_no",
            "patient_name",
            "visit_no",
            "department",
            "policy",
            "stage",
            "channel",
            "assignee",
            "window",
            "status",
            "exclusion",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("没有符合条件的回访任务。")

    def __init__(self, *args, selectable: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()
        if not selectable:
            self.columns.hide("select")

    def render_assignee(self, value):
        return value.display_name

    def render_window(self, record):
        return f"{record.window_start:%Y-%m-%d} – {record.window_end:%Y-%m-%d}"

    def render_status(self, value, record):
        if record.is_overdue(self.today):
            return format_html('{} <span class="badge text-bg-danger">{}</span>', value, _("逾期"))
        return value

    def value_status(self, record):
        return record.status
