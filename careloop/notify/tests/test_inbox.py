"""Issue 6 (item 6): the staff inbox — one row per recipient, de-duplicated by key, an unread
count in the navbar, each user sees and marks only their own; SMS only to staff who asked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from careloop.notify import inbox
from careloop.notify.models import Notification, OutboxMessage
from careloop.notify.services import NotifyError

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def nurse(personas):
    return personas["cardio_nurse"]


@pytest.fixture
def agent(personas):
    return personas["agent"]


# -- the service -----------------------------------------------------------------------------


def test_one_row_per_distinct_active_user(personas, nurse, agent):
    gone = personas["leader"]
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    rows = inbox.notify(
        [nurse, None, agent, nurse, gone],
        title="新投诉：王小红",
        body="心血管内科病区，待受理",
        url="/cases/12/",
        kind="case",
    )
    assert [n.recipient_id for n in rows] == [nurse.pk, agent.pk]
    assert Notification.objects.count() == 2
    row = Notification.objects.get(recipient=nurse)
    assert (row.title, row.body, row.url, row.kind, row.key, row.read_at) == (
        "新投诉：王小红",
        "心血管内科病区，待受理",
        "/cases/12/",
        "case",
        None,
        None,
    )
    assert row.kind_label == "投诉意见"


def test_the_same_key_creates_nothing_the_second_time(nurse, agent):
    first = inbox.notify([nurse, agent], title="处置单待签", key="disposal:7:due")
    again = inbox.notify([nurse, agent], title="处置单待签（重复）", key="disposal:7:due")
    assert Notification.objects.count() == 2
    assert [n.pk for n in again] == [n.pk for n in first]
    assert set(Notification.objects.values_list("title", flat=True)) == {"处置单待签"}
    # Without a key every call is news.
    inbox.notify([nurse], title="处置单待签")
    assert Notification.objects.count() == 3


def test_a_lost_race_on_the_key_returns_the_winner_and_keeps_the_transaction(nurse):
    winner = Notification.objects.create(recipient=nurse, title="先到", key="k")
    with transaction.atomic():
        found, created = inbox._create(nurse, {"title": "后到"}, "k")
        assert (found.pk, created) == (winner.pk, False)
        # The caller's transaction is still usable after the IntegrityError.
        assert Notification.objects.filter(recipient=nurse).count() == 1


def test_unread_count_and_mark_read_touch_only_the_users_rows(nurse, agent):
    mine = inbox.notify([nurse], title="一") + inbox.notify([nurse], title="二")
    theirs = inbox.notify([agent], title="三")
    assert inbox.unread_count(nurse) == 2
    assert inbox.mark_read(nurse, [mine[0].pk, theirs[0].pk]) == 1
    assert inbox.unread_count(nurse) == 1
    assert inbox.unread_count(agent) == 1
    assert Notification.objects.get(pk=theirs[0].pk).read_at is None
    assert inbox.mark_read(nurse, [mine[0].pk]) == 0  # already read
    assert inbox.mark_read(nurse) == 1
    assert inbox.unread_count(nurse) == 0
    assert inbox.unread_count(agent) == 1


def test_unread_count_is_one_query(nurse, django_assert_num_queries):
    inbox.notify([nurse], title="一")
    with django_assert_num_queries(1):
        assert inbox.unread_count(nurse) == 1


# -- SMS to staff ----------------------------------------------------------------------------


def opt_in(user, phone="13800138000"):
    user.phone = phone
    user.sms_alerts = True
    user.save(update_fields=["phone", "phone_bidx", "sms_alerts"])
    return user


def test_sms_only_to_users_with_alerts_and_a_mobile(personas, nurse, agent):
    opt_in(nurse)
    agent.phone = "13900139000"  # a mobile, but no SMS alerts
    agent.save(update_fields=["phone", "phone_bidx"])
    head = opt_in(personas["dept_head"], phone="010-65123456")  # alerts on, but a landline
    rows = inbox.notify(
        [nurse, agent, head, personas["ortho_nurse"]],
        title="临床转介待确认",
        body="患者王小红术后不适",
        kind="escalation",
        sms=True,
    )
    assert len(rows) == 4
    message = OutboxMessage.objects.get()
    assert message.phone == "13800138000"
    assert message.body == "【客服中心】临床转介待确认：患者王小红术后不适"
    assert message.request_key == f"staff:{rows[0].pk}"
    assert message.patient_id is None and message.created_by_id is None


def test_no_sms_without_the_flag_nor_for_a_repeated_key(nurse):
    opt_in(nurse)
    inbox.notify([nurse], title="新投诉", kind="case")
    assert OutboxMessage.objects.count() == 0
    inbox.notify([nurse], title="期限将到", key="deadline:3", sms=True)
    inbox.notify([nurse], title="期限将到", key="deadline:3", sms=True)
    assert Notification.objects.count() == 2
    assert OutboxMessage.objects.count() == 1


def test_a_long_sms_is_cut_below_200_characters(nurse):
    opt_in(nurse)
    inbox.notify([nurse], title="重大投诉", body="详" * 300, sms=True)
    body = OutboxMessage.objects.get().body
    assert len(body) == 199
    assert body.startswith("【客服中心】重大投诉：详") and body.endswith("详…")
    # The inbox keeps the whole text.
    assert Notification.objects.get().body == "详" * 300


def test_an_sms_that_cannot_be_queued_still_leaves_the_notification(nurse, monkeypatch):
    # queue_sms refusing (NotifyError) is the rule under test here, not the outbox itself.
    def refuse(*args, **kwargs):
        raise NotifyError("没有可用的手机号，短信未加入发送队列")

    monkeypatch.setattr(inbox, "queue_sms", refuse)
    opt_in(nurse)
    rows = inbox.notify([nurse], title="新投诉", sms=True)
    assert len(rows) == 1 and Notification.objects.count() == 1
    assert OutboxMessage.objects.count() == 0


def test_notifications_roll_back_with_the_callers_transaction(nurse):
    with pytest.raises(RuntimeError), transaction.atomic():
        inbox.notify([nurse], title="新投诉")
        raise RuntimeError("the event failed")
    assert Notification.objects.count() == 0


# -- pages -----------------------------------------------------------------------------------


def test_the_navbar_badge_shows_the_unread_count(nurse, agent):
    inbox.notify([nurse], title="一")
    inbox.notify([nurse], title="二")
    inbox.notify([agent], title="三")
    response = client_for(nurse).get("/notify/inbox/")
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["inbox_unread"] == 2
    assert '<span class="badge rounded-pill text-bg-danger" id="inbox-unread">2</span>' in html
    assert 'href="/notify/inbox/"' in html
    assert "一" in html and "二" in html and "三" not in html


def test_no_badge_when_everything_is_read(nurse):
    inbox.notify([nurse], title="一")
    inbox.mark_read(nurse)
    html = client_for(nurse).get("/").content.decode()
    assert 'id="inbox-unread"' not in html
    assert 'id="nav-inbox"' in html


def test_the_inbox_lists_unread_first_then_newest_and_filters(nurse):
    old_unread, new_read, newest = (
        inbox.notify([nurse], title=t, body=b)[0]
        for t, b in (("旧的未读", "骨科"), ("新的已读", "心内科"), ("最新未读", "心内科"))
    )
    now = timezone.now()
    for n, minutes in ((old_unread, 30), (new_read, 10), (newest, 5)):
        Notification.objects.filter(pk=n.pk).update(created_at=now - dt.timedelta(minutes=minutes))
    inbox.mark_read(nurse, [new_read.pk])
    client = client_for(nurse)

    def titles(response):
        return [n.title for n in response.context["page_obj"]]

    assert titles(client.get("/notify/inbox/")) == ["最新未读", "旧的未读", "新的已读"]
    assert titles(client.get("/notify/inbox/?show=unread")) == ["最新未读", "旧的未读"]
    assert titles(client.get("/notify/inbox/?q=心内科")) == ["最新未读", "新的已读"]
    assert titles(client.get("/notify/inbox/?show=unread&q=心内科")) == ["最新未读"]
    partial = client.get("/notify/inbox/?q=骨科", HTTP_HX_REQUEST="true")
    assert titles(partial) == ["旧的未读"]
    assert "<nav" not in partial.content.decode()


def test_the_inbox_pages_by_50(nurse):
    Notification.objects.bulk_create(
        Notification(recipient=nurse, title=f"通知{i}") for i in range(51)
    )
    client = client_for(nurse)
    assert len(client.get("/notify/inbox/").context["page_obj"]) == 50
    assert len(client.get("/notify/inbox/?page=2").context["page_obj"]) == 1


def test_opening_marks_read_and_follows_an_internal_link(nurse):
    (row,) = inbox.notify([nurse], title="新投诉", url="/cases/12/")
    response = client_for(nurse).get(f"/notify/inbox/{row.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/cases/12/"
    row.refresh_from_db()
    assert row.read_at is not None
    assert inbox.unread_count(nurse) == 0


@pytest.mark.parametrize(
    "url", ["", "//evil.example/x", "https://evil.example/", "/\\evil.example", "cases/12/"]
)
def test_opening_never_leaves_the_site(nurse, url):
    (row,) = inbox.notify([nurse], title="新投诉", url=url)
    response = client_for(nurse).post(f"/notify/inbox/{row.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/notify/inbox/"


def test_someone_elses_notification_is_404_and_stays_unread(nurse, agent):
    (row,) = inbox.notify([agent], title="给坐席的", url="/cases/12/")
    client = client_for(nurse)
    assert client.get(f"/notify/inbox/{row.pk}/open/").status_code == 404
    assert client.post(f"/notify/inbox/{row.pk}/open/").status_code == 404
    row.refresh_from_db()
    assert row.read_at is None
    assert inbox.unread_count(agent) == 1


def test_read_all_marks_only_the_users_rows(nurse, agent):
    inbox.notify([nurse, agent], title="一")
    inbox.notify([nurse], title="二")
    client = client_for(nurse)
    assert client.get("/notify/inbox/read-all/").status_code == 405
    response = client.post("/notify/inbox/read-all/", follow=True)
    assert response.redirect_chain == [("/notify/inbox/", 302)]
    assert "已将 2 条通知标为已读。" in response.content.decode()
    assert inbox.unread_count(nurse) == 0
    assert inbox.unread_count(agent) == 1


def test_anonymous_users_are_sent_to_login():
    client = Client()
    for method, path in (
        ("get", "/notify/inbox/"),
        ("get", "/notify/inbox/1/open/"),
        ("post", "/notify/inbox/read-all/"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Client().get("/accounts/login/").context["inbox_unread"] == 0


# -- 个人设置: the user's own mobile and SMS alerts -----------------------------------------------


def test_a_user_sets_their_own_mobile_and_sms_alerts(nurse):
    client = client_for(nurse)
    page = client.get("/accounts/profile/").content.decode()
    assert 'id="settings"' in page and "短信提醒" in page
    response = client.post(
        "/accounts/profile/", {"phone": "+86 138-0013-8000", "sms_alerts": "on"}, follow=True
    )
    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert "个人设置已保存。" in response.content.decode()
    nurse.refresh_from_db()
    assert (nurse.phone, nurse.sms_alerts, nurse.sms_alert_phone) == (
        "13800138000",
        True,
        "13800138000",
    )
    inbox.notify([nurse], title="新投诉", sms=True)
    assert OutboxMessage.objects.get().phone == "13800138000"


@pytest.mark.parametrize("phone", ["12345", "010-65123456", "12800138000", "1380013800a"])
def test_a_bad_mobile_is_refused_in_chinese_and_nothing_changes(nurse, phone):
    response = client_for(nurse).post("/accounts/profile/", {"phone": phone, "sms_alerts": "on"})
    assert response.status_code == 200
    assert "请输入 11 位中国大陆手机号（如 13800138000）。" in response.content.decode()
    nurse.refresh_from_db()
    assert (nurse.phone, nurse.sms_alerts) == ("", False)


def test_sms_alerts_need_a_mobile(nurse):
    response = client_for(nurse).post("/accounts/profile/", {"phone": "", "sms_alerts": "on"})
    assert "开启短信提醒须先填写手机号。" in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.sms_alerts is False
