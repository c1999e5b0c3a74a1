"""Housekeeping jobs of the foundation."""

from datetime import time, timedelta

from django.utils.translation import gettext_lazy as _

from careloop.jobs import registry


def clear_expired_sessions():
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return {"deleted_sessions": deleted}


def prune_task_results():
    """Finished background-task results older than 30 days are removed (the audit log is not)."""
    from datetime import timedelta as td

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - td(days=30)
    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=cutoff).delete()
    return {"deleted_task_results": deleted}


registry.register(
    "clear-sessions",
    "careloop.jobs.builtin.clear_expired_sessions",
    every=timedelta(hours=1),
    description=_("清理过期的登录会话"),
)
registry.register(
    "prune-task-results",
    "careloop.jobs.builtin.prune_task_results",
    daily_at=time(3, 15),
    description=_("清理 30 天前已完成的后台任务记录"),
)
