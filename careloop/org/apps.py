from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "careloop.org"
    label = "org"
    verbose_name = _("组织机构")

    def ready(self):
        from careloop.audit.services import register
        from careloop.core.importing import register_importer
        from careloop.org import models

        register_importer(
            "departments", "careloop.org.importers.import_departments", "科室（SPEC §9）"
        )
        for model in (
            models.Campus,
            models.Department,
            models.Team,
            models.ShiftPattern,
            models.RosterEntry,
            models.Leave,
        ):
            register(model)
