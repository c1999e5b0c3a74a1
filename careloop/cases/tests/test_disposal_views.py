"""C1 pages: the disposal form list (tabs by role, overdue first, search, filters, export), the
form on screen, the department's and medical affairs' signatures in that order, the return to
the department — and every refusal: outside the scope a 404, a wrong signer a 400 with the
service's Chinese message, and nothing changed."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine

from careloop.accounts.roles import Role
from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.cases.choices import DisposalStatus
from careloop.cases.models import DisposalForm
from careloop.cases.services import open_disposal_form
from careloop.cases.tests.conftest import at, complete_call
from careloop.followup.tests.uihelpers import client_for
from careloop.notify.models import Notification

pytestmark = pytest.mark.django_db

CALLED = "2026-04-01 10:30"  # a Wednesday
MEASURES = "已约谈当班护士，科室内通报批评。"
PLAN = "每周开展一次服务礼仪培训，护士长每日抽查。"
OPINION = "属实，同意处理意见。"
MA_OPINION = "同意科室处理，纳入季度考核。"


def open_form(build, people, *, when=CALLED, name=None, dept="cardio", doctor=None):
    """A follow-up completed with 服务态度 差 and 总评价 差 at ``when``, and its form."""
    with time_machine.travel(at(when), tick=False):
        task = build.task(dept, doctor=doctor or people["doctor"])
        if name:
            task.patient.name = name
            task.patient.save(update_fields=["name"])
        record, response = complete_call(
            task, people["agent"], attitude="poor", overall="poor", opinions="护士态度生硬"
        )
        return open_disposal_form(task, by=people["agent"], record=record, response=response)


def snapshot(form) -> dict:
    return DisposalForm.objects.filter(pk=form.pk).values().get()


def sign_data(**extra):
    return {"measures": MEASURES, "plan": PLAN, "opinion": OPINION, **extra}


@pytest.fixture
def form(build, people):
    return open_form(build, people, name="张三丰")


# --- The list ---------------------------------------------------------------------------------


def test_list_puts_the_overdue_form_before_a_newer_one_with_badges_C1(build, people):
    old = open_form(build, people, name="张老", when="2026-04-01 10:30")
    new = open_form(build, people, name="李新", when="2026-04-20 10:30")
    # Three working days after 1 April (Qingming 4–6 April is off): 7 April 10:30.
    assert old.due_at == at("2026-04-07 10:30")
    with time_machine.travel(at("2026-04-20 11:00"), tick=False):
        page = client_for(people["dept_head"]).get("/cases/disposal/").content.decode()
    assert page.index("张老") < page.index("李新")
    rows = page.split('data-form="')
    old_row = next(r for r in rows if r.startswith(f'{old.pk}"'))
    new_row = next(r for r in rows if r.startswith(f'{new.pk}"'))
    assert 'data-deadline="overdue">已逾期' in old_row
    assert "data-deadline" not in new_row.split("</tr>")[0]
    # The day before the new one's deadline it is amber.
    with time_machine.travel(at("2026-04-22 11:00"), tick=False):
        page = client_for(people["dept_head"]).get("/cases/disposal/").content.decode()
    new_row = next(r for r in page.split('data-form="') if r.startswith(f'{new.pk}"'))
    assert 'data-deadline="near">临近期限' in new_row.split("</tr>")[0]


def test_default_tab_follows_the_role_C1(form, people):
    head = client_for(people["dept_head"]).get("/cases/disposal/").content.decode()
    assert 'aria-current="page" data-tab="department"' in head
    assert "张三丰" in head
    ma = client_for(people["medical_affairs"]).get("/cases/disposal/").content.decode()
    assert 'aria-current="page" data-tab="medical_affairs"' in ma
    # Waiting for the department, so not on medical affairs' tab — but under 全部.
    assert "张三丰" not in ma.split('id="results"')[1]
    every = client_for(people["medical_affairs"]).get("/cases/disposal/?tab=all").content.decode()
    assert "张三丰" in every.split('id="results"')[1]
    agent = client_for(people["agent"]).get("/cases/disposal/").content.decode()
    assert 'aria-current="page" data-tab="all"' in agent


def test_list_is_scoped_and_searchable_C1_O3(build, people, org):
    cardio = open_form(build, people, name="张三丰")
    ortho = open_form(build, people, name="赵骨科", dept="ortho", doctor=people["ortho_doctor"])
    mine = client_for(people["ortho_head"]).get("/cases/disposal/").content.decode()
    assert "赵骨科" in mine and "张三丰" not in mine
    ma = client_for(people["medical_affairs"])
    found = ma.get("/cases/disposal/", {"tab": "all", "q": "张三"}).content.decode()
    results = found.split('id="results"')[1]
    assert "张三丰" in results and "赵骨科" not in results
    by_visit = ma.get("/cases/disposal/", {"tab": "all", "q": ortho.visit.visit_no})
    results = by_visit.content.decode().split('id="results"')[1]
    assert "赵骨科" in results and "张三丰" not in results
    by_dept = ma.get("/cases/disposal/", {"tab": "all", "department": org["cardio"].pk})
    results = by_dept.content.decode().split('id="results"')[1]
    assert f'data-form="{cardio.pk}"' in results and f'data-form="{ortho.pk}"' not in results


def test_month_filter_and_its_error_C1(form, people):
    client = client_for(people["medical_affairs"])
    april = client.get("/cases/disposal/", {"tab": "all", "month": "2026-04"}).content.decode()
    assert f'data-form="{form.pk}"' in april
    may = client.get("/cases/disposal/", {"tab": "all", "month": "2026-05"}).content.decode()
    assert f'data-form="{form.pk}"' not in may
    for month in ("2026-13", "9999-12", "0001-01", "2026"):
        bad = client.get("/cases/disposal/", {"tab": "all", "month": month})
        assert bad.status_code == 400, month
        assert "请按“年-月”选择月份，例如 2026-04" in bad.content.decode()


def test_export_is_audited_and_keeps_the_address_out_C1_S3(form, people):
    form.patient.address = "湖北省汉川市仙女山街道新河路88号"
    form.patient.save()
    response = client_for(people["medical_affairs"]).get(
        "/cases/disposal/", {"tab": "all", "export": "1", "format": "csv"}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[:7] == [
        "科室",
        "姓名",
        "病历号",
        "住院号",
        "主管医师",
        "回访时间",
        "评价为差的项目",
    ]
    assert row[:7] == [
        "心血管内科病区", "张三丰", form.patient.patient_no, form.visit.visit_no, "王医生",
        "2026-04-01 10:30", "服务态度、总评价",
    ]  # fmt: skip
    assert row[header.index("状态")] == "待科室处理" and "新河路" not in text
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.message == "导出回访处置反馈表 1 条（csv）"
    xlsx = client_for(people["medical_affairs"]).get("/cases/disposal/?tab=all&export=1")
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith('.xlsx"')


# --- The detail page and its scope -------------------------------------------------------------


def test_detail_shows_the_paper_layout_with_the_address_masked_C1_P3(form, people):
    form.patient.address = "湖北省汉川市仙女山街道新河路88号"
    form.patient.birth_date = dt.date(1960, 5, 20)
    form.patient.save()
    page = client_for(people["dept_head"]).get(f"/cases/disposal/{form.pk}/").content.decode()
    for text in ("张三丰", "心血管内科病区", form.visit.visit_no, "王医生", "2026-04-01 10:30",
                 "65 岁", "护士态度生硬", "服务态度", "待科室处理", 'id="sign-department"'):  # fmt: skip
        assert text in page, text
    assert "新河路88号" not in page
    assert f'href="/cases/disposal/{form.pk}/pdf/"' in page
    assert f'href="/followup/tasks/{form.task_id}/"' in page
    assert 'id="sign-medical"' not in page


def test_another_departments_head_gets_404_and_cannot_sign_C1_O3(form, people):
    before = snapshot(form)
    ortho = client_for(people["ortho_head"])
    assert ortho.get(f"/cases/disposal/{form.pk}/").status_code == 404
    assert ortho.get(f"/cases/disposal/{form.pk}/pdf/").status_code == 404
    response = ortho.post(f"/cases/disposal/{form.pk}/sign-department/", sign_data())
    assert response.status_code == 404
    assert snapshot(form) == before
    assert not AuditEvent.objects.filter(action=Action.REVEAL).exists()


def test_a_head_who_sees_the_form_but_not_of_its_department_gets_the_message_C1(
    form, people, org, make_user
):
    # The orthopaedics head who also works as a service supervisor sees every form (O3).
    both = make_user(
        "head.gk2", Role.DEPT_HEAD, Role.SUPERVISOR, departments=[org["ortho"]],
        full_name="骨科副主任",
    )  # fmt: skip
    before = snapshot(form)
    client = client_for(both)
    page = client.get(f"/cases/disposal/{form.pk}/").content.decode()
    assert 'id="sign-department"' not in page
    response = client.post(f"/cases/disposal/{form.pk}/sign-department/", sign_data())
    assert response.status_code == 400
    assert "只有心血管内科病区的科主任或护士长可以在科室栏签字" in response.content.decode()
    assert snapshot(form) == before


def test_who_cannot_sign_at_all_gets_403_C1(form, people):
    before = snapshot(form)
    response = client_for(people["agent"]).post(
        f"/cases/disposal/{form.pk}/sign-department/", sign_data()
    )
    assert response.status_code == 403
    assert snapshot(form) == before
    assert client_for(people["cardio_nurse"]).get(f"/cases/disposal/{form.pk}/").status_code == 403


def test_medical_affairs_cannot_sign_before_the_department_C1(form, people):
    before = snapshot(form)
    response = client_for(people["medical_affairs"]).post(
        f"/cases/disposal/{form.pk}/sign-medical/", {"opinion": MA_OPINION}
    )
    assert response.status_code == 400
    assert "科主任（护士长）尚未签字，医务科不能先签" in response.content.decode()
    assert snapshot(form) == before


def test_department_sign_needs_every_field_and_changes_nothing_when_short_C1(form, people):
    before = snapshot(form)
    response = client_for(people["dept_head"]).post(
        f"/cases/disposal/{form.pk}/sign-department/", sign_data(plan="  ")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert '<div class="text-danger small field-error">请填写整改计划</div>' in page
    assert MEASURES in page  # what was typed stays in the form
    assert snapshot(form) == before


def test_happy_path_department_then_medical_affairs_closes_the_form_C1(form, people):
    head, ma = people["dept_head"], people["medical_affairs"]
    with time_machine.travel(at("2026-04-02 09:00"), tick=False):
        response = client_for(head).post(f"/cases/disposal/{form.pk}/sign-department/", sign_data())
    assert response.status_code == 302 and response["Location"] == f"/cases/disposal/{form.pk}/"
    form.refresh_from_db()
    assert (form.status, form.measures, form.plan, form.dept_opinion) == (
        DisposalStatus.MEDICAL_AFFAIRS, MEASURES, PLAN, OPINION,
    )  # fmt: skip
    assert (form.dept_signed_by_id, form.dept_signed_at) == (head.pk, at("2026-04-02 09:00"))
    # Medical affairs' step has its own three working days: 2, 3, 7 April.
    assert form.due_at == at("2026-04-08 09:00")
    stamp = int(at("2026-04-02 09:00").timestamp())
    note = Notification.objects.get(recipient=ma, key=f"disposal:{form.pk}:ma:{stamp}")
    assert note.title == "处置反馈表待医务科审核：心血管内科病区"
    # Signing twice is refused.
    again = client_for(head).post(f"/cases/disposal/{form.pk}/sign-department/", sign_data())
    assert again.status_code == 400 and "科室已签字，不能重复签字" in again.content.decode()

    page = client_for(ma).get(f"/cases/disposal/{form.pk}/").content.decode()
    assert 'id="sign-medical"' in page and 'id="sign-department"' not in page
    with time_machine.travel(at("2026-04-03 15:00"), tick=False):
        response = client_for(ma).post(
            f"/cases/disposal/{form.pk}/sign-medical/", {"opinion": MA_OPINION}
        )
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.status, form.ma_opinion, form.ma_signed_by_id, form.ma_signed_at) == (
        DisposalStatus.CLOSED, MA_OPINION, ma.pk, at("2026-04-03 15:00"),
    )  # fmt: skip
    page = client_for(head).get(f"/cases/disposal/{form.pk}/").content.decode()
    assert '<span class="badge text-bg-success" id="disposal-status">已关闭</span>' in page
    assert "2026-04-03 15:00" in page and 'id="sign-department"' not in page
    closed = client_for(head).get("/cases/disposal/?tab=closed").content.decode()
    assert f'data-form="{form.pk}"' in closed


def test_medical_affairs_returns_the_form_to_the_department_C1(form, people):
    head, ma = people["dept_head"], people["medical_affairs"]
    client_for(head).post(f"/cases/disposal/{form.pk}/sign-department/", sign_data())
    empty = client_for(ma).post(f"/cases/disposal/{form.pk}/return/", {"reason": ""})
    assert empty.status_code == 400 and "请填写退回原因" in empty.content.decode()
    with time_machine.travel(at("2026-04-02 16:00"), tick=False):
        response = client_for(ma).post(
            f"/cases/disposal/{form.pk}/return/", {"reason": "整改计划不具体"}
        )
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.status, form.dept_signed_by_id, form.ma_opinion) == (
        DisposalStatus.DEPARTMENT, None, "退回（2026-04-02）：整改计划不具体",
    )  # fmt: skip
    page = client_for(head).get(f"/cases/disposal/{form.pk}/").content.decode()
    assert "医务科已退回：退回（2026-04-02）：整改计划不具体" in page
    assert 'id="sign-department"' in page and PLAN in page  # the earlier text to rework


def test_htmx_filter_returns_only_the_results_C1(form, people):
    response = client_for(people["medical_affairs"]).get(
        "/cases/disposal/", {"tab": "all", "q": "张三丰"}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="results">')
    assert f'data-form="{form.pk}"' in page and "<html" not in page
    assert 'href="/cases/disposal/?tab=all&amp;q=%E5%BC%A0%E4%B8%89%E4%B8%B0&amp;export=1"' in page
