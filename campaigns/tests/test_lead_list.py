"""Marketing's lead list: search, filters, sorts, keyset pages, bad input, bulk hand-off, access, query counts."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import lead_lists
from campaigns.views.leads import MAX_BULK_HAND_OFF
from conftest import CampaignFactory, LeadFactory, UserFactory, advance
from leads.models import Lead, LeadEvent
from people.roles import Role
from sla.models import Handoff

pytestmark = pytest.mark.django_db

S = Lead.Status
LIST = reverse("campaigns:leads")
HAND_OFF = reverse("campaigns:bulk_hand_off")


def at(day: int, hour: int = 12) -> datetime.datetime:
    """A moment in March 2026, in the site's time zone."""
    return timezone.make_aware(datetime.datetime(2026, 3, day, hour))


def shown(response) -> list[str]:
    return [lead.full_name for lead in response.context["leads"]]


def warnings(response) -> str:
    return " ".join(str(error) for errors in response.context["filters"].errors.values() for error in errors)


def messages_of(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


@pytest.fixture
def signed_in(client, marketer):
    client.force_login(marketer)
    return client


# --- Search and filters ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["lovel", "ADA@ANALYTICAL", "engines ltd"])
def test_search_matches_part_of_the_name_email_or_company(signed_in, campaign, query):
    """Given leads, when a marketer searches part of a name, an email or a company (any case),
    then only the matching lead is listed."""
    LeadFactory(campaign=campaign, full_name="Ada Lovelace", email="ada@analytical.org", company="Engines Ltd")
    LeadFactory(campaign=campaign, full_name="Grace Hopper", email="grace@navy.mil", company="Navy")

    response = signed_in.get(LIST, {"search": query})

    assert response.status_code == 200
    assert shown(response) == ["Ada Lovelace"]


@pytest.mark.parametrize(
    "query, found",
    [
        ("ada lov", True),  # each word typed begins a word of the lead's, in any order
        ("LOVELACE Ada", True),
        ("analytical.org", True),  # an address is words too: ada, analytical, org
        ("ada@analytical.org", True),
        ("Zoë", True),  # letters beyond ASCII are letters
        ("velace", False),  # the middle of a word is not its beginning
        ("ada hopper", False),  # every word must be found
        ("-- @ --", False),  # no letter or digit: nothing, not everything
    ],
)
def test_search_finds_leads_with_a_word_beginning_with_each_word_typed(signed_in, campaign, query, found):
    """Given a lead, when a marketer searches, then it is listed exactly when each word typed begins a
    word of its name, company or email."""
    LeadFactory(campaign=campaign, full_name="Ada Lovelace", email="ada@analytical.org", company="Zoë Engines")

    response = signed_in.get(LIST, {"search": query})

    assert response.status_code == 200
    assert shown(response) == (["Ada Lovelace"] if found else [])


def test_search_follows_a_lead_renamed(signed_in, campaign):
    """Given a lead renamed after capture, when a marketer searches its new name, then it is found
    (PostgreSQL keeps the searched words with the row), and no longer by the old one."""
    lead = LeadFactory(campaign=campaign, full_name="Ada Byron", email="ada@analytical.org", company="")
    Lead.objects.filter(pk=lead.pk).update(full_name="Ada Lovelace")

    assert shown(signed_in.get(LIST, {"search": "lovelace"})) == ["Ada Lovelace"]
    assert shown(signed_in.get(LIST, {"search": "byron"})) == []


def test_campaign_filter_lists_only_that_campaigns_leads(signed_in, campaign):
    other = CampaignFactory()
    LeadFactory(campaign=campaign, full_name="Ours")
    LeadFactory(campaign=other, full_name="Theirs")

    response = signed_in.get(LIST, {"campaign": other.pk})

    assert shown(response) == ["Theirs"]


def test_status_filter_and_merged_leads_hidden_unless_asked_for(signed_in, campaign, marketer, rep):
    """Merged-away duplicates are not leads to work: they only appear when their status is chosen."""
    new = LeadFactory(campaign=campaign, full_name="Still new")
    advance(LeadFactory(campaign=campaign, full_name="Qualified"), S.MQL, marketer=marketer, rep=rep)
    advance(LeadFactory(campaign=campaign, full_name="Duplicate"), S.MERGED, marketer=marketer, rep=rep)

    assert shown(signed_in.get(LIST, {"status": S.MQL})) == ["Qualified"]
    assert shown(signed_in.get(LIST, {"status": S.MERGED})) == ["Duplicate"]
    everything = shown(signed_in.get(LIST))
    assert "Duplicate" not in everything
    assert {"Still new", "Qualified"} <= set(everything)
    assert new.full_name in everything


def test_score_range_includes_both_ends(signed_in, campaign):
    for score in (10, 40, 70, 90):
        LeadFactory(campaign=campaign, full_name=f"Score {score}", score=score)

    response = signed_in.get(LIST, {"score_min": 40, "score_max": 70, "order": "score"})

    assert shown(response) == ["Score 70", "Score 40"]


def test_captured_date_range_covers_whole_local_days(signed_in, campaign):
    """From the 2nd to the 3rd means from midnight of the 2nd to the last moment of the 3rd, local time."""
    LeadFactory(campaign=campaign, full_name="Late on the 1st", created_at=at(1, 23))
    LeadFactory(campaign=campaign, full_name="Early on the 2nd", created_at=at(2, 0))
    LeadFactory(campaign=campaign, full_name="Late on the 3rd", created_at=at(3, 23))
    LeadFactory(campaign=campaign, full_name="On the 4th", created_at=at(4, 0))

    response = signed_in.get(LIST, {"captured_from": "2026-03-02", "captured_to": "2026-03-03"})

    assert shown(response) == ["Late on the 3rd", "Early on the 2nd"]


# --- Sorts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order,expected",
    [
        ("", ["C", "B", "A"]),
        ("newest", ["C", "B", "A"]),
        ("oldest", ["A", "B", "C"]),
        ("score", ["B", "A", "C"]),
    ],
)
def test_each_sort(signed_in, campaign, order, expected):
    """Newest first by default; oldest first; highest score first."""
    LeadFactory(campaign=campaign, full_name="A", created_at=at(1), score=50)
    LeadFactory(campaign=campaign, full_name="B", created_at=at(2), score=90)
    LeadFactory(campaign=campaign, full_name="C", created_at=at(3), score=10)

    assert shown(signed_in.get(LIST, {"order": order})) == expected


