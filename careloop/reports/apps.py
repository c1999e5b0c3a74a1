from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "careloop.reports"
    label = "reports"
    verbose_name = _("统计报表")

    def ready(self):
        from careloop.jobs import registry

        registry.register(
            "reports-monthly",
            "careloop.reports.jobs.monthly_summaries",
            daily_at=time(2, 30),
            description=_(
                "月度统计与领导汇总（R1、R3）：上月尚未生成时关闭上月统计并生成月度汇总，"
                "季度末之后同时生成季度汇总；停机后次日补生成"
            ),
        )
