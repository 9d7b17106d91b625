"""Every model is in the admin, and every admin list page opens."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from conftest import UserFactory

OUR_APPS = ("handoff", "campaigns", "leads")


def test_every_model_is_registered():
    missing = [
        model.__name__
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
        if model not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", [m for app in OUR_APPS for m in apps.get_app_config(app).get_models()], ids=lambda m: m.__name__
)
def test_admin_list_pages_open(client, model):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
