from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "careloop.notify"
    label = "notify"
    verbose_name = _("短信与通知")

    def ready(self):
        from django.db.models.signals import post_migrate

        from careloop.audit.services import register
        from careloop.jobs import registry
        from careloop.notify import models
        from careloop.notify.defaults import ensure_templates_after_migrate

        post_migrate.connect(ensure_templates_after_migrate, dispatch_uid="notify-templates")
        for model in (models.SmsTemplate, models.LetterTemplate):
            register(model)
        registry.register(
            "notify-outbox",
            "careloop.notify.jobs.flush_outbox",
            every=timedelta(minutes=1),
            description=_("短信发件箱：发送到期短信、失败重试（仅 08:00–20:00 发送）"),
        )
        registry.register(
            "notify-sms-stages",
            "careloop.notify.jobs.sms_stages",
            every=timedelta(minutes=10),
            description=_("短信回访：为窗口已开放的短信回访任务生成短信"),
        )
