"""Q1–Q4 as named services: the pages, the workspace and the SMS sender call these.

Questionnaire editing: a draft changes freely; ``publish_version`` freezes it and retires the
version it replaces; ``start_draft`` copies the latest version into a new draft (Q1).
Patient links (Q4): ``issue_invitation`` returns the only copy of the token; ``submit_invitation``
claims the link with one conditional update, so two submits cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from careloop.surveys.choices import CHOICE_KINDS, QuestionKind, ResponseChannel, VersionStatus
from careloop.surveys.models import (
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    SurveyInvitation,
)


class ServiceError(Exception):
    """A refused change, with a Chinese message for the page."""


class LinkUsed(ServiceError):
    pass


class LinkExpired(ServiceError):
    pass


# --- Reading --------------------------------------------------------------------------------


def current_version(code: str) -> QuestionnaireVersion | None:
    """The latest published version of the questionnaire ``code`` (what new surveys use)."""
    return (
        QuestionnaireVersion.objects.filter(
            questionnaire__code=code, status=VersionStatus.PUBLISHED
        )
        .select_related("questionnaire")
        .order_by("-number")
        .first()
    )


def ratings_of(response: Response) -> dict[str, str]:
    """Q2/Q3: {dimension: rating} of one response, e.g. {"attitude": "very_good", …}."""
    return dict(
        response.answers.exclude(rating="")
        .exclude(dimension="")
        .order_by("question__position", "question__pk")
        .values_list("dimension", "rating")
    )


# --- Editing (Q1) ---------------------------------------------------------------------------


def ensure_draft(version: QuestionnaireVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise ServiceError(
            _("第 %(n)s 版已发布，不能修改；请先“修订”生成新的草稿版本。") % {"n": version.number}
        )


@transaction.atomic
def create_questionnaire(
    *, code: str, name: str, audience: str, description: str = "", by=None
) -> Questionnaire:
    """A new questionnaire with an empty draft version 1."""
    questionnaire = Questionnaire.objects.create(
        code=code, name=name, audience=audience, description=description
    )
    QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=1, created_by=by)
    return questionnaire


def _copy_questions(source: QuestionnaireVersion, target: QuestionnaireVersion) -> None:
    mapping: dict[int, Question] = {}
    pending = []
    for old in source.questions.order_by("position", "pk"):
        new = Question(
            version=target,
            position=old.position,
            code=old.code,
            text=old.text,
            help_text=old.help_text,
            kind=old.kind,
            required=old.required,
            options=list(old.options),
            dimension=old.dimension,
            condition_values=list(old.condition_values),
        )
        new.save()
        mapping[old.pk] = new
        if old.condition_question_id:
            pending.append((new, old.condition_question_id))
    for new, old_parent in pending:
        new.condition_question = mapping[old_parent]
        new.save(update_fields=["condition_question"])


@transaction.atomic
def start_draft(questionnaire: Questionnaire, *, by=None, note: str = "") -> QuestionnaireVersion:
    """Q1: the draft to edit — the existing one, or a new one copied from the latest version."""
    # Lock the questionnaire row so that two supervisors starting a draft get the same one.
    Questionnaire.objects.select_for_update().filter(pk=questionnaire.pk).first()
    draft = questionnaire.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        return draft
    latest = questionnaire.versions.order_by("-number").first()
    draft = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire,
        number=(latest.number + 1) if latest else 1,
        created_by=by,
        note=note,
    )
    if latest is not None:
        _copy_questions(latest, draft)
    return draft


def check_publishable(version: QuestionnaireVersion) -> list[str]:
    """What stops a draft from being published, in Chinese; empty when it can be."""
    problems = []
    questions = list(version.questions.all())
    if not questions:
        problems.append(_("问卷至少需要一道题目"))
    for q in questions:
        if q.kind in CHOICE_KINDS and len(q.options) < 2:
            problems.append(_("“%(text)s”至少需要两个选项") % {"text": q.text})
    # Q3/R1 count one rating per dimension per follow-up (the paper form asks 出院指导 — diet,
    # medication, re-check, rehabilitation — as one rating): a second rated question of the same
    # dimension would count one patient twice in the monthly table.
    seen: dict[str, str] = {}
    for q in questions:
        if q.kind == QuestionKind.RATING and q.dimension:
            if q.dimension in seen:
                problems.append(
                    _("“%(a)s”和“%(b)s”都计入统计维度“%(dim)s”；每个维度只能有一道评价题")
                    % {"a": seen[q.dimension], "b": q.text, "dim": q.get_dimension_display()}
                )
            seen.setdefault(q.dimension, q.text)
    return problems


@transaction.atomic
def publish_version(version: QuestionnaireVersion, *, by=None) -> QuestionnaireVersion:
    """Q1: freeze the draft; the version it replaces is retired (old answers keep pointing at it)."""
    version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
    ensure_draft(version)
    problems = check_publishable(version)
    if problems:
        raise ServiceError("；".join(problems))
    now = timezone.now()
    QuestionnaireVersion.objects.filter(
        questionnaire_id=version.questionnaire_id, status=VersionStatus.PUBLISHED
    ).update(status=VersionStatus.RETIRED)
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    version.published_by = by
    version.save(update_fields=["status", "published_at", "published_by"])
    return version


@transaction.atomic
def discard_draft(version: QuestionnaireVersion) -> None:
    ensure_draft(version)
    if version.responses.exists() or version.invitations.exists():
        raise ServiceError(_("该草稿已有答卷，不能删除"))
    # Conditions point within the version; clear them so PROTECT lets the questions go.
    version.questions.update(condition_question=None)
    version.questions.all().delete()
    version.delete()


def save_question(question: Question) -> Question:
    """Add or change a question of a draft; a new one goes to the end."""
    ensure_draft(question.version)
    if question.pk is None:
        last = question.version.questions.aggregate(m=Max("position"))["m"]
        question.position = 0 if last is None else last + 1
    question.save()
    return question


@transaction.atomic
def delete_question(question: Question) -> None:
    ensure_draft(question.version)
    dependents = list(question.dependents.all())
    if dependents:
        raise ServiceError(
            _("“%(text)s”是“%(others)s”的显示条件，请先修改这些题目。")
            % {"text": question.text, "others": "、".join(d.text for d in dependents)}
        )
    version = question.version
    question.delete()
    renumber(version)


@transaction.atomic
def move_question(question: Question, offset: int) -> None:
    """Move one place up (-1) or down (+1); positions are renumbered 0, 1, 2, …"""
    ensure_draft(question.version)
    ordered = list(question.version.questions.order_by("position", "pk"))
    index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
    target = index + offset
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, q in enumerate(ordered):
        if q.position != position:
            q.position = position
            q.save(update_fields=["position"])


# --- Patient links (Q4) ---------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def questionnaire_code_for(task) -> str:
    """The stage's questionnaire, else the default for the visit type (Q2)."""
    code = getattr(task.stage, "questionnaire", "")
    if code:
        return code
    return "inpatient" if task.visit.visit_type == "inpatient" else "outpatient"


