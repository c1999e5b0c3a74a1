"""The loop's named state changes (SPEC §5 C1–C4, F11). Views, commands, the API and the hourly
job all call these; none writes the models directly. ``CaseError`` messages are Chinese, for
users. One module per part; this package re-exports the public names."""

from __future__ import annotations

from careloop.cases.services.cases import (
    ATTACHMENT_TYPES,
    CASE_EDITABLE,
    STATUS_ORDER,
    add_attachment,
    add_note,
    advance_case,
    case_url,
    closing_problems,
    loop_closure,
    max_attachment_bytes,
    record_refollow,
    register_case,
    schedule_refollow,
    update_case,
)
from careloop.cases.services.common import (
    ACKNOWLEDGE_WITHIN,
    DEFAULT_RULES,
    CaseError,
    deadline_state,
    people,
    rule_for,
    start_case_clock,
    start_clock,
)
from careloop.cases.services.disposal import (
    can_sign_department,
    disposal_url,
    open_disposal_form,
    poor_items,
    return_disposal,
    sign_disposal_department,
    sign_disposal_medical,
)
from careloop.cases.services.escalations import (
    acknowledge_escalation,
    escalation_url,
    may_answer,
    raise_escalation,
)
from careloop.cases.services.sweep import (
    sweep_deadlines,
)

__all__ = [
    "ACKNOWLEDGE_WITHIN",
    "ATTACHMENT_TYPES",
    "CASE_EDITABLE",
    "DEFAULT_RULES",
    "STATUS_ORDER",
    "CaseError",
    "acknowledge_escalation",
    "add_attachment",
    "add_note",
    "advance_case",
    "can_sign_department",
    "case_url",
    "closing_problems",
    "deadline_state",
    "disposal_url",
    "escalation_url",
    "loop_closure",
    "max_attachment_bytes",
    "may_answer",
    "open_disposal_form",
    "people",
    "poor_items",
    "raise_escalation",
    "record_refollow",
    "register_case",
    "return_disposal",
    "rule_for",
    "schedule_refollow",
    "sign_disposal_department",
    "sign_disposal_medical",
    "start_case_clock",
    "start_clock",
    "sweep_deadlines",
    "update_case",
]
