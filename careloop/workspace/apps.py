from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "careloop.workspace"
    label = "workspace"
    verbose_name = _("回访工作台")
