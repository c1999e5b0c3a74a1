from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "careloop.surveys"
    label = "surveys"
    verbose_name = _("满意度调查")

    def ready(self):
        from django.db.models.signals import post_migrate

        from careloop.audit.services import register
        from careloop.surveys import models
        from careloop.surveys.presets import ensure_presets_after_migrate

        post_migrate.connect(ensure_presets_after_migrate, dispatch_uid="surveys-presets")
        # Who changed a questionnaire and when (S2); answers are patient data and are not copied
        # into the log.
        for model in (models.Questionnaire, models.QuestionnaireVersion, models.Question):
            register(model)

        from careloop.notify.services import register_context_provider
        from careloop.surveys.services import survey_link_for_sms

        register_context_provider(survey_link_for_sms)
