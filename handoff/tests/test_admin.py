"""Every model is in the admin, and every admin list page opens."""

import io

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from conftest import UserFactory, our_models


def test_every_model_is_registered():
    missing = [model.__name__ for model in our_models() if model not in admin.site._registry]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", our_models(), ids=lambda m: m.__name__)
def test_admin_list_pages_open(client, model):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


@pytest.mark.django_db
class TestSuperusersOnly:
    def test_a_manager_with_the_staff_flag_is_sent_to_the_admin_login(self, client, manager):
        """Managers steer Handoff in its own pages; the staff flag (as the seed once set it) opens nothing."""
        manager.is_staff = True
        manager.save(update_fields=["is_staff"])
        client.force_login(manager)

        response = client.get(reverse("admin:index"))

        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
        assert "Admin" not in client.get(reverse("dashboard")).content.decode()

    def test_superusers_get_the_admin_and_its_link(self, client):
        client.force_login(UserFactory(username="root", is_superuser=True))
        assert client.get(reverse("admin:index")).status_code == 200
        assert reverse("admin:index") in client.get(reverse("no_role")).content.decode()

    def test_the_demo_manager_is_not_staff(self):
        call_command("seed_demo", stdout=io.StringIO())
        manager = get_user_model().objects.get(username="manager")
        assert not manager.is_staff
        assert not manager.user_permissions.exists()
