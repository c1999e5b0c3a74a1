from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "careloop.accounts"
    label = "accounts"
    verbose_name = _("账户与角色")

    def ready(self):
        from django.db.models.signals import post_migrate

        from careloop.accounts import roles
        from careloop.accounts.models import User
        from careloop.audit.services import register

        post_migrate.connect(roles.sync_role_groups_after_migrate)
        register(User)
