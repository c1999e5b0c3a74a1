"""Login with the optional second factor, logout, password change and TOTP setup (S1); the
user's own profile and settings (issue 6)."""

from __future__ import annotations

import io

import pyotp
import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careloop.accounts.forms import ChangePasswordForm, LoginForm, MySettingsForm, TotpForm
from careloop.audit.services import record_event

PENDING = "_careloop_pending_2fa"
MAX_TOTP_TRIES = 5


def _safe_next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if user.totp_enabled:
            # Password is right; the session is logged in only after the second factor.
            self.request.session[PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "next": _safe_next(self.request),
                "tries": 0,
            }
            return redirect("accounts:login_totp")
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def login_totp(request):
    pending = request.session.get(PENDING)
    if not pending:
        return redirect("accounts:login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None or not user.totp_enabled:
        request.session.pop(PENDING, None)
        return redirect("accounts:login")
    form = TotpForm(request.POST or None, secret=user.totp_secret)
    if request.method == "POST":
        if form.is_valid():
            request.session.pop(PENDING, None)
            login(request, user, backend=pending["backend"])
            return redirect(pending["next"] or "/")
        pending["tries"] += 1
        request.session[PENDING] = pending
        record_event(
            "login_failed",
            request=request,
            actor=None,
            message=_("动态口令错误：%(u)s") % {"u": user.username},
        )
        if pending["tries"] >= MAX_TOTP_TRIES:
            request.session.pop(PENDING, None)
            messages.error(request, _("动态口令连续错误次数过多，请重新登录。"))
            return redirect("accounts:login")
    return render(request, "accounts/login_totp.html", {"form": form})


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = ChangePasswordForm
    success_url = reverse_lazy("core:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


@login_required
@require_http_methods(["GET", "POST"])
def totp_setup(request):
    """Enrol an authenticator app: a fresh secret is held in the session until a code confirms it."""
    from django.conf import settings

    user = request.user
    if request.method == "POST" and request.POST.get("action") == "disable":
        if user.totp_required():
            messages.error(request, _("您的角色必须使用动态口令，不能停用。"))
        else:
            user.totp_enabled = False
            user.totp_secret = ""
            user.save(update_fields=["totp_enabled", "totp_secret"])
            messages.success(request, _("已停用动态口令。"))
        return redirect("accounts:totp_setup")
    secret = request.session.get("_careloop_totp_secret") or pyotp.random_base32()
    request.session["_careloop_totp_secret"] = secret
    form = TotpForm(request.POST or None, secret=secret)
    if request.method == "POST" and form.is_valid():
        user.totp_secret = secret
        user.totp_enabled = True
        user.save(update_fields=["totp_enabled", "totp_secret"])
        request.session.pop("_careloop_totp_secret", None)
        update_session_auth_hash(request, user)
        messages.success(request, _("动态口令已启用，今后登录时需要输入。"))
        return redirect("core:home")
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.TOTP_ISSUER)
    return render(
        request,
        "accounts/totp_setup.html",
        {"form": form, "secret": secret, "qr_svg": _qr_svg(uri), "enabled": user.totp_enabled},
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """个人信息 and 个人设置: a user edits only their own mobile and SMS alerts (issue 6); the
    change reaches the audit log through the User model's registration."""
    user = request.user
    form = MySettingsForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        # Only these columns: the row may have changed since the request loaded it (an admin
        # deactivating the account must not be undone by a settings save).
        form.save(commit=False).save(update_fields=["phone", "phone_bidx", "sms_alerts"])
        messages.success(request, _("个人设置已保存。"))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"profile_user": user, "form": form})
