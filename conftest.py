"""Shared fixtures and factories. Tests run on the real PostgreSQL and Redis (see README)."""

import datetime
import threading
from decimal import Decimal

import factory
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.test import Client

from campaigns.capture import lead_merge
from campaigns.models import Campaign
from leads import services
from leads.models import Lead
from people.roles import Role
from sla.models import BusinessCalendar, OpeningHours

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            # get_or_create: transactional tests flush the groups the migration made.
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = Campaign.Channel.EMAIL
    owner = factory.SubFactory(UserFactory, role=Role.MARKETING)
    status = Campaign.Status.ACTIVE
    start_date = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=30))
    budget = 5000


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead in status NEW. Move it on with the services in leads.services, never by setting status."""

    class Meta:
        model = Lead

    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"lead{n}@example.org")
    company = factory.Faker("company")
    campaign = factory.SubFactory(CampaignFactory)
    score = 60


S = Lead.Status

# The shortest way from NEW to each status through the services.
ROUTES: dict[str, tuple[str, ...]] = {
    S.NEW: (),
    S.MQL: (S.MQL,),
    S.HANDED_OFF: (S.MQL, S.HANDED_OFF),
    S.CLAIMED: (S.MQL, S.HANDED_OFF, S.CLAIMED),
    S.CONTACTED: (S.MQL, S.HANDED_OFF, S.CLAIMED, S.CONTACTED),
    S.CONVERTED: (S.MQL, S.HANDED_OFF, S.CLAIMED, S.CONTACTED, S.CONVERTED),
    S.RETURNED: (S.MQL, S.HANDED_OFF, S.CLAIMED, S.RETURNED),
    S.DISQUALIFIED: (S.DISQUALIFIED,),
    S.MERGED: (S.MERGED,),
    S.ON_HOLD: (S.MQL, S.HANDED_OFF, S.CLAIMED, S.ON_HOLD),
}


def move(lead: Lead, to: str, *, marketer, rep) -> Lead:
    """Make one legal move of `lead` with the service that owns it, acted by whoever normally makes it:
    marketing-side moves by `marketer`, claims and moves on a claimed lead by `rep`. Returns the lead,
    refreshed."""
    on_sales_side = lead.is_worked_by_sales
    match to:
        case S.MQL:
            services.lead_qualify(lead=lead, actor=marketer)
        case S.HANDED_OFF if lead.status == S.CLAIMED:
            services.lead_requeue(lead=lead, actor=rep, reason="Going on leave")
        case S.HANDED_OFF:
            services.lead_hand_off(lead=lead, actor=marketer, note="Asked for a demo")
        case S.CLAIMED if lead.status == S.ON_HOLD:
            services.lead_resume(lead=lead, actor=rep)
        case S.CLAIMED:
            services.lead_claim(lead=lead, rep=rep)
        case S.CONTACTED if lead.status == S.ON_HOLD:
            services.lead_resume(lead=lead, actor=rep)
        case S.CONTACTED:
            services.lead_log_first_contact(lead=lead, actor=rep, note="Called")
        case S.ON_HOLD:
            services.lead_hold(lead=lead, actor=rep, reason="Waiting on the customer")
        case S.CONVERTED:
            services.lead_convert(lead=lead, actor=rep, value=Decimal("1000.00"))
        case S.RETURNED:
            services.lead_return(lead=lead, actor=rep, reason="Outside our market")
        case S.DISQUALIFIED:
            services.lead_disqualify(lead=lead, actor=rep if on_sales_side else marketer, reason="Not a real company")
        case S.NEW:
            services.lead_renurture(lead=lead, actor=marketer)
        case S.MERGED:
            lead_merge(duplicate=lead, into=LeadFactory(campaign=lead.campaign), actor=marketer)
    lead.refresh_from_db()
    return lead


def around_the_clock():
    """A calendar open every minute of every day, for teams whose routing a test needs whatever the
    hour the suite runs at (routing passes over reps outside their team's hours)."""
    calendar, created = BusinessCalendar.objects.get_or_create(name="Around the clock", defaults={"time_zone": "UTC"})
    if created:
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=day, opens=datetime.time.min, closes=datetime.time.max)
            for day in range(7)
        )
    return calendar


def our_models() -> list:
    """Every model of Handoff's own apps (those in this repository), whichever app holds it."""
    return [
        model
        for config in apps.get_app_configs()
        if config.path.startswith(str(settings.BASE_DIR)) and ".venv" not in config.path
        for model in config.get_models()
    ]


def advance(lead: Lead, to: str, *, marketer, rep) -> Lead:
    """Take a NEW lead to status `to` the way people would, through the services (see ROUTES).
    Returns the lead, refreshed."""
    for step in ROUTES[to]:
        move(lead, step, marketer=marketer, rep=rep)
    return lead


def at_once(*actions, timeout: float = 60) -> list:
    """Run each of `actions` (callables) in its own thread, with its own connection and transaction,
    released together; returns what each returned or raised, in the order given. For races on the real
    database (tests marked `django_db(transaction=True)`)."""
    start = threading.Barrier(len(actions), timeout=timeout)
    outcomes: list = [None] * len(actions)

    def run(position, action):
        try:
            start.wait()
            outcomes[position] = action()
        except Exception as exc:  # noqa: BLE001 - every outcome is returned and judged by the test
            outcomes[position] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a racer did not finish"
    return outcomes


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last. pytest-django runs transactional tests after the others, because they empty
    every table (the rows migrations put there too); but pytest then groups the tests sharing the
    session's browser where the first of them was collected, ahead of tests that need those rows."""
    items.sort(key=lambda item: "live_server" in getattr(item, "fixturenames", ()))


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: the dashboard keeps its weekly trends there."""
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many users; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class ThrottledLoginClient(Client):
    """Django's test client whose `login()` works with the login throttling: django-axes' backend
    refuses to authenticate without a request, which `Client.login` does not pass."""

    def login(self, **credentials):
        return super().login(request=HttpRequest(), **credentials)


@pytest.fixture
def client():
    return ThrottledLoginClient()


@pytest.fixture
def marketer(db):
    return UserFactory(username="marketer", role=Role.MARKETING)


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", role=Role.SALES)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="other_rep", role=Role.SALES)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.MANAGERS)


@pytest.fixture
def campaign(marketer):
    return CampaignFactory(owner=marketer)
