"""Q1–Q4: versioned questionnaires, responses and their answers, patients' survey links.

A questionnaire has numbered versions. A draft is edited freely; publishing freezes it, and a
later edit starts a new draft copied from the latest version (``services.start_draft``). A
response points at the version it answered (PROTECT), so an old response always shows the
questions that were asked (Q1). Each answer to a rating question carries its rating and the
question's dimension, so satisfaction reports (Q3) count answers without reading the questions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.core.querysets import ScopedQuerySet
from careloop.surveys.choices import (
    CHOICE_KINDS,
    Audience,
    Dimension,
    QuestionKind,
    Rating,
    ResponseChannel,
    VersionStatus,
    YesNo,
)


class VersionFrozen(Exception):
    """A published or retired version was about to change (Q1: published versions are immutable)."""


class Questionnaire(models.Model):
    code = models.SlugField(
        _("代码"),
        max_length=64,
        unique=True,
        help_text=_("回访阶段用此代码指定问卷，如 inpatient、outpatient"),
    )
    name = models.CharField(_("名称"), max_length=100)
    audience = models.CharField(
        _("适用对象"), max_length=12, choices=Audience.choices, default=Audience.ANY
    )
    description = models.TextField(_("说明"), blank=True)
    is_preset = models.BooleanField(_("预置问卷"), default=False, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("问卷")
        verbose_name_plural = _("问卷")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def get_absolute_url(self) -> str:
        return reverse("surveys:questionnaire_detail", args=[self.code])


class QuestionnaireVersion(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    note = models.CharField(_("修订说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("问卷版本")
        verbose_name_plural = _("问卷版本")
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="surveys_version_number_unique"
            ),
            # One draft at a time: two supervisors editing "the draft" edit the same one.
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(status=VersionStatus.DRAFT),
                name="surveys_version_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(status=VersionStatus.DRAFT) | Q(published_at__isnull=False),
                name="surveys_version_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.name} 第 {self.number} 版"

    def get_absolute_url(self) -> str:
        return reverse("surveys:version_detail", args=[self.questionnaire.code, self.number])

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class Question(models.Model):
    version = models.ForeignKey(
        QuestionnaireVersion,
        verbose_name=_("问卷版本"),
        on_delete=models.CASCADE,
        related_name="questions",
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    code = models.SlugField(_("题目代码"), max_length=40)
    text = models.CharField(_("题目"), max_length=300)
    help_text = models.CharField(_("提示"), max_length=300, blank=True)
    kind = models.CharField(_("题型"), max_length=10, choices=QuestionKind.choices)
    required = models.BooleanField(_("必答"), default=True)
    options = models.JSONField(
        _("选项"), default=list, blank=True, help_text=_("单选、多选题的选项")
    )
    dimension = models.CharField(
        _("统计维度"),
        max_length=16,
        choices=Dimension.choices,
        blank=True,
        help_text=_("评价题计入哪一项满意率（Q3）"),
    )
    condition_question = models.ForeignKey(
        "self",
        verbose_name=_("显示条件：题目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dependents",
        help_text=_("只在该题的回答为下列之一时显示并校验本题"),
    )
    condition_values = models.JSONField(_("显示条件：回答"), default=list, blank=True)

    class Meta:
        verbose_name = _("题目")
        verbose_name_plural = _("题目")
        ordering = ["version", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="surveys_question_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    def save(self, *args, **kwargs):
        self._guard()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._guard()
        return super().delete(*args, **kwargs)

    def _guard(self):
        # Services check first and say it in Chinese; this catches any other writer.
        version = QuestionnaireVersion.objects.filter(pk=self.version_id).only("status").first()
        if version is not None and version.status != VersionStatus.DRAFT:
            raise VersionFrozen(f"问卷版本 {self.version_id} 已发布，题目不可修改")

    def choices(self) -> list[tuple[str, str]]:
        """The (value, label) pairs an answer picks from; empty for score and text."""
        if self.kind == QuestionKind.RATING:
            return list(Rating.choices)
        if self.kind == QuestionKind.YES_NO:
            return list(YesNo.choices)
        if self.kind in CHOICE_KINDS:
            return [(str(o), str(o)) for o in self.options]
        return []

    def label_of(self, value) -> str:
        """An answer's value as the staff read it."""
        if value in (None, "", []):
            return ""
        labels = dict(self.choices())
        if isinstance(value, list):
            return "、".join(str(labels.get(v, v)) for v in value)
        return str(labels.get(value, value))

    def condition_text(self) -> str:
        if self.condition_question_id is None:
            return ""
        parent = self.condition_question
        return f"{parent.text} = {parent.label_of(list(self.condition_values))}"


class Response(models.Model):
    version = models.ForeignKey(
        QuestionnaireVersion,
        verbose_name=_("问卷版本"),
        on_delete=models.PROTECT,
        related_name="responses",
    )
    task = models.ForeignKey(
        "followup.FollowUpTask",
        verbose_name=_("回访任务"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="survey_responses",
    )
    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("患者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="survey_responses",
    )
    channel = models.CharField(
        _("方式"), max_length=12, choices=ResponseChannel.choices, default=ResponseChannel.PHONE
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    # None when the patient answered through a survey link (Q4).
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填写人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The page's one-time key: a double click or a retried POST finds the first response.
    request_key = models.CharField(
        _("提交标识"), max_length=64, unique=True, null=True, blank=True, editable=False
    )

    scope_field = "task__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("问卷答卷")
        verbose_name_plural = _("问卷答卷")
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.version} · {timezone.localtime(self.submitted_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("surveys:response_detail", args=[self.pk])


class Answer(models.Model):
    response = models.ForeignKey(
        Response, verbose_name=_("答卷"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        Question, verbose_name=_("题目"), on_delete=models.PROTECT, related_name="answers"
    )
    value = models.JSONField(_("回答"))
    # Denormalised from the question for reports (Q3, R1): blank unless a rating question.
    rating = models.CharField(
        _("评价"), max_length=10, choices=Rating.choices, blank=True, db_index=True
    )
    dimension = models.CharField(
        _("统计维度"), max_length=16, choices=Dimension.choices, blank=True, db_index=True
    )

    scope_field = "response__task__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("回答")
        verbose_name_plural = _("回答")
        ordering = ["response", "question__position", "question__pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="surveys_answer_once_per_question"
            ),
        ]

    def __str__(self) -> str:
        return self.display()

    def display(self) -> str:
        return self.question.label_of(self.value)


def default_link_expiry():
    from datetime import timedelta

    return timezone.now() + timedelta(days=settings.CARELOOP_SURVEY_LINK_DAYS)


class SurveyInvitation(models.Model):
    """Q4: a single-use, expiring link for the patient. Only the token's SHA-256 is stored, so
    the database (or a backup) cannot be turned back into working links."""

    task = models.ForeignKey(
        "followup.FollowUpTask",
        verbose_name=_("回访任务"),
        on_delete=models.PROTECT,
        related_name="survey_invitations",
    )
    version = models.ForeignKey(
        QuestionnaireVersion,
        verbose_name=_("问卷版本"),
        on_delete=models.PROTECT,
        related_name="invitations",
    )
    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"), default=default_link_expiry)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    response = models.OneToOneField(
        Response,
        verbose_name=_("答卷"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invitation",
    )

    scope_field = "task__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("问卷链接")
        verbose_name_plural = _("问卷链接")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"问卷链接 {self.pk}"

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at
