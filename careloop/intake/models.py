"""P4 intake records: file import runs (with progress and error report) and HL7 messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.core.querysets import ScopedQuerySet
from careloop.intake.choices import MessageStatus, RunStatus


class ImportRun(models.Model):
    """One file import. Progress counters are updated in the same transaction as each batch, so
    after a crash they say exactly how far the committed work went."""

    file_name = models.CharField(_("文件名"), max_length=255)
    stored_path = models.CharField(_("存储路径"), max_length=500, blank=True)
    kind = models.CharField(_("导入类型"), max_length=32, default="visits")
    dry_run = models.BooleanField(_("试运行"), default=False)
    strict = models.BooleanField(_("严格模式"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=RunStatus.choices, default=RunStatus.UPLOADED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变"), default=0)
    failed = models.PositiveIntegerField(_("失败"), default=0)
    errors = models.JSONField(
        _("错误明细"), default=list, blank=True
    )  # [[row, column, value, reason], …]
    message = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == RunStatus.FINISHED else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class HL7Message(models.Model):
    """P4.2: every received HL7 message, kept and searchable; the failed ones are the dead-letter
    list that a person retries or discards."""

    control_id = models.CharField(_("消息控制号"), max_length=64)
    sending_app = models.CharField(_("发送系统"), max_length=64, blank=True)
    sending_facility = models.CharField(_("发送机构"), max_length=64, blank=True)
    message_type = models.CharField(_("消息类型"), max_length=16, blank=True, db_index=True)
    charset = models.CharField(_("字符集"), max_length=16, blank=True)
    raw = models.TextField(_("原始消息"))
    status = models.CharField(
        _("状态"), max_length=12, choices=MessageStatus.choices, db_index=True
    )
    ack_code = models.CharField(_("应答"), max_length=2, blank=True)
    error = models.TextField(_("错误原因"), blank=True)
    patient_no = models.CharField(_("病历号"), max_length=64, blank=True, db_index=True)
    visit_no = models.CharField(_("就诊号"), max_length=64, blank=True, db_index=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("处理次数"), default=1)

    # Interface data for the integration duty: the permission decides, not a department.
    scope_field = None
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("HL7 消息")
        verbose_name_plural = _("HL7 消息")
        ordering = ["-received_at", "-pk"]
        constraints = [
            # A control id is applied once; duplicates are logged as their own rows.
            models.UniqueConstraint(
                fields=["sending_app", "sending_facility", "control_id"],
                condition=models.Q(status__in=["applied", "failed", "discarded"]),
                name="intake_hl7_control_id_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_type} {self.control_id}"
