"""The case list (C2) and its export columns; the deadline badge follows services.deadline_state
(C3: red 已逾期, amber 临近期限)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from careloop.cases import services
from careloop.cases.choices import DeadlineState
from careloop.cases.models import Case

BADGES = {
    DeadlineState.OVERDUE: "text-bg-danger",
    DeadlineState.NEAR: "text-bg-warning",
}


def deadline_badge(obj, now=None):
    """The due time and, when near or overdue, its badge."""
    if obj.due_at is None:
        return "—"
    state = services.deadline_state(obj, now)
    due = f"{timezone.localtime(obj.due_at):%Y-%m-%d %H:%M}"
    if state in BADGES:
        return format_html(
            '{} <span class="badge {} deadline-{}">{}</span>',
            due,
            BADGES[state],
            state,
            DeadlineState(state).label,
        )
    return due


def people_of(case) -> str:
    """Patient and contact, as the list shows them."""
    parts = []
    if case.patient_id:
        parts.append(f"{case.patient.name}（{case.patient.patient_no}）")
    if case.contact_name and (not case.patient_id or case.contact_name != case.patient.name):
        parts.append(case.contact_name)
    return " / ".join(parts)


class CaseTable(tables.Table):
    number = tables.Column(
        verbose_name=_("编号"), linkify=("cases:case_detail", {"pk": tables.A("pk")})
    )
    registered_at = tables.DateTimeColumn(verbose_name=_("登记时间"), format="Y-m-d H:i")
    kind = tables.Column(verbose_name=_("类型"))
    severity = tables.Column(verbose_name=_("严重程度"))
    summary = tables.Column(
        verbose_name=_("摘要"), linkify=("cases:case_detail", {"pk": tables.A("pk")})
    )
    people = tables.Column(accessor="pk", verbose_name=_("患者/反映人"), orderable=False)
    departments = tables.Column(accessor="pk", verbose_name=_("涉及科室"), orderable=False)
    status = tables.Column(verbose_name=_("状态"))
    due_at = tables.Column(verbose_name=_("答复期限"), order_by=("due_at", "pk"))

    class Meta:
        model = Case
        fields = [
            "number", "registered_at", "kind", "severity", "summary", "people", "departments",
            "status", "due_at",
        ]  # fmt: skip
        attrs = {"class": "table table-sm table-hover align-middle", "id": "case-table"}
        row_attrs = {"data-case": lambda record: record.pk}
        empty_text = _("没有符合条件的投诉与意见。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = timezone.now()

    def render_people(self, record):
        return people_of(record) or "—"

    def render_departments(self, record):
        return "、".join(d.name for d in record.departments.all()) or "—"

    def render_due_at(self, record):
        return deadline_badge(record, self.now)


def export_columns():
    """(header, value) pairs for ``audited_export``; the phone is masked (P3)."""
    phone = Case._meta.get_field("contact_phone")

    def local(moment):
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""

    return [
        (str(_("编号")), lambda c: c.number or ""),
        (str(_("登记时间")), lambda c: local(c.registered_at)),
        (str(_("类型")), lambda c: str(c.get_kind_display())),
        (str(_("来源")), lambda c: str(c.get_source_display())),
        (str(_("分类")), lambda c: c.category.path if c.category_id else ""),
        (str(_("严重程度")), lambda c: str(c.get_severity_display())),
        (str(_("状态")), lambda c: str(c.get_status_display())),
        (str(_("摘要")), lambda c: c.summary),
        (str(_("病历号")), lambda c: c.patient.patient_no if c.patient_id else ""),
        (str(_("患者")), lambda c: c.patient.name if c.patient_id else ""),
        (str(_("反映人")), lambda c: c.contact_name),
        (str(_("联系电话")), lambda c: phone.masked(c)),
        (str(_("涉及科室")), lambda c: "、".join(d.name for d in c.departments.all())),
        (str(_("核实结论")), lambda c: str(c.get_finding_display()) if c.finding else ""),
        (str(_("责任科室")), lambda c: c.responsible_department.name if c.responsible_department_id else ""),
        (str(_("答复期限")), lambda c: local(c.due_at)),
        (str(_("期限状态")), lambda c: str(DeadlineState(services.deadline_state(c)).label)),
        (str(_("答复时间")), lambda c: local(c.replied_at)),
        (str(_("关闭时间")), lambda c: local(c.closed_at)),
    ]  # fmt: skip
