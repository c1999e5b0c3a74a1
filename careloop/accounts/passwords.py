"""S1 password rules: character classes and no reuse of the last N passwords.

The length rule is Django's MinimumLengthValidator; expiry is checked by AccountStateMiddleware.
"""

from __future__ import annotations

import string

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    classes = [
        any(c in string.ascii_lowercase for c in password),
        any(c in string.ascii_uppercase for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ]
    return sum(classes)


class CharacterClassValidator:
    """At least N of: lower-case letters, upper-case letters, digits, symbols (S1: three)."""

    def __init__(self, min_classes: int | None = None):
        self.min_classes = min_classes

    @property
    def required(self) -> int:
        return self.min_classes or settings.PASSWORD_MIN_CLASSES

    def validate(self, password, user=None):
        if character_classes(password) < self.required:
            raise ValidationError(
                _("密码须至少包含大写字母、小写字母、数字、符号中的 %(n)d 类。")
                % {"n": self.required},
                code="password_too_simple",
            )

    def get_help_text(self):
        return _("密码须至少包含大写字母、小写字母、数字、符号中的 %(n)d 类。") % {
            "n": self.required
        }


class HistoryValidator:
    """The new password may not equal any of the last N (S1: five)."""

    def validate(self, password, user=None):
        if user is None or not getattr(user, "pk", None):
            return
        n = settings.PASSWORD_HISTORY
        if n <= 0:
            return
        recent = list(user.password_history.values_list("password", flat=True)[:n])
        if user.password and user.password not in recent:
            recent.insert(0, user.password)
        if any(check_password(password, encoded) for encoded in recent[:n]):
            raise ValidationError(
                _("新密码不能与最近 %(n)d 次使用过的密码相同。") % {"n": n}, code="password_reused"
            )

    def password_changed(self, password, user=None):
        """Called by Django after set_password()+save(): remember the hash and when it changed."""
        from careloop.accounts.models import PasswordHistory

        if user is None or not user.pk:
            return
        PasswordHistory.objects.create(user=user, password=user.password)
        keep = set(
            user.password_history.values_list("pk", flat=True)[: max(settings.PASSWORD_HISTORY, 1)]
        )
        user.password_history.exclude(pk__in=keep).delete()
        type(user).objects.filter(pk=user.pk).update(
            password_changed_at=timezone.now(), must_change_password=False
        )
        user.password_changed_at = timezone.now()
        user.must_change_password = False

    def get_help_text(self):
        return _("不能与最近 %(n)d 次使用过的密码相同。") % {"n": settings.PASSWORD_HISTORY}
