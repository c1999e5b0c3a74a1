"""Periodic planner runs (through the jobs registry, see apps.py)."""

from careloop.followup.planner import plan


def plan_changes():
    """Incremental: what intake and P5 events changed since the last run."""
    return plan()


def plan_daily():
    """Daily: windows that open today become due and pool tasks are shared out (F7, F12)."""
    return plan()
