import factory

from conftest import UserFactory
from integrations.models import Alert, Channel, Endpoint


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Endpoint

    name = factory.Sequence(lambda n: f"CRM {n}")
    url = "http://127.0.0.1:9/hook"
    events = factory.LazyFunction(lambda: ["deadline.breached"])
    created_by = factory.SubFactory(UserFactory)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    kind = Channel.Kind.SLACK
    name = factory.Sequence(lambda n: f"#alerts-{n}")
    url = "http://127.0.0.1:9/slack"
    alerts = factory.LazyFunction(lambda: [Alert.BREACHES, Alert.WARNINGS, Alert.ASSIGNMENTS, Alert.STORM_SUMMARIES])
    created_by = factory.SubFactory(UserFactory)
