from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "careloop.jobs"
    label = "jobs"
    verbose_name = _("后台任务")

    def ready(self):
        # Jobs of this app; later apps register theirs in their own ready().
        from careloop.jobs import builtin  # noqa: F401