# --- Keyset pages --------------------------------------------------------------------------------


def walk(order: str, *, size: int, backward_from_end: bool = False) -> list[list[int]]:
    """Every page of all leads in `order`, following the cursors like the Next (or Previous) links do."""
    pages, cursor = [], None
    while True:
        page = lead_lists.keyset_page(lead_lists.marketing_leads(), order=order, cursor=cursor, size=size)
        pages.append([lead.pk for lead in page.leads])
        if page.next is None:
            break
        cursor = page.next
    if not backward_from_end:
        return pages
    back = [pages[-1]]
    cursor = page.previous
    while cursor is not None:
        page = lead_lists.keyset_page(lead_lists.marketing_leads(), order=order, cursor=cursor, size=size)
        back.insert(0, [lead.pk for lead in page.leads])
        cursor = page.previous
    return back


@pytest.mark.parametrize("order", ["newest", "oldest", "score"])
def test_keyset_pages_cover_every_lead_once_even_when_sort_keys_tie(campaign, order):
    """Given 11 leads where many share a capture time and a score, when every page of 3 is followed
    forwards and then backwards, then each lead appears exactly once, in the sort's order, both ways."""
    for n in range(11):
        LeadFactory(campaign=campaign, created_at=at(1 + n // 4), score=50 + 10 * (n % 2))
    key = lead_lists.ORDERS[order].key
    reverse_sort = lead_lists.ORDERS[order].descending
    expected = [
        lead.pk
        for lead in sorted(Lead.objects.all(), key=lambda lead: (getattr(lead, key), lead.pk), reverse=reverse_sort)
    ]

    forwards = walk(order, size=3)
    backwards = walk(order, size=3, backward_from_end=True)

    assert [len(page) for page in forwards] == [3, 3, 3, 2]
    assert sum(forwards, []) == expected
    assert backwards == forwards


def test_next_link_leads_to_the_following_page_without_gaps(signed_in, campaign):
    """Given 60 leads captured at the same moment, when a marketer follows the Next link of the first
    page of 50, then the second page holds the other 10 and has a Previous link but no Next."""
    for n in range(60):
        LeadFactory(campaign=campaign, full_name=f"Lead {n:02}", created_at=at(5))

    first = signed_in.get(LIST)
    link = re.search(r'href="(\?[^"]+)">Next<', first.content.decode())
    second = signed_in.get(LIST + link.group(1).replace("&amp;", "&"))

    assert len(shown(first)) == 50
    assert sorted(shown(first) + shown(second)) == sorted(f"Lead {n:02}" for n in range(60))
    assert second.context["page"].next is None
    assert b">Previous<" in second.content
    assert b">Next<" not in second.content


def test_the_list_never_counts_the_whole_table(signed_in, campaign):
    LeadFactory.create_batch(3, campaign=campaign)

    with CaptureQueriesContext(connection) as queries:
        signed_in.get(LIST)

    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,message",
    [
        ({"score_min": "abc"}, "Enter a whole number"),
        ({"score_min": "70", "score_max": "20"}, "cannot be below the lowest"),
        ({"score_max": "1000"}, "less than or equal to 100"),
        ({"captured_from": "31/31/2026"}, "Enter a valid date"),
        ({"captured_from": "2026-03-09", "captured_to": "2026-03-01"}, "cannot be before the start"),
        ({"captured_to": "9999-12-31"}, "between 1900 and 2999"),
        ({"campaign": "abc"}, "Select a valid choice"),
        ({"campaign": "99999999999999999999999"}, "Select a valid choice"),
        ({"status": "lost"}, "Select a valid choice"),
        ({"order": "random()"}, "Select a valid choice"),
        ({"per_page": "1000000"}, "Select a valid choice"),
        ({"cursor": "not-a-cursor"}, "broken or out of date"),
        ({"search": "x" * 101}, "at most 100 characters"),
    ],
)
def test_bad_filter_values_are_explained_and_the_page_still_answers(signed_in, campaign, params, message):
    """A value that does not parse is named in a warning and left out; never a 500."""
    LeadFactory(campaign=campaign, full_name="Visible")

    response = signed_in.get(LIST, params)

    assert response.status_code == 200
    assert message in warnings(response)
    assert b"was not understood and was left out" in response.content


def test_valid_filters_still_apply_beside_a_bad_one(signed_in, campaign):
    LeadFactory(campaign=campaign, full_name="Ada", score=90)
    # A fixed company: a random one ("Adams Group") would match the search too.
    LeadFactory(campaign=campaign, full_name="Bob", company="Brick Ltd", score=20)

    response = signed_in.get(LIST, {"search": "ada", "score_min": "lots"})

    assert shown(response) == ["Ada"]


def test_tampered_cursor_shows_the_first_page_with_a_message(signed_in, campaign):
    for n in range(60):
        LeadFactory(campaign=campaign, created_at=at(1) + datetime.timedelta(minutes=n))
    token = signed_in.get(LIST).context["page"].next.token()

    response = signed_in.get(LIST, {"cursor": token[:-3] + "abc"})

    assert response.status_code == 200
    assert "broken or out of date" in warnings(response)
    assert len(shown(response)) == 50
    assert response.context["page"].previous is None


def test_a_cursor_made_for_another_sort_is_refused(signed_in, campaign):
    for n in range(60):
        LeadFactory(campaign=campaign, score=n)
    token = signed_in.get(LIST, {"order": "score"}).context["page"].next.token()

    for order in ("oldest", "nonsense"):
        response = signed_in.get(LIST, {"order": order, "cursor": token})

        assert response.status_code == 200
        assert "belongs to another sort" in warnings(response)
        assert response.context["page"].previous is None


# --- Bulk hand-off -------------------------------------------------------------------------------


def test_bulk_hand_off_hands_off_the_mqls_and_names_the_others_with_reasons(signed_in, campaign, marketer, rep):
    """Given two MQLs, a new lead and a lead already in the queue, when all four are handed off with a
    note, then the MQLs go to sales with the note on their timeline, and the others are named with why."""
    mqls = [advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=rep) for _ in range(2)]
    new = LeadFactory(campaign=campaign, full_name="Nina New")
    queued = advance(
        LeadFactory(campaign=campaign, full_name="Quentin Queued"), S.HANDED_OFF, marketer=marketer, rep=rep
    )

    response = signed_in.post(
        HAND_OFF,
        {"lead": [m.pk for m in mqls] + [new.pk, queued.pk], "note": "Wants a demo in May"},
        follow=True,
    )

    message = messages_of(response)
    assert message.startswith("2 handed to sales; 2 skipped: ")
    assert "Nina New (Only MQLs can go to sales — qualify it first)" in message
    assert "Quentin Queued (Only MQLs can go to sales — this one is already in the sales queue)" in message
    for lead in mqls:
        lead.refresh_from_db()
        assert lead.status == S.HANDED_OFF
        event = lead.events.get(kind=LeadEvent.Kind.HANDED_OFF)
        assert (event.actor, event.note) == (marketer, "Wants a demo in May")
        assert Handoff.objects.get(lead=lead, closed_at__isnull=True).note == "Wants a demo in May"
    new.refresh_from_db()
    assert new.status == S.NEW
    assert not new.events.filter(kind=LeadEvent.Kind.HANDED_OFF).exists()
    assert Handoff.objects.filter(lead=queued).count() == 1


