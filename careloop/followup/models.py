"""F1–F5 policies and stages as data; F7 follow-up tasks with E1–E7 exclusions.

A policy is a list of stages; each stage says which visits it applies to, when its window is
(F5/F6), by which channel and by whom. The planner (``planner.py``) turns visits into tasks;
nothing else creates them, except the completion of a stage another one depends on (repeats).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.core.querysets import ScopedQuerySet
from careloop.followup.choices import (
    Adherence,
    Anchor,
    AssigneeRole,
    AttemptOutcome,
    Channel,
    Exclusion,
    Rating,
    Repeat,
    TaskEventKind,
    TaskStatus,
)
from careloop.lib.icd10 import ICD10Error, parse_codes

DEFAULT_CALL_HOURS = "10:00-12:00,15:00-17:00"
DEFAULT_SENSITIVE_ICD10 = "A50-A64, B20-B24, O04"


def parse_call_hours(text: str) -> list[tuple[str, str]]:
    """``10:00-12:00,15:00-17:00`` → [("10:00","12:00"), …]; ValueError (Chinese) when malformed."""
    import re

    spans = []
    for part in re.split(r"[,，;；\s]+", (text or "").strip()):
        if not part:
            continue
        m = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)\s*[-–~]\s*([01]\d|2[0-3]|24):([0-5]\d)", part)
        if not m:
            raise ValueError(f"呼叫时段“{part}”格式不对，应如 10:00-12:00")
        start, end = f"{m.group(1)}:{m.group(2)}", f"{m.group(3)}:{m.group(4)}"
        if end <= start:
            raise ValueError(f"呼叫时段“{part}”的结束时间须晚于开始时间")
        spans.append((start, end))
    if not spans:
        raise ValueError("至少需要一个呼叫时段")
    return spans


class Policy(models.Model):
    slug = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    source = models.CharField(_("制度来源"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=False)
    is_preset = models.BooleanField(_("预置制度"), default=False, editable=False)
    call_hours = models.CharField(
        _("呼叫时段"),
        max_length=100,
        default=DEFAULT_CALL_HOURS,
        help_text=_("工作日内可以电话回访的时段，如 10:00-12:00,15:00-17:00（F6）"),
    )
    target_rate = models.DecimalField(
        _("目标回访率（%）"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
    )
    sensitive_icd10 = models.TextField(
        _("隐私敏感诊断（E5）"),
        default=DEFAULT_SENSITIVE_ICD10,
        blank=True,
        help_text=_("ICD-10 编码或类目范围，逗号分隔，如 A50-A64, B20-B24, O04；匹配任一诊断"),
    )
    unreachable_attempts = models.PositiveSmallIntegerField(
        _("失访判定：未接通次数"),
        default=3,
        help_text=_("F8：未接通（无人接听、占线、关机、空号）达到此次数"),
    )
    unreachable_days = models.PositiveSmallIntegerField(
        _("失访判定：不同天数"), default=2, help_text=_("且分布在至少这么多个不同日期，判为失访")
    )
    effective_from = models.DateField(
        _("起算日期"),
        null=True,
        blank=True,
        help_text=_("锚点（出院/就诊）早于此日期的就诊不生成任务；留空则不限"),
    )
    # Set when the policy or one of its stages changes: the planner re-plans every visit for it.
    needs_full_plan = models.BooleanField(_("待全量重排"), default=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回访制度")
        verbose_name_plural = _("回访制度")
        ordering = ["-is_active", "slug"]

    def __str__(self) -> str:
        return f"{self.name}（{self.slug}）"

    def get_absolute_url(self) -> str:
        return reverse("followup:policy_detail", args=[self.slug])

    def clean(self):
        errors = {}
        try:
            parse_call_hours(self.call_hours)
        except ValueError as exc:
            errors["call_hours"] = str(exc)
        try:
            parse_codes(self.sensitive_icd10)
        except ICD10Error as exc:
            errors["sensitive_icd10"] = str(exc)
        if errors:
            raise ValidationError(errors)


class Stage(models.Model):
    policy = models.ForeignKey(
        Policy, verbose_name=_("回访制度"), on_delete=models.CASCADE, related_name="stages"
    )
    code = models.SlugField(_("阶段代码"), max_length=40)
    name = models.CharField(_("阶段名称"), max_length=100)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    # Which visits (F5); an empty list or None means "any".
    visit_types = models.JSONField(_("就诊类型"), default=list, blank=True)
    department_kinds = models.JSONField(_("科室类别"), default=list, blank=True)
    departments = models.ManyToManyField(
        "org.Department", verbose_name=_("限定科室"), blank=True, related_name="+"
    )
    first_visit = models.BooleanField(_("初诊"), null=True, blank=True)
    lost = models.BooleanField(_("流失"), null=True, blank=True)
    special = models.BooleanField(_("特殊病人"), null=True, blank=True)
    chronic = models.BooleanField(_("慢病"), null=True, blank=True)
    min_cost = models.DecimalField(
        _("费用高于（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    age_min = models.PositiveSmallIntegerField(_("年龄不小于"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("年龄不大于"), null=True, blank=True)
    diagnosis_codes = models.CharField(
        _("诊断编码"),
        max_length=500,
        blank=True,
        help_text=_("只对含这些 ICD-10 编码/范围之一的就诊，如 I10-I15, E11；留空则不限"),
    )
    # When (F5, F6).
    anchor = models.CharField(
        _("起算点"), max_length=12, choices=Anchor.choices, default=Anchor.DISCHARGE
    )
    depends_on = models.ForeignKey(
        "self",
        verbose_name=_("前置阶段"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dependents",
        help_text=_("前置阶段完成后才生成本阶段任务"),
    )
    after_recovery = models.BooleanField(
        _("康复后"),
        default=False,
        help_text=_("本制度的任一回访记录患者已康复时生成（如康复后每半年一次的问候短信）"),
    )
    window_start_day = models.PositiveSmallIntegerField(_("窗口开始（第 N 天）"))
    window_end_day = models.PositiveSmallIntegerField(
        _("窗口结束（第 M 天）"),
        null=True,
        blank=True,
        help_text=_("留空：窗口从第 N 天起开放 7 天（N 至 N+6）"),
    )
    channel = models.CharField(
        _("方式"), max_length=12, choices=Channel.choices, default=Channel.PHONE
    )
    assignee_role = models.CharField(
        _("执行人"), max_length=24, choices=AssigneeRole.choices, default=AssigneeRole.AGENT_POOL
    )
    questionnaire = models.CharField(_("问卷"), max_length=64, blank=True)
    script = models.CharField(_("话术"), max_length=64, blank=True)
    repeat = models.CharField(_("重复"), max_length=16, choices=Repeat.choices, default=Repeat.NONE)
    repeat_every_days = models.PositiveSmallIntegerField(_("重复间隔（天）"), null=True, blank=True)
    repeat_max = models.PositiveSmallIntegerField(_("最多次数"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访阶段")
        verbose_name_plural = _("回访阶段")
        ordering = ["policy", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="followup_stage_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} · {self.name}"

    @property
    def window_last_day(self) -> int:
        """F5: a single day N means days N to N+6."""
        return self.window_end_day if self.window_end_day is not None else self.window_start_day + 6

    def clean(self):
        errors = {}
        if (
            self.window_end_day is not None
            and self.window_start_day is not None
            and self.window_end_day < self.window_start_day
        ):
            errors["window_end_day"] = _("窗口结束日不能早于开始日")
        if self.age_min is not None and self.age_max is not None and self.age_max < self.age_min:
            errors["age_max"] = _("年龄上限不能小于下限")
        if (
            self.anchor == Anchor.PREVIOUS
            and self.depends_on_id is None
            and not self.after_recovery
        ):
            errors["depends_on"] = _("以上一阶段完成时间起算时，必须选择前置阶段")
        if self.depends_on_id is not None:
            if self.depends_on.policy_id != self.policy_id:
                errors["depends_on"] = _("前置阶段必须属于同一回访制度")
            elif self.pk is not None and self._depends_on_self():
                errors["depends_on"] = _("前置阶段不能形成循环")
        if self.repeat == Repeat.EVERY and not self.repeat_every_days:
            errors["repeat_every_days"] = _("“每隔 N 天”需要填写间隔天数")
        if self.repeat == Repeat.UNTIL_RECOVERED and not self.repeat_every_days:
            errors["repeat_every_days"] = _("“直至康复”需要填写间隔天数（如每季度 90 天）")
        try:
            parse_codes(self.diagnosis_codes)
        except ICD10Error as exc:
            errors["diagnosis_codes"] = str(exc)
        if errors:
            raise ValidationError(errors)

    def _depends_on_self(self) -> bool:
        seen, current = {self.pk}, self.depends_on
        while current is not None:
            if current.pk in seen:
                return True
            seen.add(current.pk)
            current = current.depends_on
        return False


class FollowUpTask(models.Model):
    policy = models.ForeignKey(
        Policy, verbose_name=_("回访制度"), on_delete=models.PROTECT, related_name="tasks"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("阶段"), on_delete=models.PROTECT, related_name="tasks"
    )
    visit = models.ForeignKey(
        "patients.Visit", verbose_name=_("就诊"), on_delete=models.PROTECT, related_name="tasks"
    )
    # Denormalised from the visit so queues, scope (O3) and P5 need no join.
    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("患者"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("科室"), on_delete=models.PROTECT, related_name="+"
    )
    sequence = models.PositiveSmallIntegerField(_("次序"), default=1)
    channel = models.CharField(_("方式"), max_length=12, choices=Channel.choices)
    assignee_role = models.CharField(_("执行角色"), max_length=24, choices=AssigneeRole.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("执行人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followup_tasks",
    )
    anchor_at = models.DateTimeField(_("起算时间"))
    window_start = models.DateField(_("窗口开始"))
    window_end = models.DateField(_("窗口结束"))
    status = models.CharField(
        _("状态"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.PLANNED
    )
    exclusion = models.CharField(
        _("不予回访原因"), max_length=2, choices=Exclusion.choices, blank=True
    )
    # E7: codes a supervisor lifted for this task ("E1,E6"); the planner does not re-apply them.
    lifted = models.CharField(_("已解除的排除"), max_length=20, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    # F8 "约定改时间": the agreed moment; the queue shows the task as callable from then on.
    next_attempt_at = models.DateTimeField(_("约定回访时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    recovered = models.BooleanField(_("已康复"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    # F12: True while the planner chose the assignee (it follows the visit's nurse or doctor);
    # a supervisor's reassignment sets it False and the planner leaves that choice alone.
    assigned_by_plan = models.BooleanField(_("按规则分配"), default=True)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    scope_field = "department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("回访任务")
        verbose_name_plural = _("回访任务")
        ordering = ["window_start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "visit", "sequence"], name="followup_task_unique_per_stage"
            ),
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")),
                name="followup_task_window_order",
            ),
            models.CheckConstraint(
                condition=Q(status=TaskStatus.EXCLUDED, exclusion__gt="")
                | (~Q(status=TaskStatus.EXCLUDED) & Q(exclusion="")),
                name="followup_task_exclusion_iff_excluded",
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "window_start"]),
            models.Index(fields=["status", "window_start"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["patient", "status"]),
            # The agents' queue (bench/queue): the unassigned pool read from the index alone
            # (PostgreSQL INCLUDE), and "done today" per person.
            models.Index(
                fields=["window_end", "id"],
                name="followup_task_pool_idx",
                condition=Q(assignee__isnull=True, status="due"),
                include=[
                    "window_start",
                    "next_attempt_at",
                    "policy_id",
                    "assignee_role",
                    "department_id",
                    "stage_id",
                    "channel",
                ],
            ),
            models.Index(fields=["assignee", "completed_at"], name="followup_task_done_idx"),
            # R5 (reports): a month's tasks are those whose window closed in it or that were
            # finished in it — two ranges the monthly figures read through these indexes.
            models.Index(fields=["window_end"], name="followup_task_wend_idx"),
            models.Index(fields=["completed_at"], name="followup_task_done_at_idx"),
        ]
        permissions = [
            ("lift_exclusion", _("解除不予回访")),
            ("reassign_task", _("改派回访任务")),
            ("export_task", _("导出回访任务")),
        ]

    def __str__(self) -> str:
        return f"{self.stage.name} {self.window_start:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("followup:task_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in (TaskStatus.PLANNED, TaskStatus.DUE, TaskStatus.IN_PROGRESS)

    def is_overdue(self, today=None) -> bool:
        """F7: the window closed without completion."""
        today = today or timezone.localdate()
        return self.is_open and self.window_end < today


class CallAttempt(models.Model):
    """F8: one call attempt (time, number dialled, outcome, duration, recording)."""

    task = models.ForeignKey(
        FollowUpTask, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="attempts"
    )
    at = models.DateTimeField(_("拨打时间"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    phone = models.ForeignKey(
        "patients.PatientPhone",
        verbose_name=_("拨打号码"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(_("结果"), max_length=16, choices=AttemptOutcome.choices)
    duration_seconds = models.PositiveIntegerField(_("通话时长（秒）"), default=0)
    recording_ref = models.CharField(_("录音编号"), max_length=200, blank=True)
    agreed_at = models.DateTimeField(_("约定时间"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)
    request_key = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )

    scope_field = "task__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("拨打记录")
        verbose_name_plural = _("拨打记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_outcome_display()}"


class FollowUpRecord(models.Model):
    """F9: the record of a completed follow-up (回访登记表)."""

    task = models.OneToOneField(
        FollowUpTask, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="record"
    )
    condition = models.TextField(_("目前病情/康复情况"), blank=True)
    recovered = models.BooleanField(_("已康复"), default=False)
    adherence = models.CharField(
        _("服药依从性"), max_length=12, choices=Adherence.choices, blank=True
    )
    exercise_life = models.TextField(_("锻炼与生活起居"), blank=True)
    education = models.JSONField(_("健康宣教"), default=list, blank=True)
    opinions = models.TextField(_("意见或建议"), blank=True)
    overall = models.CharField(_("总评价"), max_length=12, choices=Rating.choices, blank=True)
    next_follow_up = models.DateField(_("再次回访日期"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("回访时间"), default=timezone.now)

    scope_field = "task__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.task} {self.at:%Y-%m-%d}"


class CallScript(models.Model):
    """F10: an editable call script — steps of the seed 000 call flow with placeholders
    {姓名} {称呼} {医院} {科室} {回访员} {出院日期} {就诊日期}."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    steps = models.JSONField(_("步骤"), default=list)
    satisfied_reply = models.TextField(_("对满意患者的标准回答"), blank=True)
    dissatisfied_reply = models.TextField(_("对不满意患者的标准回答"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回访话术")
        verbose_name_plural = _("回访话术")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TaskEvent(models.Model):
    """The human timeline of a task: what the planner and people did to it, and why."""

    task = models.ForeignKey(
        FollowUpTask, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=12, choices=TaskEventKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    scope_field = "task__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("任务记录")
        verbose_name_plural = _("任务记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
