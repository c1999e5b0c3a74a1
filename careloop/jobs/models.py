from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledJob(models.Model):
    """One row per registered periodic job: when it runs next, how the last run went.

    ``next_run_at`` is advanced with a conditional UPDATE, so with several workers sharing the
    database each due run is enqueued exactly once.
    """

    name = models.CharField(_("任务"), max_length=64, unique=True)
    enabled = models.BooleanField(_("启用"), default=True)
    next_run_at = models.DateTimeField(_("下次运行"))
    last_enqueued_at = models.DateTimeField(_("最近排队"), null=True, blank=True)
    last_started_at = models.DateTimeField(_("最近开始"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("最近结束"), null=True, blank=True)
    last_status = models.CharField(_("最近结果"), max_length=16, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    last_summary = models.JSONField(_("最近摘要"), null=True, blank=True)
    runs = models.PositiveIntegerField(_("成功次数"), default=0)
    failures = models.PositiveIntegerField(_("失败次数"), default=0)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
