from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from careloop.org.models import RosterEntry

logger = logging.getLogger(__name__)


@login_required
def home(request):
    user = request.user
    now = timezone.localtime()
    my_duty = (
        RosterEntry.objects.filter(staff=user, date__gte=now.date())
        .select_related("shift", "department", "team")
        .order_by("date", "shift__start")[:7]
    )
    context = {
        "roles": user.roles,
        "departments": user.departments.order_by("code"),
        "my_duty": my_duty,
        "password_days_left": _password_days_left(user, now),
        "dashboard": _dashboard(user, now),
    }
    return render(request, "core/home.html", context)


def _dashboard(user, now):
    """The per-role dashboard of the reports app, loaded by name: nothing outside reports
    imports reports (CONVENTIONS), and the home page still renders without it."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, "CARELOOP_DASHBOARD", "careloop.reports.dashboard.build")
    if not path:
        return None
    try:
        build = import_string(path)
    except ImportError:
        logger.warning("dashboard %s could not be imported", path, exc_info=True)
        return None
    return build(user, now=now)


def _password_days_left(user, now):
    from django.conf import settings

    if not settings.PASSWORD_MAX_AGE_DAYS or user.password_changed_at is None:
        return None
    return settings.PASSWORD_MAX_AGE_DAYS - (now - user.password_changed_at).days


def healthz(request):
    """For the load balancer: the database answers."""
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
