import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from careloop.notify.models import InboundSms, OutboxMessage


class OutboxTable(tables.Table):
    phone = tables.Column(accessor="masked_phone", verbose_name=_("手机号"), orderable=False)
    patient = tables.Column(
        accessor="patient__name",
        verbose_name=_("患者"),
        linkify=(lambda record: record.patient.get_absolute_url() if record.patient_id else None),
    )
    body = tables.Column(verbose_name=_("短信内容"))
    actions = tables.TemplateColumn(
        template_name="notify/partials/outbox_actions.html",
        verbose_name=_("操作"),
        orderable=False,
        exclude_from_export=True,
    )

    class Meta:
        model = OutboxMessage
        fields = [
            "created_at", "phone", "patient", "body", "status", "attempts", "next_attempt_at",
            "sent_at", "delivered_at", "last_error", "actions",
        ]  # fmt: skip
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("发件箱中没有符合条件的短信。")

    def __init__(self, *args, can_change: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_change:
            self.columns.hide("actions")


class InboundTable(tables.Table):
    phone = tables.Column(accessor="masked_phone", verbose_name=_("手机号"), orderable=False)

    class Meta:
        model = InboundSms
        fields = ["received_at", "phone", "text", "opt_out", "matched_patients"]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("没有短信回复。")
