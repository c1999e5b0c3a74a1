from django.db import models
from django.utils.translation import gettext_lazy as _


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("待医生确认")
    ACKNOWLEDGED = "acknowledged", _("医生已确认")
    CLOSED = "closed", _("已处理")


# F11 (seed 000 九.3): what an agent hears that a doctor must handle.
ESCALATION_REASONS = [
    ("post_op", _("术后不适")),
    ("psychological", _("心理压力过大")),
    ("worsening", _("症状加重")),
    ("medication", _("用药问题")),
    ("other", _("其他")),
]
