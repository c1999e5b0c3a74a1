"""The periodic scheduler: no external cron. Each worker calls ``tick()`` between tasks; a due
job is claimed with a conditional UPDATE on ``next_run_at``, so it is enqueued once however many
workers tick at the same moment."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from careloop.jobs import registry
from careloop.jobs.models import ScheduledJob

logger = logging.getLogger("careloop.jobs")


def ensure_rows(now=None) -> None:
    now = now or timezone.now()
    existing = set(ScheduledJob.objects.values_list("name", flat=True))
    for spec in registry.all_jobs():
        if spec.name not in existing:
            try:
                with transaction.atomic():
                    ScheduledJob.objects.create(
                        name=spec.name, next_run_at=spec.next_run_after(now)
                    )
            except IntegrityError:
                pass  # another worker created it first


def tick(now=None) -> list[str]:
    """Enqueue every due job once; return the names enqueued by this call."""
    from careloop.jobs.tasks import run_job

    now = now or timezone.now()
    ensure_rows(now)
    enqueued = []
    for row in ScheduledJob.objects.filter(enabled=True, next_run_at__lte=now):
        try:
            spec = registry.get(row.name)
        except KeyError:
            continue  # a job whose code was removed
        claimed = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
            next_run_at=spec.next_run_after(now), last_enqueued_at=now, last_status="queued"
        )
        if claimed:
            run_job.enqueue(spec.name)
            enqueued.append(spec.name)
    if enqueued:
        logger.info("scheduler enqueued %s", ", ".join(enqueued))
    return enqueued


def run_now(name: str) -> None:
    """Enqueue a job immediately (the job page's “run now” button)."""
    from careloop.jobs.tasks import run_job

    registry.get(name)
    ensure_rows()
    ScheduledJob.objects.filter(name=name).update(
        last_enqueued_at=timezone.now(), last_status="queued"
    )
    run_job.enqueue(name)


def request_soon(name: str) -> None:
    """Bring a periodic job's next run forward to now, so the next scheduler tick enqueues it.
    Many requests before that tick make one run (the planner after each HL7 message)."""
    registry.get(name)
    now = timezone.now()
    updated = ScheduledJob.objects.filter(name=name, next_run_at__gt=now).update(next_run_at=now)
    if not updated and not ScheduledJob.objects.filter(name=name).exists():
        ensure_rows(now)
        ScheduledJob.objects.filter(name=name).update(next_run_at=now)
