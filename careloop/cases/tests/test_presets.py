"""C2/C3 presets: the category tree and the deadline rules exist after migrate, ensuring them
again changes nothing, and the hospital's edits survive (presets.py: "never overwrite")."""

from __future__ import annotations

import pytest

from careloop.cases.choices import CaseKind, DeadlineSubject, DeadlineUnit, Severity
from careloop.cases.models import CaseCategory, DeadlineRule
from careloop.cases.presets import CATEGORIES, DEADLINE_RULES, ensure_case_presets

pytestmark = pytest.mark.django_db

CATEGORY_COUNT = len(CATEGORIES) + sum(len(children) for *_rest, children in CATEGORIES)


def rule_rows():
    return list(
        DeadlineRule.objects.order_by("pk").values_list(
            "subject", "kind", "severity", "amount", "unit", "warn_hours", "second_after"
        )
    )


def category_rows():
    return list(
        CaseCategory.objects.order_by("pk").values_list(
            "code", "name", "kind", "parent__code", "position", "is_active"
        )
    )


def test_migrate_created_the_presets_C3():
    # post_migrate (apps.py) ran when the test database was built.
    assert CATEGORY_COUNT == 31
    assert CaseCategory.objects.count() == 31
    assert sorted(rule_rows()) == sorted(
        [
            ("case", "", "", 7, "calendar_days", 48, 2),
            ("case", "complaint", "major", 3, "calendar_days", 24, 1),
            ("disposal_department", "", "", 3, "working_days", 24, 2),
            ("disposal_medical", "", "", 3, "working_days", 24, 2),
            ("escalation", "", "", 24, "hours", 4, 24),
            ("refollow", "", "", 3, "working_days", 24, 0),
        ]
    )
    assert len(DEADLINE_RULES) == 6
    nurse = CaseCategory.objects.get(code="attitude-nurse")
    assert (nurse.path, nurse.kind) == ("服务态度 › 护士", "")
    assert CaseCategory.objects.get(code="praise-banner").kind == CaseKind.PRAISE


def test_ensure_case_presets_is_idempotent_C3():
    ensure_case_presets()
    rules, categories = rule_rows(), category_rows()
    ensure_case_presets()
    ensure_case_presets()
    assert rule_rows() == rules
    assert category_rows() == categories


def test_ensure_case_presets_keeps_edited_rules_and_categories_C3():
    rule = DeadlineRule.objects.get(subject=DeadlineSubject.CASE, kind="", severity="")
    rule.amount, rule.unit, rule.warn_hours, rule.second_after = 5, DeadlineUnit.WORKING_DAYS, 8, 0
    rule.save()
    category = CaseCategory.objects.get(code="attitude")
    category.name, category.is_active = "服务态度（含窗口）", False
    category.save()
    ensure_case_presets()
    rule.refresh_from_db()
    assert (rule.amount, rule.unit, rule.warn_hours, rule.second_after) == (
        5,
        DeadlineUnit.WORKING_DAYS,
        8,
        0,
    )
    category.refresh_from_db()
    assert (category.name, category.is_active) == ("服务态度（含窗口）", False)
    assert DeadlineRule.objects.count() == 6 and CaseCategory.objects.count() == 31


def test_ensure_case_presets_recreates_a_deleted_rule_and_keeps_added_ones_C3():
    DeadlineRule.objects.filter(subject=DeadlineSubject.REFOLLOW).delete()
    DeadlineRule.objects.create(
        subject=DeadlineSubject.CASE, kind=CaseKind.COMPLAINT, severity=Severity.IMPORTANT,
        amount=5, unit=DeadlineUnit.CALENDAR_DAYS,
    )  # fmt: skip
    ensure_case_presets()
    refollow = DeadlineRule.objects.get(subject=DeadlineSubject.REFOLLOW)
    assert (refollow.amount, refollow.unit, refollow.second_after) == (
        3,
        DeadlineUnit.WORKING_DAYS,
        0,
    )
    important = DeadlineRule.objects.get(kind=CaseKind.COMPLAINT, severity=Severity.IMPORTANT)
    assert important.amount == 5
    assert DeadlineRule.objects.count() == 7


def test_rule_for_picks_the_most_specific_rule_C3():
    from careloop.cases.services import rule_for

    assert rule_for(DeadlineSubject.CASE, CaseKind.COMPLAINT, Severity.MAJOR).amount == 3
    assert rule_for(DeadlineSubject.CASE, CaseKind.COMPLAINT, Severity.GENERAL).amount == 7
    assert rule_for(DeadlineSubject.CASE, CaseKind.PRAISE, Severity.MAJOR).amount == 7
    DeadlineRule.objects.create(subject=DeadlineSubject.CASE, kind=CaseKind.PRAISE, amount=14)
    assert rule_for(DeadlineSubject.CASE, CaseKind.PRAISE, Severity.MAJOR).amount == 14
    # Without any row the built-in defaults hold (seed 003: 7 days).
    DeadlineRule.objects.all().delete()
    spec = rule_for(DeadlineSubject.CASE, CaseKind.COMPLAINT, Severity.MAJOR)
    assert (spec.amount, spec.unit, spec.warn_hours, spec.second_after) == (
        7,
        "calendar_days",
        48,
        2,
    )
