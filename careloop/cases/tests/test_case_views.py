"""The case pages (C2–C4): intake (once per request key), the O3 scope of every case page, the
status flow through the views (a case is not closed without a finding and a reply), attachment
limits and the audited download, edit, notes, the list with its deadline badges and export, the
setup pages, and the intake panel of the call screen."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from careloop.accounts.roles import Role
from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.cases import services
from careloop.cases.choices import CaseEventKind, CaseStatus, Finding, RefollowStatus
from careloop.cases.models import (
    Case,
    CaseAttachment,
    CaseCategory,
    CaseEvent,
    CaseRefollow,
    DeadlineRule,
)
from careloop.cases.presets import ensure_case_presets
from careloop.followup.calls import claim_task
from careloop.followup.tests.uihelpers import client_for, make_policy, make_stage, make_task
from careloop.followup.tests.uihelpers import make_visit as ui_visit

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))
# A Wednesday; the Qingming holiday is Sat 4 – Mon 6 April 2026.
NOW = dt.datetime(2026, 4, 1, 10, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def people(personas, org, make_user):
    ensure_case_presets()
    return {
        **personas,
        "supervisor": make_user(
            "supervisor", Role.SUPERVISOR, departments=[org["service"]], full_name="周主管"
        ),
        "ortho_head": make_user("head.gk", Role.DEPT_HEAD, departments=[org["ortho"]]),
        "xnk_doctor": make_user(
            "doctor.xnk", Role.DOCTOR, departments=[org["cardio"]], full_name="王医生"
        ),
    }


@pytest.fixture
def patient(org):
    visit = ui_visit(org["cardio"], patient_no="BL0001", name="张三", visit_no="ZY0001")
    return visit.patient


def category(code) -> CaseCategory:
    return CaseCategory.objects.get(code=code)


def intake_data(org, **extra):
    data = {
        "kind": "complaint",
        "source": "hotline",
        "category": category("attitude-nurse").pk,
        "severity": "general",
        "summary": "夜班护士态度差",
        "description": "患者家属反映 3 月 30 日夜间呼叫护士无人应答。",
        "contact_name": "张三家属",
        "contact_phone": "138-0013-8000",
        "patient_no": "BL0001",
        "departments": [org["cardio"].pk],
        "staff": [],
        "staff_names": "夜班护士",
        "request_key": "k-intake-1",
    }
    data.update(extra)
    return data


def make_case(by, org, *, department="cardio", **extra) -> Case:
    values = {
        "kind": "complaint",
        "source": "hotline",
        "summary": "候诊时间太长",
        "description": "上午挂号后等了三个小时。",
        "contact_name": "李四",
        "contact_phone": "13900001111",
        "departments": [org[department]],
    }
    values.update(extra)
    return services.register_case(by=by, **values)


def status_of(case) -> str:
    return Case.objects.get(pk=case.pk).status


def png_bytes(size: int = 0) -> bytes:
    """A real 1×1 PNG; ``size`` pads it with an ancillary chunk to about that many bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pad = chunk(b"tEXt", b"c\x00" + b"x" * max(0, size - 80)) if size else b""
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + header + pad + pixels + chunk(b"IEND", b"")


# --- intake -----------------------------------------------------------------------------------


