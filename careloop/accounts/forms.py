from __future__ import annotations

import pyotp
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from careloop.accounts.models import User, is_mainland_mobile
from careloop.lib.masking import normalize_phone


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("用户名或密码错误。连续 %(limit)s 次错误将锁定账户 %(minutes)s 分钟。"),
        "inactive": _("该账户已停用，请联系系统管理员。"),
    }

    def get_invalid_login_error(self):
        from django.conf import settings

        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={
                "limit": settings.AXES_FAILURE_LIMIT,
                "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            },
        )


class TotpForm(forms.Form):
    code = forms.RegexField(
        label=_("动态口令"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("请输入 6 位数字动态口令。")},
        widget=forms.TextInput(
            attrs={"autofocus": True, "inputmode": "numeric", "autocomplete": "one-time-code"}
        ),
    )

    def __init__(self, *args, secret: str, **kwargs):
        self.secret = secret
        super().__init__(*args, **kwargs)

    def clean_code(self):
        code = self.cleaned_data["code"]
        if not pyotp.TOTP(self.secret).verify(code, valid_window=1):
            raise forms.ValidationError(_("动态口令不正确或已过期。"))
        return code


class ChangePasswordForm(PasswordChangeForm):
    pass


class MySettingsForm(forms.ModelForm):
    """个人设置 (issue 6): the user's own mobile and whether inbox notifications also come by
    SMS. The mobile is the account's ``phone`` (the same number the system admin sees)."""

    phone = forms.CharField(
        label=_("手机号"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("11 位中国大陆手机号，用于接收短信提醒。"),
    )

    class Meta:
        model = User
        fields = ["phone", "sms_alerts"]
        help_texts = {"sms_alerts": _("有新通知时，除站内消息外再发一条短信到上面的手机号。")}

    def clean_phone(self):
        value = (self.cleaned_data.get("phone") or "").strip()
        if not value:
            return ""
        if not is_mainland_mobile(value):
            raise forms.ValidationError(
                _("请输入 11 位中国大陆手机号（如 13800138000）。"), code="invalid_mobile"
            )
        return normalize_phone(value)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("sms_alerts") and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("开启短信提醒须先填写手机号。"))
        return cleaned
