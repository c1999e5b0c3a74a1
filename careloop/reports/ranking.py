"""R4: departments ranked by satisfaction rate each month, and the six-months rule.

Seed 003 rule 10: 对病人满意率连续6个排名后2位的科室不得评选年度先进科室；所在科室主任、护士长不得评选
年度先进个人，并给予全院通报批评.

The rule in plain values (the functions at the top take no ORM, no request):

- A month's ranking figure is the department's 满意率 over the 总评价 of its follow-ups (Q3, kept in
  ``MonthlySnapshot.satisfaction``). A department without a rate (no 总评价 that month) is not
  ranked — "no data" is neither first nor last.
- Competition ranking: equal rates share a rank, the next rank skips (95, 90, 90, 80 → 1, 2, 2, 4).
- "排名后2位" (bottom two): fewer than two ranked departments have a strictly lower rate, so a tie
  at the boundary puts every tied department in the bottom two (90, 80, 80, 70 → 80, 80 and 70).
  Two guards:
  * at least three departments must be ranked. With two, both are "the last two" whatever their
    rates; with one, the only department is. The rule compares departments, and a comparison
    that every department loses whatever it does says nothing — nobody is marked that month;
  * a department no other department beats (rank 1) is never in the bottom two: when most
    departments tie at the top (100, 100, 100, 90), being "last" by a tie for first is not what
    the rule punishes.
- A run is consecutive calendar months in the bottom two. A month not in the bottom two resets
  it — so does a month in which the department has no rate, a month in which fewer than three
  departments were ranked, and a calendar month missing from the data altogether.
- Six consecutive months flag the department (five do not). The flag stays while the run goes on
  (seven months: still flagged, run 7).
- Award year: a department (and its head and head nurse) is barred in year Y when a run reaches
  six months in a month of Y — i.e. some six consecutive bottom-two months end inside Y. A run of
  2025-09…2026-02 bars 2026; a run of 2025-05…2025-10 bars 2025 only, unless it continues into
  2026 (then its six months ending in 2026-01 bar 2026 too).

The ORM adapter (``month_ranking``, ``year_ranking``) reads ``services.snapshots`` and the
department heads; the views only display what it returns.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

# The rule's numbers (seed 003 rule 10).
BOTTOM = 2  # 排名后2位
RUN_TO_FLAG = 6  # 连续6个(月)
MIN_RANKED = 3  # see the module docstring: with two or fewer, nobody is in "the bottom two"
# The most months the page reads back to measure a run (a run that long shows "≥").
WINDOW = 24


@dataclass(frozen=True)
class Ranked:
    """One department in one month's ranking."""

    department_id: Hashable
    rate: Decimal
    rank: int  # competition rank, 1 = best
    ranked: int  # how many departments were ranked that month
    bottom_two: bool


@dataclass(frozen=True)
class Evidence:
    """One month of a run: what the department scored and where that put it."""

    month: dt.date  # first day of the month
    rate: Decimal
    rank: int
    ranked: int


@dataclass(frozen=True)
class Run:
    """Consecutive bottom-two months of one department (possibly none: length 0)."""

    department_id: Hashable
    months: tuple[Evidence, ...] = ()

    @property
    def length(self) -> int:
        return len(self.months)

    @property
    def flagged(self) -> bool:
        return self.length >= RUN_TO_FLAG

    @property
    def first(self) -> dt.date | None:
        return self.months[0].month if self.months else None

    @property
    def last(self) -> dt.date | None:
        return self.months[-1].month if self.months else None

    def flag_years(self) -> set[int]:
        """The award years this run bars: the years of the months in which it is ≥ 6 long."""
        return {e.month.year for e in self.months[RUN_TO_FLAG - 1 :]}

    def until(self, last: dt.date) -> Run:
        """The run as it stood at the end of month ``last`` (the evidence for that year)."""
        return Run(self.department_id, tuple(e for e in self.months if e.month <= last))


def rank_month(rates: Mapping[Hashable, Decimal | None]) -> list[Ranked]:
    """R4: one month's ranking, best first; departments without a rate are left out.

    Ties share a rank and are listed by department id so the order is stable.
    """
    scored = [(d, Decimal(r)) for d, r in rates.items() if r is not None]
    values = [r for _d, r in scored]
    n = len(scored)
    out = []
    for dept, r in scored:
        higher = sum(1 for v in values if v > r)
        lower = sum(1 for v in values if v < r)
        bottom = n >= MIN_RANKED and lower < BOTTOM and higher > 0
        out.append(Ranked(dept, r, higher + 1, n, bottom))
    out.sort(key=lambda e: (e.rank, _sort_key(e.department_id)))
    return out


