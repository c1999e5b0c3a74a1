"""The hourly deadline sweep (C3, C1, F11), through the jobs registry (see apps.py)."""

from careloop.cases.services import sweep_deadlines


def sweep():
    return sweep_deadlines()
