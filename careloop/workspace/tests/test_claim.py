"""F7: two people cannot claim the same task; the loser learns who has it."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from careloop.followup.calls import ClaimError, claim_task
from careloop.followup.choices import TaskStatus
from careloop.followup.models import FollowUpTask
from careloop.followup.tests.uihelpers import client_for


@pytest.mark.django_db
def test_claim_opens_the_call_screen_and_a_second_agent_is_told_who_has_it_F7(people, build):
    task = build.task(start=dt.date(2026, 3, 30))
    first = client_for(people["agent"])
    response = first.post(f"/workspace/tasks/{task.pk}/claim/")
    assert (
        response.status_code == 302 and response["Location"] == f"/workspace/tasks/{task.pk}/call/"
    )
    assert first.get(response["Location"]).status_code == 200

    second = client_for(people["agent2"])
    response = second.post(f"/workspace/tasks/{task.pk}/claim/", follow=True)
    assert response.redirect_chain[-1][0] == "/workspace/"
    assert "该任务已由 agent1 领取" in response.content.decode()
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.IN_PROGRESS, people["agent"].pk)
    # The loser cannot open the winner's call screen either.
    assert second.get(f"/workspace/tasks/{task.pk}/call/").status_code == 302


@pytest.mark.django_db
def test_a_nurse_cannot_claim_from_the_agents_pool(people, build):
    task = build.task(start=dt.date(2026, 3, 30))
    response = client_for(people["cardio_nurse"]).post(
        f"/workspace/tasks/{task.pk}/claim/", follow=True
    )
    assert "公共池任务由客服回访员领取" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.DUE and task.assignee_id is None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claims_exactly_one_wins_F7(people, build):
    task = build.task(start=dt.date(2026, 3, 30))
    agents = [people["agent"], people["agent2"]]
    if connection.vendor == "sqlite":
        # SQLite serialises writers; two sequential claims exercise the same conditional UPDATE.
        claim_task(task, by=agents[0])
        with pytest.raises(ClaimError) as lost:
            claim_task(task, by=agents[1])
        assert lost.value.holder.pk == agents[0].pk
        return
    barrier = threading.Barrier(2)
    outcomes: list = []

    def go(agent):
        try:
            barrier.wait()
            claim_task(FollowUpTask.objects.get(pk=task.pk), by=agent)
            outcomes.append(("won", agent.pk))
        except ClaimError as exc:
            outcomes.append(("lost", exc.holder.pk if exc.holder else None))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    won = [pk for kind, pk in outcomes if kind == "won"]
    lost = [pk for kind, pk in outcomes if kind == "lost"]
    assert len(won) == 1 and lost == won
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.IN_PROGRESS, won[0])
