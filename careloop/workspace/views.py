"""The agent's screen (F6–F12): today's queue, the atomic claim, the call screen and its actions,
the script editor (F10) and the supervisors' workload and live board.

Views are thin: scoped lookup (``visible_to``) → form → a named service of followup, surveys,
cases or notify → redirect or htmx partial. Every form of the call screen carries a
``request_key`` so that a double submit records once.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.cases.services import open_disposal_form
from careloop.core.permissions import require_perm
from careloop.followup import calls
from careloop.followup.choices import AttemptOutcome, Channel, TaskStatus
from careloop.followup.models import CallScript, FollowUpRecord, FollowUpTask, Stage
from careloop.followup.services import ServiceError
from careloop.lib.masking import mask_phone
from careloop.org.models import Department
from careloop.workspace import queue as q
from careloop.workspace.forms import (
    AttemptForm,
    EscalationForm,
    RecordForm,
    ScriptForm,
    SmsForm,
    StepFormSet,
    sample_task,
)

TASK_PERM = "followup.view_followuptask"
CONFIRM_OUTCOMES = {
    AttemptOutcome.DECEASED: gettext_lazy(
        "确认患者已故？该患者所有未完成的回访任务将不再回访（E4）。"
    ),
    AttemptOutcome.REFUSED: gettext_lazy(
        "确认患者拒绝回访？该患者所有未完成的回访任务将不再回访（E6）。"
    ),
}


def _go(request, url: str):
    """A redirect that also works for an htmx request (full page navigation)."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _to_queue(request):
    return _go(request, reverse("workspace:queue"))


# --- F6 the queue ----------------------------------------------------------------------------


@login_required
def queue(request):
    require_perm(request, TASK_PERM)
    user, now = request.user, q.local_now()
    filters = q.QueueFilters.from_query(request.GET)
    counts = q.queue_counts(user, now)
    paginator = q.KnownCountPaginator(
        q.ordered_queue(user, filters, now),
        q.PAGE_SIZE,
        known_count=None if filters.active else counts.total,
    )
    page = paginator.get_page(request.GET.get("page"))
    rows = q.decorate(q.fetch_rows(list(page.object_list)), now=now)
    departments = Department.objects.order_by("code").only("pk", "name")
    if user.scope != "all":
        departments = departments.filter(pk__in=user.department_ids)
    query = request.GET.copy()
    query.pop("page", None)
    claim_prefix = reverse("workspace:claim", args=[0]).removesuffix("0/claim/")
    context = {
        "rows": rows,
        "rows_html": q.rows_html(rows, claim_prefix=claim_prefix),
        "page_obj": page,
        "counts": counts,
        "filters": filters,
        "query": query.urlencode(),
        "departments": departments,
        "stages": Stage.objects.filter(policy__is_active=True).only("pk", "name").order_by("name"),
        "channels": Channel.choices,
        "now": now,
    }
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, "workspace/partials/queue_rows.html", context)
    return render(request, "workspace/queue.html", context)


def _my_task(request, pk) -> FollowUpTask:
    return get_object_or_404(
        FollowUpTask.objects.visible_to(request.user).filter(assignee=request.user),
        pk=pk,
    )


@login_required
@require_POST
def claim(request, pk):
    """F7: two agents, one winner (the conditional UPDATE of ``claim_task``)."""
    require_perm(request, TASK_PERM)
    task = get_object_or_404(FollowUpTask.objects.visible_to(request.user), pk=pk)
    if task.assignee_id is None and not q.takes_pool(request.user):
        messages.error(request, _("公共池任务由客服回访员领取。"))
        return _to_queue(request)
    try:
        calls.claim_task(task, by=request.user)
    except calls.ClaimError as exc:
        messages.error(request, str(exc))
        return _to_queue(request)
    return _go(request, reverse("workspace:call", args=[pk]))


@login_required
@require_POST
def release(request, pk):
    require_perm(request, TASK_PERM)
    calls.release_task(_my_task(request, pk), by=request.user)
    return _to_queue(request)


