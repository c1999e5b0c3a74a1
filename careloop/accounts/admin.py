"""Account administration (三员分立): the system admin creates and edits accounts and
departments; only the security admin assigns roles, unlocks accounts and resets TOTP; nobody
edits their own roles; the three admin duties never meet in one account."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from careloop.accounts.models import User
from careloop.accounts.roles import ADMIN_SITE_ROLES, Role, role_conflicts


def _admin_site_permission(request):
    user = request.user
    return user.is_active and user.is_authenticated and user.has_role(*ADMIN_SITE_ROLES)


admin.site.has_permission = _admin_site_permission
_admin_view = admin.site.admin_view


def _admin_view_or_403(view, cacheable=False):
    """A signed-in user without an admin duty gets 403, not the admin's own login form."""
    inner = _admin_view(view, cacheable)

    @wraps(inner)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated and not _admin_site_permission(request):
            raise PermissionDenied(_("只有系统管理员和安全管理员可以进入系统管理。"))
        return inner(request, *args, **kwargs)

    return wrapper


admin.site.admin_view = _admin_view_or_403
admin.site.unregister(Group)


# What the system admin edits; roles ("groups") are the security admin's.
PROFILE_FIELDS = [
    "username",
    "full_name",
    "staff_no",
    "title",
    "phone",
    "email",
    "departments",
    "is_active",
    "must_change_password",
]


class RoleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        try:
            return Role(obj.name).label
        except ValueError:
            return obj.name


class UserForm(UserChangeForm):
    groups = RoleField(
        queryset=Group.objects.filter(name__in=[r.value for r in Role]).order_by("name"),
        required=False,
        label=_("角色"),
        widget=forms.CheckboxSelectMultiple,
    )
    phone = forms.CharField(label=_("手机号"), required=False)

    class Meta(UserChangeForm.Meta):
        model = User
        fields = [*PROFILE_FIELDS, "groups"]

    def clean_groups(self):
        groups = self.cleaned_data.get("groups") or []
        problems = role_conflicts([g.name for g in groups])
        if problems:
            raise ValidationError(problems)
        return groups


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserForm
    list_display = ["username", "full_name", "staff_no", "role_names", "is_active", "totp_enabled"]
    list_filter = ["is_active", "groups", "departments", "totp_enabled"]
    search_fields = ["username", "full_name", "staff_no"]
    filter_horizontal = ["departments"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("个人信息"), {"fields": ["full_name", "staff_no", "title", "phone", "email"]}),
        (_("角色与科室"), {"fields": ["groups", "departments"]}),
        (
            _("状态"),
            {
                "fields": [
                    "is_active",
                    "must_change_password",
                    "totp_enabled",
                    "password_changed_at",
                    "last_login",
                ]
            },
        ),
    ]
    add_fieldsets = [
        (None, {"fields": ["username", "full_name", "staff_no", "password1", "password2"]}),
    ]
    readonly_fields = ["password_changed_at", "last_login", "totp_enabled"]
    actions = ["unlock_accounts", "reset_totp"]

    @admin.display(description=_("角色"))
    def role_names(self, obj):
        return gettext("、").join(str(r.label) for r in obj.roles)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Only the security admin assigns roles, and never their own.
        if not request.user.has_perm("accounts.assign_roles") or (
            obj is not None and obj.pk == request.user.pk
        ):
            fields.append("groups")
        if not request.user.has_perm("accounts.change_user"):
            fields += PROFILE_FIELDS
        return fields

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("accounts.change_user") or request.user.has_perm(
            "accounts.assign_roles"
        )

    def has_delete_permission(self, request, obj=None):
        # Accounts are deactivated, never deleted: the audit log and records refer to them.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("accounts.unlock_user"):
            actions.pop("unlock_accounts", None)
        if not request.user.has_perm("accounts.reset_totp"):
            actions.pop("reset_totp", None)
        return actions

    @admin.action(description=_("解除所选账户的登录锁定"))
    def unlock_accounts(self, request, queryset):
        from axes.utils import reset

        total = sum(reset(username=u.username) for u in queryset)
        messages.success(request, _("已解除锁定：%(n)d 条失败记录已清除。") % {"n": total})

    @admin.action(description=_("重置所选账户的动态口令"))
    def reset_totp(self, request, queryset):
        for user in queryset:
            user.totp_enabled = False
            user.totp_secret = ""
            user.save(update_fields=["totp_enabled", "totp_secret"])
        messages.success(request, _("已重置 %(n)d 个账户的动态口令。") % {"n": queryset.count()})
