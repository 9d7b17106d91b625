"""Shared fixtures and factories. Tests run on the real PostgreSQL and Redis (see README)."""

import datetime

import factory
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from campaigns.models import Campaign
from handoff.roles import Role
from leads.models import Lead

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
            self.groups.add(Group.objects.get(name=extracted))


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


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many users; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