def _open_next(request, done_pk: int):
    """After a save: claim the next callable task of my queue, or show the queue."""
    for task in q.next_callable(request.user, exclude=[done_pk]):
        try:
            calls.claim_task(task, by=request.user)
        except calls.ClaimError:
            continue  # somebody was faster: try the next one
        return redirect("workspace:call", pk=task.pk)
    messages.info(request, _("当前没有可以拨打的任务。"))
    return redirect("workspace:queue")


# --- the call screen (F8–F11) ---------------------------------------------------------------


def _held(request, pk) -> FollowUpTask | None:
    task = get_object_or_404(
        FollowUpTask.objects.visible_to(request.user).select_related(
            "patient", "visit", "visit__attending_doctor", "visit__responsible_nurse",
            "department", "stage", "policy", "assignee",
        ),
        pk=pk,
    )  # fmt: skip
    if task.status == TaskStatus.IN_PROGRESS and task.assignee_id == request.user.pk:
        return task
    return None


def _not_held(request, pk):
    messages.error(request, _("请先在队列中领取该任务（或任务已被处理）。"))
    return _to_queue(request)


def _survey_version(task, data=None):
    from careloop.surveys.models import QuestionnaireVersion
    from careloop.surveys.services import current_version, questionnaire_code_for

    if data is not None and (data.get("survey_version") or "").isdigit():
        # Answers are checked against the version the page showed (Q1).
        return QuestionnaireVersion.objects.filter(pk=data["survey_version"]).first()
    return current_version(questionnaire_code_for(task))


def _survey_form(task, data=None):
    from careloop.surveys.forms import ResponseForm

    version = _survey_version(task, data)
    return ResponseForm(version, data=data, prefix="q") if version is not None else None


def _sms_templates():
    from careloop.notify.models import SmsTemplate

    return SmsTemplate.objects.filter(is_active=True).order_by("code")


def _history(user, task):
    from careloop.surveys.models import Response

    responses = Response.objects.select_related("version__questionnaire").prefetch_related(
        "answers__question"
    )
    return list(
        FollowUpTask.objects.visible_to(user)
        .filter(patient_id=task.patient_id)
        .exclude(pk=task.pk)
        .filter(status__in=[TaskStatus.COMPLETED, TaskStatus.UNREACHABLE, TaskStatus.EXCLUDED])
        .select_related("stage", "department", "record", "record__by", "assignee")
        .prefetch_related(Prefetch("survey_responses", queryset=responses))
        .order_by("-completed_at", "-pk")[:10]
    )


def _escalations(user, task):
    from careloop.cases.choices import EscalationStatus
    from careloop.cases.models import Escalation

    return list(
        Escalation.objects.visible_to(user)
        .filter(patient_id=task.patient_id)
        .exclude(status=EscalationStatus.CLOSED)
        .select_related("doctor", "raised_by")
    )


def _call_page(request, task, *, status=200, **forms):
    user = request.user
    patient, visit = task.patient, task.visit
    phones = list(patient.phones.all())
    attempts = list(task.attempts.select_related("by"))
    script = calls.script_for(task)
    reached = any(a.outcome in (AttemptOutcome.REACHED_SELF, AttemptOutcome.REACHED_FAMILY)
                  for a in attempts)  # fmt: skip
    templates = _sms_templates()
    context = {
        "task": task,
        "patient": patient,
        "visit": visit,
        "age": patient.age(),
        "diagnoses": list(visit.diagnoses.all()),
        "phones": [(p, mask_phone(p.number)) for p in phones],
        "attempts": attempts,
        "reached": reached,
        "callable": calls.callable_now(task),
        "overdue": task.is_overdue(),
        "script": calls.render_script(script, task, user) if script else None,
        "history": _history(user, task),
        "escalations": _escalations(user, task),
        "can_reveal": user.has_perm("patients.reveal_patient"),
        "can_escalate": user.has_perm("cases.add_escalation"),
        "outcomes": [
            (i + 1, value, label) for i, (value, label) in enumerate(AttemptOutcome.choices)
        ],
        "attempt_form": forms.get("attempt_form") or AttemptForm(patient=patient),
        "record_form": forms.get("record_form") or RecordForm(),
        "survey_form": forms.get("survey_form", _survey_form(task)),
        "escalation_form": forms.get("escalation_form") or EscalationForm(),
        "sms_form": SmsForm(patient=patient, templates=templates) if phones and templates else None,
        "confirm": forms.get("confirm"),
    }
    record_event(Action.VIEW, request=request, obj=task, message=str(patient))
    return render(request, "workspace/call.html", context, status=status)


