from datetime import time, timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "careloop.followup"
    label = "followup"
    verbose_name = _("回访")

    def ready(self):
        from django.db.models.signals import post_migrate

        from careloop.audit.services import register
        from careloop.followup import models
        from careloop.followup.presets import ensure_presets_after_migrate
        from careloop.jobs import registry

        post_migrate.connect(ensure_presets_after_migrate, dispatch_uid="followup-presets")
        for model in (models.Policy, models.Stage):
            register(model)
        registry.register(
            "followup-plan",
            "careloop.followup.jobs.plan_changes",
            every=timedelta(minutes=5),
            description=_("回访计划：处理新导入和变更的就诊（导入、HL7、接口后立即运行）"),
        )
        registry.register(
            "followup-plan-daily",
            "careloop.followup.jobs.plan_daily",
            daily_at=time(1, 30),
            description=_("回访计划：每日开放窗口、分配任务、收回离岗人员的任务"),
        )
