"""Outbox, templates and replies (S4); letters and home visits (F5 channels); the gateway's
callbacks; the staff inbox (issue 6). Every patient lookup goes through ``visible_to`` (O3);
state changes are calls into ``services`` and ``inbox``."""

from __future__ import annotations

import hmac
import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig

from careloop.accounts.roles import Role
from careloop.core.permissions import require_perm
from careloop.followup.choices import OPEN_STATUSES, Channel, TaskStatus
from careloop.followup.models import FollowUpTask
from careloop.notify import inbox as inbox_service
from careloop.notify import letters, services
from careloop.notify.filtersets import InboundFilterSet, OutboxFilterSet
from careloop.notify.forms import LetterBatchForm, LetterTemplateForm, SmsTemplateForm
from careloop.notify.models import (
    InboundSms,
    LetterTemplate,
    Notification,
    OutboxMessage,
    SmsTemplate,
)
from careloop.notify.tables import InboundTable, OutboxTable

# --- Outbox and replies ---------------------------------------------------------------------


def _table_page(request, *, filterset, table, template, title, **extra):
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {"filter": filterset, "table": table, "title": title, **extra}
    if request.htmx:
        return render(request, "core/partials/table.html", context)
    return render(request, template, context)


@login_required
def outbox_list(request):
    require_perm(request, "notify.view_outboxmessage")
    qs = OutboxMessage.objects.visible_to(request.user).select_related("patient")
    filterset = OutboxFilterSet(request.GET or None, queryset=qs)
    table = OutboxTable(
        filterset.qs, can_change=request.user.has_perm("notify.change_outboxmessage")
    )
    return _table_page(
        request,
        filterset=filterset,
        table=table,
        template="notify/outbox_list.html",
        title=_("短信发件箱"),
    )


def _outbox_action(request, pk, action):
    require_perm(request, "notify.change_outboxmessage")
    message = get_object_or_404(OutboxMessage.objects.visible_to(request.user), pk=pk)
    try:
        action(message, by=request.user)
    except services.NotifyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已处理短信 #%(pk)s。") % {"pk": message.pk})
    return redirect("notify:outbox_list")


@login_required
@require_POST
def outbox_retry(request, pk):
    return _outbox_action(request, pk, services.retry_message)


@login_required
@require_POST
def outbox_cancel(request, pk):
    return _outbox_action(request, pk, services.cancel_message)


@login_required
def inbound_list(request):
    require_perm(request, "notify.view_inboundsms")
    qs = InboundSms.objects.visible_to(request.user)
    filterset = InboundFilterSet(request.GET or None, queryset=qs)
    return _table_page(
        request,
        filterset=filterset,
        table=InboundTable(filterset.qs),
        template="notify/inbound_list.html",
        title=_("短信回复"),
    )


# --- Templates ------------------------------------------------------------------------------

KINDS = {
    "sms": (SmsTemplate, SmsTemplateForm, _("短信模板")),
    "letter": (LetterTemplate, LetterTemplateForm, _("信函模板")),
}


def _kind(kind):
    model, form_class, title = KINDS[kind]
    return model, form_class, str(title)


def _template_list(request, kind):
    model, _form, title = _kind(kind)
    require_perm(request, f"notify.view_{model._meta.model_name}")
    context = {
        "templates": model.objects.all(),
        "kind": kind,
        "title": title,
        "can_change": request.user.has_perm(f"notify.change_{model._meta.model_name}"),
    }
    return render(request, "notify/template_list.html", context)