@login_required
def call(request, pk):
    require_perm(request, TASK_PERM)
    task = _held(request, pk)
    if task is None:
        return _not_held(request, pk)
    return _call_page(request, task)


@login_required
@require_POST
def attempt(request, pk):
    """F8: record an attempt and apply its rule; deceased and refused are confirmed first."""
    require_perm(request, TASK_PERM)
    task = _held(request, pk)
    if task is None:
        return _not_held(request, pk)
    form = AttemptForm(request.POST, patient=task.patient)
    if not form.is_valid():
        return _call_page(request, task, attempt_form=form, status=400)
    data = form.cleaned_data
    outcome = data["outcome"]
    if outcome in CONFIRM_OUTCOMES and not data["confirmed"]:
        confirm = {"outcome": outcome, "label": AttemptOutcome(outcome).label,
                   "text": CONFIRM_OUTCOMES[outcome]}  # fmt: skip
        return _call_page(request, task, attempt_form=form, confirm=confirm)
    try:
        result = calls.record_attempt(
            task, by=request.user, outcome=outcome, phone=data["phone"],
            duration_seconds=data["duration_seconds"] or 0, note=data["note"],
            agreed_at=data["agreed_at"], request_key=form.key,
        )  # fmt: skip
    except ServiceError as exc:
        form.add_error(None, str(exc))
        return _call_page(request, task, attempt_form=form, status=400)
    if result.status == TaskStatus.IN_PROGRESS:
        messages.success(request, result.message)
        return redirect("workspace:call", pk=pk)
    messages.info(request, f"{task.patient.name}：{result.message}")
    return redirect("workspace:queue")


@login_required
@require_POST
def complete(request, pk):
    """F9 + Q1: the record and the questionnaire answers in one transaction; then the next task."""
    require_perm(request, TASK_PERM)
    user = request.user
    if FollowUpRecord.objects.filter(task_id=pk, by=user).exists():
        messages.info(request, _("回访记录已保存（重复提交被忽略）。"))
        return _open_next(request, pk)
    task = _held(request, pk)
    if task is None:
        return _not_held(request, pk)
    form = RecordForm(request.POST)
    survey = _survey_form(task, request.POST)
    if not (form.is_valid() & (survey is None or survey.is_valid())):
        return _call_page(request, task, record_form=form, survey_form=survey, status=400)
    record, key = form.record(), form.key
    response = disposal = None
    try:
        with transaction.atomic():
            # One writer per task: a second submit waits here, then finds the record.
            locked = FollowUpTask.objects.select_for_update().get(pk=task.pk)
            if not FollowUpRecord.objects.filter(task_id=locked.pk).exists():
                if survey is not None:
                    from careloop.surveys.services import ratings_of

                    response = survey.save(task=locked, by=user, channel="phone", request_key=key)
                    # The questionnaire's 总评价 is the record's overall unless the agent set one.
                    record["overall"] = record["overall"] or ratings_of(response).get("overall", "")
                saved = calls.complete_followup(locked, by=user, record=record, request_key=key)
                # C1: any 差 opens the department's disposal form, in the same transaction.
                disposal = open_disposal_form(locked, by=user, record=saved, response=response)
    except ServiceError as exc:
        form.add_error(None, str(exc))
        return _call_page(request, task, record_form=form, survey_form=survey, status=400)
    messages.success(request, _("已保存 %(name)s 的回访记录。") % {"name": task.patient.name})
    if disposal is not None:
        messages.warning(
            request,
            _("评价为“差”：已为%(department)s生成处置反馈表，科主任和护士长已收到通知。")
            % {"department": disposal.department.name},
        )
    return _open_next(request, pk)


