"""R5: the definitions every report, screen and export uses — plain functions over counts.

A task belongs to a period by one date, so no task is counted in two months (R5: "tasks whose
window closed or that finished in the period"):

- a finished task (completed or unreachable) by the earlier of its finishing day and its window's
  last day — a call made late still counts in the month its window closed, a call made early in
  the month it was made;
- an open task (planned, due, in progress) by its window's last day, once that day has passed;
  until then it is not yet due;
- an excluded task by its window's last day, counted as excluded and never as due;
- a cancelled task nowhere (the visit was cancelled or the task superseded).

Then:

- due (应访) = completed + unreachable + open-and-overdue (exclusions are not due);
- follow-up rate (回访率) = completed / due;
- contact success rate (回访成功率) = completed / (completed + unreachable);
- on-time rate (及时率) = completed inside the window / completed;
- satisfaction rate of a dimension (Q3) = (很好 + 好) / all its ratings (``surveys.rates``);
- loop-closure rate (C3) = satisfied / re-followed (``cases.services.loop_closure``).

Rates are percentages with two decimals (85.71 means 85.71%), None when the denominator is 0 —
"no data" is not 0%.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from careloop.surveys.rates import RATINGS, empty_counts, satisfaction_rate

CENT = Decimal("0.01")

# R1: the four dimensions of the paper form, in its column order (Q2).
R1_DIMENSIONS = ("attitude", "guidance", "skill", "ethics")


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator as a percentage with two decimals; None when nothing to divide."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def followup_rate(completed: int, due: int) -> Decimal | None:
    """R5 回访率 = completed / due."""
    return rate(completed, due)


def contact_success_rate(completed: int, unreachable: int) -> Decimal | None:
    """R5 回访成功率 = completed / (completed + unreachable)."""
    return rate(completed, completed + unreachable)


def on_time_rate(on_time: int, completed: int) -> Decimal | None:
    """R5 及时率 = completed inside the window / completed."""
    return rate(on_time, completed)


def percent(value: Decimal | None) -> str:
    """How a rate is written on screen and on paper: "85.71%", or "—" without data."""
    return "—" if value is None else f"{value}%"


@dataclass
class Figures:
    """The R5 counts of one group of tasks (a department's month, an agent's day, …) and the
    rates derived from them. Counts are what the database returned; rates are never stored."""

    due: int = 0
    completed: int = 0
    unreachable: int = 0
    overdue: int = 0  # open tasks whose window has closed (due, not yet done)
    excluded: int = 0
    on_time: int = 0
    phone: int = 0  # completed by phone
    home_visit: int = 0  # completed by a home visit
    other_channel: int = 0  # completed by SMS, letter, WeChat
    discharges: int = 0  # R1 出院人数: inpatient discharges of the department in the period
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)  # dimension → rating → n
    overall: dict[str, int] = field(default_factory=empty_counts)  # 总评价 rating → n

    @property
    def followup_rate(self) -> Decimal | None:
        return followup_rate(self.completed, self.due)

    @property
    def contact_success_rate(self) -> Decimal | None:
        return contact_success_rate(self.completed, self.unreachable)

    @property
    def on_time_rate(self) -> Decimal | None:
        return on_time_rate(self.on_time, self.completed)

    @property
    def phone_rate(self) -> Decimal | None:
        """R1 电话(率): the share of the follow-ups done by phone."""
        return rate(self.phone, self.completed)

    @property
    def home_visit_rate(self) -> Decimal | None:
        """R1 上门(率): the share of the follow-ups done at home."""
        return rate(self.home_visit, self.completed)

    def dimension(self, dim: str) -> dict[str, int]:
        return self.ratings.get(dim) or empty_counts()

    def satisfaction(self, dim: str, mode: str | None = None) -> Decimal | None:
        """Q3 for one dimension."""
        from careloop.surveys.rates import configured_mode

        return satisfaction_rate(self.dimension(dim), mode or configured_mode())

    def overall_satisfaction(self, mode: str | None = None) -> Decimal | None:
        """R1 满意率 (and R4's ranking figure): Q3 over the 总评价 of the follow-ups."""
        from careloop.surveys.rates import configured_mode

        return satisfaction_rate(self.overall, mode or configured_mode())

    def add(self, other: Figures) -> Figures:
        """The sum of two groups (a hospital total is the sum of its departments)."""
        out = Figures()
        for name in COUNT_FIELDS:
            setattr(out, name, getattr(self, name) + getattr(other, name))
        for source in (self.ratings, other.ratings):
            for dim, counts in source.items():
                target = out.ratings.setdefault(dim, empty_counts())
                for r in RATINGS:
                    target[r] += counts.get(r, 0)
        for r in RATINGS:
            out.overall[r] = self.overall.get(r, 0) + other.overall.get(r, 0)
        return out


def total(figures) -> Figures:
    out = Figures()
    for f in figures:
        out = out.add(f)
    return out


COUNT_FIELDS = (
    "due",
    "completed",
    "unreachable",
    "overdue",
    "excluded",
    "on_time",
    "phone",
    "home_visit",
    "other_channel",
    "discharges",
)


def figures_to_dict(f: Figures) -> dict:
    data = {name: getattr(f, name) for name in COUNT_FIELDS}
    data["ratings"] = {dim: dict(counts) for dim, counts in f.ratings.items()}
    data["overall"] = dict(f.overall)
    return data


def figures_from_dict(data: dict) -> Figures:
    f = Figures(**{name: int(data.get(name, 0) or 0) for name in COUNT_FIELDS})
    for dim, counts in (data.get("ratings") or {}).items():
        f.ratings[dim] = {**empty_counts(), **{k: int(v) for k, v in counts.items()}}
    f.overall = {**empty_counts(), **{k: int(v) for k, v in (data.get("overall") or {}).items()}}
    return f
