"""A long table of the dashboard (a rep per row: ~400 at a million leads) shows its first 25 rows, worst
first, and links to a page of its own with the same filters, paginated; its CSV is the whole table."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from conftest import CampaignFactory, LeadFactory, UserFactory
from enforcement.sweep import sweep_deadlines
from leads import services
from people.names import person_name
from people.roles import Role
from reporting import views
from reporting.dashboard import sla_dashboard
from reporting.dashboard_tables import TABLES
from sla.models import Deadline

pytestmark = pytest.mark.django_db
K = Deadline.Kind


@pytest.fixture
def filters() -> str:
    today = timezone.localdate()
    return f"period=custom&start={today - datetime.timedelta(days=1)}&end={today}"


def late_first_contact(*, marketer, rep, campaign) -> None:
    """A lead `rep` claimed and did not contact by the time its first contact fell due, an hour ago."""
    lead = LeadFactory(campaign=campaign)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    services.lead_claim(lead=lead, rep=rep)
    now = timezone.now()
    Deadline.objects.running().filter(lead=lead, kind=K.FIRST_CONTACT).update(
        starts_at=now - datetime.timedelta(hours=2), due_at=now - datetime.timedelta(hours=1), warn_at=None
    )
    sweep_deadlines()


def rows_of(html: str, table: str) -> list[str]:
    body = html.split(f'id="table-{table}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split("<tr>")[1:]]


def csv_rows(client, table: str, filters: str) -> list[list[str]]:
    response = client.get(f"{reverse('dashboard_export', args=[table])}?{filters}")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_dashboard_shows_the_worst_25_reps_and_links_to_them_all(client, manager, marketer, rep, campaign, filters):
    UserFactory.create_batch(30, role=Role.SALES)
    late_first_contact(marketer=marketer, rep=rep, campaign=campaign)
    client.force_login(manager)

    # The CSV: the whole table, worst first
    exported = csv_rows(client, "reps", filters)
    reps = len(exported) - 1
    assert reps > 30 and exported[1][0] == person_name(rep)

    html = client.get(f"{reverse('dashboard')}?{filters}").content.decode()
    shown = rows_of(html, "reps")
    assert len(shown) == views.DASHBOARD_TABLE_ROWS == 25
    assert person_name(rep) in shown[0]
    all_reps = f"{reverse('dashboard_table', args=['reps'])}?{filters.replace('&', '&amp;')}"
    assert f"Showing 25 of {reps} reps, most misses first" in html and f'href="{all_reps}"' in html
    # A short table is shown whole, with no link
    assert reverse("dashboard_table", args=["breaches_by_team"]) not in html


def test_a_tables_page_shows_it_whole_a_page_at_a_time(client, manager, marketer, rep, campaign, filters, monkeypatch):
    monkeypatch.setattr(views, "TABLE_PAGE_SIZE", 20)
    UserFactory.create_batch(30, role=Role.SALES)
    late_first_contact(marketer=marketer, rep=rep, campaign=campaign)
    client.force_login(manager)
    exported = [row[0] for row in csv_rows(client, "reps", filters)[1:]]
    url = f"{reverse('dashboard_table', args=['reps'])}?{filters}"

    first, second = (client.get(f"{url}&page={page}").content.decode() for page in (1, 2))

    assert [len(rows_of(page, "reps")) for page in (first, second)] == [20, len(exported) - 20]
    names = [name for page in (first, second) for name in exported if f">{name}</th>" in "".join(rows_of(page, "reps"))]
    assert sorted(names) == sorted(exported)
    assert person_name(rep) in rows_of(first, "reps")[0]
    # Its figures link to the leads behind them with the page's filters, as on the dashboard
    assert f"{reverse('dashboard_leads')}?period=custom&amp;" in first and "figure=first_contacts_late" in first
    assert "Page 1 of 2" in first and f"{len(exported)} reps, most misses first" in first
    assert 'href="?period=custom' in first  # the next page keeps the filters


def test_a_tables_page_is_for_managers_and_known_tables(client, manager, rep):
    client.force_login(rep)
    assert client.get(reverse("dashboard_table", args=["reps"])).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("dashboard_table", args=["nothing"])).status_code == 404
    assert client.get(f"{reverse('dashboard_table', args=['reps'])}?page=x&period=custom&start=zz").status_code == 200


def test_a_tables_page_costs_the_same_queries_whatever_its_rows(client, manager, marketer, rep, campaign, filters):
    client.force_login(manager)
    url = f"{reverse('dashboard_table', args=['reps'])}?{filters}"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    late_first_contact(marketer=marketer, rep=rep, campaign=campaign)
    before = queries()
    UserFactory.create_batch(60, role=Role.SALES)
    late_first_contact(marketer=marketer, rep=UserFactory(role=Role.SALES), campaign=campaign)
    assert queries() == before


def test_each_csv_is_its_whole_table_as_built_from_every_part(client, manager, marketer, rep, campaign, filters):
    """A CSV reads only the parts of the figures its table shows (`TABLES`), and writes what the table
    built from all of them holds: an archived campaign that only captured leads, one that only missed a
    first contact, and a rep with a late first contact included."""
    late_first_contact(marketer=marketer, rep=rep, campaign=campaign)
    captured_only = CampaignFactory(owner=marketer, status=Campaign.Status.ARCHIVED)
    LeadFactory(campaign=captured_only)
    missed_only = CampaignFactory(owner=marketer, status=Campaign.Status.ARCHIVED)
    late_first_contact(marketer=marketer, rep=rep, campaign=missed_only)
    client.force_login(manager)
    request = RequestFactory().get(f"/?{filters}")
    now = timezone.now()
    _, parsed = views._filters(request, now)
    every_part = sla_dashboard(filters=parsed, now=now)

    for name, source in TABLES.items():
        exported = client.get(f"{reverse('dashboard_export', args=[name])}?{filters}").content
        assert exported == views.table_csv(source.build(every_part, views._no_link), parsed).content, name
