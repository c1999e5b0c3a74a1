from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    name = "careloop.patients"
    label = "patients"
    verbose_name = _("患者档案")

    def ready(self):
        from careloop.audit.services import register
        from careloop.patients import models

        for model in (models.Patient, models.PatientPhone, models.Visit, models.Diagnosis):
            register(model)
