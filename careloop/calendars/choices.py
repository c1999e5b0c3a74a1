from django.db import models
from django.utils.translation import gettext_lazy as _


class DaySource(models.TextChoices):
    OFFICIAL = "official", _("官方日历文件")
    MANUAL = "manual", _("手工调整")
