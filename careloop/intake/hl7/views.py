"""P4.2 pages: every HL7 message, searchable; the dead letters with retry and discard.

Reading needs ``intake.view_hl7message``, acting ``intake.change_hl7message``. The stored text
holds patient data, so it is shown masked (P3) unless the viewer may reveal and asks to; every
view of a message and every reveal is audited (S2).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.permissions import require_perm
from careloop.intake.choices import MessageStatus
from careloop.intake.hl7.display import message_lines
from careloop.intake.hl7.filtersets import HL7MessageFilterSet
from careloop.intake.hl7.services import NotADeadLetter, discard_message, retry_message
from careloop.intake.models import HL7Message

VIEW, CHANGE, REVEAL = (
    "intake.view_hl7message",
    "intake.change_hl7message",
    "patients.reveal_patient",
)


def _visible(user, action="view"):
    # HL7Message is organisation-wide (no department yet when it arrives): permission only (O3).
    return HL7Message.objects.visible_to(user, action).defer("raw")


@login_required
def hl7message_list(request):
    require_perm(request, VIEW)
    filterset = HL7MessageFilterSet(request.GET or None, queryset=_visible(request.user))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "intake/hl7message_results.html" if request.htmx else "intake/hl7message_list.html"
    return render(
        request, template, {"filter": filterset, "page_obj": page, "query": query.urlencode()}
    )


@login_required
def hl7message_detail(request, pk):
    require_perm(request, VIEW)
    message = get_object_or_404(_visible(request.user).defer(None), pk=pk)
    reveal = request.GET.get("reveal") == "1" and request.user.has_perm(REVEAL)
    record_event(Action.REVEAL if reveal else Action.VIEW, request=request, obj=message)
    context = {
        "message": message,
        "lines": message_lines(message.raw, reveal=reveal),
        "revealed": reveal,
        "can_reveal": request.user.has_perm(REVEAL),
        "can_act": request.user.has_perm(CHANGE) and message.status == MessageStatus.FAILED,
    }
    return render(request, "intake/hl7message_detail.html", context)


@login_required
@require_POST
def hl7message_retry(request, pk):
    require_perm(request, CHANGE)
    message = get_object_or_404(_visible(request.user, "change"), pk=pk)
    try:
        ack = retry_message(message, by=request.user)
    except NotADeadLetter:
        messages.error(request, _("该消息已不是失败状态，无法重试。"))
    else:
        if ack.code == "AA":
            messages.success(request, _("重试成功，消息已处理。"))
        else:
            messages.error(request, _("重试仍失败：%(reason)s") % {"reason": ack.text})
    return redirect("intake:hl7message_detail", pk=pk)


@login_required
@require_POST
def hl7message_discard(request, pk):
    require_perm(request, CHANGE)
    message = get_object_or_404(_visible(request.user, "change"), pk=pk)
    try:
        discard_message(message, by=request.user, note=request.POST.get("note", "")[:200])
    except NotADeadLetter:
        messages.error(request, _("该消息已不是失败状态，无法丢弃。"))
    else:
        messages.success(request, _("已丢弃该消息。"))
    return redirect("intake:hl7message_detail", pk=pk)
