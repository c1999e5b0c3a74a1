"""Every periodic job runs through ``run_job``: it records the outcome and, on failure, enqueues
itself again after the job's retry delay until its attempts are used up."""

from __future__ import annotations

import logging
import traceback

from django.db.models import F
from django.utils import timezone
from django_tasks import task

from careloop.audit.context import Actor, acting_as
from careloop.jobs import registry
from careloop.jobs.models import ScheduledJob

logger = logging.getLogger("careloop.jobs")


@task()
def run_job(name: str, attempt: int = 1):
    spec = registry.get(name)
    ScheduledJob.objects.filter(name=name).update(last_started_at=timezone.now())
    try:
        with acting_as(Actor(name=f"system:{name}")):
            summary = spec.func()
    except Exception as exc:
        logger.exception("job %s failed (attempt %d/%d)", name, attempt, spec.max_attempts)
        ScheduledJob.objects.filter(name=name).update(
            last_finished_at=timezone.now(),
            last_status="retrying" if attempt < spec.max_attempts else "failed",
            last_error="".join(traceback.format_exception_only(exc)).strip()[:2000],
            failures=F("failures") + 1,
        )
        if attempt < spec.max_attempts:
            run_job.using(run_after=timezone.now() + spec.retry_delay * attempt).enqueue(
                name, attempt + 1
            )
        raise
    ScheduledJob.objects.filter(name=name).update(
        last_finished_at=timezone.now(),
        last_status="ok",
        last_error="",
        last_summary=summary
        if isinstance(summary, dict | list | str | int | None)
        else str(summary),
        runs=F("runs") + 1,
    )
    return summary
