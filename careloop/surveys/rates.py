"""Q3: the satisfaction rate, computed here and nowhere else.

Satisfaction rate of a dimension = (很好 + 好) / all ratings of that dimension (top-two box), or
很好 / all ratings (top box) when ``CARELOOP_SATISFACTION_MODE = "top_box"``. The rate is a
percentage with two decimals (85.71 means 85.71%), like the policies' target rates; None when
there is no rating to divide by — "no data" is not 0%.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from careloop.surveys.choices import Rating

TOP2 = "top2"
TOP_BOX = "top_box"
MODES = (TOP2, TOP_BOX)
SATISFIED = {TOP2: (Rating.VERY_GOOD, Rating.GOOD), TOP_BOX: (Rating.VERY_GOOD,)}
RATINGS = tuple(Rating.values)
CENT = Decimal("0.01")


def satisfaction_rate(counts: dict[str, int], mode: str = TOP2) -> Decimal | None:
    """Q3 over counts per rating ({"very_good": 3, "good": 1, "fair": 0, "poor": 1} → 80.00).

    Keys other than the four ratings are ignored; missing ratings count 0.
    """
    if mode not in MODES:
        raise ValueError(f"满意率算法应为 {' 或 '.join(MODES)}，实际为 {mode!r}")
    total = sum(int(counts.get(r, 0) or 0) for r in RATINGS)
    if total <= 0:
        return None
    satisfied = sum(int(counts.get(r, 0) or 0) for r in SATISFIED[mode])
    return (Decimal(satisfied) * 100 / Decimal(total)).quantize(CENT, rounding=ROUND_HALF_UP)


def configured_mode() -> str:
    """The hospital's choice (setting ``CARELOOP_SATISFACTION_MODE``), default top-two box."""
    from django.conf import settings

    return getattr(settings, "CARELOOP_SATISFACTION_MODE", TOP2) or TOP2


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(RATINGS, 0)


def dimension_counts(responses_queryset) -> dict[str, dict[str, int]]:
    """Ratings per dimension over the given responses: {"attitude": {"very_good": 3, …}, …}.

    Every dimension that has at least one rating appears, with all four ratings (zero-filled).
    The caller scopes the queryset (``Response.objects.visible_to(user)``, O3).
    """
    from django.db.models import Count

    from careloop.surveys.models import Answer

    rows = (
        Answer.objects.filter(response__in=responses_queryset.values("pk"))
        .exclude(rating="")
        .exclude(dimension="")
        .order_by()
        .values_list("dimension", "rating")
        .annotate(n=Count("pk"))
    )
    result: dict[str, dict[str, int]] = {}
    for dimension, rating, n in rows:
        result.setdefault(dimension, empty_counts())[rating] = n
    return result


def dimension_rates(responses_queryset, mode: str | None = None) -> dict[str, Decimal | None]:
    """Q3 per dimension over the responses, in the configured mode unless one is given."""
    mode = mode or configured_mode()
    return {
        dim: satisfaction_rate(counts, mode)
        for dim, counts in dimension_counts(responses_queryset).items()
    }
