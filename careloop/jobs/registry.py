"""The periodic job registry. Apps register jobs in ``AppConfig.ready()``:

    registry.register("plan-daily", "careloop.followup.jobs.plan_daily", daily_at=time(1, 30))
    registry.register("outbox", "careloop.notify.jobs.flush_outbox", every=timedelta(minutes=1))

A job function takes no arguments, must be idempotent (it may run twice after a crash or a
retry) and returns a short JSON-able summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class JobSpec:
    name: str
    func_path: str
    every: timedelta | None = None
    daily_at: time | None = None
    max_attempts: int = 3
    retry_delay: timedelta = timedelta(minutes=1)
    description: str = ""  # may be a lazy translation

    @property
    def func(self):
        return import_string(self.func_path)

    def next_run_after(self, moment: datetime) -> datetime:
        """The first scheduled time strictly after ``moment`` (aware datetimes, local time of day)."""
        if self.every is not None:
            return moment + self.every
        local = timezone.localtime(moment)
        candidate = local.replace(
            hour=self.daily_at.hour, minute=self.daily_at.minute, second=0, microsecond=0
        )
        if candidate <= local:
            candidate += timedelta(days=1)
        return candidate

    @property
    def schedule_text(self) -> str:
        from django.utils.translation import gettext

        if self.every is not None:
            minutes = int(self.every.total_seconds() // 60)
            if minutes < 60:
                return gettext("每 %(n)d 分钟") % {"n": minutes}
            return gettext("每 %(n)d 小时") % {"n": minutes // 60}
        return gettext("每天 %(t)s") % {"t": f"{self.daily_at:%H:%M}"}


_JOBS: dict[str, JobSpec] = {}


def register(
    name: str,
    func_path: str,
    *,
    every: timedelta | None = None,
    daily_at: time | None = None,
    max_attempts: int = 3,
    retry_delay: timedelta = timedelta(minutes=1),
    description: str = "",
) -> JobSpec:
    if (every is None) == (daily_at is None):
        raise ValueError("a job needs exactly one of every= or daily_at=")
    spec = JobSpec(name, func_path, every, daily_at, max_attempts, retry_delay, description)
    _JOBS[name] = spec
    return spec


def get(name: str) -> JobSpec:
    return _JOBS[name]


def all_jobs() -> list[JobSpec]:
    return sorted(_JOBS.values(), key=lambda j: j.name)
