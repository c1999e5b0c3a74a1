"""The patient timeline (P2): one list of dated entries that later apps add providers to
(follow-up tasks, records, cases). A provider gets the patient and the user and returns entries
from records the user may see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from careloop.patients.choices import VisitStatus


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # a short key for styling: visit, discharge, event, …
    title: str
    detail: str = ""
    url: str = ""


_PROVIDERS: list[Callable] = []


def register(provider: Callable) -> Callable:
    _PROVIDERS.append(provider)
    return provider


def timeline(patient, user, visits) -> list[Entry]:
    entries: list[Entry] = []
    for provider in _PROVIDERS:
        entries.extend(provider(patient, user, visits))
    return sorted(entries, key=lambda e: e.at, reverse=True)


@register
def visit_entries(patient, user, visits):
    for visit in visits:
        start = visit.admitted_at or visit.visit_at
        cancelled = _("（已取消）") if visit.status == VisitStatus.CANCELLED else ""
        if start:
            title = _("入院") if visit.visit_type == "inpatient" else visit.get_visit_type_display()
            yield Entry(
                start,
                "visit",
                f"{title}{cancelled} · {visit.department}",
                f"{visit} {visit.attending_doctor_name}",
            )
        if visit.discharged_at:
            detail = visit.get_disposition_display() if visit.disposition else ""
            yield Entry(
                visit.discharged_at, "discharge", _("出院") + f" · {visit.department}", detail
            )


@register
def event_entries(patient, user, visits):
    visible = {v.pk for v in visits}
    for event in patient.events.all():
        if event.visit_id is None or event.visit_id in visible:
            yield Entry(event.occurred_at, "event", event.get_kind_display(), _describe(event))


def _describe(event) -> str:
    detail = event.detail or {}
    if "from" in detail and "to" in detail:
        return f"{detail['from']} → {detail['to']}"
    return ""
