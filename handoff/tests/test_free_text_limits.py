"""Every free-text field people fill in has a maximum length, enforced by its form with a clear error."""

import pytest
from django.db import models
from django.urls import reverse

from conftest import our_models
from sla.models import SlaPolicy

# Written by Handoff itself, never typed in by a person.
SYSTEM_TEXT = {("campaigns", "ImportJob", "failure"), ("notifications", "Notification", "body")}


def free_text_fields():
    for model in our_models():
        app = model._meta.app_label
        for field in model._meta.get_fields():
            if isinstance(field, models.TextField) and (app, model.__name__, field.name) not in SYSTEM_TEXT:
                yield f"{app}.{model.__name__}.{field.name}", field


@pytest.mark.parametrize(("name", "field"), list(free_text_fields()), ids=lambda value: str(value))
def test_every_free_text_field_has_a_maximum(name, field):
    assert field.max_length, f"{name} has no max_length"
    assert field.formfield().widget.attrs["maxlength"] == str(field.max_length)


@pytest.mark.django_db
def test_an_over_long_policy_note_is_refused_with_a_clear_error(client, manager):
    """The SLA policy page says how long the note may be, and publishes nothing."""
    client.force_login(manager)
    versions = SlaPolicy.objects.count()

    response = client.post(reverse("sla_policy_new"), {"name": "Spring", "note": "x" * 100_000})

    assert response.status_code == 200
    assert "Ensure this value has at most 1000 characters (it has 100000)." in response.context["form"].errors["note"]
    assert SlaPolicy.objects.count() == versions