@login_required
@require_POST
def reveal(request, pk):
    """P3 on the call screen: the same audited reveal as the patient page (Action.REVEAL),
    limited to what a call needs — the phone numbers, with tel: links."""
    require_perm(request, TASK_PERM)
    if not request.user.has_perm("patients.reveal_patient"):
        record_event(Action.ACCESS_DENIED, request=request, object_type="followup.followuptask",
                     object_id=str(pk), message="无权查看未脱敏信息")  # fmt: skip
        raise PermissionDenied
    task = _held(request, pk)
    if task is None:
        raise PermissionDenied
    record_event(Action.REVEAL, request=request, obj=task.patient, message="电话（回访工作台）")
    return render(
        request, "workspace/partials/phones_revealed.html", {"phones": task.patient.phones.all()}
    )


@login_required
@require_POST
def escalate(request, pk):
    """F11: the patient reports something the attending doctor must handle."""
    require_perm(request, TASK_PERM)
    require_perm(request, "cases.add_escalation")
    from careloop.cases.services import CaseError, raise_escalation

    task = _held(request, pk)
    if task is None:
        return _not_held(request, pk)
    form = EscalationForm(request.POST)
    context = {"task": task, "escalation_form": form}
    if form.is_valid():
        try:
            escalation = raise_escalation(
                task, by=request.user, reason=form.cleaned_data["reason"],
                description=form.cleaned_data["description"], request_key=form.key,
            )  # fmt: skip
        except CaseError as exc:
            form.add_error(None, str(exc))
        else:
            doctor = (
                escalation.doctor.display_name if escalation.doctor else _("（未登记主管医生）")
            )
            context.update(
                escalation_form=EscalationForm(),
                done=_("已转介主管医生 %(doctor)s，须在 24 小时内确认。") % {"doctor": doctor},
            )
    if not request.htmx:
        if context.get("done"):
            messages.success(request, context["done"])
            return redirect("workspace:call", pk=pk)
        return _call_page(request, task, escalation_form=form, status=400)
    return render(request, "workspace/partials/escalation.html", context)


@login_required
def case_add(request, pk):
    """C2 during the call: a complaint, opinion, suggestion or praise the patient voices is
    registered without leaving the call (source 回访; patient, visit and department from the
    task). GET gives the empty panel form; a bad input comes back as the form with its errors
    and HTTP 400; a double submit (same request_key) registers once."""
    require_perm(request, TASK_PERM)
    require_perm(request, "cases.add_case")
    from careloop.cases.forms.cases import CallCaseForm
    from careloop.cases.services import CaseError, register_case

    task = _held(request, pk)
    if task is None:
        return _not_held(request, pk)
    if request.method != "POST":
        return render(
            request,
            "workspace/partials/case_form.html",
            {"task": task, "case_form": CallCaseForm()},
        )
    form = CallCaseForm(request.POST)
    context, status = {"task": task, "case_form": form}, 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = register_case(
                by=request.user, kind=data["kind"], source="followup", category=data["category"],
                severity=data["severity"], summary=data["summary"],
                description=data["description"], task=task, visit=task.visit,
                patient=task.patient, departments=[task.department], request_key=form.key,
            )  # fmt: skip
        except CaseError as exc:
            form.add_error(None, str(exc))
        else:
            done = _("已登记%(kind)s，编号 %(number)s。") % {
                "kind": case.get_kind_display(), "number": case.number,
            }  # fmt: skip
            context.update(case_form=CallCaseForm(), case=case, done=done)
            status = 200
    if not request.htmx:
        if status == 200:
            messages.success(request, context["done"])
            return redirect("workspace:call", pk=pk)
        for error in [
            *form.non_field_errors(),
            *(f"{f.label}：{e}" for f in form for e in f.errors),
        ]:
            messages.error(request, error)
        return _call_page(request, task, status=400)
    return render(request, "workspace/partials/case_form.html", context, status=status)


def _sms(request, pk):
    task = _held(request, pk)
    if task is None:
        raise PermissionDenied
    form = SmsForm(request.POST, patient=task.patient, templates=_sms_templates())
    body = ""
    if form.is_valid():
        from careloop.notify.services import render_sms, sms_context_for_task

        body = render_sms(form.cleaned_data["template"], sms_context_for_task(task))
    return task, form, body


