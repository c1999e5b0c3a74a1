"""Background import (P4.1): the upload page enqueues, the worker runs and reports progress."""

from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks import task

from careloop.audit.context import Actor, acting_as
from careloop.intake.choices import RunStatus
from careloop.intake.importer import run_import
from careloop.intake.models import ImportRun
from careloop.lib.tabular import TabularError

logger = logging.getLogger("careloop.intake")


@task()
def run_import_task(run_id: int) -> dict:
    run = ImportRun.objects.select_related("created_by").get(pk=run_id)
    if run.status == RunStatus.FINISHED:
        return {"skipped": "already finished"}  # a retried task after success does nothing
    actor = Actor(
        name=run.created_by.username if run.created_by else "system:import",
        user_id=run.created_by_id,
    )
    with acting_as(actor):
        try:
            run_import(run, run.stored_path)
        except (TabularError, OSError) as exc:
            run.status, run.finished_at, run.message = RunStatus.FAILED, timezone.now(), str(exc)
            run.save(update_fields=["status", "finished_at", "message"])
            return {"failed": str(exc)}
    return {
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "failed": run.failed,
    }
