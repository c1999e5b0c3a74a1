"""R5 definitions as plain functions: rates, percent, Figures and its JSON form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from careloop.reports.definitions import (
    COUNT_FIELDS,
    R1_DIMENSIONS,
    Figures,
    contact_success_rate,
    figures_from_dict,
    figures_to_dict,
    followup_rate,
    on_time_rate,
    percent,
    rate,
    total,
)

VG, G, F, P = "very_good", "good", "fair", "poor"


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 0, None),  # no data is not 0%
        (3, 0, None),
        (0, 5, "0.00"),
        (5, 5, "100.00"),
        (1, 3, "33.33"),
        (2, 3, "66.67"),
        (6, 7, "85.71"),
        (5, 7, "71.43"),
        (1, 8, "12.50"),
        (7, 9, "77.78"),
        (1, 200, "0.50"),
        (1, 800, "0.13"),  # 0.125 rounds half up, not to even
        (3, 800, "0.38"),  # 0.375
        (1, 1600, "0.06"),  # 0.0625
        (123456, 123457, "100.00"),  # 99.9992 rounds to 100.00
    ],
)
def test_rate_R5(numerator, denominator, expected):
    got = rate(numerator, denominator)
    assert got == (None if expected is None else Decimal(expected))
    if got is not None:
        assert str(got) == expected  # always two decimals


@pytest.mark.parametrize(
    ("completed", "due", "expected"),
    [(10, 15, "66.67"), (4, 6, "66.67"), (0, 0, None), (0, 3, "0.00"), (3, 3, "100.00")],
)
def test_followup_rate_is_completed_over_due_R5(completed, due, expected):
    assert followup_rate(completed, due) == (expected and Decimal(expected))


@pytest.mark.parametrize(
    ("completed", "unreachable", "expected"),
    [(10, 2, "83.33"), (4, 1, "80.00"), (0, 0, None), (0, 4, "0.00"), (5, 0, "100.00")],
)
def test_contact_success_rate_is_completed_over_reached_or_not_R5(completed, unreachable, expected):
    assert contact_success_rate(completed, unreachable) == (expected and Decimal(expected))


@pytest.mark.parametrize(
    ("on_time", "completed", "expected"),
    [(8, 10, "80.00"), (3, 4, "75.00"), (0, 0, None), (0, 2, "0.00")],
)
def test_on_time_rate_R5(on_time, completed, expected):
    assert on_time_rate(on_time, completed) == (expected and Decimal(expected))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("85.71"), "85.71%"),
        (Decimal("100.00"), "100.00%"),
        (Decimal("0.00"), "0.00%"),
        (rate(2, 3), "66.67%"),
        (None, "—"),
    ],
)
def test_percent_R1(value, text):
    assert percent(value) == text


def cardio() -> Figures:
    return Figures(
        due=15, completed=10, unreachable=2, overdue=3, excluded=2, on_time=8, phone=7,
        home_visit=2, other_channel=1, discharges=17,
        ratings={"attitude": {VG: 4, G: 3, F: 1, P: 0}, "guidance": {VG: 2, G: 3, F: 1, P: 1}},
        overall={VG: 4, G: 3, F: 1, P: 1},
    )  # fmt: skip


def ortho() -> Figures:
    return Figures(
        due=6, completed=4, unreachable=1, overdue=1, excluded=2, on_time=3, phone=3,
        home_visit=1, other_channel=0, discharges=11,
        ratings={"attitude": {VG: 1, G: 1, F: 0, P: 1}, "skill": {VG: 1, G: 1, F: 1, P: 0}},
        overall={VG: 1, G: 1, F: 0, P: 1},
    )  # fmt: skip


def test_figures_rates_R5():
    f = cardio()
    assert (f.followup_rate, f.contact_success_rate, f.on_time_rate) == (
        Decimal("66.67"),
        Decimal("83.33"),
        Decimal("80.00"),
    )
    assert (f.phone_rate, f.home_visit_rate) == (Decimal("70.00"), Decimal("20.00"))
    empty = Figures()
    assert (empty.followup_rate, empty.contact_success_rate, empty.on_time_rate) == (None,) * 3
    assert (empty.phone_rate, empty.home_visit_rate) == (None, None)


def test_figures_satisfaction_by_dimension_Q3(settings):
    settings.CARELOOP_SATISFACTION_MODE = "top2"
    f = cardio()
    assert f.satisfaction("attitude") == Decimal("87.50")
    assert f.satisfaction("guidance") == Decimal("71.43")
    assert f.satisfaction("attitude", "top_box") == Decimal("50.00")
    assert f.overall_satisfaction() == Decimal("77.78")
    assert f.overall_satisfaction("top_box") == Decimal("44.44")
    # a dimension nobody rated: zero counts and no rate
    assert f.dimension("ethics") == {VG: 0, G: 0, F: 0, P: 0}
    assert f.satisfaction("ethics") is None
    assert Figures().overall_satisfaction() is None
    settings.CARELOOP_SATISFACTION_MODE = "top_box"
    assert f.satisfaction("guidance") == Decimal("28.57")
    assert f.overall_satisfaction() == Decimal("44.44")


def test_figures_add_sums_every_count_R5():
    s = cardio().add(ortho())
    assert {n: getattr(s, n) for n in COUNT_FIELDS} == {
        "due": 21, "completed": 14, "unreachable": 3, "overdue": 4, "excluded": 4, "on_time": 11,
        "phone": 10, "home_visit": 3, "other_channel": 1, "discharges": 28,
    }  # fmt: skip
    assert s.ratings == {
        "attitude": {VG: 5, G: 4, F: 1, P: 1},
        "guidance": {VG: 2, G: 3, F: 1, P: 1},
        "skill": {VG: 1, G: 1, F: 1, P: 0},
    }
    assert s.overall == {VG: 5, G: 4, F: 1, P: 2}
    # the hospital rate is recomputed from the sums, not averaged: 14/21
    assert s.followup_rate == Decimal("66.67")
    assert s.contact_success_rate == Decimal("82.35")  # 14/17


def test_figures_add_leaves_both_sides_alone_R5():
    a, b = cardio(), ortho()
    a.add(b)
    assert a == cardio() and b == ortho()


def test_figures_add_with_partial_rating_dicts_R5():
    a = Figures(ratings={"attitude": {G: 2}}, overall={VG: 1})
    b = Figures(ratings={"attitude": {P: 1}})
    s = a.add(b)
    assert s.ratings == {"attitude": {VG: 0, G: 2, F: 0, P: 1}}
    assert s.overall == {VG: 1, G: 0, F: 0, P: 0}


def test_total_R5():
    assert total([]) == Figures()
    assert total([cardio()]) == cardio().add(Figures())
    assert total([cardio(), ortho(), Figures()]) == cardio().add(ortho())
    assert total(iter([cardio(), ortho()])).completed == 14


@pytest.mark.parametrize("make", [Figures, cardio, ortho], ids=["empty", "cardio", "ortho"])
def test_figures_dict_round_trip_R1(make):
    f = make()
    data = figures_to_dict(f)
    assert set(data) == {*COUNT_FIELDS, "ratings", "overall"}
    back = figures_from_dict(data)
    assert back == f
    assert figures_to_dict(back) == data


def test_figures_dict_is_json_plain_R1():
    import json

    data = figures_to_dict(cardio())
    assert json.loads(json.dumps(data)) == data
    # a copy: changing the dict does not change the figures
    data["ratings"]["attitude"][VG] = 99
    assert cardio().ratings["attitude"][VG] == 4


def test_figures_from_an_old_or_partial_dict_R1():
    f = figures_from_dict({"completed": "3", "due": None, "ratings": {"skill": {"good": "2"}}})
    assert (f.completed, f.due, f.unreachable) == (3, 0, 0)
    assert f.ratings == {"skill": {VG: 0, G: 2, F: 0, P: 0}}
    assert f.overall == {VG: 0, G: 0, F: 0, P: 0}
    assert figures_from_dict({}) == Figures()


def test_r1_dimensions_are_the_paper_form_columns_R1():
    assert R1_DIMENSIONS == ("attitude", "guidance", "skill", "ethics")
