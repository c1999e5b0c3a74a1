"""S2: the auditor's search-and-export page. Only the auditor role may read the log —
not the system admin, not a superuser (三员分立)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from careloop.accounts.roles import Role
from careloop.audit.choices import Action
from careloop.audit.filtersets import AuditEventFilterSet
from careloop.audit.models import AuditEvent
from careloop.audit.services import record_event
from careloop.core.exports import audited_export

EXPORT_COLUMNS = [
    ("时间", lambda e: timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S")),
    ("操作人账号", lambda e: e.actor_name),
    ("操作", lambda e: e.get_action_display()),
    ("对象类型", lambda e: e.object_type),
    ("对象编号", lambda e: e.object_id),
    ("对象", lambda e: e.object_repr),
    ("变更", lambda e: json.dumps(e.changes, ensure_ascii=False) if e.changes else ""),
    ("说明", lambda e: e.message),
    ("IP 地址", lambda e: e.ip or ""),
    ("请求地址", lambda e: e.path),
    ("客户端", lambda e: e.user_agent),
]


def require_auditor(request):
    if not request.user.has_role(Role.AUDITOR):
        record_event(
            Action.ACCESS_DENIED,
            request=request,
            object_type="audit.auditevent",
            message=_("非审计员访问审计日志"),
        )
        raise PermissionDenied(_("只有审计员可以查看审计日志。"))


def _filtered(request):
    filterset = AuditEventFilterSet(request.GET or None, queryset=AuditEvent.objects.all())
    return filterset, filterset.qs if filterset.is_valid() else AuditEvent.objects.none()


@login_required
def event_list(request):
    require_auditor(request)
    filterset, qs = _filtered(request)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "audit/partials/event_table.html" if request.htmx else "audit/auditevent_list.html"
    return render(
        request, template, {"filter": filterset, "page_obj": page, "query": query.urlencode()}
    )


@login_required
def event_export(request):
    require_auditor(request)
    _filterset, qs = _filtered(request)
    return audited_export(
        request, queryset=qs, name="audit", sheet="审计日志", columns=EXPORT_COLUMNS
    )