@login_required
@require_POST
def sms_preview(request, pk):
    require_perm(request, TASK_PERM)
    task, form, body = _sms(request, pk)
    return render(
        request, "workspace/partials/sms.html", {"task": task, "sms_form": form, "preview": body}
    )


@login_required
@require_POST
def sms_send(request, pk):
    """Queue the SMS through notify (it is sent after commit, and only 08:00–20:00)."""
    require_perm(request, TASK_PERM)
    task, form, body = _sms(request, pk)
    context = {"task": task, "sms_form": form, "preview": body}
    if form.is_valid():
        from careloop.notify.services import NotifyError, queue_sms

        try:
            queue_sms(
                form.cleaned_data["phone"].number, body, patient=task.patient, task=task,
                template=form.cleaned_data["template"], by=request.user, request_key=form.key,
            )  # fmt: skip
        except NotifyError as exc:
            form.add_error(None, str(exc))
        else:
            context["sent"] = _("短信已加入发送队列。")
            context["sms_form"] = SmsForm(patient=task.patient, templates=_sms_templates())
    return render(request, "workspace/partials/sms.html", context)


# --- F10 scripts ----------------------------------------------------------------------------


@login_required
def script_list(request):
    require_perm(request, "followup.view_callscript")
    return render(
        request,
        "workspace/script_list.html",
        {"scripts": CallScript.objects.order_by("code"),
         "can_edit": request.user.has_perm("followup.change_callscript")},
    )  # fmt: skip


def _script_forms(request, script):
    initial = [{"key": s.get("key", ""), "title": s.get("title", ""), "text": s.get("text", "")}
               for s in (script.steps if script else [])]  # fmt: skip
    data = request.POST if request.method == "POST" else None
    return ScriptForm(data, instance=script), StepFormSet(data, initial=initial, prefix="steps")


def _preview(form, steps, agent):
    draft = CallScript(
        name=form.cleaned_data.get("name", ""),
        steps=steps.steps(),
        satisfied_reply=form.cleaned_data.get("satisfied_reply", ""),
        dissatisfied_reply=form.cleaned_data.get("dissatisfied_reply", ""),
    )
    return calls.render_script(draft, sample_task(), agent)


def _script_page(request, script=None):
    form, steps = _script_forms(request, script)
    if request.method == "POST" and form.is_valid() & steps.is_valid():
        saved = form.save(commit=False)
        saved.steps = steps.steps()
        saved.updated_at = q.local_now()
        saved.save()
        messages.success(request, _("已保存话术“%(name)s”。") % {"name": saved.name})
        return redirect("workspace:script_list")
    preview = None
    if script is not None and request.method != "POST":
        preview = calls.render_script(script, sample_task(), request.user)
    context = {"script": script, "form": form, "steps": steps, "preview": preview,
               "placeholders": calls.PLACEHOLDERS}  # fmt: skip
    return render(request, "workspace/script_form.html", context)


@login_required
def script_add(request):
    require_perm(request, "followup.add_callscript")
    return _script_page(request)


@login_required
def script_edit(request, code):
    require_perm(request, "followup.change_callscript")
    return _script_page(request, get_object_or_404(CallScript, code=code))


@login_required
@require_POST
def script_preview(request):
    """F10: the script as entered (not saved), filled for a sample patient."""
    if not (request.user.has_perm("followup.change_callscript")
            or request.user.has_perm("followup.add_callscript")):  # fmt: skip
        raise PermissionDenied
    form, steps = _script_forms(request, None)
    form.fields["code"].required = False
    ok = form.is_valid() & steps.is_valid()
    context = {"preview": _preview(form, steps, request.user) if ok else None,
               "form": form, "steps": steps}  # fmt: skip
    return render(request, "workspace/partials/script_preview.html", context)


# --- supervisors (F12, item 8) --------------------------------------------------------------


@login_required
def workload(request):
    require_perm(request, "followup.reassign_task")
    user = request.user
    context = {"rows": q.workload(user), "pool": q.pool_size(user), "now": q.local_now()}
    return render(request, "workspace/workload.html", context)


@login_required
def board(request):
    require_perm(request, "followup.reassign_task")
    context = q.board(request.user)
    if request.htmx:
        return render(request, "workspace/partials/board.html", context)
    return render(request, "workspace/board.html", context)
