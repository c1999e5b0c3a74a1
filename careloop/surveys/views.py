"""Questionnaire pages and editor (Q1, Q2), responses (Q3) and the patient's survey page (Q4).

Every change is a call into ``services``; answers are read through
``Response.objects.visible_to`` (O3). The patient page needs no login: the token is the key, and
it shows no name and no phone number.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.permissions import require_perm
from careloop.surveys import services
from careloop.surveys.choices import VersionStatus
from careloop.surveys.filtersets import ResponseFilterSet
from careloop.surveys.forms import QuestionForm, QuestionnaireForm, ResponseForm
from careloop.surveys.models import Answer, Questionnaire, QuestionnaireVersion, Response
from careloop.surveys.tables import ResponseTable

VIEW, ADD, CHANGE = (
    "surveys.view_questionnaire",
    "surveys.add_questionnaire",
    "surveys.change_questionnaire",
)


def _questionnaire(code) -> Questionnaire:
    return get_object_or_404(Questionnaire, code=code)


def _version(code, number) -> QuestionnaireVersion:
    return get_object_or_404(
        QuestionnaireVersion.objects.select_related("questionnaire", "published_by"),
        questionnaire__code=code,
        number=number,
    )


# --- Questionnaires -------------------------------------------------------------------------


@login_required
def questionnaire_list(request):
    require_perm(request, VIEW)
    current = QuestionnaireVersion.objects.filter(
        questionnaire=OuterRef("pk"), status=VersionStatus.PUBLISHED
    ).order_by("-number")
    questionnaires = Questionnaire.objects.annotate(
        current_number=Subquery(current.values("number")[:1]),
        version_count=Count("versions", distinct=True),
    ).order_by("code")
    drafts = set(
        QuestionnaireVersion.objects.filter(status=VersionStatus.DRAFT).values_list(
            "questionnaire_id", flat=True
        )
    )
    for q in questionnaires:
        q.has_draft = q.pk in drafts
    return render(request, "surveys/questionnaire_list.html", {"questionnaires": questionnaires})


@login_required
def questionnaire_add(request):
    require_perm(request, ADD)
    form = QuestionnaireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        questionnaire = services.create_questionnaire(
            code=data["code"],
            name=data["name"],
            audience=data["audience"],
            description=data["description"],
            by=request.user,
        )
        messages.success(request, _("已新建问卷，请添加题目后发布。"))
        return redirect(questionnaire.versions.get())
    return render(request, "surveys/questionnaire_form.html", {"form": form})


@login_required
def questionnaire_edit(request, code):
    require_perm(request, CHANGE)
    questionnaire = _questionnaire(code)
    form = QuestionnaireForm(request.POST or None, instance=questionnaire)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("已保存问卷“%(name)s”。") % {"name": questionnaire.name})
        return redirect(questionnaire)
    context = {"form": form, "questionnaire": questionnaire}
    return render(request, "surveys/questionnaire_form.html", context)


def _version_page(request, questionnaire, version):
    versions = questionnaire.versions.select_related("published_by").annotate(
        response_count=Count("responses")
    )
    questions = []
    if version is not None:
        questions = list(version.questions.select_related("condition_question"))
    context = {
        "questionnaire": questionnaire,
        "version": version,
        "versions": versions,
        "questions": questions,
        "can_edit": version is not None and version.is_draft and request.user.has_perm(CHANGE),
        "problems": services.check_publishable(version) if version and version.is_draft else [],
    }
    return render(request, "surveys/questionnaire_detail.html", context)


@login_required
def questionnaire_detail(request, code):
    """The draft being edited, else the version in use."""
    require_perm(request, VIEW)
    questionnaire = _questionnaire(code)
    version = questionnaire.versions.filter(status=VersionStatus.DRAFT).first()
    if version is None:
        version = services.current_version(code) or questionnaire.versions.first()
    return _version_page(request, questionnaire, version)


@login_required
def version_detail(request, code, number):
    require_perm(request, VIEW)
    version = _version(code, number)
    return _version_page(request, version.questionnaire, version)


@login_required
@require_POST
def version_draft(request, code):
    """Q1: "修订" — the open draft, or a new one copied from the latest version."""
    require_perm(request, CHANGE)
    draft = services.start_draft(_questionnaire(code), by=request.user)
    return redirect(draft)


@login_required
@require_POST
def version_publish(request, code, number):
    require_perm(request, CHANGE)
    version = _version(code, number)
    try:
        services.publish_version(version, by=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已发布第 %(n)s 版，新的回访将使用此版本；已有答卷仍按其原版本显示。")
            % {"n": version.number},
        )
    return redirect(version)


@login_required
@require_POST
def version_discard(request, code, number):
    require_perm(request, CHANGE)
    version = _version(code, number)
    try:
        services.discard_draft(version)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(version)
    messages.success(request, _("已删除草稿第 %(n)s 版。") % {"n": version.number})
    return redirect(version.questionnaire)


# --- Questions ------------------------------------------------------------------------------


def _draft_or_refuse(request, code, number):
    version = _version(code, number)
    if not version.is_draft:
        messages.error(request, _("第 %(n)s 版已发布，不能修改。") % {"n": version.number})
        return version, redirect(version)
    return version, None


def _question_page(request, code, number, pk=None):
    require_perm(request, CHANGE)
    version, refused = _draft_or_refuse(request, code, number)
    if refused:
        return refused
    question = get_object_or_404(version.questions, pk=pk) if pk else None
    form = QuestionForm(request.POST or None, instance=question, version=version)
    if request.method == "POST" and form.is_valid():
        saved = services.save_question(form.save(commit=False))
        messages.success(request, _("已保存题目“%(text)s”。") % {"text": saved.text})
        return redirect(version)
    context = {"form": form, "version": version, "question": question}
    return render(request, "surveys/question_form.html", context)


@login_required
def question_add(request, code, number):
    return _question_page(request, code, number)


@login_required
def question_edit(request, code, number, pk):
    return _question_page(request, code, number, pk)


@login_required
def question_delete(request, code, number, pk):
    require_perm(request, CHANGE)
    version, refused = _draft_or_refuse(request, code, number)
    if refused:
        return refused
    question = get_object_or_404(version.questions, pk=pk)
    if request.method == "POST":
        try:
            services.delete_question(question)
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已删除题目“%(text)s”。") % {"text": question.text})
        return redirect(version)
    context = {"version": version, "question": question}
    return render(request, "surveys/question_confirm_delete.html", context)


@login_required
@require_POST
def question_move(request, code, number, pk):
    require_perm(request, CHANGE)
    version, refused = _draft_or_refuse(request, code, number)
    if refused:
        return refused
    question = get_object_or_404(version.questions, pk=pk)
    services.move_question(question, -1 if request.POST.get("direction") == "up" else 1)
    return redirect(f"{version.get_absolute_url()}#question-{question.pk}")


# --- Responses ------------------------------------------------------------------------------


def _visible_responses(user):
    overall = Answer.objects.filter(response=OuterRef("pk"), dimension="overall").values("rating")
    return (
        Response.objects.visible_to(user)
        .select_related("version__questionnaire", "task__department", "patient", "submitted_by")
        .annotate(overall=Subquery(overall[:1]))
    )


@login_required
def response_list(request):
    require_perm(request, "surveys.view_response")
    user = request.user
    filterset = ResponseFilterSet(request.GET or None, queryset=_visible_responses(user), user=user)
    table = ResponseTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {"filter": filterset, "table": table, "title": _("问卷答卷")}
    if request.htmx:
        return render(request, "surveys/partials/response_table.html", context)
    return render(request, "surveys/response_list.html", context)


@login_required
def response_detail(request, pk):
    require_perm(request, "surveys.view_response")
    response = get_object_or_404(_visible_responses(request.user), pk=pk)
    answers = {a.question_id: a for a in response.answers.all()}
    # Q1: the questions of the version answered, whatever the questionnaire looks like today.
    rows = [
        (q, answers.get(q.pk))
        for q in response.version.questions.select_related("condition_question")
    ]
    record_event(Action.VIEW, request=request, obj=response, message=str(response))
    context = {"response": response, "rows": rows, "ratings": services.ratings_of(response)}
    return render(request, "surveys/response_detail.html", context)


# --- The patient's page (Q4) ----------------------------------------------------------------


def _public(request, template, status=200, **context):
    response = render(request, f"surveys/public/{template}.html", context, status=status)
    # The token is in the path: keep it out of caches and search engines. Referer stays
    # same-origin (the site default): with "no-referrer" browsers send "Origin: null" on the
    # form's POST and the CSRF check refuses it.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def answer(request, token):
    invitation = services.find_invitation(token)
    if invitation is None:
        return _public(request, "not_found", status=404)
    if invitation.used_at is not None:
        return _public(request, "done")
    if invitation.is_expired():
        return _public(request, "expired", status=410)
    form = ResponseForm(invitation.version, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_invitation(invitation, form)
        except services.LinkUsed:
            return _public(request, "done")
        except services.LinkExpired:
            return _public(request, "expired", status=410)
        return redirect(request.path)
    task = invitation.task
    visit_day = task.anchor_at
    context = {"form": form, "department": task.department.name, "visit_day": visit_day}
    return _public(request, "answer", **context)