def test_bulk_hand_off_of_a_claimed_lead_between_two_mqls_moves_both_mqls_and_reports_it(
    signed_in, campaign, marketer, rep
):
    """Given MQL, claimed lead, MQL ticked in that order, when they are handed off, then both MQLs go to
    sales, the claimed lead stays with its rep and its handoff, and the page names all three: the two
    moved and the one skipped with its reason (it used to half-commit and answer 500)."""
    first = advance(LeadFactory(campaign=campaign, full_name="Mia First"), S.MQL, marketer=marketer, rep=rep)
    claimed = advance(LeadFactory(campaign=campaign, full_name="Carl Claimed"), S.CLAIMED, marketer=marketer, rep=rep)
    last = advance(LeadFactory(campaign=campaign, full_name="Lea Last"), S.MQL, marketer=marketer, rep=rep)

    response = signed_in.post(HAND_OFF, {"lead": [first.pk, claimed.pk, last.pk], "note": ""}, follow=True)

    assert response.status_code == 200
    message = messages_of(response)
    assert message.startswith(
        "2 handed to sales; 1 skipped: Carl Claimed (Only MQLs can go to sales — this one is claimed "
    )
    assert message.endswith("Handed to sales: Mia First, Lea Last.")
    for lead in (first, last):
        lead.refresh_from_db()
        assert lead.status == S.HANDED_OFF
    claimed.refresh_from_db()
    assert (claimed.status, claimed.owner) == (S.CLAIMED, rep)
    assert Handoff.objects.filter(lead=claimed).count() == 1


