"""S1 session rules: idle timeout, absolute limit, forced password change and mandatory TOTP."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

LOGIN_AT = "_careloop_login_at"
LAST_SEEN = "_careloop_last_seen"
# Writing the session on every request would make each htmx poll a database write.
TOUCH_EVERY_SECONDS = 30


def _to_login(request, message: str):
    logout(request)
    messages.warning(request, message)
    url = reverse("accounts:login")
    if request.method == "GET" and not request.path.startswith("/api/"):
        url += "?" + urlencode({"next": request.get_full_path()})
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            session = request.session
            login_at = session.get(LOGIN_AT)
            last_seen = session.get(LAST_SEEN)
            idle = settings.SESSION_IDLE_MINUTES * 60
            if last_seen is not None and idle and now - last_seen > idle:
                return _to_login(
                    request,
                    _("您已 %(m)d 分钟无操作，为保护患者信息已自动退出，请重新登录。")
                    % {"m": settings.SESSION_IDLE_MINUTES},
                )
            limit = settings.SESSION_MAX_HOURS * 3600
            if login_at is not None and limit and now - login_at > limit:
                return _to_login(
                    request,
                    _("登录已超过 %(h)d 小时，请重新登录。") % {"h": settings.SESSION_MAX_HOURS},
                )
            if last_seen is None or now - last_seen >= TOUCH_EVERY_SECONDS:
                session[LAST_SEEN] = now
                if login_at is None:
                    session[LOGIN_AT] = now
        return self.get_response(request)


ALWAYS_ALLOWED_PREFIXES = (
    "/static/",
    "/i18n/",
    "/accounts/logout/",
    "/accounts/password/",
    "/accounts/totp/",
)


class AccountStateMiddleware:
    """An expired password or a missing mandatory second factor allows nothing but fixing it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(ALWAYS_ALLOWED_PREFIXES)
            and not request.path.startswith("/api/")
        ):
            if user.password_expired():
                messages.warning(request, _("您的密码已过期或须修改，请先设置新密码。"))
                return redirect("accounts:password_change")
            if user.totp_required() and not user.totp_enabled:
                messages.warning(
                    request, _("您的角色必须启用动态口令（双因素认证），请先完成设置。")
                )
                return redirect("accounts:totp_setup")
        return self.get_response(request)