def issue_invitation(task, *, days: int | None = None) -> tuple[SurveyInvitation, str]:
    """Q4: a new single-use link for ``task``; returns (invitation, token).

    The token is returned once and never stored: the caller puts it into the SMS
    (``build_survey_url(token)``) straight away.
    """
    version = current_version(questionnaire_code_for(task))
    if version is None:
        raise ServiceError(_("该任务的问卷尚未发布，不能生成问卷链接"))
    token = secrets.token_urlsafe(32)
    days = settings.CARELOOP_SURVEY_LINK_DAYS if days is None else days
    now = timezone.now()
    invitation = SurveyInvitation.objects.create(
        task=task,
        version=version,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return invitation, token


def build_survey_url(token: str) -> str:
    """The link for the SMS; absolute when ``CARELOOP_PUBLIC_BASE_URL`` is set."""
    path = reverse("surveys:answer", args=[token])
    return f"{settings.CARELOOP_PUBLIC_BASE_URL}{path}"


def find_invitation(token: str) -> SurveyInvitation | None:
    if not token or len(token) > 100:
        return None
    return (
        SurveyInvitation.objects.select_related("version__questionnaire", "task__department")
        .filter(token_hash=hash_token(token))
        .first()
    )


def submit_invitation(invitation: SurveyInvitation, form) -> Response:
    """Q4: the patient's answers, attached to the task; the link works once.

    The claim is a conditional update: of two simultaneous submits one changes a row and saves,
    the other changes nothing and is told the survey was already done. A failing save rolls the
    claim back, so the link stays usable.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = SurveyInvitation.objects.filter(
            pk=invitation.pk, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            invitation.refresh_from_db()
            if invitation.used_at is not None:
                raise LinkUsed(_("您已完成本次问卷，感谢您的反馈"))
            raise LinkExpired(_("问卷链接已过期"))
        response = form.save(
            task=invitation.task,
            patient=invitation.task.patient,
            by=None,
            channel=ResponseChannel.SMS_LINK,
        )
        SurveyInvitation.objects.filter(pk=invitation.pk).update(response=response)
        # C1: a 差 on the patient's own answers opens the disposal form too.
        from careloop.cases.services import open_disposal_form

        open_disposal_form(invitation.task, response=response)
    invitation.used_at = now
    invitation.response = response
    return response


def renumber(version: QuestionnaireVersion) -> None:
    """Positions 0, 1, 2, … after a deletion (keeps the move buttons simple)."""
    for position, pk in enumerate(
        version.questions.order_by("position", "pk").values_list("pk", flat=True)
    ):
        Question.objects.filter(pk=pk).exclude(position=position).update(position=position)


def survey_link_for_sms(task, body: str) -> dict:
    """Q4: the {链接} of an SMS — a fresh single-use invitation for the task, issued only when
    the message asks for it."""
    if "{链接}" not in (body or ""):
        return {}
    _invitation, token = issue_invitation(task)
    return {"链接": build_survey_url(token)}
