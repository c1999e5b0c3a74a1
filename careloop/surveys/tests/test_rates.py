"""Q3: the satisfaction rate and the ratings per dimension, in one place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from careloop.surveys.forms import ResponseForm
from careloop.surveys.models import Response
from careloop.surveys.rates import dimension_counts, dimension_rates, satisfaction_rate

from .conftest import answers


def counts(very_good=0, good=0, fair=0, poor=0):
    return {"very_good": very_good, "good": good, "fair": fair, "poor": poor}


@pytest.mark.parametrize(
    ("c", "top2", "top_box"),
    [
        (counts(3, 1, 0, 1), Decimal("80.00"), Decimal("60.00")),
        (counts(5, 1, 1, 0), Decimal("85.71"), Decimal("71.43")),
        (counts(1, 1, 1), Decimal("66.67"), Decimal("33.33")),
        (counts(0, 0, 2, 2), Decimal("0.00"), Decimal("0.00")),
        (counts(10), Decimal("100.00"), Decimal("100.00")),
        (counts(0, 7), Decimal("100.00"), Decimal("0.00")),
        (counts(2, 0, 0, 1), Decimal("66.67"), Decimal("66.67")),
        ({"good": 1, "poor": 1}, Decimal("50.00"), Decimal("0.00")),  # missing ratings count 0
        ({"very_good": 1, "no_answer": 5}, Decimal("100.00"), Decimal("100.00")),
    ],
)
def test_satisfaction_rate_top2_and_top_box_Q3(c, top2, top_box):
    assert satisfaction_rate(c) == top2
    assert satisfaction_rate(c, "top2") == top2
    assert satisfaction_rate(c, "top_box") == top_box


@pytest.mark.parametrize("c", [{}, counts(), {"other": 3}])
def test_satisfaction_rate_is_none_without_ratings_Q3(c):
    assert satisfaction_rate(c) is None
    assert satisfaction_rate(c, "top_box") is None


def test_satisfaction_rate_refuses_unknown_mode_Q3():
    with pytest.raises(ValueError, match="满意率算法"):
        satisfaction_rate(counts(1), "top3")


def _submit(version, **changes):
    form = ResponseForm(version, data=answers(**changes))
    assert form.is_valid(), form.errors
    return form.save()


def test_dimension_counts_over_responses_Q3(inpatient):
    _submit(inpatient)
    _submit(inpatient, attitude="poor", overall="poor", overall_reason="护士态度冷淡")
    _submit(inpatient, attitude="fair", guidance="very_good")
    result = dimension_counts(Response.objects.all())
    assert result == {
        "attitude": {"very_good": 1, "good": 0, "fair": 1, "poor": 1},
        "guidance": {"very_good": 1, "good": 2, "fair": 0, "poor": 0},
        "skill": {"very_good": 3, "good": 0, "fair": 0, "poor": 0},
        "ethics": {"very_good": 0, "good": 3, "fair": 0, "poor": 0},
        "overall": {"very_good": 0, "good": 2, "fair": 0, "poor": 1},
    }
    assert dimension_counts(Response.objects.none()) == {}


def test_dimension_rates_follow_the_setting_Q3(inpatient, settings):
    _submit(inpatient)
    _submit(inpatient, attitude="poor", overall="poor", overall_reason="护士态度冷淡")
    _submit(inpatient, attitude="fair", guidance="very_good")
    rates = dimension_rates(Response.objects.all())
    assert rates["attitude"] == Decimal("33.33")
    assert rates["ethics"] == Decimal("100.00")
    assert rates["overall"] == Decimal("66.67")
    settings.CARELOOP_SATISFACTION_MODE = "top_box"
    rates = dimension_rates(Response.objects.all())
    assert rates["attitude"] == Decimal("33.33")
    assert rates["ethics"] == Decimal("0.00")
    assert rates["guidance"] == Decimal("33.33")
