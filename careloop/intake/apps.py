from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "careloop.intake"
    label = "intake"
    verbose_name = _("HIS 数据接入")

    def ready(self):
        from careloop.core.importing import register_importer

        register_importer(
            "visits", "careloop.intake.importer.import_visits_command", "患者与就诊（SPEC §9）"
        )
