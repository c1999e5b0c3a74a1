"""S4: the SMS outbox with retries and delivery status; SMS and letter templates; replies.

Phones are encrypted at rest (P3) and found through a blind index with the same purpose as
``PatientPhone.number_bidx``, so a reply's number matches patients and sent messages alike.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.core.fields import BlindIndexField, EncryptedTextField
from careloop.core.querysets import ScopedQuerySet
from careloop.lib.masking import mask_phone, normalize_phone
from careloop.notify.choices import PLACEHOLDERS, OutboxStatus

PLACEHOLDER_RE = re.compile(r"\{([^{}\s]{1,20})\}")


def unknown_placeholders(body: str) -> list[str]:
    seen = []
    for name in PLACEHOLDER_RE.findall(body or ""):
        if name not in PLACEHOLDERS and name not in seen:
            seen.append(name)
    return seen


def validate_placeholders(body: str) -> None:
    unknown = unknown_placeholders(body)
    if unknown:
        raise ValidationError(
            _("模板中有无法识别的占位符：%(names)s；可用的占位符：%(known)s")
            % {
                "names": "、".join("{" + n + "}" for n in unknown),
                "known": "、".join("{" + n + "}" for n in PLACEHOLDERS),
            }
        )


class TemplateBase(models.Model):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    body = models.TextField(
        _("内容"),
        validators=[validate_placeholders],
        help_text=_("可用占位符：{患者姓名} {称呼} {医院} {科室} {链接} {出院日期}"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class SmsTemplate(TemplateBase):
    class Meta(TemplateBase.Meta):
        verbose_name = _("短信模板")
        verbose_name_plural = _("短信模板")


class LetterTemplate(TemplateBase):
    class Meta(TemplateBase.Meta):
        verbose_name = _("信函模板")
        verbose_name_plural = _("信函模板")
        permissions = [("print_letter", _("打印回访信函"))]


class OutboxMessage(models.Model):
    phone = EncryptedTextField(_("手机号"), mask=mask_phone)
    phone_bidx = BlindIndexField(source="phone", normalizer=normalize_phone, purpose="phone")
    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("患者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sms_messages",
    )
    task = models.ForeignKey(
        "followup.FollowUpTask",
        verbose_name=_("回访任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sms_messages",
    )
    template = models.ForeignKey(
        SmsTemplate,
        verbose_name=_("模板"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("短信内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("计划发送时间"), default=timezone.now)
    claimed_at = models.DateTimeField(_("开始发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    gateway_message_id = models.CharField(
        _("网关短信编号"), max_length=100, blank=True, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    # Idempotency (S4): the same request (an SMS stage task, an API call) queues one message.
    request_key = models.CharField(_("请求键"), max_length=100, unique=True, null=True, blank=True)

    # O3: a message about a patient belongs to the departments of the patient's visits.
    scope_field = "patient__visits__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = _("短信发件箱")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="notify_outbox_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.get_status_display()}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def can_retry(self) -> bool:
        return self.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED)

    @property
    def can_cancel(self) -> bool:
        return self.status == OutboxStatus.QUEUED


class InboundSms(models.Model):
    """A reply from a patient's phone (the gateway's inbound callback)."""

    phone = EncryptedTextField(_("手机号"), mask=mask_phone)
    phone_bidx = BlindIndexField(source="phone", normalizer=normalize_phone, purpose="phone")
    text = models.TextField(_("内容"), blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    matched_patients = models.PositiveIntegerField(_("匹配患者数"), default=0)
    opt_out = models.BooleanField(_("退订"), default=False)

    scope_field = None
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("短信回复")
        verbose_name_plural = _("短信回复")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.received_at:%Y-%m-%d %H:%M}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Notification(models.Model):
    """Issue 6: one message in a staff member's in-app inbox (``careloop.notify.inbox``).

    ``key`` lets a caller say "this event once per person": a second ``notify`` with the same
    key for the same recipient finds the first row instead of adding another."""

    KIND_LABELS = {
        "case": _("投诉意见"),
        "disposal": _("处置单"),
        "escalation": _("临床转介"),
        "deadline": _("办理时限"),
    }

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类别"), max_length=30, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    key = models.CharField(_("去重键"), max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-pk"]
        # The navbar badge counts a user's unread rows on every page: (recipient, read_at IS NULL).
        indexes = [models.Index(fields=["recipient", "read_at"], name="notify_notif_unread_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"],
                condition=Q(key__isnull=False),
                name="notify_notification_unique_key",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self) -> str:
        return str(self.KIND_LABELS.get(self.kind, self.kind))

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
