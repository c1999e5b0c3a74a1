"""O2 staff accounts; S1 password history and expiry; the optional TOTP second factor."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.accounts.roles import ADMIN_DUTIES, Role, scope_for_roles
from careloop.core.fields import BlindIndexField, EncryptedTextField
from careloop.lib.masking import mask_phone, normalize_phone

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def is_mainland_mobile(value: str | None) -> bool:
    """11 digits starting 13–19 once +86, spaces and dashes are gone; a landline is not one."""
    return bool(MOBILE_RE.match(normalize_phone(value)))


class UserManager(DjangoUserManager):
    def _create_user_object(self, username, email, password, **extra_fields):
        user = super()._create_user_object(username, email, password, **extra_fields)
        # set_password (not make_password) so the first password enters the S1 history on save.
        user.set_password(password)
        return user


class User(AbstractUser):
    """A staff account. Roles are groups named by role slug; departments give the O3 scope."""

    staff_no = models.CharField(_("工号"), max_length=32, unique=True, null=True, blank=True)
    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    title = models.CharField(_("职称/职务"), max_length=64, blank=True)
    phone = EncryptedTextField(_("手机号"), mask=mask_phone)
    phone_bidx = BlindIndexField(source="phone", normalizer=normalize_phone, purpose="phone")
    departments = models.ManyToManyField(
        "org.Department", verbose_name=_("所属科室"), blank=True, related_name="staff"
    )
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)
    totp_secret = EncryptedTextField(_("动态口令密钥"))
    totp_enabled = models.BooleanField(_("已启用动态口令"), default=False)
    # Issue 6: the user's own choice to also get inbox notifications by SMS (to ``phone``).
    sms_alerts = models.BooleanField(_("短信提醒"), default=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("员工账户")
        verbose_name_plural = _("员工账户")
        ordering = ["username"]
        permissions = [
            ("unlock_user", _("解除账户锁定")),
            ("reset_totp", _("重置动态口令")),
            ("assign_roles", _("分配角色")),
        ]

    def __str__(self) -> str:
        return f"{self.display_name}（{self.username}）"

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @cached_property
    def role_slugs(self) -> frozenset[str]:
        if not self.pk or not self.is_active:
            return frozenset()
        valid = {r.value for r in Role}
        return frozenset(n for n in self.groups.values_list("name", flat=True) if n in valid)

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_slugs & set(roles))

    @property
    def roles(self) -> list[Role]:
        return [r for r in Role if r.value in self.role_slugs]

    @property
    def scope(self) -> str:
        return scope_for_roles(self.role_slugs)

    @cached_property
    def department_ids(self) -> frozenset[int]:
        if not self.pk:
            return frozenset()
        return frozenset(self.departments.values_list("pk", flat=True))

    @property
    def is_admin_duty(self) -> bool:
        return bool(self.role_slugs & ADMIN_DUTIES)

    def password_expired(self, now=None) -> bool:
        days = settings.PASSWORD_MAX_AGE_DAYS
        if self.must_change_password:
            return True
        if not days or self.password_changed_at is None:
            return False
        return (now or timezone.now()) - self.password_changed_at > timedelta(days=days)

    @property
    def sms_alert_phone(self) -> str:
        """Where inbox SMS go: the mobile, only when the user asked for SMS alerts (issue 6)."""
        if not self.sms_alerts or not is_mainland_mobile(self.phone):
            return ""
        return normalize_phone(self.phone)

    def totp_required(self) -> bool:
        return settings.TOTP_REQUIRED_FOR_ADMINS and self.is_admin_duty


class PasswordHistory(models.Model):
    """S1: the last N password hashes, so that none of them is reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(_("密码散列"), max_length=128)
    created_at = models.DateTimeField(_("设置时间"), default=timezone.now)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d %H:%M}"
