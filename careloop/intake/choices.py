from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    FINISHED = "finished", _("已完成")
    FAILED = "failed", _("失败")


class MessageStatus(models.TextChoices):
    APPLIED = "applied", _("已处理")
    DUPLICATE = "duplicate", _("重复（已忽略）")
    FAILED = "failed", _("失败（死信）")
    DISCARDED = "discarded", _("已丢弃")
