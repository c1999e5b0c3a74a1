from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "careloop.calendars"
    label = "calendars"
    verbose_name = _("工作日历")

    def ready(self):
        from careloop.audit.services import register
        from careloop.calendars import models

        register(models.CalendarDay)
        register(models.CalendarYear)
