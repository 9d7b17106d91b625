"""Slack and Teams alerts: each vendor's format with the lead, its clock, who holds it and a link;
only the alerts a channel is for; one summary for a storm; the daily digest; the test button."""

import datetime
import json

import pytest
from django.utils import timezone

from conftest import LeadFactory, UserFactory, advance
from enforcement.sweep import sweep_deadlines
from integrations import relay
from integrations.digests import daily_digests_send
from integrations.models import Alert, Channel, Delivery, Storm
from integrations.services import target_test
from integrations.tests.factories import ChannelFactory
from integrations.tests.test_outbox import overdue_claims
from leads import services
from leads.models import Lead, RepProfile, SalesTeam
from people.roles import Role

pytestmark = pytest.mark.django_db
S = Lead.Status


def slack_texts(message: dict) -> str:
    return json.dumps(message["blocks"])


def test_a_breach_in_slack_names_the_lead_the_clock_the_holder_and_links_it(marketer, campaign, manager, fake):
    """Block Kit: a header, the note, fields for the lead, due time (each reader's zone, with a
    fallback), who holds it, and a button to the lead; text people typed is escaped."""
    team = SalesTeam.objects.create(name="North")
    ChannelFactory(team=team, url=fake.url("/slack"), alerts=[Alert.BREACHES])
    (lead,) = overdue_claims(campaign, marketer, 1)
    Lead.objects.filter(pk=lead.pk).update(full_name="Ada <b>&</b> Co")
    sweep_deadlines()
    relay.relay()

    (request,) = fake.to("/slack")
    message = json.loads(request.body)
    assert message["text"] == "SLA breach: claim of Ada <b>&</b> Co"
    assert message["blocks"][0]["text"]["type"] == "plain_text"  # shown as typed
    fields = json.dumps(message["blocks"][2]["fields"])  # mrkdwn: escaped
    assert "Ada &lt;b&gt;&amp;&lt;/b&gt; Co" in fields and "<b>" not in fields
    texts = slack_texts(message)
    assert "*Due*" in texts and "<!date^" in texts
    assert "nobody: waiting in the queue" in texts
    (button,) = message["blocks"][-1]["elements"]
    assert button["url"].endswith(f"/leads/{lead.pk}/")


def test_a_breach_in_teams_is_an_adaptive_card(marketer, campaign, fake):
    team = SalesTeam.objects.create(name="North")
    ChannelFactory(team=team, kind=Channel.Kind.TEAMS, url=fake.url("/teams"), alerts=[Alert.BREACHES])
    (lead,) = overdue_claims(campaign, marketer, 1)
    sweep_deadlines()
    relay.relay()

    (request,) = fake.to("/teams")
    message = json.loads(request.body)
    (attachment,) = message["attachments"]
    assert (message["type"], attachment["contentType"]) == ("message", "application/vnd.microsoft.card.adaptive")
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    facts = {fact["title"]: fact["value"] for fact in card["body"][-1]["facts"]}
    assert facts["Lead"].startswith(lead.full_name) and facts["Held by"] == "nobody: waiting in the queue"
    assert "Due" in facts
    assert card["actions"][0]["url"].endswith(f"/leads/{lead.pk}/")


def test_a_persons_channel_gets_their_assignments_only(marketer, campaign, manager, fake):
    """Assignments to me: the rep's own channel hears of the lead given to them, not of a colleague's."""
    rep, colleague = UserFactory(role=Role.SALES), UserFactory(role=Role.SALES)
    ChannelFactory(person=rep, url=fake.url("/mine"), alerts=[Alert.ASSIGNMENTS])
    mine, theirs = (advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=None) for _ in "ab")
    services.lead_assign(lead=mine, rep=rep, actor=manager)
    services.lead_assign(lead=theirs, rep=colleague, actor=manager)
    relay.relay()
    (request,) = fake.to("/mine")
    assert json.loads(request.body)["text"] == f"Lead assigned: {mine.full_name}"


