"""Capture, duplicates, scoring and merge: the rules every way in shares (form, import, intake)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from campaigns.capture import (
    LeadData,
    lead_capture,
    lead_merge,
    leads_capture_bulk,
    normalise_email,
)
from campaigns.models import Campaign, QualificationPolicy, ScoringRule
from campaigns.scoring import lead_override_score, score
from conftest import CampaignFactory, LeadFactory, advance
from leads.duplicates import possible_duplicates
from leads.models import Lead, LeadEvent
from leads.transitions import TransitionError

pytestmark = pytest.mark.django_db
S = Lead.Status
K = LeadEvent.Kind


def only_rules(*rules):
    """Replace the default rules with exactly these (kind, value, points)."""
    ScoringRule.objects.all().delete()
    ScoringRule.objects.bulk_create(ScoringRule(kind=k, value=v, points=p) for k, v, p in rules)


def threshold(value):
    QualificationPolicy.objects.create(mql_threshold=value)


class TestDuplicates:
    def test_emails_are_trimmed_and_case_folded(self):
        assert normalise_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"

    def test_a_lead_captured_again_stays_one_lead_with_its_owner_and_state(self, marketer, rep, campaign):
        first = lead_capture(campaign=campaign, actor=marketer, data=LeadData("Ada", "ada@example.com")).lead
        advance(first, S.CLAIMED, marketer=marketer, rep=rep)
        fair = CampaignFactory(name="Trade fair", owner=marketer)

        again = lead_capture(
            campaign=fair, actor=None, data=LeadData("Ada L.", " ADA@example.com "), source=Lead.Source.INTAKE
        )

        assert not again.created
        assert again.lead.pk == first.pk
        assert Lead.objects.count() == 1
        first.refresh_from_db()
        assert (first.status, first.owner, first.campaign, first.capture_count) == (S.CLAIMED, rep, campaign, 2)
        event = first.events.filter(kind=K.CAPTURED_AGAIN).get()
        assert "Trade fair" in event.note and event.data["source"] == "intake"

    def test_duplicates_in_a_bulk_capture_and_against_the_database(self, marketer, campaign):
        lead_capture(campaign=campaign, actor=marketer, data=LeadData("Known", "known@example.com"))
        rows = [
            LeadData("New One", "one@example.com"),
            LeadData("Known Again", "KNOWN@example.com"),
            LeadData("New One twice", "one@example.com "),
            LeadData("New Two", "two@example.com"),
        ]

        created, again = leads_capture_bulk(campaign=campaign, rows=rows, actor=marketer)

        assert (created, again) == (2, 2)
        assert sorted(Lead.objects.values_list("email", flat=True)) == [
            "known@example.com",
            "one@example.com",
            "two@example.com",
        ]
        assert Lead.objects.get(email="one@example.com").capture_count == 2
        assert LeadEvent.objects.filter(kind=K.CAPTURED_AGAIN).count() == 2
        assert LeadEvent.objects.filter(kind=K.CAPTURED, lead__source=Lead.Source.IMPORT).count() == 2

    def test_the_bulk_path_scores_and_qualifies_like_the_single_path(self, marketer, campaign):
        only_rules(("field_present", "phone", 70))
        threshold(60)
        leads_capture_bulk(
            campaign=campaign,
            rows=[LeadData("Phone", "p@example.com", phone="+49 1"), LeadData("No phone", "n@example.com")],
            actor=marketer,
        )
        phone, no_phone = Lead.objects.get(email="p@example.com"), Lead.objects.get(email="n@example.com")
        assert (phone.score, phone.status, no_phone.score, no_phone.status) == (70, S.MQL, 0, S.NEW)
        qualified = phone.events.get(kind=K.QUALIFIED)
        assert qualified.actor is None and "threshold of 60" in qualified.note

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_captures_of_one_new_address_make_one_lead(self, marketer, campaign):
        start = threading.Barrier(6)
        results, errors = [], []

        def capture(i):
            try:
                start.wait()
                results.append(
                    lead_capture(campaign=campaign, actor=None, data=LeadData(f"Racer {i}", "race@example.com"))
                )
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=capture, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert errors == []
        assert sum(result.created for result in results) == 1
        lead = Lead.objects.get()
        assert lead.capture_count == 6
        assert lead.events.filter(kind=K.CAPTURED_AGAIN).count() == 5


class TestScoring:
    def test_each_kind_of_rule(self, campaign):
        rules = [
            ScoringRule(kind="field_present", value="phone", points=10),
            ScoringRule(kind="title_keyword", value="Head", points=20),
            ScoringRule(kind="company_size", value="50", points=15),
            ScoringRule(kind="channel", value="event", points=25),
            ScoringRule(kind="repeat_capture", value="2", points=5),
            ScoringRule(kind="field_present", value="company", points=-3),
        ]
        lead = Lead(phone="1", job_title="head of IT", company_size=50, capture_count=2, company="")
        assert score(lead, rules, channel="event").value == 75
        assert score(lead, rules, channel="email").value == 50
        bare = Lead(phone="", job_title="Intern", company_size=49, capture_count=1, company="X")
        assert score(bare, rules, channel="email").value == 0  # -3 is clamped to 0

    def test_the_score_is_clamped_to_100(self):
        rules = [ScoringRule(kind="field_present", value="phone", points=80)] * 2
        assert score(Lead(phone="1"), rules, channel="email").value == 100

    def test_reaching_the_threshold_makes_an_mql_with_an_event_saying_why(self, marketer, campaign):
        only_rules(("title_keyword", "director", 70))
        threshold(60)
        lead = lead_capture(
            campaign=campaign, actor=marketer, data=LeadData("Dee", "dee@example.com", job_title="Sales Director")
        ).lead
        assert (lead.score, lead.status) == (70, S.MQL)
        assert [e.kind for e in lead.events.all()] == [K.CAPTURED, K.SCORED, K.QUALIFIED]
        assert "Score 70 reached the MQL threshold of 60" in lead.events.get(kind=K.QUALIFIED).note

    def test_a_repeated_capture_can_tip_a_lead_over_the_threshold(self, marketer, campaign):
        only_rules(("repeat_capture", "2", 60))
        threshold(60)
        data = LeadData("Rita", "rita@example.com")
        assert lead_capture(campaign=campaign, actor=None, data=data).lead.status == S.NEW
        assert lead_capture(campaign=campaign, actor=None, data=data).lead.status == S.MQL

    def test_a_lead_with_sales_is_rescored_but_not_requalified(self, marketer, rep, campaign):
        only_rules(("repeat_capture", "2", 90))
        lead = advance(LeadFactory(campaign=campaign, score=0), S.CLAIMED, marketer=marketer, rep=rep)
        lead_capture(campaign=campaign, actor=None, data=LeadData(lead.full_name, lead.email))
        lead.refresh_from_db()
        assert (lead.score, lead.status) == (90, S.CLAIMED)

    def test_a_score_set_by_hand_has_a_reason_and_the_rules_leave_it(self, marketer, campaign):
        only_rules(("repeat_capture", "2", 50))
        lead = lead_capture(campaign=campaign, actor=marketer, data=LeadData("Ola", "ola@example.com")).lead
        lead_override_score(lead=lead, actor=marketer, score_value=30, reason="Met at the booth, lukewarm")
        lead_capture(campaign=campaign, actor=None, data=LeadData("Ola", "ola@example.com"))
        lead.refresh_from_db()
        assert (lead.score, lead.score_overridden) == (30, True)
        override = lead.events.filter(kind=K.SCORED, actor=marketer).get()
        assert override.note == "Met at the booth, lukewarm" and override.data["override"] is True

    @pytest.mark.parametrize(
        "kind,value",
        [("field_present", "shoe_size"), ("company_size", "lots"), ("channel", "pigeon"), ("title_keyword", " ")],
    )
    def test_a_rule_the_scorer_could_never_match_is_refused(self, client, marketer, kind, value):
        client.force_login(marketer)
        before = ScoringRule.objects.count()
        response = client.post(reverse("campaigns:scoring"), {"kind": kind, "value": value, "points": "10"})
        assert response.status_code == 200
        assert "value" in response.context["rule_form"].errors
        assert ScoringRule.objects.count() == before

    def test_marketers_edit_rules_and_the_threshold_in_handoff(self, client, marketer):
        client.force_login(marketer)
        client.post(
            reverse("campaigns:scoring"), {"kind": "channel", "value": "referral", "points": "30", "is_active": "on"}
        )
        assert ScoringRule.objects.filter(kind="channel", value="referral", points=30).exists()
        client.post(reverse("campaigns:scoring"), {"mql_threshold": "75"})
        assert QualificationPolicy.current().mql_threshold == 75
        response = client.post(reverse("campaigns:scoring"), {"mql_threshold": "150"})
        assert "mql_threshold" in response.context["threshold_form"].errors
        assert QualificationPolicy.current().mql_threshold == 75

    def test_score_override_page_validates(self, client, marketer, campaign):
        lead = LeadFactory(campaign=campaign)
        client.force_login(marketer)
        url = reverse("campaigns:score_override", args=[lead.pk])
        assert "reason" in client.post(url, {"score": "50", "reason": ""}).context["form"].errors
        assert "score" in client.post(url, {"score": "101", "reason": "x"}).context["form"].errors
        assert client.post(url, {"score": "50", "reason": "Known buyer"}).status_code == 302
        lead.refresh_from_db()
        assert lead.score == 50


class TestMerge:
    def test_merging_keeps_every_event_on_the_survivors_timeline(self, marketer, campaign):
        keep = lead_capture(campaign=campaign, actor=marketer, data=LeadData("Ada", "ada@work.example")).lead
        dupe = lead_capture(campaign=campaign, actor=marketer, data=LeadData("Ada L", "ada@home.example")).lead
        dupe_events = set(dupe.events.values_list("pk", flat=True))

        lead_merge(duplicate=dupe, into=keep, actor=marketer)

        dupe.refresh_from_db()
        keep.refresh_from_db()
        assert (dupe.status, dupe.merged_into) == (S.MERGED, keep)
        assert keep.capture_count == 2
        timeline = set(keep.timeline().values_list("pk", flat=True))
        assert dupe_events <= timeline
        assert keep.events.filter(kind=K.MERGED).exists()

    def test_a_merged_address_captured_again_goes_to_the_survivor(self, marketer, campaign):
        keep = lead_capture(campaign=campaign, actor=marketer, data=LeadData("Ada", "ada@work.example")).lead
        dupe = lead_capture(campaign=campaign, actor=marketer, data=LeadData("Ada L", "ada@home.example")).lead
        lead_merge(duplicate=dupe, into=keep, actor=marketer)

        result = lead_capture(campaign=campaign, actor=None, data=LeadData("Ada", "ADA@home.example"))
        assert (result.created, result.lead.pk) == (False, keep.pk)
        created, again = leads_capture_bulk(campaign=campaign, rows=[LeadData("Ada", "ada@home.example")], actor=None)
        assert (created, again) == (0, 1)
        assert Lead.objects.count() == 2

    def test_a_lead_sales_is_working_cannot_be_merged_away(self, marketer, rep, campaign):
        keep = LeadFactory(campaign=campaign)
        busy = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
        with pytest.raises(TransitionError):
            lead_merge(duplicate=busy, into=keep, actor=marketer)
        with pytest.raises(TransitionError, match="itself"):
            lead_merge(duplicate=keep, into=keep, actor=marketer)

    def test_merge_page(self, client, marketer, rep, campaign):
        keep = LeadFactory(campaign=campaign, email="keep@example.com")
        dupe = LeadFactory(campaign=campaign)
        client.force_login(marketer)
        url = reverse("campaigns:merge", args=[dupe.pk])
        assert "into_email" in client.post(url, {"into_email": "nobody@example.com"}).context["form"].errors
        assert "into_email" in client.post(url, {"into_email": dupe.email}).context["form"].errors
        response = client.post(url, {"into_email": "KEEP@example.com"})
        assert response["Location"] == keep.get_absolute_url()
        client.force_login(rep)
        assert client.get(url).status_code == 403


def test_campaign_channels_used_by_default_rules_exist():
    """The default rules reference real channels (a typo would silently never match)."""
    for rule in ScoringRule.objects.filter(kind="channel"):
        assert rule.value in Campaign.Channel.values


class TestPossibleDuplicates:
    """Two live leads with the same name and company but different addresses: a hint, and a merge
    picked from a list."""

    def test_same_name_and_company_in_any_case_is_a_possible_duplicate(self, marketer, campaign):
        first = LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Analytical Engines")
        second = LeadFactory(campaign=campaign, full_name="ada lovelace", company="ANALYTICAL ENGINES")
        LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Another firm")
        gone = LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Analytical Engines")
        lead_merge(duplicate=gone, into=first, actor=marketer)

        assert list(possible_duplicates(second)) == [first]
        assert list(possible_duplicates(first)) == [second]
        assert not possible_duplicates(LeadFactory(campaign=campaign, full_name="Ada Lovelace", company=""))

    def test_the_lead_page_hints_and_the_merge_page_offers_the_list(self, client, marketer, rep, campaign):
        keep = LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Analytical Engines")
        dupe = LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Analytical Engines")
        client.force_login(marketer)

        page = client.get(dupe.get_absolute_url()).text
        assert "Possible duplicate:" in page and keep.email in page
        merge_url = reverse("campaigns:merge", args=[dupe.pk])
        assert merge_url in page
        form = client.get(merge_url).text
        assert f'value="{keep.pk}"' in form and 'type="radio"' in form

        assert "into" in client.post(merge_url, {}).context["form"].errors
        response = client.post(merge_url, {"into": keep.pk})
        assert response.status_code == 302
        dupe.refresh_from_db()
        assert (dupe.status, dupe.merged_into) == (S.MERGED, keep)

    def test_sales_sees_no_hint(self, client, marketer, rep, campaign):
        LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Analytical Engines")
        dupe = advance(
            LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Analytical Engines"),
            S.CLAIMED,
            marketer=marketer,
            rep=rep,
        )
        client.force_login(rep)
        assert "Possible duplicate" not in client.get(dupe.get_absolute_url()).text

    def test_the_lead_list_flags_possible_duplicates(self, client, marketer, campaign, django_assert_max_num_queries):
        twin = LeadFactory(campaign=campaign, full_name="Ada Lovelace", company="Analytical Engines")
        LeadFactory(campaign=campaign, full_name="ADA LOVELACE", company="analytical engines")
        LeadFactory(campaign=campaign, full_name="Grace Hopper", company="")
        LeadFactory(campaign=campaign, full_name="Grace Hopper", company="")
        client.force_login(marketer)

        with django_assert_max_num_queries(12):
            response = client.get(reverse("campaigns:leads"))

        flagged = {lead.full_name for lead in response.context["page"].leads if lead.possible_duplicate}
        assert flagged == {twin.full_name, "ADA LOVELACE"}
        assert response.text.count(">possible duplicate</span>") == 2


def test_capture_starts_the_timeline_with_a_captured_event(marketer, campaign):
    """lead_capture creates a NEW lead (email normalised) and one 'captured' event naming the marketer."""
    lead = lead_capture(
        campaign=campaign, actor=marketer, data=LeadData(full_name="Ada Lovelace", email="  Ada@Example.COM ")
    ).lead

    assert (lead.status, lead.email, lead.created_by) == (S.NEW, "ada@example.com", marketer)
    event = lead.events.get()
    assert (event.kind, event.actor, event.from_status, event.to_status) == (
        LeadEvent.Kind.CAPTURED,
        marketer,
        "",
        S.NEW,
    )


def test_a_whole_journey_leaves_the_story_on_the_timeline(marketer, rep, campaign):
    """Captured → MQL → handed off → claimed → contacted → converted, each step one event, in order,
    and the deal is recorded for the rep."""
    lead = lead_capture(
        campaign=campaign, actor=marketer, data=LeadData(full_name="Grace Hopper", email="g@navy.mil")
    ).lead

    advance(lead, S.CONVERTED, marketer=marketer, rep=rep)

    assert list(lead.events.values_list("kind", "actor__username")) == [
        ("captured", "marketer"),
        ("qualified", "marketer"),
        ("handed_off", "marketer"),
        ("claimed", "rep"),
        ("contacted", "rep"),
        ("converted", "rep"),
    ]
    assert (lead.deal.value, lead.deal.owner, lead.owner) == (Decimal("1000.00"), rep, rep)
