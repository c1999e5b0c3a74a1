"""O3 for reports: whose numbers a user may see.

Reports count tasks of many departments at once, so instead of ``visible_to`` on one model they
take the list of departments the user's roles reach: None for the whole hospital, a list for
"own department" roles (a department head sees only their department), empty for nobody.
"""

from __future__ import annotations

from careloop.accounts.roles import Scope

VIEW = "reports.view_monthlysnapshot"
EXPORT = "reports.export_report"
REFRESH = "reports.refresh_report"
SUMMARY = "reports.view_summary"


def department_ids(user) -> list[int] | None:
    """None = every department; [] = none (also for users without the report permission)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if not user.has_perm(VIEW):
        return []
    if user.scope == Scope.ALL:
        return None
    if user.scope == Scope.OWN:
        return list(user.department_ids)
    return []


def narrow(requested: list[int] | None, allowed: list[int] | None) -> list[int] | None:
    """The departments asked for (None: all), limited to what the user may see."""
    if allowed is None:
        return requested
    if requested is None:
        return list(allowed)
    return [d for d in requested if d in set(allowed)]