def test_intake_double_submit_makes_exactly_one_case_C2(people, org, patient):
    client = client_for(people["supervisor"])
    data = intake_data(org)
    with time_machine.travel(NOW, tick=False):
        first = client.post("/cases/new/", data)
        second = client.post("/cases/new/", data)
        page = client.get(first["Location"]).content.decode()
    case = Case.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/cases/{case.pk}/"
    assert case.number == f"20260401{case.pk:05d}"
    assert (case.kind, case.source, case.severity, case.status) == (
        "complaint", "hotline", "general", "registered",
    )  # fmt: skip
    assert case.category.path == "服务态度 › 护士"
    assert case.patient_id == patient.pk
    assert case.contact_phone == "13800138000"
    assert list(case.departments.values_list("code", flat=True)) == ["XNK"]
    assert case.staff_names == "夜班护士"
    assert case.registered_by_id == people["supervisor"].pk
    # C3: 7 calendar days for the reply, warned 48 hours before (the preset rule).
    assert case.due_at == dt.datetime(2026, 4, 8, 10, 0, tzinfo=TZ)
    assert case.warn_at == dt.datetime(2026, 4, 6, 10, 0, tzinfo=TZ)
    assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.CREATED).count() == 1
    assert f"已登记投诉，编号 {case.number}，答复期限 2026-04-08 10:00。" in page


