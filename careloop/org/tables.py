import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from careloop.org.models import Department, RosterEntry


class DepartmentTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    staff_count = tables.Column(verbose_name=_("人员数"), orderable=True)

    class Meta:
        model = Department
        fields = [
            "code",
            "name",
            "kind",
            "campus",
            "building",
            "phone_ext",
            "staff_count",
            "is_active",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("没有符合条件的科室。")


class RosterEntryTable(tables.Table):
    date = tables.DateColumn(format="Y-m-d", linkify=True)
    staff = tables.Column(
        accessor="staff__full_name", verbose_name=_("值班人员"), order_by="staff__full_name"
    )

    class Meta:
        model = RosterEntry
        fields = ["date", "shift", "staff", "department", "team", "note"]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("没有符合条件的排班。")