def test_a_teams_channel_hears_of_its_reps_and_the_queue_not_of_other_teams(marketer, campaign, fake):
    north, south = SalesTeam.objects.create(name="North"), SalesTeam.objects.create(name="South")
    ours, theirs = UserFactory(role=Role.SALES), UserFactory(role=Role.SALES)
    RepProfile.objects.create(user=ours, team=north)
    RepProfile.objects.create(user=theirs, team=south)
    ChannelFactory(team=north, url=fake.url("/north"), alerts=[Alert.BREACHES])
    queued = overdue_claims(campaign, marketer, 1)[0]
    held_by_ours = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=ours)
    held_by_theirs = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=theirs)
    late = timezone.now() + datetime.timedelta(days=30)
    sweep_deadlines(now=late)
    relay.relay()
    said = " ".join(json.loads(request.body)["text"] for request in fake.to("/north"))
    assert queued.full_name in said and held_by_ours.full_name in said
    assert held_by_theirs.full_name not in said


def test_a_storm_sends_the_first_alerts_then_one_summary(marketer, campaign, fake, settings):
    """25 claims breached at once: the channel gets the first 10 one by one, then, once the storm is
    quiet, one message for the other 15 with a link to the list."""
    settings.ALERT_STORM_THRESHOLD = 10
    team = SalesTeam.objects.create(name="North")
    ChannelFactory(team=team, url=fake.url("/slack"))
    overdue_claims(campaign, marketer, 25)
    sweep_deadlines()
    now = timezone.now()
    relay.relay(now=now)
    assert len(fake.to("/slack")) == 10
    storm = Storm.objects.get()
    assert (storm.held, storm.subject, storm.summarised_at) == (15, "claim", None)

    relay.relay(now=now + datetime.timedelta(minutes=2))
    assert len(fake.to("/slack")) == 11
    summary = json.loads(fake.to("/slack")[-1].body)
    assert summary["text"].startswith("15 more claim deadlines breached since ")
    assert "/dashboard/leads/?figure=claims_late" in slack_texts(summary)
    assert relay.relay(now=now + datetime.timedelta(minutes=3))["storms"] == 0


def test_a_storm_without_summaries_is_only_counted(marketer, campaign, fake, settings):
    settings.ALERT_STORM_THRESHOLD = 2
    ChannelFactory(team=SalesTeam.objects.create(name="North"), url=fake.url("/slack"), alerts=[Alert.BREACHES])
    overdue_claims(campaign, marketer, 5)
    sweep_deadlines()
    now = timezone.now()
    relay.relay(now=now)
    relay.relay(now=now + datetime.timedelta(minutes=2))
    assert len(fake.to("/slack")) == 2
    assert Storm.objects.get().summarised_at is not None


def test_the_test_button_posts_to_the_channel(rep, fake, django_capture_on_commit_callbacks):
    """Send a test: a delivery the relay is nudged to send at once (after the commit)."""
    channel = ChannelFactory(person=rep, url=fake.url("/slack"))
    with django_capture_on_commit_callbacks() as callbacks:
        target_test(target=channel, actor=rep)
    assert len(callbacks) == 1  # the nudge: relay.delay
    relay.deliveries_send()
    (request,) = fake.to("/slack")
    assert json.loads(request.body)["text"] == "Test from Handoff: this channel is connected"
    assert channel.deliveries.get().status == Delivery.Status.DELIVERED


def test_the_daily_digest_is_queued_once_a_day(marketer, campaign, rep, fake):
    ChannelFactory(person=rep, url=fake.url("/mine"), alerts=[Alert.DAILY_DIGEST])
    ChannelFactory(person=rep, url=fake.url("/other"), alerts=[Alert.BREACHES])
    assert daily_digests_send() == 1
    assert daily_digests_send() == 0
    relay.deliveries_send()
    (request,) = fake.to("/mine")
    facts = slack_texts(json.loads(request.body))
    assert "*Breaches*\\n0" in facts and "*Your open leads*" in facts
