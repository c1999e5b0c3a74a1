from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "careloop.cases"
    label = "cases"
    verbose_name = _("投诉与处置")

    def ready(self):
        from django.db.models.signals import post_migrate

        from careloop.audit.services import register
        from careloop.cases import models
        from careloop.cases.presets import ensure_presets_after_migrate
        from careloop.jobs import registry

        post_migrate.connect(ensure_presets_after_migrate, dispatch_uid="cases-presets")
        for model in (models.DeadlineRule, models.CaseCategory, models.DisposalForm):
            register(model)
        registry.register(
            "cases-deadlines",
            "careloop.cases.jobs.sweep",
            every=timedelta(hours=1),
            description=_(
                "处理期限：临近期限提醒，逾期升级到客服主管、医务科（投诉、处置反馈表、临床转介）"
            ),
        )
