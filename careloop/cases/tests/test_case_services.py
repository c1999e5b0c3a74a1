"""C2–C4 through the services: registering, the status flow and its requirements, who may
close, the history, praise and staff points, the re-follow-up after closing (loop closure) and
attachments."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from careloop.cases.choices import (
    CaseEventKind,
    CaseKind,
    CaseSource,
    CaseStatus,
    Finding,
    RefollowOutcome,
    RefollowStatus,
    Severity,
)
from careloop.cases.models import Case, CaseAttachment, CaseEvent, CaseRefollow
from careloop.cases.services import (
    CaseError,
    add_attachment,
    advance_case,
    closing_problems,
    loop_closure,
    record_refollow,
    register_case,
    update_case,
)
from careloop.cases.tests.conftest import at
from careloop.notify.models import Notification

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REPLY = "已核实并向患者当面致歉，科室已整改。"


@pytest.fixture
def visit(build, people):
    return build.visit(doctor=people["doctor"])


@pytest.fixture
def register(rules, people, org, visit):
    def make(when="2026-09-29 10:00", **extra):
        values = {
            "by": people["agent"], "kind": CaseKind.COMPLAINT, "source": CaseSource.FOLLOWUP,
            "summary": "护士态度生硬", "description": "患者回访时反映夜班护士态度生硬。",
            "visit": visit,
        }  # fmt: skip
        values.update(extra)
        with time_machine.travel(at(when), tick=False):
            return register_case(**values)

    return make


def advance(case, to, by, when="2026-09-30 10:00", **values):
    with time_machine.travel(at(when), tick=False):
        return advance_case(case, to, by=by, **values)


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


def close_fully(case, by, when="2026-09-30 10:00", **extra):
    values = {
        "finding": Finding.TRUE, "responsible_department": case.departments.first(),
        "responsible_person": "夜班护士", "measure": "批评教育，科室通报", "reply": REPLY,
    }  # fmt: skip
    values.update(extra)
    return advance(case, CaseStatus.CLOSED, by, when, **values)


# --- Registering ------------------------------------------------------------------------------


def test_register_case_takes_the_visit_department_and_patient_and_numbers_it_C2(
    register, visit, org
):
    case = register()
    assert case.status == CaseStatus.REGISTERED
    assert case.number == f"20260929{case.pk:05d}"
    assert (case.patient, list(case.departments.all())) == (visit.patient, [org["cardio"]])
    assert list(case.events.values_list("kind", "from_status", "to_status")) == [
        (CaseEventKind.CREATED, "", CaseStatus.REGISTERED)
    ]


def test_register_case_refuses_blank_summary_and_description_C2(register):
    with pytest.raises(CaseError) as err:
        register(summary="  ", description="")
    assert str(err.value) == "请填写摘要；请填写内容"
    assert not Case.objects.exists()


def test_register_case_twice_with_one_request_key_is_one_case_C2(register):
    first = register(request_key="k-1")
    second = register(request_key="k-1", summary="另一个摘要")
    assert first.pk == second.pk
    assert Case.objects.count() == 1


def test_new_case_tells_supervisor_and_department_heads_not_the_registrant_C2(register, people):
    case = register()
    told = set(Notification.objects.filter(key=f"case:{case.pk}:new").values_list(
        "recipient__username", flat=True))  # fmt: skip
    assert told == {"supervisor", "head.xnk", "headnurse.xnk"}


def test_major_complaint_tells_medical_affairs_at_once_C3(register):
    case = register(severity=Severity.MAJOR)
    told = set(Notification.objects.filter(key=f"case:{case.pk}:new").values_list(
        "recipient__username", flat=True))  # fmt: skip
    assert told == {"supervisor", "medaffairs", "head.xnk", "headnurse.xnk"}


def test_changing_severity_recomputes_the_deadline_from_registration_C3(register, people):
    case = register()
    assert case.due_at == at("2026-10-06 10:00")
    with time_machine.travel(at("2026-09-30 09:00"), tick=False):
        update_case(case, by=people["supervisor"], severity=Severity.MAJOR)
    case = fresh(case)
    assert case.due_at == at("2026-10-02 10:00")
    event = case.events.get(kind=CaseEventKind.UPDATED)
    assert event.changes == {"severity": ["general", "major"]}


# --- Closing requirements ---------------------------------------------------------------------


def test_case_cannot_close_without_reply_and_finding_C2(register, people):
    case = register()
    with pytest.raises(CaseError) as err:
        advance(case, CaseStatus.CLOSED, people["supervisor"])
    assert str(err.value) == "请填写核实结论（属实/部分属实/不属实）；请填写答复患者的内容"
    case = fresh(case)
    assert (case.status, case.closed_at, case.handler) == (CaseStatus.REGISTERED, None, None)
    assert case.events.count() == 1
    assert not CaseRefollow.objects.exists()


def test_complaint_found_true_needs_responsible_and_measure_C2(register, people):
    case = register()
    with pytest.raises(CaseError) as err:
        advance(case, CaseStatus.CLOSED, people["supervisor"], finding=Finding.TRUE, reply=REPLY)
    assert str(err.value) == "投诉属实：请填写责任科室或责任人；投诉属实：请填写处理措施"
    # Nothing of the refused step was saved.
    case = fresh(case)
    assert (case.status, case.finding, case.reply) == (CaseStatus.REGISTERED, "", "")
    with pytest.raises(CaseError) as err:
        advance(case, CaseStatus.CLOSED, people["supervisor"], finding=Finding.PARTLY,
                reply=REPLY, responsible_person="夜班护士")  # fmt: skip
    assert str(err.value) == "投诉属实：请填写处理措施"
    case = close_fully(case, people["supervisor"])
    assert (case.status, case.closed_by, case.closed_at) == (
        CaseStatus.CLOSED,
        people["supervisor"],
        at("2026-09-30 10:00"),
    )


def test_complaint_found_false_needs_no_responsible_C2(register, people):
    case = register()
    case.finding, case.reply = Finding.FALSE, REPLY
    assert closing_problems(case) == []


def test_agent_and_department_head_cannot_close_C2(register, people):
    case = register()
    for who in ("agent", "dept_head"):
        with pytest.raises(CaseError) as err:
            close_fully(case, people[who])
        assert str(err.value) == "只有客服主管或医务科可以关闭案件"
    case = fresh(case)
    assert (case.status, case.finding) == (CaseStatus.REGISTERED, "")
    close_fully(case, people["medical_affairs"])
    assert fresh(case).status == CaseStatus.CLOSED


def test_minor_complaint_skips_forward_from_registered_to_replied_C2(register, people):
    case = register(severity=Severity.MINOR)
    case = advance(case, CaseStatus.REPLIED, people["supervisor"], finding=Finding.FALSE,
                   reply="当场解释，患者表示理解。")  # fmt: skip
    assert (case.status, case.replied_at, case.replied_by, case.handler) == (
        CaseStatus.REPLIED,
        at("2026-09-30 10:00"),
        people["supervisor"],
        people["supervisor"],
    )
    assert list(case.events.values_list("kind", "from_status", "to_status")) == [
        (CaseEventKind.CREATED, "", CaseStatus.REGISTERED),
        (CaseEventKind.STATUS, CaseStatus.REGISTERED, CaseStatus.REPLIED),
    ]


def test_handling_needs_a_finding_and_replied_needs_a_reply_C2(register, people):
    case = register()
    with pytest.raises(CaseError) as err:
        advance(case, CaseStatus.HANDLING, people["supervisor"])
    assert str(err.value) == "进入处理前请填写核实结论"
    with pytest.raises(CaseError) as err:
        advance(case, CaseStatus.REPLIED, people["supervisor"], finding=Finding.FALSE)
    assert str(err.value) == "请填写答复患者的内容"
    assert fresh(case).status == CaseStatus.REGISTERED


def test_no_backwards_or_same_status_moves_C2(register, people):
    case = register()
    advance(case, CaseStatus.INVESTIGATING, people["supervisor"])
    for target, label in ((CaseStatus.REGISTERED, "登记"), (CaseStatus.ACCEPTED, "受理"),
                          (CaseStatus.INVESTIGATING, "调查核实")):  # fmt: skip
        with pytest.raises(CaseError) as err:
            advance(case, target, people["supervisor"])
        assert str(err.value) == f"案件已是“调查核实”，不能改为“{label}”"
    assert fresh(case).status == CaseStatus.INVESTIGATING
    with pytest.raises(CaseError) as err:
        advance(case, "archived", people["supervisor"])
    assert str(err.value) == "未知的状态"


def test_closed_case_is_final_C2(register, people):
    case = close_fully(register(), people["supervisor"])
    with pytest.raises(CaseError) as err:
        advance(case, CaseStatus.CLOSED, people["supervisor"])
    assert str(err.value) == "案件已关闭"
    with pytest.raises(CaseError) as err:
        update_case(case, by=people["supervisor"], summary="改摘要")
    assert str(err.value) == "案件已关闭，不能修改"


def test_history_has_one_row_per_step_with_from_and_to_C2(register, people):
    case = register()
    sup = people["supervisor"]
    advance(case, CaseStatus.ACCEPTED, sup, "2026-09-29 11:00")
    advance(case, CaseStatus.INVESTIGATING, people["dept_head"], "2026-09-29 14:00")
    advance(case, CaseStatus.HANDLING, people["dept_head"], "2026-09-30 09:00",
            finding=Finding.TRUE, investigation="调取监控，情况属实")  # fmt: skip
    advance(case, CaseStatus.REPLIED, people["dept_head"], "2026-09-30 15:00",
            responsible_person="夜班护士", measure="批评教育", reply=REPLY)  # fmt: skip
    advance(case, CaseStatus.CLOSED, sup, "2026-10-08 09:00", note="患者接受答复")
    steps = list(
        CaseEvent.objects.filter(case=case, kind=CaseEventKind.STATUS)
        .order_by("at", "pk")
        .values_list("at", "by__username", "from_status", "to_status")
    )
    assert steps == [
        (at("2026-09-29 11:00"), "supervisor", "registered", "accepted"),
        (at("2026-09-29 14:00"), "head.xnk", "accepted", "investigating"),
        (at("2026-09-30 09:00"), "head.xnk", "investigating", "handling"),
        (at("2026-09-30 15:00"), "head.xnk", "handling", "replied"),
        (at("2026-10-08 09:00"), "supervisor", "replied", "closed"),
    ]
    handling = case.events.get(kind=CaseEventKind.STATUS, to_status="handling")
    assert handling.changes == {
        "finding": ["", "true"],
        "investigation": ["", "调取监控，情况属实"],
    }
    case = fresh(case)
    # The first to move it became the handler; the reply time is the 答复患者 step.
    assert (case.handler, case.replied_at, case.replied_by) == (
        sup,
        at("2026-09-30 15:00"),
        people["dept_head"],
    )
    assert case.events.get(kind=CaseEventKind.STATUS, to_status="closed").note == "患者接受答复"


# --- Praise (C4) ------------------------------------------------------------------------------


def test_praise_closed_true_is_ready_for_points_and_not_refollowed_C4(register, people):
    case = register(kind=CaseKind.PRAISE, summary="感谢王医生", description="送来锦旗一面。")
    case = advance(case, CaseStatus.CLOSED, people["supervisor"], finding=Finding.TRUE)
    assert (case.status, case.points_ready) == (CaseStatus.CLOSED, True)
    assert not CaseRefollow.objects.exists()
    assert not case.events.filter(kind=CaseEventKind.REFOLLOW).exists()


def test_praise_has_no_reply_clock_unless_the_hospital_sets_one_C3_C4(register, people):
    from careloop.cases.models import DeadlineRule
    from careloop.cases.services import sweep_deadlines

    praise = register(kind=CaseKind.PRAISE, summary="表扬", description="锦旗。")
    assert (praise.due_at, praise.warn_at, praise.second_due_at) == (None, None, None)
    with time_machine.travel(at("2026-10-30 10:00"), tick=False):
        assert sweep_deadlines() == {"reminded": 0, "escalated": 0}
    DeadlineRule.objects.create(
        subject="case", kind=CaseKind.PRAISE, severity="", amount=3, unit="working_days"
    )
    counted = register(kind=CaseKind.PRAISE, summary="表扬信", description="来信。")
    assert counted.due_at == at("2026-10-09 10:00")  # 09-30, 10-08, 10-09


def test_praise_found_false_earns_no_points_C4(register, people):
    case = register(kind=CaseKind.PRAISE, summary="表扬", description="来电表扬。")
    case = advance(case, CaseStatus.CLOSED, people["supervisor"], finding=Finding.FALSE)
    assert case.points_ready is False


# --- Loop closure (C3) ------------------------------------------------------------------------


def test_closed_complaint_gets_one_refollow_in_3_working_days_for_the_registrant_C3(
    register, people
):
    case = register()
    close_fully(case, people["supervisor"], "2026-09-29 16:00")
    refollow = CaseRefollow.objects.get()
    # 3 working days after Tuesday 09-29: 09-30, then National Day, then 10-08 and 10-09.
    assert (refollow.case_id, refollow.status, refollow.assignee, refollow.due_at) == (
        case.pk,
        RefollowStatus.DUE,
        people["agent"],
        at("2026-10-09 16:00"),
    )
    assert refollow.second_due_at is None
    assert (
        Notification.objects.filter(
            recipient=people["agent"], key=f"refollow:{refollow.pk}:new"
        ).count()
        == 1
    )


def test_case_without_patient_or_phone_is_not_refollowed_C3(register, people):
    case = register(visit=None, contact_name="匿名")
    close_fully(case, people["supervisor"], responsible_department=None, responsible_person="门卫")
    assert not CaseRefollow.objects.exists()


def test_unsatisfied_refollow_reopens_the_case_with_a_new_deadline_C3(register, people):
    case = close_fully(register(), people["supervisor"], "2026-09-29 16:00")
    refollow = CaseRefollow.objects.get()
    with time_machine.travel(at("2026-10-09 11:00"), tick=False):
        record_refollow(refollow, by=people["agent"], outcome=RefollowOutcome.UNSATISFIED,
                        note="患者认为道歉不诚恳")  # fmt: skip
    refollow.refresh_from_db()
    assert (refollow.status, refollow.outcome, refollow.done_at) == (
        RefollowStatus.DONE,
        RefollowOutcome.UNSATISFIED,
        at("2026-10-09 11:00"),
    )
    case = fresh(case)
    assert (case.status, case.closed_at, case.replied_at, case.due_at, case.escalation_level) == (
        CaseStatus.HANDLING,
        None,
        None,
        at("2026-10-16 11:00"),
        0,
    )
    reopened = case.events.get(kind=CaseEventKind.REOPENED)
    assert (reopened.from_status, reopened.to_status) == (CaseStatus.CLOSED, CaseStatus.HANDLING)
    assert Notification.objects.filter(
        key=f"refollow:{refollow.pk}:unsatisfied", recipient=people["supervisor"]
    ).exists()
    with pytest.raises(CaseError) as err:
        record_refollow(refollow, by=people["agent"], outcome=RefollowOutcome.SATISFIED)
    assert str(err.value) == "该结案回访已完成"
    # Closed again, it is re-followed again.
    advance(case, CaseStatus.CLOSED, people["supervisor"], "2026-10-12 10:00")
    assert CaseRefollow.objects.filter(case=case).count() == 2
    assert CaseRefollow.objects.get(case=case, status=RefollowStatus.DUE).due_at == at(
        "2026-10-15 10:00"
    )


def test_satisfied_refollow_leaves_the_case_closed_C3(register, people):
    case = close_fully(register(), people["supervisor"])
    record_refollow(CaseRefollow.objects.get(), by=people["agent"], outcome="satisfied")
    assert fresh(case).status == CaseStatus.CLOSED
    with pytest.raises(CaseError) as err:
        record_refollow(CaseRefollow.objects.get(), by=people["agent"], outcome="maybe")
    assert str(err.value) == "请选择患者是否满意"


def test_loop_closure_rate_counts_reached_patients_only_C3(register, people):
    assert loop_closure() == {"satisfied": 0, "refollowed": 0, "rate": None}
    outcomes = ["satisfied", "satisfied", "unsatisfied", "unreachable"]
    for i, outcome in enumerate(outcomes):
        close_fully(register(summary=f"投诉{i}"), people["supervisor"])
    # One more closed case whose re-follow-up is still due counts for nothing.
    close_fully(register(summary="待回访"), people["supervisor"])
    for refollow, outcome in zip(CaseRefollow.objects.order_by("pk"), outcomes, strict=False):
        record_refollow(refollow, by=people["agent"], outcome=outcome)
    assert loop_closure() == {"satisfied": 2, "refollowed": 3, "rate": Decimal("66.7")}


# --- Attachments (C2) -------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []


def test_png_attachment_is_stored_under_our_own_name_C2(register, people, media):
    import hashlib

    case = register()
    att = add_attachment(case, SimpleUploadedFile("../../etc/现场.PNG", PNG), by=people["agent"])
    digest = hashlib.sha256(PNG).hexdigest()
    assert (att.original_name, att.extension, att.content_type, att.size, att.sha256) == (
        "现场.PNG",
        ".png",
        "image/png",
        72,
        digest,
    )
    assert stored_files(media) == [f"{digest[:32]}.png"]
    assert att.file.read() == PNG
    assert case.events.get(kind=CaseEventKind.ATTACHMENT).note == "现场.PNG"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "setup.exe",
            b"MZ\x90\x00",
            "文件“setup.exe”的类型不允许上传；允许："
            "doc、docx、jpeg、jpg、mp3、pdf、png、txt、wav、xls、xlsx",
        ),
        ("photo.png", b"GIF89a" + b"\x00" * 20, "文件“photo.png”的内容与扩展名 .png 不符"),
        ("letter.pdf", b"MZ\x90\x00", "文件“letter.pdf”的内容与扩展名 .pdf 不符"),
        ("note.txt", "患者来信".encode("gbk"), "文件“note.txt”不是 UTF-8 文本"),
        ("empty.png", b"", "文件“empty.png”是空文件"),
    ],
)
def test_attachment_type_is_checked_by_name_and_first_bytes_C2(
    register, people, media, name, content, message
):
    case = register()
    with pytest.raises(CaseError) as err:
        add_attachment(case, SimpleUploadedFile(name, content), by=people["agent"])
    assert str(err.value) == message
    assert not CaseAttachment.objects.exists()
    assert not case.events.filter(kind=CaseEventKind.ATTACHMENT).exists()
    assert stored_files(media) == []


def test_attachment_size_limit_follows_the_setting_C2(register, people, media, settings):
    settings.CARELOOP_ATTACHMENT_MAX_MB = 1
    case = register()
    limit = 1024 * 1024
    with pytest.raises(CaseError) as err:
        add_attachment(case, SimpleUploadedFile("big.png", PNG + b"\x00" * (limit - len(PNG) + 1)),
                       by=people["agent"])  # fmt: skip
    assert str(err.value) == "文件“big.png”大小 1.0 MB，超过上限 1 MB"
    assert not CaseAttachment.objects.exists() and stored_files(media) == []
    att = add_attachment(case, SimpleUploadedFile("ok.png", PNG + b"\x00" * (limit - len(PNG))),
                         by=people["agent"])  # fmt: skip
    assert att.size == limit
