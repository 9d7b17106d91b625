"""The appeal pages: every role against every URL, CSRF, bad input answered with a message that keeps
what was typed, the receipt and the timeline leading to the appeal, the list's query count."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appeals.models import Appeal, AppealRuling, Ruling
from appeals.services import appeal_make, appeal_rule
from enforcement.sweep import sweep_deadlines
from sla.models import Department

from .fixtures import K

pytestmark = pytest.mark.django_db
SALES, MARKETING = Department.SALES, Department.MARKETING


def page(deadline) -> str:
    return reverse("appeals:deadline", args=[deadline.pk])


def make_url(deadline) -> str:
    return reverse("appeals:make", args=[deadline.pk])


def test_anonymous_visitors_are_sent_to_log_in_everywhere(client, missed, rep, heads):
    deadline = missed(K.FIRST_CONTACT, rep)
    appeal = appeal_make(actor=rep, deadline=deadline, reason="Wrong number")
    for method, url in (
        ("get", reverse("appeals:list")),
        ("get", page(deadline)),
        ("post", make_url(deadline)),
        ("post", reverse("appeals:rule", args=[appeal.pk])),
    ):
        answer = getattr(client, method)(url)
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"], url


def test_every_role_reads_the_appeal_page_and_the_list(client, missed, rep, marketer, manager):
    deadline = missed(K.FIRST_CONTACT, rep)
    for user in (rep, marketer, manager):
        client.force_login(user)
        assert client.get(page(deadline)).status_code == 200
        assert client.get(reverse("appeals:list")).status_code == 200
    assert client.get(reverse("appeals:deadline", args=[999999])).status_code == 404


def test_the_rep_appeals_from_the_page_and_a_colleague_is_told_why_not(client, missed, rep, other_rep):
    deadline = missed(K.FIRST_CONTACT, rep)

    client.force_login(other_rep)
    shown = client.get(page(deadline)).content.decode()
    assert (
        "Only the person this breach is charged to" in shown and 'class="card card-body mb-3 appeal-form"' not in shown
    )
    answer = client.post(make_url(deadline), {"reason": "Let me"}, follow=True)
    assert "Only the person this breach is charged to" in answer.content.decode()
    assert not Appeal.objects.exists()

    client.force_login(rep)
    assert "appeal-form" in client.get(page(deadline)).content.decode()
    answer = client.post(make_url(deadline), {"reason": "The phone number was wrong"}, follow=True)
    assert "Appeal made" in answer.content.decode()
    assert Appeal.objects.get().reason == "The phone number was wrong"
    again = client.post(make_url(deadline), {"reason": "Once more"}, follow=True)
    assert "already been appealed" in again.content.decode()
    assert Appeal.objects.count() == 1


def test_bad_input_is_answered_with_a_message_and_keeps_what_was_typed(client, missed, rep, heads):
    deadline = missed(K.FIRST_CONTACT, rep)
    client.force_login(rep)

    empty = client.post(make_url(deadline), {"reason": ""})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    long_reason = "The phone was wrong. " * 120  # 2,520 characters, over the 2,000 allowed
    too_long = client.post(make_url(deadline), {"reason": long_reason})
    assert too_long.status_code == 400
    assert "at most 2000 characters" in too_long.content.decode()
    assert long_reason.strip() in too_long.content.decode(), "what was typed is kept"
    assert not Appeal.objects.exists()

    appeal = appeal_make(actor=rep, deadline=deadline, reason="Wrong number")
    client.force_login(heads[MARKETING])
    rule = reverse("appeals:rule", args=[appeal.pk])
    bad = client.post(rule, {"outcome": "maybe", "note": "My careful reasons"})
    assert bad.status_code == 400
    assert "Select a valid choice" in bad.content.decode() and "My careful reasons" in bad.content.decode()
    assert client.post(reverse("appeals:rule", args=[999999]), {"outcome": "upheld", "note": "x"}).status_code == 404
    assert not AppealRuling.objects.exists()


def test_ruling_is_for_managers_who_may_rule_and_a_second_ruling_is_refused(client, missed, rep, manager, heads):
    appeal = appeal_make(actor=rep, deadline=missed(K.FIRST_CONTACT, rep), reason="Wrong number")
    rule = reverse("appeals:rule", args=[appeal.pk])
    ruling = {"outcome": Ruling.UPHELD, "note": "Our data was wrong"}

    client.force_login(rep)
    assert client.post(rule, ruling).status_code == 403
    client.force_login(heads[SALES])
    assert "head of marketing" in client.post(rule, ruling, follow=True).content.decode()
    assert not AppealRuling.objects.exists()

    client.force_login(heads[MARKETING])
    shown = client.get(page(appeal.deadline)).content.decode()
    assert "appeal-ruling-form" in shown
    assert "Ruled: upheld" in client.post(rule, ruling, follow=True).content.decode()
    second = client.post(rule, {"outcome": Ruling.DISMISSED, "note": "Second thoughts"}, follow=True)
    assert "already been ruled on" in second.content.decode()
    assert AppealRuling.objects.get().outcome == Ruling.UPHELD


def test_posts_need_the_csrf_token(missed, rep, heads):
    deadline = missed(K.FIRST_CONTACT, rep)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(rep)
    assert browser.post(make_url(deadline), {"reason": "Wrong number"}).status_code == 403
    assert not Appeal.objects.exists()
    appeal = appeal_make(actor=rep, deadline=deadline, reason="Wrong number")
    browser.force_login(heads[MARKETING])
    rule = reverse("appeals:rule", args=[appeal.pk])
    assert browser.post(rule, {"outcome": Ruling.UPHELD, "note": "Fine"}).status_code == 403
    assert not AppealRuling.objects.exists()


def test_the_receipt_and_the_timeline_lead_to_the_appeal(client, missed, rep, heads):
    deadline = missed(K.FIRST_CONTACT, rep)
    sweep_deadlines(now=timezone.now())  # records the breach: a timeline event naming the deadline
    client.force_login(rep)
    receipt = reverse("leads:deadline_receipt", args=[deadline.lead_id, deadline.pk])

    shown = client.get(receipt).content.decode()
    assert "This deadline was missed" in shown and page(deadline) in shown
    timeline = client.get(deadline.lead.get_absolute_url()).content.decode()
    assert f'class="appeal-link" href="{page(deadline)}"' in timeline

    appeal = appeal_make(actor=rep, deadline=deadline, reason="The phone number was wrong")
    appeal_rule(actor=heads[MARKETING], appeal=appeal, outcome=Ruling.UPHELD, note="Our form's fault")
    shown = client.get(receipt).content.decode()
    assert "Breach appealed" in shown and "The phone number was wrong" in shown
    assert "Appeal upheld: breach excused" in shown and "Our form&#x27;s fault" in shown
    timeline = client.get(deadline.lead.get_absolute_url()).content.decode()
    assert "Breach appealed" in timeline and "Appeal upheld: breach excused" in timeline


def test_an_upcoming_deadlines_receipt_offers_no_appeal(client, missed, rep):
    deadline = missed(K.FIRST_CONTACT, rep, start=timezone.now() + timezone.timedelta(days=7))
    client.force_login(rep)
    receipt = client.get(reverse("leads:deadline_receipt", args=[deadline.lead_id, deadline.pk]))
    assert page(deadline) not in receipt.content.decode()
    assert "not missed" in client.get(page(deadline)).content.decode()


def test_the_list_shows_the_appeals_to_rule_and_costs_the_same_queries_for_more_rows(client, missed, rep, heads):
    client.force_login(heads[MARKETING])

    def listed(count: int) -> tuple[int, str]:
        for _ in range(count):
            appeal = appeal_make(actor=rep, deadline=missed(K.FIRST_CONTACT, rep), reason="Wrong number")
        appeal_rule(actor=heads[MARKETING], appeal=appeal, outcome=Ruling.DISMISSED, note="No")
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(reverse("appeals:list"))
        assert answer.status_code == 200
        return len(captured), answer.content.decode()

    one, _ = listed(2)
    more, shown = listed(5)
    assert one == more
    # Waiting for their ruling: 5 (1 + 4 of the 7 made); ruled: 2. Each row links to its appeal.
    assert shown.count('href="/appeals/deadlines/') == 7
    assert shown.count("Open</td>") == 5


def test_the_managers_menu_and_the_dashboard_link_to_the_appeals(client, manager, rep):
    client.force_login(manager)
    assert f'href="{reverse("appeals:list")}"' in client.get(reverse("dashboard")).content.decode()
    client.force_login(rep)
    assert f'href="{reverse("appeals:list")}"' not in client.get(reverse("leads:queue")).content.decode()