def test_intake_form_has_the_category_tree_and_focus_on_kind_C2(people, org):
    page = client_for(people["supervisor"]).get("/cases/new/").content.decode()
    assert '<optgroup label="服务态度">' in page
    praise = category("praise-letter")
    assert f'<option value="{praise.pk}" data-kind="praise">表扬信</option>' in page
    assert 'name="kind" value="complaint" id="id_kind_0" checked autofocus' in page
    assert 'name="request_key"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact_phone", "12345", "请输入 11 位手机号或带区号的固定电话（如 13800138000、0712-8451234）。"),
        ("patient_no", "NOPE", "未找到病历号为 NOPE 的患者"),
        ("summary", "", "请填写摘要"),
        ("kind", "", "请选择类型"),
    ],
)  # fmt: skip
def test_bad_intake_is_refused_in_chinese_and_writes_nothing(
    people, org, patient, field, value, message
):
    response = client_for(people["supervisor"]).post(
        "/cases/new/", intake_data(org, **{field: value})
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Case.objects.count() == 0


def test_landline_is_accepted(people, org, patient):
    client = client_for(people["supervisor"])
    client.post("/cases/new/", intake_data(org, contact_phone="0712-8451234"))
    assert Case.objects.get().contact_phone == "07128451234"


def test_a_praise_category_is_refused_for_a_complaint_C4(people, org, patient):
    data = intake_data(org, category=category("praise-banner").pk)
    response = client_for(people["supervisor"]).post("/cases/new/", data)
    assert response.status_code == 400
    assert "分类“锦旗”只用于表扬" in response.content.decode()
    assert Case.objects.count() == 0


def test_staff_must_belong_to_the_chosen_departments(people, org, patient):
    data = intake_data(org, staff=[people["ortho_nurse"].pk])
    response = client_for(people["supervisor"]).post("/cases/new/", data)
    assert response.status_code == 400
    assert "涉及人员须属于所选的涉及科室：nurse.gk" in response.content.decode()
    data = intake_data(org, staff=[people["cardio_nurse"].pk], request_key="k2")
    assert client_for(people["supervisor"]).post("/cases/new/", data).status_code == 302
    assert list(Case.objects.get().staff.all()) == [people["cardio_nurse"]]


def test_own_department_nurse_registers_for_her_own_ward_O3(people, org, patient):
    client = client_for(people["cardio_nurse"])
    data = intake_data(org, departments=[org["ortho"].pk])
    response = client.post("/cases/new/", data)
    assert response.status_code == 400
    assert "请至少选择一个本科室，否则登记后您将无法查看" in response.content.decode()
    response = client.post("/cases/new/", intake_data(org, request_key="k3"))
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    assert client.get(response["Location"]).status_code == 200


def test_intake_needs_its_permission(people, org):
    assert client_for(people["leader"]).get("/cases/new/").status_code == 403


# --- O3 scope ---------------------------------------------------------------------------------


def test_the_wrong_persona_gets_404_and_changes_nothing_O3(people, org):
    with time_machine.travel(NOW, tick=False):
        case = make_case(people["supervisor"], org)
        att = services.add_attachment(
            case, SimpleUploadedFile("scan.png", png_bytes()), by=people["supervisor"]
        )
    events = CaseEvent.objects.filter(case=case).count()
    for name in ("ortho_nurse", "ortho_head"):
        client = client_for(people[name])
        assert client.get(f"/cases/{case.pk}/").status_code == 404
        assert client.get(f"/cases/attachments/{att.pk}/").status_code == 404
        assert client.post(f"/cases/{case.pk}/advance/accepted/", {}).status_code in (403, 404)
        assert client.post(f"/cases/{case.pk}/note/", {"note": "x"}).status_code == 404
        upload = SimpleUploadedFile("b.png", png_bytes())
        assert client.post(f"/cases/{case.pk}/attachments/", {"file": upload}).status_code == 404
        assert client.get(f"/cases/{case.pk}/edit/").status_code in (403, 404)
        assert case.number not in client.get("/cases/").content.decode()
    # The orthopaedics head may handle cases — but not this one: a 404, nothing moved.
    head = client_for(people["ortho_head"])
    assert head.post(f"/cases/{case.pk}/advance/accepted/", {}).status_code == 404
    assert status_of(case) == CaseStatus.REGISTERED
    assert CaseEvent.objects.filter(case=case).count() == events
    assert CaseAttachment.objects.filter(case=case).count() == 1
    # The cardiology staff see it.
    assert client_for(people["cardio_nurse"]).get(f"/cases/{case.pk}/").status_code == 200
    assert client_for(people["dept_head"]).get(f"/cases/{case.pk}/").status_code == 200


def test_nurse_may_see_but_not_handle_a_case(people, org):
    case = make_case(people["supervisor"], org)
    client = client_for(people["cardio_nurse"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="case-actions"' not in page
    assert client.post(f"/cases/{case.pk}/advance/accepted/", {}).status_code == 403
    assert status_of(case) == CaseStatus.REGISTERED


# --- the status flow (C2) ---------------------------------------------------------------------


def test_a_case_cannot_be_closed_without_a_reply_and_a_finding_C2(people, org):
    case = make_case(people["supervisor"], org)
    client = client_for(people["supervisor"])
    response = client.post(
        f"/cases/{case.pk}/advance/closed/", {"to-closed-finding": "", "to-closed-reply": ""}
    )
    assert response.status_code == 400
    assert (
        "请填写核实结论（属实/部分属实/不属实）；请填写答复患者的内容" in response.content.decode()
    )
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.closed_at, fresh.finding, fresh.reply) == (
        CaseStatus.REGISTERED, None, "", ""
    )  # fmt: skip
    assert not CaseEvent.objects.filter(case=case, kind=CaseEventKind.STATUS).exists()
    assert not CaseRefollow.objects.exists()


def test_a_true_complaint_needs_who_is_responsible_and_the_measure_C2(people, org):
    case = make_case(people["supervisor"], org)
    client = client_for(people["supervisor"])
    data = {"to-replied-finding": "true", "to-replied-reply": "已向您致歉。"}
    response = client.post(f"/cases/{case.pk}/advance/replied/", data)
    assert response.status_code == 400
    assert "投诉属实：请填写责任科室或责任人；投诉属实：请填写处理措施" in response.content.decode()
    assert status_of(case) == CaseStatus.REGISTERED


def test_the_whole_flow_through_the_views_C2_C3(people, org):
    supervisor = people["supervisor"]
    with time_machine.travel(NOW, tick=False):
        case = make_case(supervisor, org)
        client = client_for(supervisor)
        steps = [
            ("accepted", {"to-accepted-note": "已受理"}),
            ("investigating", {"to-investigating-investigation": "调阅排班与监控。"}),
            ("handling", {
                "to-handling-investigation": "调阅排班与监控。",
                "to-handling-finding": "true",
                "to-handling-responsible_department": org["cardio"].pk,
                "to-handling-responsible_person": "刘护士",
                "to-handling-measure": "科内通报批评，夜班增加巡视。",
            }),
            ("replied", {"to-replied-reply": "经核实情况属实，已整改，向您致歉。"}),
            ("closed", {"to-closed-note": "患者接受"}),
        ]  # fmt: skip
        for target, data in steps:
            response = client.post(f"/cases/{case.pk}/advance/{target}/", data)
            assert response.status_code == 302, (target, response.content.decode()[:2000])
            assert status_of(case) == target
    case = Case.objects.get(pk=case.pk)
    assert (case.finding, case.responsible_department_id, case.responsible_person) == (
        Finding.TRUE, org["cardio"].pk, "刘护士",
    )  # fmt: skip
    assert case.measure == "科内通报批评，夜班增加巡视。"
    assert (case.replied_at, case.closed_at, case.handler_id) == (NOW, NOW, supervisor.pk)
    history = list(
        CaseEvent.objects.filter(case=case, kind=CaseEventKind.STATUS).values_list(
            "from_status", "to_status"
        )
    )
    assert history == [
        ("registered", "accepted"), ("accepted", "investigating"),
        ("investigating", "handling"), ("handling", "replied"), ("replied", "closed"),
    ]  # fmt: skip
    refollow = CaseRefollow.objects.get(case=case)
    assert (refollow.status, refollow.assignee_id) == (RefollowStatus.DUE, supervisor.pk)
    # C3: 3 working days after closing, across the Qingming holiday.
    assert refollow.due_at == dt.datetime(2026, 4, 7, 10, 0, tzinfo=TZ)
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "调查核实 → 处理" in page
    assert "核实结论：— → 属实" in page
    assert "应回访时间 2026-04-07 10:00" in page
    assert 'id="case-actions"' not in page  # closed: no more steps


def test_the_step_forms_offer_what_the_step_needs(people, org):
    case = make_case(people["supervisor"], org)
    page = client_for(people["supervisor"]).get(f"/cases/{case.pk}/").content.decode()
    for target in ("accepted", "investigating", "handling", "replied", "closed"):
        assert f'action="/cases/{case.pk}/advance/{target}/"' in page
    assert 'name="to-handling-finding"' in page and 'name="to-accepted-finding"' not in page
    # The department head handles but does not close (seed 001 三).
    head_page = client_for(people["dept_head"]).get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/cases/{case.pk}/advance/replied/"' in head_page
    assert f'action="/cases/{case.pk}/advance/closed/"' not in head_page


def test_a_department_head_cannot_close_C2(people, org):
    case = make_case(people["supervisor"], org)
    services.advance_case(
        case,
        CaseStatus.REPLIED,
        by=people["supervisor"],
        finding=Finding.FALSE,
        reply="经核实不属实。",
    )
    response = client_for(people["dept_head"]).post(f"/cases/{case.pk}/advance/closed/", {})
    assert response.status_code == 400
    assert "只有客服主管或医务科可以关闭案件" in response.content.decode()
    assert status_of(case) == CaseStatus.REPLIED


def test_a_case_never_moves_backwards(people, org):
    case = make_case(people["supervisor"], org)
    services.advance_case(case, CaseStatus.INVESTIGATING, by=people["supervisor"])
    response = client_for(people["supervisor"]).post(f"/cases/{case.pk}/advance/accepted/", {})
    assert response.status_code == 400
    assert "案件已是“调查核实”，不能改为“受理”" in response.content.decode()
    assert status_of(case) == CaseStatus.INVESTIGATING


def test_unknown_target_is_404(people, org):
    case = make_case(people["supervisor"], org)
    assert (
        client_for(people["supervisor"]).post(f"/cases/{case.pk}/advance/bogus/", {}).status_code
        == 404
    )


# --- edit and notes ---------------------------------------------------------------------------


def test_edit_keeps_the_change_in_the_history_and_moves_the_deadline_C3(people, org):
    with time_machine.travel(NOW, tick=False):
        case = make_case(people["supervisor"], org)
    client = client_for(people["supervisor"])
    form = client.get(f"/cases/{case.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(severity="major", note="家属再次来电", departments=[org["cardio"].pk], staff=[])
    response = client.post(f"/cases/{case.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(pk=case.pk)
    # The preset rule for a major complaint: 3 calendar days from registration.
    assert (case.severity, case.due_at) == ("major", dt.datetime(2026, 4, 4, 10, 0, tzinfo=TZ))
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.UPDATED)
    assert event.changes == {"severity": ["general", "major"]}
    assert event.note == "家属再次来电"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "严重程度：一般 → 重大" in page
    assert client_for(people["cardio_nurse"]).get(f"/cases/{case.pk}/edit/").status_code == 403


def test_edit_page_never_shows_the_phone_in_clear_and_blank_keeps_it_P3(people, org):
    case = make_case(people["supervisor"], org)
    client = client_for(people["dept_head"])
    page = client.get(f"/cases/{case.pk}/edit/")
    html = page.content.decode()
    assert "13900001111" not in html
    assert "留空则保留原号码（139****1111）" in html
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(departments=[org["cardio"].pk], staff=[], summary="候诊三小时")
    assert client.post(f"/cases/{case.pk}/edit/", data).status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert (case.summary, case.contact_phone) == ("候诊三小时", "13900001111")


def test_the_handler_must_be_able_to_see_the_case_O3(people, org, make_user):
    from careloop.accounts.roles import Role

    case = make_case(people["supervisor"], org)
    ortho_head = make_user("head.gk.2", Role.DEPT_HEAD, departments=[org["ortho"]])
    client = client_for(people["supervisor"])
    data = {k: v for k, v in client.get(f"/cases/{case.pk}/edit/").context["form"].initial.items()
            if v is not None}  # fmt: skip
    data.update(departments=[org["cardio"].pk], staff=[], handler=ortho_head.pk)
    response = client.post(f"/cases/{case.pk}/edit/", data)
    assert response.status_code == 400
    assert f"{ortho_head.display_name} 不属于涉及科室，无法查看本案件，请另选承办人" in (
        response.content.decode()
    )
    assert Case.objects.get(pk=case.pk).handler_id is None
    data["handler"] = people["dept_head"].pk
    assert client.post(f"/cases/{case.pk}/edit/", data).status_code == 302


def test_a_note_goes_into_the_history(people, org):
    case = make_case(people["supervisor"], org)
    client = client_for(people["cardio_nurse"])
    assert client.post(f"/cases/{case.pk}/note/", {"note": "已电话联系家属"}).status_code == 302
    assert CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTE).note == "已电话联系家属"
    response = client.post(f"/cases/{case.pk}/note/", {"note": "  "})
    assert response.status_code == 400
    assert "备注不能为空" in response.content.decode()
    assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.NOTE).count() == 1


def test_revealing_the_phone_is_audited_P3(people, org):
    case = make_case(people["supervisor"], org)
    client = client_for(people["supervisor"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "139****1111" in page and "13900001111" not in page
    revealed = client.post(f"/cases/{case.pk}/reveal/").content.decode()
    assert "13900001111" in revealed
    assert AuditEvent.objects.filter(action=Action.REVEAL, object_id=str(case.pk)).count() == 1


# --- attachments ------------------------------------------------------------------------------


def upload(client, case, name, content):
    return client.post(
        f"/cases/{case.pk}/attachments/", {"file": SimpleUploadedFile(name, content)}
    )


def test_attachment_type_is_checked_by_name_and_content_C2(people, org):
    case = make_case(people["supervisor"], org)
    client = client_for(people["supervisor"])
    response = upload(client, case, "setup.exe", b"MZ\x90\x00")
    assert response.status_code == 400
    assert (
        "文件“setup.exe”的类型不允许上传；允许：doc、docx、jpeg、jpg、mp3、pdf、png、txt、wav、xls、xlsx"
        in (response.content.decode())
    )
    response = upload(client, case, "photo.png", b"this is not an image")
    assert response.status_code == 400
    assert "文件“photo.png”的内容与扩展名 .png 不符" in response.content.decode()
    assert CaseAttachment.objects.count() == 0
    assert not CaseEvent.objects.filter(kind=CaseEventKind.ATTACHMENT).exists()


def test_attachment_size_is_limited(people, org, settings):
    settings.CARELOOP_ATTACHMENT_MAX_MB = 1
    case = make_case(people["supervisor"], org)
    big = png_bytes(size=1024 * 1024 + 10)
    response = upload(client_for(people["supervisor"]), case, "big.png", big)
    assert response.status_code == 400
    assert "文件“big.png”大小 1.0 MB，超过上限 1 MB" in response.content.decode()
    assert CaseAttachment.objects.count() == 0


def test_a_real_png_is_kept_and_downloaded_only_by_who_sees_the_case_O3(people, org):
    case = make_case(people["supervisor"], org)
    content = png_bytes()
    response = upload(client_for(people["supervisor"]), case, "投诉信照片.png", content)
    assert response.status_code == 302
    att = CaseAttachment.objects.get()
    assert (att.original_name, att.extension, att.content_type, att.size) == (
        "投诉信照片.png", ".png", "image/png", len(content),
    )  # fmt: skip
    download = client_for(people["cardio_nurse"]).get(f"/cases/attachments/{att.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == (
        'attachment; filename="_____.png"; '
        "filename*=UTF-8''%E6%8A%95%E8%AF%89%E4%BF%A1%E7%85%A7%E7%89%87.png"
    )
    audit = AuditEvent.objects.filter(action=Action.VIEW, object_type="cases.caseattachment")
    assert audit.count() == 1
    assert audit.get().actor_id == people["cardio_nurse"].pk
    assert client_for(people["ortho_nurse"]).get(f"/cases/attachments/{att.pk}/").status_code == 404
    assert audit.count() == 1


# --- the list ---------------------------------------------------------------------------------


def test_list_shows_open_cases_by_deadline_with_badges_and_closed_last_C3(people, org):
    supervisor = people["supervisor"]
    with time_machine.travel(NOW - dt.timedelta(days=8), tick=False):
        overdue = make_case(supervisor, org, summary="逾期的投诉")
    with time_machine.travel(NOW - dt.timedelta(days=6), tick=False):
        near = make_case(supervisor, org, summary="临近期限的投诉")
        closed = make_case(supervisor, org, summary="已关闭的投诉")
        services.advance_case(closed, CaseStatus.CLOSED, by=supervisor, finding=Finding.FALSE,
                              reply="不属实")  # fmt: skip
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        fresh = make_case(supervisor, org, summary="新的意见", kind="opinion", department="ortho")
    with time_machine.travel(NOW, tick=False):
        response = client_for(supervisor).get("/cases/")
        table = response.context["table"]
        assert [row.record.pk for row in table.page.object_list] == [
            overdue.pk,
            near.pk,
            fresh.pk,
            closed.pk,
        ]
        page = response.content.decode()
        assert '<span class="badge text-bg-danger deadline-overdue">已逾期</span>' in page
        assert '<span class="badge text-bg-warning deadline-near">临近期限</span>' in page
        assert page.count("deadline-overdue") == 1 and page.count("deadline-near") == 1
        only = client_for(supervisor).get("/cases/?deadline=overdue").context["table"]
        assert [row.record.pk for row in only.page.object_list] == [overdue.pk]
        kinds = client_for(supervisor).get("/cases/?kind=opinion").context["table"]
        assert [row.record.pk for row in kinds.page.object_list] == [fresh.pk]
        search = client_for(supervisor).get("/cases/?q=临近").context["table"]
        assert [row.record.pk for row in search.page.object_list] == [near.pk]
        ortho = client_for(people["ortho_nurse"]).get("/cases/").context["table"]
        assert [row.record.pk for row in ortho.page.object_list] == [fresh.pk]


def test_list_export_is_audited_and_scoped_S3(people, org):
    supervisor = people["supervisor"]
    make_case(supervisor, org, summary="心内投诉")
    make_case(supervisor, org, summary="骨科投诉", department="ortho")
    response = client_for(people["ortho_nurse"]).get("/cases/?export=1&format=csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 2
    assert "骨科投诉" in lines[1] and "139****1111" in lines[1] and "13900001111" not in body
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.message == "导出投诉与意见 1 条（csv）"


# --- setup pages ------------------------------------------------------------------------------


def test_category_tree_add_edit_and_deactivate(people, org):
    client = client_for(people["supervisor"])
    parent = category("attitude")
    response = client.post(
        "/cases/categories/", {"parent": parent.pk, "name": "保安", "code": "attitude-guard",
                               "kind": "", "position": 9},
    )  # fmt: skip
    assert response.status_code == 302
    guard = category("attitude-guard")
    assert guard.path == "服务态度 › 保安"
    duplicate = client.post(
        "/cases/categories/", {"name": "再来", "code": "attitude-guard", "kind": "", "position": 0}
    )
    assert duplicate.status_code == 400
    assert "代码已被其他分类使用" in duplicate.content.decode()
    wrong_kind = client.post(
        "/cases/categories/", {"parent": category("praise-letter").pk, "name": "子",
                               "code": "x-child", "kind": "", "position": 0},
    )  # fmt: skip
    assert wrong_kind.status_code == 400
    assert "上级分类只用于表扬，子分类须相同" in wrong_kind.content.decode()
    cycle = client.post(
        f"/cases/categories/{parent.pk}/edit/", {"parent": guard.pk, "name": "服务态度",
                                                 "code": "attitude", "kind": "", "position": 0},
    )  # fmt: skip
    assert cycle.status_code == 400
    assert category("attitude").parent_id is None
    assert client.post(f"/cases/categories/{parent.pk}/toggle/").status_code == 302
    assert category("attitude").is_active is False
    form_page = client.get("/cases/new/").content.decode()
    assert "保安" not in form_page and '<optgroup label="服务态度">' not in form_page
    assert client_for(people["dept_head"]).get("/cases/categories/").status_code == 403


def test_deadline_rules_inline_edit_and_duplicates_C3(people, org):
    client = client_for(people["supervisor"])
    rule = DeadlineRule.objects.get(subject="case", kind="", severity="")
    data = {f"rule{rule.pk}-amount": 5, f"rule{rule.pk}-unit": "working_days",
            f"rule{rule.pk}-warn_hours": 24, f"rule{rule.pk}-second_after": 1}  # fmt: skip
    assert client.post(f"/cases/deadlines/{rule.pk}/", data).status_code == 302
    rule.refresh_from_db()
    assert (rule.amount, rule.unit, rule.warn_hours, rule.second_after) == (
        5,
        "working_days",
        24,
        1,
    )
    bad = client.post(f"/cases/deadlines/{rule.pk}/", {**data, f"rule{rule.pk}-amount": 0})
    assert bad.status_code == 400 and "期限至少为 1" in bad.content.decode()
    # A typo of a few million days would overflow every deadline of that kind: refused.
    huge = {**data, f"rule{rule.pk}-amount": 5000000, f"rule{rule.pk}-warn_hours": 99999}
    refused_huge = client.post(f"/cases/deadlines/{rule.pk}/", huge)
    assert refused_huge.status_code == 400
    assert "期限不能超过 366 工作日" in refused_huge.content.decode()
    assert "提前提醒不能超过 8784 小时" in refused_huge.content.decode()
    assert DeadlineRule.objects.get(pk=rule.pk).amount == 5
    new = {"new-subject": "case", "new-kind": "complaint", "new-severity": "important",
           "new-amount": 5, "new-unit": "calendar_days", "new-warn_hours": 24,
           "new-second_after": 1}  # fmt: skip
    assert client.post("/cases/deadlines/new/", new).status_code == 302
    assert services.rule_for("case", "complaint", "important").amount == 5
    again = client.post("/cases/deadlines/new/", new)
    assert again.status_code == 400
    assert (
        "已有相同的规则：投诉/意见/建议/表扬的答复 · 投诉 · 重要，请直接修改该规则"
        in again.content.decode()
    )
    escalation = {**new, "new-subject": "escalation"}
    refused = client.post("/cases/deadlines/new/", escalation)
    assert refused.status_code == 400
    assert "“临床转介：医生确认”不区分类型和严重程度，请选“任意”" in refused.content.decode()
    assert DeadlineRule.objects.filter(kind="complaint", severity="important").count() == 1
    assert client_for(people["dept_head"]).get("/cases/deadlines/").status_code == 403


# --- the call screen panel (C2 from a follow-up) ----------------------------------------------


@pytest.fixture
def held_task(people, org):
    from careloop.accounts.models import User

    stage = make_stage(make_policy(is_active=True))
    visit = ui_visit(org["cardio"], patient_no="W0001", name="孙八", visit_no="ZY9001")
    task = make_task(stage, visit, start=dt.date(2026, 3, 30))
    agent = User.objects.get(pk=people["agent"].pk)
    claim_task(task, by=agent)
    return agent, task


def test_call_screen_registers_a_case_once_without_leaving_the_call_C2(people, org, held_task):
    agent, task = held_task
    client = client_for(agent)
    with time_machine.travel(NOW, tick=False):
        call = client.get(f"/workspace/tasks/{task.pk}/call/").content.decode()
        assert 'id="case-box"' in call and "登记投诉/意见/表扬" in call
        panel = client.get(f"/workspace/tasks/{task.pk}/case/", HTTP_HX_REQUEST="true")
        key = panel.context["case_form"]["request_key"].value()
        data = {"kind": "praise", "category": category("praise-verbal").pk, "severity": "general",
                "summary": "表扬王医生", "description": "患者说王医生很耐心。", "request_key": key}  # fmt: skip
        first = client.post(f"/workspace/tasks/{task.pk}/case/", data, HTTP_HX_REQUEST="true")
        second = client.post(f"/workspace/tasks/{task.pk}/case/", data, HTTP_HX_REQUEST="true")
    case = Case.objects.get()
    assert first.status_code == second.status_code == 200
    assert f"已登记表扬，编号 {case.number}。" in first.content.decode()
    assert (case.source, case.kind, case.task_id, case.visit_id, case.patient_id) == (
        "followup", "praise", task.pk, task.visit_id, task.patient_id,
    )  # fmt: skip
    assert list(case.departments.all()) == [org["cardio"]]
    assert case.registered_by_id == agent.pk


def test_call_screen_panel_refuses_bad_input_with_400(people, org, held_task):
    agent, task = held_task
    data = {"kind": "complaint", "severity": "general", "summary": "", "description": "x"}
    response = client_for(agent).post(
        f"/workspace/tasks/{task.pk}/case/", data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "请填写摘要" in response.content.decode()
    assert Case.objects.count() == 0


def test_call_screen_panel_needs_the_intake_permission(people, org, held_task, make_user):
    from django.contrib.auth.models import Permission

    from careloop.accounts.models import User

    agent, task = held_task
    agent.groups.clear()
    for codename in ("view_followuptask",):
        agent.user_permissions.add(Permission.objects.get(codename=codename))
    agent = User.objects.get(pk=agent.pk)
    data = {"kind": "opinion", "severity": "general", "summary": "s", "description": "d"}
    assert client_for(agent).post(f"/workspace/tasks/{task.pk}/case/", data).status_code == 403
    assert Case.objects.count() == 0
