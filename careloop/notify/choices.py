from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    """S4: an SMS in the outbox, from queued to the gateway's delivery receipt."""

    QUEUED = "queued", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")
    CANCELLED = "cancelled", _("已取消")


# Placeholders a template may use (F10 style); any other {…} is refused by the form.
PLACEHOLDERS = {
    "患者姓名": _("患者姓名"),
    "称呼": _("先生/女士"),
    "医院": _("医院名称"),
    "科室": _("科室名称"),
    "链接": _("问卷或其他链接"),
    "出院日期": _("出院日期"),
}

# Replies that mean "stop sending me messages" (退订), compared trimmed and case-insensitive.
OPT_OUT_REPLIES = frozenset({"td", "t", "退订"})
