"""The replay pages: only managers ask for and read replays; asking records it on the draft and hands
the work to a worker (a real one, here); the page follows its progress through a small JSON endpoint;
the report lists the flips linked to their leads, in the same number of queries for 1 flip or 30; bad
input gets a message, never a 500."""

import datetime
from decimal import Decimal

import pytest
from celery import current_app as app
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, LeadFactory
from enforcement.tests.test_worker import QUEUES, wait_for
from leads import services
from leads.models import RepProfile
from replays.models import Replay
from replays.services import replay_request, replay_run
from replays.tests.test_replay import current_values, first_opening
from sla import agreement
from sla.models import Deadline, PolicyDraftEvent

HOUR = datetime.timedelta(hours=1)


def signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def a_draft(manager, **changes):
    return agreement.draft_create(
        actor=manager, values={**current_values(), **changes}, starts_at=timezone.now() + datetime.timedelta(days=7)
    )


def late_claims(count: int, *, campaign, marketer, rep, after: datetime.timedelta):
    """`count` hot leads handed off at an opening of the default calendar in the last two weeks and
    claimed `after` later: each a claim met (or missed) then, whatever the hour the test runs at."""
    start = first_opening(days_ago=14)
    RepProfile.objects.update_or_create(user=rep, defaults={"capacity": 200})
    for _ in range(count):
        lead = LeadFactory(campaign=campaign, score=90)
        services.lead_qualify(lead=lead, actor=marketer)
        services.lead_hand_off(lead=lead, actor=marketer, note="Hot")
        services.lead_claim(lead=lead, rep=rep)
    # Moved into the past together, so the claims are met `after` the hand-off, within the hour.
    Deadline.objects.filter(kind=Deadline.Kind.CLAIM).update(
        starts_at=start,
        due_at=start + HOUR,
        given_due_at=start + HOUR,
        warn_at=start + HOUR * 0.75,
        met_at=start + after,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["marketer", "rep"])
def test_only_managers_replay_or_read_replays(client, request, role, manager):
    draft = a_draft(manager)
    replay = replay_request(draft=draft, actor=manager, weeks=4)
    signed_in(client, request.getfixturevalue(role))

    assert client.post(reverse("draft_replay", args=[draft.pk]), {"weeks": "4"}).status_code == 403
    assert client.get(reverse("replay", args=[replay.pk])).status_code == 403
    assert client.get(reverse("replay_progress", args=[replay.pk])).status_code == 403
    assert Replay.objects.count() == 1


@pytest.mark.django_db
def test_the_draft_page_offers_a_replay_and_bad_weeks_get_a_message(client, manager):
    draft = a_draft(manager)
    signed_in(client, manager)

    page = client.get(reverse("sla_draft", args=[draft.pk]))
    assert page.status_code == 200
    assert reverse("draft_replay", args=[draft.pk]) in page.content.decode()

    for weeks in ("0", "14", "four", ""):
        response = client.post(reverse("draft_replay", args=[draft.pk]), {"weeks": weeks}, follow=True)
        assert response.status_code == 200
        assert "Choose between 1 and 13 weeks" in response.content.decode()
    assert not Replay.objects.exists()
    assert client.post(reverse("draft_replay", args=[draft.pk + 99]), {"weeks": "4"}).status_code == 404
    assert client.get(reverse("draft_replay", args=[draft.pk])).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_replay_asked_for_on_the_page_runs_in_a_worker_and_is_on_the_record(client, manager, marketer, rep, campaign):
    """Given a draft with 30-minute hot claims and three claims met after 40 minutes, when a manager
    asks for a replay on the page, then the page shows its progress, a real worker runs it, the
    progress endpoint says it finished, the record names who replayed which revision, and the report
    lists the three flips linked to their leads."""
    late_claims(3, campaign=campaign, marketer=marketer, rep=rep, after=datetime.timedelta(minutes=40))
    draft = a_draft(manager, claim_hours_hot=Decimal("0.5"), name="Half an hour")
    signed_in(client, manager)

    with start_worker(app, perform_ping_check=False, pool="threads", concurrency=1, loglevel="WARNING", queues=QUEUES):
        response = client.post(reverse("draft_replay", args=[draft.pk]), {"weeks": "4"})
        replay = Replay.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("replay", args=[replay.pk])
        assert wait_for(lambda: client.get(reverse("replay_progress", args=[replay.pk])).json()["finished"], 60)
    progress = client.get(reverse("replay_progress", args=[replay.pk])).json()

    assert progress == {
        "status": "done",
        "label": "Done",
        "done": 6,
        "total": 6,
        "percent": 100,
        "finished": True,
    }
    event = draft.events.get(kind=PolicyDraftEvent.Kind.REPLAYED)
    assert (event.actor, event.revision) == (manager, draft.revision)
    page = client.get(reverse("replay", args=[replay.pk])).content.decode()
    assert page.count('class="replay-flip"') == 3
    assert "met → missed" in page
    for lead_id in replay.flips.values_list("lead_id", flat=True):
        assert reverse("leads:detail", args=[lead_id]) in page
    assert "People would have acted at the same moments" in page
    record = client.get(reverse("sla_draft", args=[draft.pk])).content.decode()
    assert "Replayed" in record and f"replay report {replay.pk}" in record
    assert reverse("replay", args=[replay.pk]) in record


@pytest.mark.django_db
def test_a_queued_replay_shows_a_progress_bar(client, manager):
    replay = replay_request(draft=a_draft(manager), actor=manager, weeks=2)
    signed_in(client, manager)
    page = client.get(reverse("replay", args=[replay.pk])).content.decode()
    assert 'id="replay-progress"' in page and "<progress" in page and "replay_progress.js" in page
    assert client.get(reverse("replay_progress", args=[replay.pk])).json()["finished"] is False
    assert client.get(reverse("replay", args=[replay.pk + 1])).status_code == 404


@pytest.mark.django_db
def test_the_report_costs_the_same_queries_for_one_flip_or_thirty(client, manager, marketer, rep, campaign):
    signed_in(client, manager)
    counts = []
    for flips in (1, 30):
        late_claims(flips, campaign=campaign, marketer=marketer, rep=rep, after=datetime.timedelta(minutes=40))
        replay = replay_request(draft=a_draft(manager, claim_hours_hot=Decimal("0.5")), actor=manager, weeks=4)
        replay_run(replay_id=replay.pk)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("replay", args=[replay.pk]))
        assert page.status_code == 200
        assert page.content.decode().count('class="replay-flip"') == replay.flips.count()
        counts.append(len(queries))
    assert replay.flips.count() >= 30
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_a_replay_that_fails_says_so_on_its_page(client, manager, marketer, rep, campaign):
    """A replay whose work raises is marked failed with the reason (the worker logs it), and its page says
    so instead of showing a progress bar for ever."""
    late_claims(1, campaign=campaign, marketer=marketer, rep=rep, after=datetime.timedelta(minutes=40))
    replay = replay_request(draft=a_draft(manager), actor=manager, weeks=4)
    Replay.objects.filter(pk=replay.pk).update(values={**replay.values, "claim_hours_hot": "not hours"})

    with pytest.raises(ValueError):
        replay_run(replay_id=replay.pk)

    replay.refresh_from_db()
    assert replay.status == Replay.Status.FAILED and replay.finished_at is not None and replay.error
    signed_in(client, manager)
    page = client.get(reverse("replay", args=[replay.pk])).content.decode()
    assert "The replay failed" in page and 'id="replay-progress"' not in page
    assert client.get(reverse("replay_progress", args=[replay.pk])).json()["finished"] is True