def _template_edit(request, kind, pk):
    model, form_class, title = _kind(kind)
    require_perm(request, f"notify.change_{model._meta.model_name}")
    obj = get_object_or_404(model, pk=pk)
    form = form_class(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.updated_at = timezone.now()
        saved.save()
        messages.success(request, _("已保存“%(name)s”。") % {"name": saved.name})
        return redirect(f"notify:{kind}template_list")
    context = {
        "form": form,
        "obj": obj,
        "kind": kind,
        "title": title,
        "preview_url": reverse(f"notify:{kind}template_preview", args=[obj.pk]),
        "preview": _preview(obj.body),
    }
    return render(request, "notify/template_form.html", context)


def _preview(body: str) -> dict:
    try:
        return {"text": services.render_text(body, services.sample_context())}
    except services.NotifyError as exc:
        return {"error": str(exc)}


def _template_preview(request, kind, pk):
    model, _form, _title = _kind(kind)
    require_perm(request, f"notify.change_{model._meta.model_name}")
    get_object_or_404(model, pk=pk)
    context = {"preview": _preview(request.POST.get("body", "")), "kind": kind}
    return render(request, "notify/partials/template_preview.html", context)


@login_required
def smstemplate_list(request):
    return _template_list(request, "sms")


@login_required
def smstemplate_edit(request, pk):
    return _template_edit(request, "sms", pk)


@login_required
@require_POST
def smstemplate_preview(request, pk):
    return _template_preview(request, "sms", pk)


@login_required
def lettertemplate_list(request):
    return _template_list(request, "letter")


@login_required
def lettertemplate_edit(request, pk):
    return _template_edit(request, "letter", pk)


@login_required
@require_POST
def lettertemplate_preview(request, pk):
    return _template_preview(request, "letter", pk)


# --- Letters --------------------------------------------------------------------------------


def _pdf(content: bytes, name: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}-{stamp}.pdf"'
    return response


def _task_rows(qs):
    return qs.select_related("patient", "visit", "department", "stage", "policy", "assignee")


@login_required
def letter_batch(request):
    """F5 channel letter: a supervisor merges the selected due letter tasks into one PDF."""
    require_perm(request, "notify.print_letter")
    user = request.user
    due = _task_rows(
        FollowUpTask.objects.visible_to(user).filter(channel=Channel.LETTER, status=TaskStatus.DUE)
    ).order_by("window_start", "pk")
    form = LetterBatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wanted = [v for v in request.POST.getlist("task") if v.isdigit()]
        tasks = list(due.filter(pk__in=wanted))
        if not tasks:
            messages.error(request, _("请先勾选要打印信函的任务。"))
            return redirect("notify:letter_batch")
        try:
            pdf = letters.letters_pdf(tasks, request=request, by=user)
        except services.NotifyError as exc:
            messages.error(request, str(exc))
            return redirect("notify:letter_batch")
        if form.cleaned_data["complete"]:
            _complete_all(tasks, user)
        return _pdf(pdf, "letters")
    return render(
        request,
        "notify/letter_batch.html",
        {"tasks": due[:500], "form": form, "title": _("回访信函")},
    )


def _complete_all(tasks, user) -> None:
    from careloop.followup.services import ServiceError, complete_task

    with transaction.atomic():
        for task in tasks:
            try:
                complete_task(task, by=user)
            except ServiceError:
                continue  # completed by someone else meanwhile


# --- Home visits ----------------------------------------------------------------------------


def _home_visits(user):
    qs = _task_rows(
        FollowUpTask.objects.visible_to(user).filter(
            channel=Channel.HOME_VISIT, status__in=OPEN_STATUSES
        )
    )
    if not user.has_role(Role.HEAD_NURSE):
        qs = qs.filter(assignee=user)
    return qs


def _responsible(user, task) -> bool:
    """The address is for the nurse who visits (the assignee) and the ward's head nurse."""
    if not user.has_perm("patients.reveal_patient"):
        return False
    if task.assignee_id == user.pk:
        return True
    return user.has_role(Role.HEAD_NURSE) and task.department_id in user.department_ids


def _require_nurse(request) -> None:
    """Home visits are the wards' work (F2): the responsible nurses and their head nurse."""
    require_perm(request, "followup.view_followuptask")
    if not request.user.has_role(Role.NURSE, Role.HEAD_NURSE):
        raise PermissionDenied


def _home_visit(request, pk):
    _require_nurse(request)
    task = get_object_or_404(_home_visits(request.user), pk=pk)
    if not _responsible(request.user, task):
        raise PermissionDenied
    return task


@login_required
def home_visits(request):
    """F2: the responsible nurse's open home visits (the head nurse: the ward's)."""
    _require_nurse(request)
    tasks = _home_visits(request.user).order_by("window_start", "pk")
    return render(request, "notify/home_visits.html", {"tasks": tasks, "title": _("上门回访")})


@login_required
@require_POST
def home_visit_reveal(request, pk):
    task = _home_visit(request, pk)
    address = letters.reveal_address(task, request=request, purpose="上门回访")
    return render(
        request, "notify/partials/home_visit_address.html", {"task": task, "address": address}
    )


@login_required
def home_visit_sheet(request, pk):
    task = _home_visit(request, pk)
    return _pdf(letters.visit_sheet_pdf(task, request=request), f"home-visit-{task.pk}")


# --- Gateway callbacks ----------------------------------------------------------------------


def _authorised(request) -> bool:
    expected = settings.SMS_CALLBACK_TOKEN
    given = request.headers.get("X-CareLoop-Token") or request.GET.get("token") or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _payload(request) -> dict:
    if "json" in (request.content_type or ""):
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise services.NotifyError("请求体不是合法的 JSON") from exc
        if not isinstance(data, dict):
            raise services.NotifyError("请求体应为 JSON 对象")
        return {k: "" if v is None else str(v) for k, v in data.items()}
    return {k: request.POST.get(k, "") for k in request.POST}


@csrf_exempt
@require_POST
def sms_callback(request):
    """S4: the gateway's delivery receipt {id, status: delivered|failed, error}."""
    if not _authorised(request):
        return HttpResponseForbidden()
    try:
        data = _payload(request)
        updated = services.record_delivery(
            data.get("id", ""), data.get("status", ""), data.get("error", "")
        )
    except services.NotifyError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    if not updated:
        return JsonResponse({"ok": False, "error": "未找到该短信"}, status=404)
    return JsonResponse({"ok": True, "updated": updated})


@csrf_exempt
@require_POST
def sms_inbound(request):
    """A patient's reply {phone, text}; "TD" records a refusal (E6)."""
    if not _authorised(request):
        return HttpResponseForbidden()
    try:
        data = _payload(request)
        inbound = services.receive_reply(data.get("phone", ""), data.get("text", ""))
    except services.NotifyError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    return JsonResponse(
        {"ok": True, "opt_out": inbound.opt_out, "matched_patients": inbound.matched_patients}
    )


# --- Inbox (issue 6) ------------------------------------------------------------------------
# Every lookup is ``recipient=request.user``: the inbox is each user's own; no permission is
# needed and nobody sees, opens or marks another user's notifications.

INBOX_PAGE_SIZE = 50


@login_required
def inbox(request):
    show = "unread" if request.GET.get("show") == "unread" else "all"
    q = (request.GET.get("q") or "").strip()[:100]
    qs = Notification.objects.filter(recipient=request.user)
    if show == "unread":
        qs = qs.filter(read_at__isnull=True)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q))
    unread_first = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    qs = qs.order_by(unread_first.desc(), "-created_at", "-pk")
    page = Paginator(qs, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "show": show,
        "q": q,
        "query": urlencode({k: v for k, v in (("show", show), ("q", q)) if v and v != "all"}),
    }
    if request.htmx:
        return render(request, "notify/partials/inbox_list.html", context)
    return render(request, "notify/inbox.html", context)


def _inbox_target(request, notification) -> str:
    url = notification.url or ""
    # Only an internal path: a notification must never send its reader to another site.
    if (
        url.startswith("/")
        and not url.startswith("//")
        and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure())
    ):
        return url
    return reverse("notify:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def notification_open(request, pk):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    inbox_service.mark_read(request.user, [notification.pk])
    return redirect(_inbox_target(request, notification))


@login_required
@require_POST
def inbox_read_all(request):
    count = inbox_service.mark_read(request.user)
    messages.success(request, _("已将 %(n)s 条通知标为已读。") % {"n": count})
    return redirect("notify:inbox")
