"""Login throttling (django-axes): wrong passwords are counted per username from one address and per
address alone, on the app's login and the admin's; at either limit even the right password is refused
from that address with a clear message, until the cool-off passes or a manager unlocks the login."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from conftest import PASSWORD, UserFactory
from people.lockouts import login_unlock

LIMIT = 3  # a username from one address
ADDRESS_LIMIT = 6  # an address, whatever the usernames
LOCKED = "Too many failed logins"


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = ADDRESS_LIMIT
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)


def log_in(client, username, password, *, ip="10.0.0.1", url="login"):
    return client.post(reverse(url), {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, username, times, *, ip="10.0.0.1", url="login"):
    for _ in range(times):
        response = log_in(client, username, "wrong-password", ip=ip, url=url)
        assert response.status_code in (200, 429)


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
class TestLoginPage:
    def test_below_the_limit_the_right_password_still_works(self, client, rep):
        fail(client, "rep", LIMIT - 1)
        response = log_in(client, "rep", PASSWORD)
        assert response.status_code == 302 and is_signed_in(client)

    def test_at_the_limit_even_the_right_password_is_refused_with_a_clear_message(self, client, rep):
        fail(client, "rep", LIMIT)

        response = log_in(client, "rep", PASSWORD)

        assert response.status_code == 429
        assert not is_signed_in(client)
        html = response.content.decode()
        assert LOCKED in html and "ask a manager to unlock" in html and "15 minutes" in html

    def test_the_lockout_holds_only_for_the_address_the_failures_came_from(self, client, rep):
        fail(client, "rep", LIMIT, ip="10.0.0.1")

        assert log_in(client, "rep", PASSWORD, ip="10.0.0.1").status_code == 429
        assert log_in(client, "rep", PASSWORD, ip="10.0.0.2").status_code == 302

    def test_strangers_guessing_from_many_addresses_do_not_lock_the_user_out(self, client, rep):
        """Ten addresses each guessing rep's password to their limit (a botnet, or someone who wants rep
        locked out) lock rep out from those addresses only: rep still logs in from rep's own."""
        for n in range(10):
            fail(client, "rep", LIMIT, ip=f"10.0.1.{n}")

        assert log_in(client, "rep", PASSWORD, ip="10.0.1.0").status_code == 429
        assert log_in(client, "rep", PASSWORD, ip="10.0.0.1").status_code == 302

    def test_an_address_is_locked_whatever_usernames_it_tries(self, client, rep, marketer):
        """One address trying one password on many usernames (spraying) locks that address, for every
        username, at the address's own limit."""
        for n in range(ADDRESS_LIMIT - 1):
            fail(client, f"someone{n}", 1, ip="10.0.2.1")
        assert log_in(client, "rep", PASSWORD, ip="10.0.2.1").status_code == 302
        client.logout()

        fail(client, "someone-else", 1, ip="10.0.2.1")

        assert log_in(client, "marketer", PASSWORD, ip="10.0.2.1").status_code == 429
        # Others elsewhere are not affected.
        assert log_in(client, "marketer", PASSWORD, ip="10.0.2.2").status_code == 302

    def test_behind_a_proxy_the_forwarded_address_counts(self, client, settings, rep, marketer):
        """With one trusted proxy, the address it saw is the client's, not the proxy's own."""
        settings.INTAKE_TRUSTED_PROXIES = 1
        for n in range(ADDRESS_LIMIT):
            client.post(
                reverse("login"),
                {"username": f"someone{n}", "password": "wrong"},
                REMOTE_ADDR="10.0.0.254",
                HTTP_X_FORWARDED_FOR="203.0.113.7",
            )
        locked = client.post(
            reverse("login"),
            {"username": "marketer", "password": PASSWORD},
            REMOTE_ADDR="10.0.0.254",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
        assert locked.status_code == 429
        other = {"REMOTE_ADDR": "10.0.0.254", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
        assert client.post(reverse("login"), {"username": "rep", "password": PASSWORD}, **other).status_code == 302

    def test_a_forwarded_address_that_is_no_address_still_counts_by_username(self, client, settings, rep):
        """The username is counted from an unknown address: all logins with no readable address share it."""
        settings.INTAKE_TRUSTED_PROXIES = 1
        garbage = {"REMOTE_ADDR": "10.0.0.254", "HTTP_X_FORWARDED_FOR": "unknown"}
        for _ in range(LIMIT):
            response = client.post(reverse("login"), {"username": "rep", "password": "wrong"}, **garbage)
            assert response.status_code in (200, 429)  # never a 500 from storing "unknown" as an address
        assert client.post(reverse("login"), {"username": "rep", "password": PASSWORD}, **garbage).status_code == 429

    def test_the_lockout_ends_after_the_cool_off(self, client, rep):
        fail(client, "rep", LIMIT)
        AccessAttempt.objects.update(attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16))
        assert log_in(client, "rep", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_test_clients_login_works_with_throttling(client, rep):
    """Tests may sign in with client.login as well as force_login (see conftest.ThrottledLoginClient)."""
    assert client.login(username="rep", password=PASSWORD)
    assert not client.login(username="rep", password="wrong")


@pytest.mark.django_db
def test_the_admin_login_is_throttled_like_the_apps(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    fail(client, admin.username, LIMIT, url="admin:login")

    response = log_in(client, admin.username, PASSWORD, url="admin:login")

    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not is_signed_in(client)


@pytest.mark.django_db
class TestUnlock:
    @pytest.mark.parametrize("strangers", [1, 5])
    def test_managers_see_locked_usernames_and_addresses_and_unlock_them(
        self, client, rep, manager, strangers, django_assert_num_queries
    ):
        # Given rep locked out by wrong passwords from one address, and strangers guessing at other
        # logins from addresses of their own until those addresses are locked
        fail(client, "rep", LIMIT, ip="10.0.3.1")
        for n in range(strangers):
            for attempt in range(ADDRESS_LIMIT):
                fail(client, f"someone{attempt}", 1, ip=f"10.0.5.{n}")
        client.force_login(manager)

        # When the manager opens Locked logins (two aggregate queries, whatever the number of lockouts)
        with django_assert_num_queries(8):
            html = client.get(reverse("login_lockouts")).content.decode()

        # Then rep from that address is listed, and each locked address
        assert "<code>rep</code></td>\n  <td><code>10.0.3.1</code>" in html
        assert all(f"<code>10.0.5.{n}</code>" in html for n in range(strangers))

        # And unlocking the pair (the page's button) lets rep in again from there
        response = client.post(reverse("login_unlock"), {"username": "rep", "ip_address": "10.0.3.1"}, follow=True)
        assert "rep from 10.0.3.1 can log in again." in response.content.decode()
        client.logout()
        assert log_in(client, "rep", PASSWORD, ip="10.0.3.1").status_code == 302

    def test_unlocking_a_username_alone_unlocks_it_from_every_address(self, client, rep, manager):
        fail(client, "rep", LIMIT, ip="10.0.6.1")
        fail(client, "rep", LIMIT, ip="10.0.6.2")
        client.force_login(manager)
        client.post(reverse("login_unlock"), {"username": "rep"})
        client.logout()
        assert log_in(client, "rep", PASSWORD, ip="10.0.6.1").status_code == 302
        client.logout()
        assert log_in(client, "rep", PASSWORD, ip="10.0.6.2").status_code == 302

    def test_unlocking_an_address(self, client, rep, manager):
        for n in range(ADDRESS_LIMIT):
            fail(client, f"someone{n}", 1, ip="10.0.4.1")
        client.force_login(manager)
        client.post(reverse("login_unlock"), {"ip_address": "10.0.4.1"})
        client.logout()
        assert log_in(client, "rep", PASSWORD, ip="10.0.4.1").status_code == 302

    def test_a_bare_unlock_never_unlocks_everyone(self, client, rep, manager):
        fail(client, "rep", LIMIT)
        client.force_login(manager)
        response = client.post(reverse("login_unlock"), {}, follow=True)
        assert "Unlock a username, an IP address or both." in response.content.decode()
        assert AccessAttempt.objects.exists()
        with pytest.raises(ValueError):
            login_unlock(actor=manager)

    @pytest.mark.parametrize("role", ["rep", "marketer"])
    def test_only_managers_may_see_or_unlock(self, client, request, role):
        client.force_login(request.getfixturevalue(role))
        assert client.get(reverse("login_lockouts")).status_code == 403
        assert client.post(reverse("login_unlock"), {"username": "rep"}).status_code == 403
