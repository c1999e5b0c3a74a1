"""R4 rule, as plain values: ranking, bottom two, six consecutive months, award year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from careloop.reports import periods
from careloop.reports.ranking import (
    Evidence,
    all_runs,
    bottom_two_runs,
    flags,
    rank_month,
    year_flags,
)


def months_from(year: int, month: int, n: int) -> list[dt.date]:
    out = [dt.date(year, month, 1)]
    while len(out) < n:
        last = out[-1]
        out.append(dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1))
    return out[:n]


# A month where C is last and D second last: A 95, B 90, C 70, D 80.
D_AND_C_LAST = {"A": D("95"), "B": D("90"), "C": D("70"), "D": D("80")}
# A month where C and D are fine: A and B are last.
A_AND_B_LAST = {"A": D("60"), "B": D("65"), "C": D("90"), "D": D("95")}


def series(pattern: str, start=(2026, 1)):
    """[(month, rates)] from a pattern of "x" (C in the bottom two), "." (C fine) and
    "-" (no data for anyone that month)."""
    out = []
    for month, p in zip(months_from(*start, len(pattern)), pattern, strict=True):
        rates = {"x": D_AND_C_LAST, ".": A_AND_B_LAST, "-": {}}[p]
        out.append((month, rates))
    return out


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        # (department, rank, bottom two)
        ({"A": D("95"), "B": D("90"), "C": D("80"), "D": D("70")},
         [("A", 1, False), ("B", 2, False), ("C", 3, True), ("D", 4, True)]),
        # Ties share a rank, the next rank skips; a tie at the boundary: both 80s and the 70.
        ({"A": D("90"), "B": D("80"), "C": D("80"), "D": D("70")},
         [("A", 1, False), ("B", 2, True), ("C", 2, True), ("D", 4, True)]),
        # Two tied last: only they (the 80 has two strictly below it).
        ({"A": D("90"), "B": D("80"), "C": D("70"), "D": D("70")},
         [("A", 1, False), ("B", 2, False), ("C", 3, True), ("D", 3, True)]),
        # Three tied last: all three.
        ({"A": D("90"), "B": D("70"), "C": D("70"), "D": D("70")},
         [("A", 1, False), ("B", 2, True), ("C", 2, True), ("D", 2, True)]),
        # No rate → not ranked; three ranked remain.
        ({"A": D("90"), "B": None, "C": D("80"), "D": D("70")},
         [("A", 1, False), ("C", 2, True), ("D", 3, True)]),
        # Exactly three ranked: the last two.
        ({"A": D("100"), "B": D("99.99"), "C": D("99.98")},
         [("A", 1, False), ("B", 2, True), ("C", 3, True)]),
        # Two ranked (or one): nobody is in "the bottom two".
        ({"A": D("90"), "B": D("50"), "C": None}, [("A", 1, False), ("B", 2, False)]),
        ({"A": D("50")}, [("A", 1, False)]),
        ({}, []),
        # Tied for first is never "last": only the 90.
        ({"A": D("100"), "B": D("100"), "C": D("100"), "D": D("90")},
         [("A", 1, False), ("B", 1, False), ("C", 1, False), ("D", 4, True)]),
        # Everyone equal: nobody is beaten, nobody is last.
        ({"A": D("80"), "B": D("80"), "C": D("80")},
         [("A", 1, False), ("B", 1, False), ("C", 1, False)]),
    ],
)  # fmt: skip
def test_rank_month_competition_ranking_and_bottom_two_R4(rates, expected):
    got = rank_month(rates)
    assert [(e.department_id, e.rank, e.bottom_two) for e in got] == expected
    assert {e.ranked for e in got} <= {len(expected)}


@pytest.mark.parametrize(
    ("pattern", "run", "flagged"),
    [
        ("xxxxxx", 6, True),  # exactly six consecutive months flags
        ("xxxxx", 5, False),  # five does not
        ("xxxxx.xxxxx", 5, False),  # 5 + a month out of the bottom two + 5
        ("xxxxx-xxxxx", 5, False),  # 5 + a month without data + 5
        ("xxx-xxx", 3, False),  # a month with no data inside the run resets
        ("xxxxxxx", 7, True),  # seven: still flagged, run 7
        ("xxxxxx.", 0, False),  # the run ended: no current flag
        (".xxxxxx", 6, True),
        ("", None, False),
    ],
)
def test_six_consecutive_bottom_two_months_flag_R4(pattern, run, flagged):
    monthly = series(pattern)
    runs = bottom_two_runs(monthly)
    if run is None:
        assert runs == {}
    else:
        assert runs["C"].length == run
        assert runs["C"].flagged is flagged
    assert ("C" in flags(monthly)) is flagged


def test_month_without_the_department_resets_its_run_R4():
    # Months 1–5 C is last; month 6 C has no 总评价 (not ranked, the others still are); 7–11 last.
    without_c = {"A": D("95"), "B": D("90"), "C": None, "D": D("80")}
    monthly = series("x" * 11)
    monthly[5] = (monthly[5][0], without_c)
    assert bottom_two_runs(monthly)["C"].length == 5
    # D stays in the bottom two all eleven months (last of three in month 6).
    assert {d: r.length for d, r in flags(monthly).items()} == {"D": 11}
    assert [(r.department_id, r.length) for r in all_runs(monthly) if r.department_id == "C"] == [
        ("C", 5),
        ("C", 5),
    ]


def test_missing_calendar_month_resets_R4():
    # Jan–Mar and May–Jul 2026 given, April absent from the data altogether.
    monthly = series("xxx") + series("xxx", start=(2026, 5))
    assert bottom_two_runs(monthly)["C"].length == 3
    assert flags(monthly) == {}


def test_months_given_out_of_order_are_sorted_R4():
    monthly = series("xxxxxx")
    assert flags(list(reversed(monthly)))["C"].length == 6


def test_month_given_twice_is_refused_R4():
    monthly = series("xx")
    with pytest.raises(ValueError, match="given twice"):
        bottom_two_runs([*monthly, monthly[0]])


def test_months_as_periods_R4():
    monthly = [(periods.month(m.year, m.month), rates) for m, rates in series("xxxxxx")]
    assert flags(monthly)["C"].last == dt.date(2026, 6, 1)


def test_fewer_than_three_ranked_flags_nobody_R4():
    two = {"A": D("99"), "C": D("10"), "D": None}
    monthly = [(m, two) for m in months_from(2026, 1, 8)]
    assert flags(monthly) == {}
    assert {d: r.length for d, r in bottom_two_runs(monthly).items()} == {"A": 0, "C": 0, "D": 0}


def test_ties_at_the_boundary_all_count_R4():
    # Six months of B and C tied second-last above D: all three are bottom two every month.
    tie = {"A": D("95"), "B": D("80"), "C": D("80"), "D": D("70")}
    monthly = [(m, tie) for m in months_from(2026, 1, 6)]
    assert sorted(flags(monthly)) == ["B", "C", "D"]
    # B one point better in month 4: two departments are strictly below it → its run resets.
    monthly[3] = (monthly[3][0], {**tie, "B": D("81")})
    got = bottom_two_runs(monthly)
    assert (got["B"].length, got["C"].length, got["D"].length) == (2, 6, 6)
    assert sorted(flags(monthly)) == ["C", "D"]


def test_evidence_is_the_months_with_rate_rank_and_count_R4():
    monthly = series("xxxxxxx", start=(2025, 11))
    monthly[-1] = (monthly[-1][0], {**D_AND_C_LAST, "E": D("99")})
    run = flags(monthly)["C"]
    assert run.months == (
        Evidence(dt.date(2025, 11, 1), D("70"), 4, 4),
        Evidence(dt.date(2025, 12, 1), D("70"), 4, 4),
        Evidence(dt.date(2026, 1, 1), D("70"), 4, 4),
        Evidence(dt.date(2026, 2, 1), D("70"), 4, 4),
        Evidence(dt.date(2026, 3, 1), D("70"), 4, 4),
        Evidence(dt.date(2026, 4, 1), D("70"), 4, 4),
        Evidence(dt.date(2026, 5, 1), D("70"), 5, 5),
    )
    assert flags(monthly)["D"].months[-1] == Evidence(dt.date(2026, 5, 1), D("80"), 4, 5)


@pytest.mark.parametrize(
    ("start", "pattern", "years"),
    [
        # Sep 2025 – Feb 2026: six months end in 2026 → barred in 2026, not 2025.
        ((2025, 9), "xxxxxx", {2026: 6}),
        # May – Oct 2025, then fine: 2025 only.
        ((2025, 5), "xxxxxx...", {2025: 6}),
        # May 2025 – Jan 2026 (nine months): reaches six in 2025, still six-or-more in 2026.
        ((2025, 5), "xxxxxxxxx", {2025: 8, 2026: 9}),
        # Aug – Dec 2025 is five months, then January 2026 fine: nothing.
        ((2025, 8), "xxxxx.", {}),
        # Five in 2025, a gap, five in 2026: nothing.
        ((2025, 8), "xxxxx-xxxxx", {}),
    ],
)
def test_award_year_of_a_run_R4(start, pattern, years):
    monthly = series(pattern, start=start)
    got = {y: year_flags(monthly, y) for y in (2025, 2026)}
    assert {y: f["C"][0].length for y, f in got.items() if "C" in f} == years
    for y, f in got.items():
        if "C" in f:
            # The evidence stops at the year's end.
            assert f["C"][0].last <= dt.date(y, 12, 1)