def _sort_key(value) -> tuple:
    # Department ids are ints in the database and often strings in tests; never compare the two.
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))


def month_start(month) -> dt.date:
    """A month given as a ``periods.Period``, a date or a datetime → its first day."""
    start = getattr(month, "start", month)
    if isinstance(start, dt.datetime):
        start = start.date()
    if not isinstance(start, dt.date):
        raise TypeError(f"not a month: {month!r}")
    return start.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), 1 if day.month == 12 else day.month + 1, 1)


def _months_in_order(monthly) -> list[tuple[dt.date, Mapping]]:
    rows = sorted(((month_start(m), rates) for m, rates in monthly), key=lambda row: row[0])
    for (a, _r1), (b, _r2) in itertools.pairwise(rows):
        if a == b:
            raise ValueError(f"month {a:%Y-%m} given twice")
    return rows


def all_runs(monthly: Iterable[tuple[object, Mapping]]) -> list[Run]:
    """Every maximal run of bottom-two months in the data, of any length, in order of ending.

    ``monthly`` is [(month, {department_id: rate or None})]; order does not matter, a calendar
    month missing between two given months counts as a month without data (it resets).
    """
    finished: list[Run] = []
    current: dict[Hashable, list[Evidence]] = {}
    previous: dt.date | None = None
    for start, rates in _months_in_order(monthly):
        if previous is not None and start != _next_month(previous):
            finished.extend(Run(d, tuple(ev)) for d, ev in current.items())
            current = {}
        previous = start
        bottom = {e.department_id: e for e in rank_month(rates) if e.bottom_two}
        for dept in list(current):
            if dept not in bottom:
                finished.append(Run(dept, tuple(current.pop(dept))))
        for dept, e in bottom.items():
            current.setdefault(dept, []).append(Evidence(start, e.rate, e.rank, e.ranked))
    finished.extend(Run(d, tuple(ev)) for d, ev in current.items())
    finished.sort(key=lambda run: (run.last, _sort_key(run.department_id)))
    return finished


def bottom_two_runs(monthly: Iterable[tuple[object, Mapping]]) -> dict[Hashable, Run]:
    """The current run of every department named in the data: the consecutive bottom-two
    months ending with the last month given (length 0 when it was not bottom-two then)."""
    rows = _months_in_order(monthly)
    if not rows:
        return {}
    last = rows[-1][0]
    out = {d: Run(d) for _m, rates in rows for d in rates}
    for run in all_runs(rows):
        if run.last == last:
            out[run.department_id] = run
    return out


def flags(monthly: Iterable[tuple[object, Mapping]]) -> dict[Hashable, Run]:
    """Departments whose current run has reached six months, with the run as evidence."""
    return {d: run for d, run in bottom_two_runs(monthly).items() if run.flagged}


def year_flags(monthly: Iterable[tuple[object, Mapping]], year: int) -> dict[Hashable, list[Run]]:
    """R4 award year: {department: [runs barring it in ``year``]} — each run cut at the year's
    end, so its evidence is what was known by 31 December."""
    end = dt.date(year, 12, 1)
    out: dict[Hashable, list[Run]] = {}
    for run in all_runs(monthly):
        if year in run.flag_years():
            out.setdefault(run.department_id, []).append(run.until(end))
    return out


# --- ORM adapter ---------------------------------------------------------------------------


@dataclass
class Row:
    """One department on the page."""

    department: object  # org.Department
    rate: Decimal | None
    rated: int
    rank: int | None  # None: not ranked (no 总评价)
    ranked: int
    bottom_two: bool
    run: Run
    heads: list[str] = field(default_factory=list)  # 科主任
    head_nurses: list[str] = field(default_factory=list)  # 护士长
    window_full: bool = False  # the run covers every month read: it may be longer

    @property
    def flagged(self) -> bool:
        return self.run.flagged


@dataclass
class MonthRanking:
    month: object  # periods.Period
    ranked: int  # departments ranked this month (the whole hospital, whatever the viewer sees)
    rows: list[Row]  # ranked best first, then the unranked by code
    months_read: int


@dataclass
class YearFlag:
    department: object
    runs: list[Run]
    heads: list[str]
    head_nurses: list[str]


