"""R1: the monthly department table (病人回访科室第 N 月度统计表, seed 003) — one row per
department and the hospital total, built once and shared by the page, the Excel sheet and the
PDF so the three never disagree.

The numbers are R5's (``definitions``, ``queries.department_figures``); the table only decides
which departments get a row and how each cell reads. 回访率 is R5's completed / due, not
completed / discharges: a patient who died in hospital is excluded and never due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from careloop.reports.definitions import R1_DIMENSIONS, Figures, percent, total
from careloop.reports.periods import Period
from careloop.reports.queries import department_figures

# The paper's dimension headers, in its column order (出院指导 keeps the form's explanation).
# Labels are marked here and translated when a table is written (gettext at call time, so the
# Excel sheet and the PDF get plain strings in the user's language; Chinese is the paper's).
DIMENSION_HEADERS = {
    "attitude": N_("服务态度"),
    "guidance": N_("出院指导(膳食、服药、复诊、康复)"),
    "skill": N_("技术水平"),
    "ethics": N_("医德医风"),
}
# Short names for the drill-down title.
DIMENSION_NAMES = {
    "attitude": N_("服务态度"),
    "guidance": N_("出院指导"),
    "skill": N_("技术水平"),
    "ethics": N_("医德医风"),
}
RATING_HEADERS = (
    ("very_good", N_("很好")),
    ("good", N_("好")),
    ("fair", N_("一般")),
    ("poor", N_("差")),
)
TOTAL_LABEL = N_("合计")
FOOTERS = (N_("（一式两份，科室存档）"), N_("（一式两份，上报医务科）"))


def footers() -> list[str]:
    return [_(f) for f in FOOTERS]


@dataclass(frozen=True)
class Cell:
    """One number of the table: the text the paper shows, and what the drill-down opens.

    ``drill`` is None for a number with no list of its own; otherwise the query parameters
    (metric, dimension, rating) that ``queries.drill_tasks`` / ``drill_visits`` take.
    ``kind`` is "count" (an integer), "rate" (a percentage or None) or "count_rate" (电话(率)
    and 上门(率): the count with its share in brackets; ``value`` is the count).
    """

    text: str
    value: int | Decimal | None = None
    drill: dict | None = None
    kind: str = "count"


@dataclass
class Row:
    label: str
    department_id: int | None  # None for the 合计 row
    figures: Figures
    is_total: bool = False

    # --- the paper form's columns -----------------------------------------------------------
    def paper_cells(self) -> list[Cell]:
        f = self.figures
        cells = [
            _count(f.discharges, "discharges"),
            _count(f.completed, "completed"),
            _rate(f.followup_rate, "due"),
            _count_rate(f.phone, f.phone_rate, "phone"),
            _count_rate(f.home_visit, f.home_visit_rate, "home_visit"),
            _rate(f.overall_satisfaction(), None),
        ]
        for dim in R1_DIMENSIONS:
            counts = f.dimension(dim)
            for rating, _label in RATING_HEADERS:
                cells.append(_count(counts.get(rating, 0), "rating", dimension=dim, rating=rating))
            cells.append(_rate(f.satisfaction(dim), None))
        return cells

    # --- R5's extra columns (screen only) ---------------------------------------------------
    def extra_cells(self) -> list[Cell]:
        f = self.figures
        return [
            _count(f.due, "due"),
            _count(f.unreachable, "unreachable"),
            _count(f.excluded, "excluded"),
            _rate(f.contact_success_rate, None),
            _rate(f.on_time_rate, "completed"),
        ]


def _count(n: int, metric: str, **extra) -> Cell:
    return Cell(str(n), n, {"metric": metric, **extra})


def _rate(value: Decimal | None, denominator_metric: str | None) -> Cell:
    # A rate opens the list it is a share of (回访率 → the due tasks with their status).
    drill = {"metric": denominator_metric} if denominator_metric else None
    return Cell(percent(value), value, drill, kind="rate")


def _count_rate(n: int, value: Decimal | None, metric: str) -> Cell:
    """电话(率) / 上门(率): the count and its share of the follow-ups in one cell, as the form."""
    return Cell(f"{n}（{percent(value)}）", n, {"metric": metric}, kind="count_rate")


# Headers, shared by the screen, Excel and PDF: (top label, [leaf labels]) — a top label with
# one leaf equal to itself spans both header rows.
def paper_headers() -> list[tuple[str, list[str]]]:
    heads: list[tuple[str, list[str]]] = [
        (_("出院人数"), [_("出院人数")]),
        (_("回访人数"), [_("回访人数")]),
        (_("回访率"), [_("回访率")]),
        (_("回访方式"), [_("电话(率)"), _("上门(率)")]),
        (_("满意率"), [_("满意率")]),
    ]
    ratings = [_(label) for _r, label in RATING_HEADERS] + [_("满意率")]
    for dim in R1_DIMENSIONS:
        heads.append((_(DIMENSION_HEADERS[dim]), ratings))
    return heads


def extra_headers() -> list[str]:
    """R5's columns the screen adds after the paper's."""
    return [_("应访"), _("失访"), _("不予回访"), _("回访成功率"), _("及时率")]


@dataclass
class Table:
    period: Period
    rows: list[Row]
    total: Row | None
    department_label: str  # the 科室： line
    department_id: int | None  # the one department asked for, None for "all visible"
    policy: object | None = None
    today: dt.date | None = None
    hospital: str = field(default_factory=lambda: settings.HOSPITAL_NAME)

    @property
    def title(self) -> str:
        return _("%(hospital)s病人回访科室第%(month)s月度统计表") % {
            "hospital": self.hospital,
            "month": self.period.start.month,
        }

    @property
    def period_text(self) -> str:
        return _("%(label)s（%(start)s 至 %(last)s）") % {
            "label": self.period.label,
            "start": f"{self.period.start:%Y-%m-%d}",
            "last": f"{self.period.last:%Y-%m-%d}",
        }

    @property
    def all_rows(self) -> list[Row]:
        return [*self.rows, *([self.total] if self.total else [])]


def default_policy():
    """The policy the R1 page shows first (setting ``CARELOOP_R1_POLICY``, a slug; by default
    the wards' own 15–30-day call of seed 003, ``discharge-nurse``) when it is active; None
    (every policy) otherwise."""
    from django.conf import settings

    from careloop.followup.models import Policy

    slug = getattr(settings, "CARELOOP_R1_POLICY", "")
    if not slug:
        return None
    return Policy.objects.filter(slug=slug, is_active=True).first()


def build(
    period: Period,
    *,
    allowed: list[int] | None,
    department=None,
    policy=None,
    today: dt.date | None = None,
) -> Table:
    """The table for ``period``: ``allowed`` is ``scope.department_ids(user)`` (None = the
    whole hospital); ``department`` one Department inside it, or None for every visible one;
    ``policy`` a Policy to narrow the tasks to (discharges are never narrowed by policy)."""
    from careloop.org.choices import DepartmentKind
    from careloop.org.models import Department

    if department is not None:
        if allowed is not None and department.pk not in allowed:
            raise PermissionError("无权查看该科室的统计")
        wanted: list[int] | None = [department.pk]
    else:
        wanted = allowed
    figures = department_figures(
        period,
        departments=wanted,
        policies=[policy.pk] if policy is not None else None,
        today=today,
    )
    if department is not None:
        departments = [department]
    else:
        # Every department with something to count, and every active ward even with nothing:
        # a ward with no follow-up in a month is a finding, not a missing row.
        shown = Department.objects.filter(pk__in=list(figures)) | Department.objects.filter(
            kind=DepartmentKind.INPATIENT, is_active=True
        )
        if allowed is not None:
            shown = shown.filter(pk__in=allowed)
        departments = list(shown.distinct().order_by("code"))
    rows = [Row(d.name, d.pk, figures.get(d.pk) or Figures()) for d in departments]
    grand = None
    if len(rows) > 1:
        grand = Row(_(TOTAL_LABEL), None, total(r.figures for r in rows), is_total=True)
    if department is not None:
        label = department.name
    elif allowed is None:
        label = _("全院")
    else:
        label = _("、").join(d.name for d in departments)
    return Table(
        period=period,
        rows=rows,
        total=grand,
        department_label=label,
        department_id=department.pk if department is not None else None,
        policy=policy,
        today=today,
    )