def test_bulk_hand_off_returns_to_the_same_filtered_page(signed_in, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=rep)

    response = signed_in.post(f"{HAND_OFF}?status=mql&order=score", {"lead": [lead.pk], "note": ""})

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?status=mql&order=score"


def test_a_lead_that_vanished_is_reported_not_fatal(signed_in, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=rep)

    response = signed_in.post(HAND_OFF, {"lead": [lead.pk, 987654321]}, follow=True)

    assert "1 handed to sales; 1 skipped: lead #987654321 (it no longer exists)." in messages_of(response)


def test_too_many_leads_at_once_are_refused_with_the_ticks_kept(signed_in, campaign, marketer, rep):
    """Over the cap nothing is handed off, the page says why, and the ticked rows stay ticked."""
    lead = advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=rep)
    ids = [lead.pk, *range(10**6, 10**6 + MAX_BULK_HAND_OFF)]

    response = signed_in.post(HAND_OFF, {"lead": ids, "note": "Hot"})

    assert response.status_code == 200
    assert f"at most {MAX_BULK_HAND_OFF} leads at once; you ticked {MAX_BULK_HAND_OFF + 1}" in response.content.decode()
    assert f'value="{lead.pk}" aria-label="Tick {lead.full_name}" checked' in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == S.MQL


