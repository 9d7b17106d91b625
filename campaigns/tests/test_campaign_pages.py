"""Marketing's pages: campaigns and adding leads by hand, including bad input."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse

from campaigns.models import Campaign
from conftest import CampaignFactory, LeadFactory, UserFactory, advance
from leads.models import Lead, LeadEvent
from people.roles import Role

pytestmark = pytest.mark.django_db


def campaign_data(**overrides):
    data = {
        "name": "Autumn trade fair",
        "channel": Campaign.Channel.EVENT,
        "status": Campaign.Status.PLANNED,
        "start_date": "2026-09-01",
        "end_date": "2026-12-31",
        "budget": "15000",
        "description": "Booth B12",
    }
    return {**data, **overrides}


def test_marketer_creates_a_campaign_and_owns_it(client, marketer):
    client.force_login(marketer)
    response = client.post(reverse("campaigns:create"), campaign_data())
    campaign = Campaign.objects.get(name="Autumn trade fair")
    assert response.status_code == 302
    assert response["Location"] == campaign.get_absolute_url()
    assert campaign.owner == marketer
    assert campaign.end_date == datetime.date(2026, 12, 31)


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"end_date": "2026-08-01"}, "end_date", "cannot end before it starts"),
        ({"budget": "-5"}, "budget", "cannot be negative"),
        ({"budget": "lots"}, "budget", "Enter a number"),
        ({"name": ""}, "name", "required"),
        ({"start_date": "31/31/2026"}, "start_date", "Enter a valid date"),
        ({"channel": "carrier pigeon"}, "channel", "Select a valid choice"),
    ],
)
def test_bad_campaign_input_is_explained_and_nothing_is_saved(client, marketer, overrides, field, message):
    client.force_login(marketer)
    response = client.post(reverse("campaigns:create"), campaign_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Campaign.objects.exists()


def test_marketer_edits_a_campaign(client, marketer, campaign):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:edit", args=[campaign.pk]), campaign_data(name="Renamed", status=Campaign.Status.ACTIVE)
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Renamed", Campaign.Status.ACTIVE)


def test_adding_a_lead_by_hand_captures_it_with_a_timeline_event(client, marketer, campaign):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:add_lead", args=[campaign.pk]),
        {
            "full_name": "Ada Lovelace",
            "email": "  Ada@Example.COM ",
            "company": "Engines",
            "phone": "",
            "job_title": "",
        },
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.email, lead.campaign, lead.status, lead.created_by) == (
        "ada@example.com",
        campaign,
        Lead.Status.NEW,
        marketer,
    )
    event = lead.events.first()
    assert (event.kind, event.actor) == (LeadEvent.Kind.CAPTURED, marketer)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"full_name": ""}, "full_name"),
        ({"company_size": "-1"}, "company_size"),
        ({"company_size": "many"}, "company_size"),
        ({"job_title": "x" * 201}, "job_title"),
        ({"full_name": "x" * 201}, "full_name"),
    ],
)
def test_bad_lead_input_is_explained_and_nothing_is_saved(client, marketer, campaign, overrides, field):
    client.force_login(marketer)
    data = {"full_name": "Ada", "email": "ada@example.com", "company": "", "phone": "", **overrides}
    response = client.post(reverse("campaigns:add_lead", args=[campaign.pk]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Lead.objects.exists()


def test_unknown_campaign_is_404_not_500(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse("campaigns:detail", args=[999999])).status_code == 404
    assert client.post(reverse("campaigns:add_lead", args=[999999]), {}).status_code == 404


def test_campaign_pages_use_a_constant_number_of_queries(client, marketer, campaign):
    """The detail and list pages count in SQL: more leads never mean more queries."""
    client.force_login(marketer)
    LeadFactory.create_batch(2, campaign=campaign)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    detail, listing = reverse("campaigns:detail", args=[campaign.pk]), reverse("campaigns:list")
    before = count(detail), count(listing)
    LeadFactory.create_batch(25, campaign=campaign)
    assert (count(detail), count(listing)) == before


def test_campaign_detail_shows_its_leads_by_status(client, marketer, campaign):
    client.force_login(marketer)
    LeadFactory.create_batch(3, campaign=campaign)
    response = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    results = response.context["results"]
    assert results.captured == 3
    assert dict(results.by_status)["New"] == 3


# --- The campaign form: every editable field, every rule ---------------------------------------


def full_campaign_data(**overrides):
    more = {
        "actual_spend": "2500.50",
        "objective": "40 demo requests from logistics firms",
        "target_audience": "Heads of logistics, DACH",
        "target_mqls_per_month": "12",
        "utm_source": "fair",
        "utm_medium": "event",
        "utm_campaign": "autumn-2026",
    }
    return campaign_data(**{**more, **overrides})


def test_every_editable_field_is_saved(client, marketer):
    client.force_login(marketer)

    client.post(reverse("campaigns:create"), full_campaign_data())

    campaign = Campaign.objects.get()
    assert (campaign.budget, campaign.actual_spend) == (Decimal("15000"), Decimal("2500.50"))
    assert (campaign.objective, campaign.target_audience, campaign.target_mqls_per_month) == (
        "40 demo requests from logistics firms",
        "Heads of logistics, DACH",
        12,
    )
    assert (campaign.utm_source, campaign.utm_medium, campaign.utm_campaign) == ("fair", "event", "autumn-2026")
    assert campaign.archived_at is None


def test_empty_spend_and_target_mean_nothing_yet(client, marketer):
    """A new campaign has usually spent nothing and may have no target: empty fields are saved as 0."""
    client.force_login(marketer)

    response = client.post(reverse("campaigns:create"), campaign_data(actual_spend="", target_mqls_per_month=""))

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.actual_spend, campaign.target_mqls_per_month) == (0, 0)


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"actual_spend": "-0.01"}, "actual_spend", "The actual spend cannot be negative"),
        ({"budget": "-1"}, "budget", "The budget cannot be negative"),
        ({"budget": "1" * 13}, "budget", "no more than 12 digits"),
        ({"actual_spend": "12.345"}, "actual_spend", "no more than 2 decimal places"),
        ({"target_mqls_per_month": "-3"}, "target_mqls_per_month", "The monthly MQL target cannot be negative"),
        ({"target_mqls_per_month": "9" * 12}, "target_mqls_per_month", "less than or equal to"),
        ({"target_mqls_per_month": "a dozen"}, "target_mqls_per_month", "Enter a whole number"),
        ({"status": Campaign.Status.ARCHIVED}, "status", "Select a valid choice"),
        ({"end_date": "2026-02-30"}, "end_date", "Enter a valid date"),
        ({"start_date": ""}, "start_date", "required"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"utm_source": "x" * 101}, "utm_source", "at most 100 characters"),
        ({"target_audience": "x" * 301}, "target_audience", "at most 300 characters"),
        ({"objective": "x" * 100_000}, "objective", "at most 1000 characters (it has 100000)"),
        ({"description": "x" * 100_000}, "description", "at most 5000 characters (it has 100000)"),
    ],
)
def test_each_campaign_rule_is_explained_and_nothing_is_saved(client, marketer, overrides, field, message):
    client.force_login(marketer)

    response = client.post(reverse("campaigns:create"), full_campaign_data(**overrides))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Campaign.objects.exists()


def test_a_campaign_may_start_and_end_on_the_same_day(client, marketer):
    client.force_login(marketer)

    response = client.post(reverse("campaigns:create"), campaign_data(start_date="2026-09-01", end_date="2026-09-01"))

    assert response.status_code == 302


def test_archived_is_not_a_status_to_pick(client, marketer):
    client.force_login(marketer)

    form = client.get(reverse("campaigns:create")).context["form"]

    assert Campaign.Status.ARCHIVED not in dict(form.fields["status"].choices)


# --- Archive and unarchive: no hard delete ------------------------------------------------------


def test_archiving_hides_the_campaign_and_keeps_everything(client, marketer, campaign):
    """Archive sets the status and the time; the campaign and its leads stay, only out of the default list."""
    LeadFactory(campaign=campaign)
    client.force_login(marketer)

    response = client.post(reverse("campaigns:archive", args=[campaign.pk]))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ARCHIVED
    assert campaign.archived_at is not None
    assert campaign.leads.count() == 1
    assert campaign not in client.get(reverse("campaigns:list")).context["campaign_list"]
    archived_list = client.get(reverse("campaigns:list"), {"status": Campaign.Status.ARCHIVED})
    assert list(archived_list.context["campaign_list"]) == [campaign]
    assert campaign in client.get(reverse("campaigns:list"), {"status": "any"}).context["campaign_list"]


def test_archiving_twice_keeps_the_first_date(client, marketer, campaign):
    client.force_login(marketer)
    client.post(reverse("campaigns:archive", args=[campaign.pk]))
    first = Campaign.objects.get(pk=campaign.pk).archived_at

    client.post(reverse("campaigns:archive", args=[campaign.pk]))

    assert Campaign.objects.get(pk=campaign.pk).archived_at == first


def test_an_archived_campaign_says_so_on_its_pages(client, marketer, campaign):
    client.force_login(marketer)
    client.post(reverse("campaigns:archive", args=[campaign.pk]))

    detail = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    edit = client.get(reverse("campaigns:edit", args=[campaign.pk])).content.decode()

    for page in (detail, edit):
        assert "<strong>Archived</strong>" in page
        assert reverse("campaigns:unarchive", args=[campaign.pk]) in page
    assert reverse("campaigns:archive", args=[campaign.pk]) not in detail


def test_editing_an_archived_campaign_keeps_it_archived(client, marketer, campaign):
    """The spend can still be corrected after the campaign is archived; the status cannot be changed there."""
    client.force_login(marketer)
    client.post(reverse("campaigns:archive", args=[campaign.pk]))

    response = client.post(
        reverse("campaigns:edit", args=[campaign.pk]), campaign_data(status=Campaign.Status.ACTIVE, actual_spend="99")
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.actual_spend) == (Campaign.Status.ARCHIVED, Decimal("99"))


def test_an_archived_campaign_takes_no_leads_by_hand(client, marketer, campaign):
    client.force_login(marketer)
    client.post(reverse("campaigns:archive", args=[campaign.pk]))

    response = client.post(
        reverse("campaigns:add_lead", args=[campaign.pk]), {"full_name": "Ada", "email": "ada@example.com"}
    )

    assert response.status_code == 302
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "start,end,comes_back_as",
    [
        (-30, None, Campaign.Status.PAUSED),
        (-30, 30, Campaign.Status.PAUSED),
        (-60, -1, Campaign.Status.COMPLETED),
        (10, 40, Campaign.Status.PLANNED),
    ],
)
def test_unarchiving_brings_it_back_without_taking_leads_by_surprise(client, marketer, start, end, comes_back_as):
    """Never straight back to active: paused while it runs, completed once ended, planned before it starts."""
    today = datetime.date.today()
    campaign = CampaignFactory(
        owner=marketer,
        start_date=today + datetime.timedelta(days=start),
        end_date=None if end is None else today + datetime.timedelta(days=end),
    )
    client.force_login(marketer)
    client.post(reverse("campaigns:archive", args=[campaign.pk]))

    response = client.post(reverse("campaigns:unarchive", args=[campaign.pk]))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.archived_at) == (comes_back_as, None)
    assert campaign in client.get(reverse("campaigns:list")).context["campaign_list"]


def test_unarchiving_a_live_campaign_changes_nothing(client, marketer, campaign):
    client.force_login(marketer)

    client.post(reverse("campaigns:unarchive", args=[campaign.pk]))

    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE


def test_archive_and_unarchive_only_answer_posts(client, marketer, campaign):
    client.force_login(marketer)

    assert client.get(reverse("campaigns:archive", args=[campaign.pk])).status_code == 405
    assert client.get(reverse("campaigns:unarchive", args=[campaign.pk])).status_code == 405
    assert client.post(reverse("campaigns:archive", args=[999999])).status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE


def test_there_is_no_way_to_delete_a_campaign(client, marketer, campaign):
    client.force_login(marketer)

    assert client.post(f"/campaigns/{campaign.pk}/delete/").status_code == 404
    assert not [p for p in get_resolver("campaigns.urls").reverse_dict if isinstance(p, str) and "delete" in p]
    assert Campaign.objects.filter(pk=campaign.pk).exists()


# --- Access --------------------------------------------------------------------------------------


def campaign_pages(campaign):
    return [
        ("get", reverse("campaigns:list")),
        ("get", reverse("campaigns:create")),
        ("get", reverse("campaigns:detail", args=[campaign.pk])),
        ("get", reverse("campaigns:edit", args=[campaign.pk])),
        ("post", reverse("campaigns:archive", args=[campaign.pk])),
        ("post", reverse("campaigns:unarchive", args=[campaign.pk])),
    ]


def test_reps_get_403_on_every_campaign_page(client, rep, campaign):
    client.force_login(rep)

    for method, url in campaign_pages(campaign):
        assert getattr(client, method)(url).status_code == 403, url
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE


def test_strangers_are_sent_to_sign_in(client, campaign):
    for method, url in campaign_pages(campaign):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_managers_may_archive(client, manager, campaign):
    client.force_login(manager)

    client.post(reverse("campaigns:archive", args=[campaign.pk]))

    assert Campaign.objects.get(pk=campaign.pk).is_archived


# --- The list: search, filters, sort, pagination ------------------------------------------------


def names(response) -> list[str]:
    return [campaign.name for campaign in response.context["campaign_list"]]


def warnings(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


@pytest.fixture
def three_campaigns(marketer, other_marketer):
    """Spring (email, marketer), Summer fair (event, other marketer, ended), Autumn (social, marketer, open)."""
    return [
        CampaignFactory(
            name="Spring newsletter",
            owner=marketer,
            channel=Campaign.Channel.EMAIL,
            status=Campaign.Status.ACTIVE,
            start_date=datetime.date(2026, 3, 1),
            end_date=datetime.date(2026, 5, 31),
            budget=1000,
            actual_spend=900,
        ),
        CampaignFactory(
            name="Summer trade fair",
            owner=other_marketer,
            channel=Campaign.Channel.EVENT,
            status=Campaign.Status.COMPLETED,
            start_date=datetime.date(2026, 6, 10),
            end_date=datetime.date(2026, 6, 12),
            budget=20000,
            actual_spend=100,
        ),
        CampaignFactory(
            name="Autumn social push",
            owner=marketer,
            channel=Campaign.Channel.SOCIAL,
            status=Campaign.Status.PLANNED,
            start_date=datetime.date(2026, 9, 1),
            end_date=None,
            budget=5000,
            actual_spend=0,
        ),
    ]


@pytest.fixture
def other_marketer(db):
    return UserFactory(username="other_marketer", role=Role.MARKETING)


def test_the_list_searches_names_in_any_case(client, marketer, three_campaigns):
    client.force_login(marketer)

    assert names(client.get(reverse("campaigns:list"), {"q": "TRADE"})) == ["Summer trade fair"]


@pytest.mark.parametrize(
    "filters,expected",
    [
        ({"channel": Campaign.Channel.EMAIL}, ["Spring newsletter"]),
        ({"status": Campaign.Status.COMPLETED}, ["Summer trade fair"]),
        ({"channel": Campaign.Channel.SOCIAL, "status": Campaign.Status.ACTIVE}, []),
        # Running in the range: starts by its end, and ends (or never ends) after its start.
        ({"date_from": "2026-06-11", "date_to": "2026-06-11"}, ["Summer trade fair"]),
        ({"date_from": "2026-05-31", "date_to": "2026-06-10"}, ["Summer trade fair", "Spring newsletter"]),
        ({"date_from": "2026-06-13"}, ["Autumn social push"]),
        ({"date_to": "2026-02-28"}, []),
        ({"date_from": "2030-01-01"}, ["Autumn social push"]),
    ],
)
def test_the_list_filters(client, marketer, three_campaigns, filters, expected):
    client.force_login(marketer)

    response = client.get(reverse("campaigns:list"), filters)

    assert names(response) == expected
    assert warnings(response) == ""


def test_the_list_filters_by_owner(client, marketer, other_marketer, three_campaigns):
    client.force_login(marketer)

    response = client.get(reverse("campaigns:list"), {"owner": other_marketer.pk})

    assert names(response) == ["Summer trade fair"]


@pytest.mark.parametrize(
    "sort,expected",
    [
        ("name", ["Autumn social push", "Spring newsletter", "Summer trade fair"]),
        ("-name", ["Summer trade fair", "Spring newsletter", "Autumn social push"]),
        ("start_date", ["Spring newsletter", "Summer trade fair", "Autumn social push"]),
        ("-start_date", ["Autumn social push", "Summer trade fair", "Spring newsletter"]),
        ("budget", ["Spring newsletter", "Autumn social push", "Summer trade fair"]),
        ("-budget", ["Summer trade fair", "Autumn social push", "Spring newsletter"]),
        ("spend", ["Autumn social push", "Summer trade fair", "Spring newsletter"]),
        ("-spend", ["Spring newsletter", "Summer trade fair", "Autumn social push"]),
        ("leads", ["Summer trade fair", "Spring newsletter", "Autumn social push"]),
        ("-leads", ["Autumn social push", "Spring newsletter", "Summer trade fair"]),
        ("converted", ["Autumn social push", "Summer trade fair", "Spring newsletter"]),
        ("-converted", ["Spring newsletter", "Summer trade fair", "Autumn social push"]),
    ],
)
def test_the_list_sorts(client, marketer, rep, three_campaigns, sort, expected):
    """Given Autumn 3 leads (none converted), Spring 2 (both converted), Summer 1 (converted)."""
    spring, summer, autumn = three_campaigns
    LeadFactory.create_batch(3, campaign=autumn)
    for campaign in (spring, spring, summer):
        advance(LeadFactory(campaign=campaign), Lead.Status.CONVERTED, marketer=marketer, rep=rep)
    client.force_login(marketer)

    assert names(client.get(reverse("campaigns:list"), {"sort": sort})) == expected


@pytest.mark.parametrize("sort", ["-start_date", "leads", "-converted"])
def test_the_list_counts_each_campaigns_leads_from_its_campaign_tallies_whatever_the_sort(client, marketer, rep, sort):
    """The list reads `CampaignTally` (a few rows per campaign); its counts are the leads' own, for a
    campaign with leads in many statuses and owners and for one with none."""
    busy, empty = CampaignFactory(owner=marketer), CampaignFactory(owner=marketer)
    LeadFactory.create_batch(2, campaign=busy)
    other_rep = UserFactory(role=Role.SALES)
    for status, owner in [(Lead.Status.HANDED_OFF, None), (Lead.Status.CLAIMED, rep), (Lead.Status.CONVERTED, rep)]:
        advance(LeadFactory(campaign=busy), status, marketer=marketer, rep=owner)
    advance(LeadFactory(campaign=busy), Lead.Status.CONVERTED, marketer=marketer, rep=other_rep)
    client.force_login(marketer)

    shown = client.get(reverse("campaigns:list"), {"sort": sort}).context["campaign_list"]

    counts = {(c.pk, c.lead_count, c.handed_off_count, c.converted_count) for c in shown}
    assert counts == {(busy.pk, 6, 4, 2), (empty.pk, 0, 0, 0)}


@pytest.mark.parametrize(
    "query,problem",
    [
        ({"sort": "owner__password"}, "Sort"),
        ({"sort": "-id; DROP TABLE campaigns_campaign"}, "Sort"),
        ({"date_from": "2026-13-45"}, "Running from: Enter a valid date."),
        ({"date_to": "yesterday"}, "Running until: Enter a valid date."),
        ({"date_from": "2026-07-01", "date_to": "2026-06-01"}, "must not be before"),
        ({"owner": "someone"}, "Owner"),
        ({"owner": "999999"}, "Owner"),
        ({"channel": "carrier pigeon"}, "Channel"),
        ({"status": "deleted"}, "Status"),
        ({"q": "x" * 201}, "Name contains"),
    ],
)
def test_bad_list_input_gets_a_message_and_the_rest_still_applies(client, marketer, three_campaigns, query, problem):
    """Not a 500: the bad value is named in a warning and left out; the valid filters still apply."""
    client.force_login(marketer)

    response = client.get(reverse("campaigns:list"), {**query, "channel": query.get("channel", "email")})

    assert response.status_code == 200
    assert "Some filters were not understood" in warnings(response)
    assert problem in warnings(response)
    if "channel" not in query:
        assert names(response) == ["Spring newsletter"]


def test_pages_keep_the_filters_and_a_bad_page_number_shows_a_page(client, marketer):
    for n in range(30):
        CampaignFactory(owner=marketer, name=f"Webinar {n:02}", channel=Campaign.Channel.CONTENT)
    CampaignFactory(owner=marketer, name="Not a webinar at all", channel=Campaign.Channel.PRINT)
    client.force_login(marketer)

    first = client.get(reverse("campaigns:list"), {"channel": "content", "sort": "name"})
    second = client.get(reverse("campaigns:list"), {"channel": "content", "sort": "name", "page": "2"})

    assert 'href="?channel=content&amp;sort=name&amp;page=2"' in first.content.decode()
    assert names(second) == [f"Webinar {n:02}" for n in range(25, 30)]
    for page in ("two", "999", "-1"):
        assert client.get(reverse("campaigns:list"), {"page": page}).status_code == 200


def test_the_list_costs_the_same_queries_for_many_campaigns_and_leads(client, marketer, other_marketer, rep):
    """Counts come from one grouped query and owners are joined: more rows never mean more queries."""
    client.force_login(marketer)
    url = reverse("campaigns:list")

    def queries(params) -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url, params).status_code == 200
        return len(context)

    CampaignFactory(owner=marketer)
    before = [queries({}), queries({"owner": marketer.pk, "sort": "-leads", "date_from": "2020-01-01"})]
    for n in range(30):
        campaign = CampaignFactory(owner=[marketer, other_marketer][n % 2])
        LeadFactory.create_batch(2, campaign=campaign)
    advance(LeadFactory(campaign=campaign), Lead.Status.CONVERTED, marketer=marketer, rep=rep)

    assert [queries({}), queries({"owner": marketer.pk, "sort": "-leads", "date_from": "2020-01-01"})] == before


def test_adding_a_known_address_by_hand_marks_it_captured_again(client, marketer, rep, campaign):
    """The form path follows the duplicate rule: no second lead, a 'captured again' event, owner and
    status kept, and the marketer is told."""
    from campaigns.capture import LeadData, lead_capture
    from conftest import advance

    known = advance(
        lead_capture(campaign=campaign, actor=marketer, data=LeadData("Ada", "ada@example.com")).lead,
        Lead.Status.CLAIMED,
        marketer=marketer,
        rep=rep,
    )
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:add_lead", args=[campaign.pk]),
        {"full_name": "Ada Again", "email": "ADA@example.com ", "company": "", "phone": "", "job_title": ""},
        follow=True,
    )
    assert "already a lead" in response.content.decode()
    assert Lead.objects.count() == 1
    known.refresh_from_db()
    assert (known.status, known.owner, known.capture_count) == (Lead.Status.CLAIMED, rep, 2)
    assert known.events.filter(kind=LeadEvent.Kind.CAPTURED_AGAIN).count() == 1
