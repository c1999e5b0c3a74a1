from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    name = "careloop.patients"
    label = "patients"
    verbose_name = _("患者档案")

    def ready(self):
        from careloop.audit.services import register
        from careloop.patients import models

        # Phones and diagnoses are parts of a patient or visit: intake rewrites them in bulk and is
        # audited per import, message or request; a per-row trail of them would only add cost.
        for model in (models.Patient, models.Visit):
            register(model)