def test_a_note_too_long_keeps_the_ticks_the_note_and_the_filters(signed_in, campaign, marketer, rep):
    chosen = advance(LeadFactory(campaign=campaign, full_name="Chosen"), S.MQL, marketer=marketer, rep=rep)
    other = advance(LeadFactory(campaign=campaign, full_name="Other"), S.MQL, marketer=marketer, rep=rep)

    response = signed_in.post(f"{HAND_OFF}?status=mql", {"lead": [chosen.pk], "note": "n" * 2001})

    page = response.content.decode()
    assert response.status_code == 200
    assert "at most 2000 characters" in page
    assert f'value="{chosen.pk}" aria-label="Tick Chosen" checked' in page
    assert f'value="{other.pk}" aria-label="Tick Other">' in page
    assert "n" * 2001 in page
    assert response.context["filters"].cleaned_data["status"] == S.MQL
    chosen.refresh_from_db()
    assert chosen.status == S.MQL


@pytest.mark.parametrize(
    "ids,message", [([], "Tick at least one lead"), (["abc"], "not a lead"), (["-4"], "not a lead")]
)
def test_a_bad_selection_is_explained(signed_in, campaign, ids, message):
    response = signed_in.post(HAND_OFF, {"lead": ids, "note": ""})

    assert response.status_code == 200
    assert message in response.content.decode()


def test_the_hand_off_address_only_takes_posts(signed_in):
    assert signed_in.get(HAND_OFF).status_code == 405


# --- Access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, HAND_OFF])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.post(url) if url == HAND_OFF else client.get(url)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_sales_reps_may_not_list_or_hand_off_leads(client, rep, campaign, marketer):
    lead = advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=rep)
    client.force_login(rep)

    assert client.get(LIST).status_code == 403
    assert client.post(HAND_OFF, {"lead": [lead.pk]}).status_code == 403
    lead.refresh_from_db()
    assert lead.status == S.MQL


def test_managers_use_the_list_too(client, manager, campaign):
    LeadFactory(campaign=campaign, full_name="Seen by the manager")
    client.force_login(manager)

    assert shown(client.get(LIST)) == ["Seen by the manager"]


# --- Query counts --------------------------------------------------------------------------------


def queries_for_list(client, campaign, n: int, params: dict) -> int:
    Lead.objects.all().delete()
    LeadFactory.create_batch(n, campaign=campaign)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, params)
    assert len(response.context["leads"]) == n
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"search": "example", "campaign": "CAMPAIGN", "score_min": 0}])
def test_the_list_costs_the_same_queries_for_3_or_30_leads(client, campaign, params):
    client.force_login(UserFactory(role=Role.MARKETING))
    params = {key: campaign.pk if value == "CAMPAIGN" else value for key, value in params.items()}

    assert queries_for_list(client, campaign, 3, params) == queries_for_list(client, campaign, 30, params)