def window(last, months: int = WINDOW) -> list:
    """The ``months`` calendar months ending with the Period ``last``, oldest first."""
    out = [last]
    # Reports start in 2000-01 (periods.month): an earlier month does not exist, so a window
    # near the start is shorter rather than an error.
    while len(out) < months and out[-1].start > dt.date(2000, 1, 1):
        out.append(out[-1].previous())
    return out[::-1]


def _rates(snaps: dict[dt.date, dict]) -> list[tuple[dt.date, dict]]:
    return [
        (start, {d: s.satisfaction for d, s in by_dept.items()}) for start, by_dept in snaps.items()
    ]


def leaders(department_ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    """{department_id: {"dept_head": [names], "head_nurse": [names]}} — the active users who
    hold the role in the department now (the rule names today's head and head nurse)."""
    from careloop.accounts.models import User
    from careloop.accounts.roles import Role

    ids = list(department_ids)
    out = {d: {Role.DEPT_HEAD.value: [], Role.HEAD_NURSE.value: []} for d in ids}
    rows = (
        User.objects.filter(
            is_active=True,
            departments__in=ids,
            groups__name__in=[Role.DEPT_HEAD, Role.HEAD_NURSE],
        )
        .values_list("departments", "groups__name", "full_name", "username")
        .order_by("username")
        .distinct()
    )
    for dept, role, full_name, username in rows:
        if dept in out and role in out[dept]:
            names = out[dept][role]
            name = full_name or username
            if name not in names:
                names.append(name)
    return out


def month_ranking(period, *, departments=None, today=None, months: int = WINDOW) -> MonthRanking:
    """R4 for the closed month ``period``: the whole hospital's ranking, showing only the rows of
    ``departments`` (None: all, O3). Snapshots missing for past months are generated."""
    from careloop.accounts.roles import Role
    from careloop.org.models import Department
    from careloop.reports.services import snapshots

    # Read back only as far as a run goes: six months settle the rule; a run as long as the
    # months read may go further, so read 12, then ``months``. (Months before the hospital's
    # first data hold no snapshot and are recounted on every read — keep that to a few.)
    for size in sorted({min(n, months) for n in (RUN_TO_FLAG, 2 * RUN_TO_FLAG, months)}):
        span = window(period, size)
        snaps = snapshots(span, today=today)
        runs = bottom_two_runs(_rates(snaps))
        if all(run.length < size for run in runs.values()):
            break
    this = snaps.get(period.start, {})
    ranking = {e.department_id: e for e in rank_month({d: s.satisfaction for d, s in this.items()})}
    shown = [d for d in this if departments is None or d in set(departments)]
    names = leaders(shown)
    depts = Department.objects.in_bulk(shown)
    rows = []
    for d in shown:
        e = ranking.get(d)
        run = runs.get(d) or Run(d)
        rows.append(
            Row(
                department=depts[d],
                rate=this[d].satisfaction,
                rated=this[d].rated,
                rank=e.rank if e else None,
                ranked=len(ranking),
                bottom_two=bool(e and e.bottom_two),
                run=run,
                heads=names[d][Role.DEPT_HEAD.value],
                head_nurses=names[d][Role.HEAD_NURSE.value],
                window_full=run.length == len(span),
            )
        )
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.department.code))
    return MonthRanking(period, len(ranking), rows, len(span))


def year_ranking(year: int, *, departments=None, today=None) -> list[YearFlag]:
    """R4 award year: departments barred in ``year`` (only ``departments`` shown; None: all).

    Reads August of the year before to December (or the last closed month): the evidence of a
    run that began before August starts there, which is enough to show its six months."""
    from careloop.accounts.roles import Role
    from careloop.org.models import Department
    from careloop.reports import periods
    from careloop.reports.services import snapshots

    last = periods.month(year, 12)
    closed = periods.last_month(today)
    if closed.start < last.start:
        last = closed
    # A run barring Y reaches six months in Y at the earliest in January: from August of Y-1.
    first = periods.month(year, 1)
    for _ in range(RUN_TO_FLAG - 1):
        if first.start <= dt.date(2000, 1, 1):
            break  # reports start in 2000-01
        first = first.previous()
    span = [p for p in window(last, WINDOW) if p.start >= first.start]
    found = year_flags(_rates(snapshots(span, today=today)), year)
    shown = [d for d in found if departments is None or d in set(departments)]
    names = leaders(shown)
    depts = Department.objects.in_bulk(shown)
    out = [
        YearFlag(
            depts[d],
            found[d],
            names[d][Role.DEPT_HEAD.value],
            names[d][Role.HEAD_NURSE.value],
        )
        for d in shown
    ]
    out.sort(key=lambda f: f.department.code)
    return out
