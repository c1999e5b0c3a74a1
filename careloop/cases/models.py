"""The loop (SPEC §5): disposal forms (C1), cases — complaints, opinions, suggestions and praise
(C2, C4) — with their history and attachments, deadline rules (C3), re-follow-ups after closing
(C3 loop closure) and F11 clinical escalations."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.cases.choices import (
    ESCALATION_REASONS,
    CaseEventKind,
    CaseKind,
    CaseSource,
    CaseStatus,
    DeadlineSubject,
    DeadlineUnit,
    DisposalStatus,
    EscalationStatus,
    Finding,
    RefollowOutcome,
    RefollowStatus,
    Severity,
)
from careloop.core.fields import BlindIndexField, EncryptedTextField
from careloop.core.querysets import ScopedQuerySet
from careloop.lib.masking import mask_phone, normalize_phone

USER = settings.AUTH_USER_MODEL


def _user(verbose, related="+", **extra):
    return models.ForeignKey(
        USER, verbose_name=verbose, null=True, blank=True, on_delete=models.PROTECT,
        related_name=related, **extra,
    )  # fmt: skip


class DeadlineClock(models.Model):
    """C3: what the hourly sweep keeps beside each model's own ``due_at`` — when to remind,
    whether it did, when the second escalation falls due and which level was told."""

    second_due_at = models.DateTimeField(_("再次升级时间"), null=True, blank=True)
    warn_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("已提醒"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("升级级别"), default=0)

    class Meta:
        abstract = True


class DeadlineRule(models.Model):
    """C3: "the patient gets an answer within 7 days", as data — per subject, kind and severity
    (blank = any), in calendar days, working days (F6 calendar) or hours."""

    subject = models.CharField(_("适用对象"), max_length=24, choices=DeadlineSubject.choices)
    kind = models.CharField(_("类型"), max_length=12, choices=CaseKind.choices, blank=True)
    severity = models.CharField(_("严重程度"), max_length=12, choices=Severity.choices, blank=True)
    amount = models.PositiveIntegerField(_("期限"), validators=[MinValueValidator(1)])
    unit = models.CharField(
        _("单位"), max_length=16, choices=DeadlineUnit.choices, default=DeadlineUnit.CALENDAR_DAYS
    )
    warn_hours = models.PositiveIntegerField(_("提前提醒（小时）"), default=24)
    second_after = models.PositiveIntegerField(
        _("逾期后再升级（同单位）"),
        default=2,
        help_text=_("逾期先升级到客服主管；再过这么久仍未完成，升级到医务科。0 表示不再升级。"),
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("处理期限规则")
        verbose_name_plural = _("处理期限规则")
        ordering = ["subject", "kind", "severity"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "kind", "severity"], name="cases_deadline_rule_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=1), name="cases_deadline_amount_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.amount}{self.get_unit_display()}"

    # A year at most: a larger number is a typo, and it would overflow the date arithmetic
    # (a 500 on every intake of that kind, a lost follow-up record for a disposal rule).
    MAX_DAYS, MAX_HOURS = 366, 366 * 24

    def clean(self):
        from django.core.exceptions import ValidationError

        limit = self.MAX_HOURS if self.unit == DeadlineUnit.HOURS else self.MAX_DAYS
        unit = self.get_unit_display()
        errors = {}
        if self.amount is not None and self.amount > limit:
            errors["amount"] = _("期限不能超过 %(n)s %(unit)s") % {"n": limit, "unit": unit}
        if self.second_after is not None and self.second_after > limit:
            errors["second_after"] = _("再升级间隔不能超过 %(n)s %(unit)s") % {
                "n": limit,
                "unit": unit,
            }
        if self.warn_hours is not None and self.warn_hours > self.MAX_HOURS:
            errors["warn_hours"] = _("提前提醒不能超过 %(n)s 小时") % {"n": self.MAX_HOURS}
        if errors:
            raise ValidationError(errors)


class CaseCategory(models.Model):
    """C2: the category tree (服务态度 › 护士 …). ``kind`` blank = any kind of case."""

    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )  # fmt: skip
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("适用类型"), max_length=12, choices=CaseKind.choices, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("投诉分类")
        verbose_name_plural = _("投诉分类")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            names.append(node.name)
            node = node.parent
        return " › ".join(reversed(names))


class Case(DeadlineClock):
    """C2/C4: one complaint, opinion, suggestion or praise, from intake to closing."""

    number = models.CharField(_("编号"), max_length=20, unique=True, null=True, blank=True)
    kind = models.CharField(_("类型"), max_length=12, choices=CaseKind.choices)
    source = models.CharField(_("来源"), max_length=12, choices=CaseSource.choices)
    category = models.ForeignKey(
        CaseCategory, verbose_name=_("分类"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="cases",
    )  # fmt: skip
    severity = models.CharField(
        _("严重程度"), max_length=12, choices=Severity.choices, default=Severity.GENERAL
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.REGISTERED
    )
    patient = models.ForeignKey(
        "patients.Patient", verbose_name=_("患者"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="cases",
    )  # fmt: skip
    visit = models.ForeignKey(
        "patients.Visit", verbose_name=_("就诊"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    task = models.ForeignKey(
        "followup.FollowUpTask", verbose_name=_("来自回访任务"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="cases",
    )  # fmt: skip
    contact_name = models.CharField(_("反映人"), max_length=64, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), mask=mask_phone, blank=True)
    contact_phone_bidx = BlindIndexField(
        source="contact_phone", normalizer=normalize_phone, purpose="phone"
    )
    departments = models.ManyToManyField(
        "org.Department", verbose_name=_("涉及科室"), blank=True, related_name="cases"
    )
    staff = models.ManyToManyField(
        USER, verbose_name=_("涉及人员"), blank=True, related_name="cases_involved"
    )
    staff_names = models.CharField(_("涉及人员（其他）"), max_length=200, blank=True)
    summary = models.CharField(_("摘要"), max_length=120)
    description = models.TextField(_("内容"))
    registered_by = _user(_("登记人"))
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    handler = _user(_("承办人"), related="cases_handled")
    finding = models.CharField(_("核实结论"), max_length=8, choices=Finding.choices, blank=True)
    investigation = models.TextField(_("调查核实情况"), blank=True)
    responsible_department = models.ForeignKey(
        "org.Department", verbose_name=_("责任科室"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    responsible_person = models.CharField(_("责任人"), max_length=64, blank=True)
    measure = models.TextField(_("处理措施"), blank=True)
    reply = models.TextField(_("答复患者内容"), blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replied_by = _user(_("答复人"))
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_by = _user(_("关闭人"))
    # C3: the reply deadline and where its escalation stands.
    due_at = models.DateTimeField(_("答复期限"), null=True, blank=True, db_index=True)
    # C4: praise counts for staff points once verified (a later issue reads these).
    points_ready = models.BooleanField(_("可计入员工积分"), default=False)
    request_key = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    scope_field = "departments__id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("投诉与意见")
        verbose_name_plural = _("投诉与意见")
        ordering = ["-registered_at", "-pk"]
        indexes = [models.Index(fields=["status", "due_at"])]
        permissions = [
            ("handle_case", _("处理投诉与意见")),
            ("close_case", _("关闭投诉与意见")),
        ]

    def __str__(self) -> str:
        return f"{self.number or self.pk} {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED


class CaseEvent(models.Model):
    """C2: the full history of a case — who did what, when, from which status to which."""

    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=12, choices=CaseEventKind.choices)
    by = _user(_("操作人"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)

    class Meta:
        verbose_name = _("案件记录")
        verbose_name_plural = _("案件记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


def attachment_path(instance, filename: str) -> str:
    # The stored name is ours (no user-chosen path); the original name is kept in the row.
    now = timezone.localtime()
    return f"cases/{now:%Y/%m}/{instance.sha256[:32]}{instance.extension}"


class CaseAttachment(models.Model):
    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    extension = models.CharField(_("扩展名"), max_length=10)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = _user(_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class CaseRefollow(DeadlineClock):
    """C3 loop closure: after a case closes, someone asks the patient whether the answer
    satisfied them."""

    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="refollows"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=RefollowStatus.choices, default=RefollowStatus.DUE
    )
    assignee = _user(_("回访人"), related="case_refollows")
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    due_at = models.DateTimeField(_("应回访时间"), null=True, blank=True)
    outcome = models.CharField(
        _("患者是否满意"), max_length=12, choices=RefollowOutcome.choices, blank=True
    )
    note = models.TextField(_("患者意见"), blank=True)
    done_by = _user(_("回访人"))
    done_at = models.DateTimeField(_("回访时间"), null=True, blank=True)

    scope_field = "case__departments__id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("结案回访")
        verbose_name_plural = _("结案回访")
        ordering = ["due_at", "pk"]
        constraints = [
            # One open re-follow-up per case at a time.
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="due"), name="cases_refollow_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_status_display()}"


class DisposalForm(DeadlineClock):
    """C1: 病人回访处置反馈表 (seed 003) — created by any 差 in a follow-up; the department head
    or head nurse writes measures, plan and opinion and signs, then medical affairs; closed only
    when both have signed. One per follow-up task."""

    task = models.OneToOneField(
        "followup.FollowUpTask", verbose_name=_("回访任务"), on_delete=models.PROTECT,
        related_name="disposal_form",
    )  # fmt: skip
    visit = models.ForeignKey(
        "patients.Visit", verbose_name=_("就诊"), on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", verbose_name=_("患者"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("科室"), on_delete=models.PROTECT, related_name="+"
    )
    followed_up_at = models.DateTimeField(_("回访时间"))
    followed_up_by = _user(_("回访人"))
    poor_items = models.JSONField(_("评价为差的项目"), default=list, blank=True)
    problem = models.TextField(_("回访反映问题"))
    measures = models.TextField(_("处理措施"), blank=True)
    plan = models.TextField(_("整改计划"), blank=True)
    dept_opinion = models.TextField(_("科主任意见"), blank=True)
    dept_signed_by = _user(_("科主任（护士长）签字"))
    dept_signed_at = models.DateTimeField(_("科室签字时间"), null=True, blank=True)
    ma_opinion = models.TextField(_("医务科意见"), blank=True)
    ma_signed_by = _user(_("医务科签字"))
    ma_signed_at = models.DateTimeField(_("医务科签字时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=DisposalStatus.choices, default=DisposalStatus.DEPARTMENT
    )
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    # The current step's deadline (C1 "each step has a deadline and reminders").
    due_at = models.DateTimeField(_("本步骤期限"), null=True, blank=True, db_index=True)

    scope_field = "department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("回访处置反馈表")
        verbose_name_plural = _("回访处置反馈表")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "due_at"])]
        permissions = [
            ("sign_department", _("科室签字（处置反馈表）")),
            ("sign_medical", _("医务科签字（处置反馈表）")),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.department} {self.created_at:%Y-%m-%d}"


class Escalation(DeadlineClock):
    """F11: what a patient reported that a doctor must handle, raised during a follow-up."""

    task = models.ForeignKey(
        "followup.FollowUpTask",
        verbose_name=_("回访任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalations",
    )
    visit = models.ForeignKey(
        "patients.Visit", verbose_name=_("就诊"), on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", verbose_name=_("患者"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("科室"), on_delete=models.PROTECT, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主管医生"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("类别"), max_length=40)
    description = models.TextField(_("患者反映的情况"))
    due_at = models.DateTimeField(_("应确认时间"))
    status = models.CharField(
        _("状态"), max_length=12, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = _user(_("确认人"))
    action_taken = models.TextField(_("处理情况"), blank=True)
    closed_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True)
    request_key = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )

    scope_field = "department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("临床转介")
        verbose_name_plural = _("临床转介")
        ordering = ["-raised_at", "-pk"]
        permissions = [("acknowledge_escalation", _("确认临床转介"))]

    def __str__(self) -> str:
        return f"{self.reason_label} {self.raised_at:%Y-%m-%d %H:%M}"

    @property
    def reason_label(self) -> str:
        return str(dict(ESCALATION_REASONS).get(self.reason, self.reason))
