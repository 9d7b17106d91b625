"""Web-to-lead intake: every answer of the endpoint, the Idempotency-Key, rate limits on the real Redis,
and the marketer's page that shows the endpoint and rotates the token."""

import io
import json
import threading

import pytest
import redis
from django.conf import settings as django_settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from campaigns.intake import RATE_KEY_PREFIX
from campaigns.models import Campaign, IntakeRequest, QualificationPolicy, ScoringRule
from campaigns.views.intake import intake as intake_view
from common.addresses import client_ip
from conftest import CampaignFactory, LeadFactory, advance
from leads.models import Lead, LeadEvent

pytestmark = pytest.mark.django_db
K = LeadEvent.Kind
ADA = {"name": "Ada Lovelace", "email": "Ada@Example.com", "company": "Analytical Engines"}


def clear_rate_limits(redis_url=None):
    client = redis.Redis.from_url(redis_url or django_settings.REDIS_URL)
    keys = list(client.scan_iter(f"{RATE_KEY_PREFIX}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Every test starts with empty rate-limit windows (the whole file posts from one test IP)."""
    redis_url = django_settings.REDIS_URL  # a test may point the setting at a Redis that is down
    clear_rate_limits(redis_url)
    yield
    clear_rate_limits(redis_url)


@pytest.fixture
def token(campaign):
    return campaign.rotate_intake_token()


def url(campaign):
    return reverse("campaigns:intake", args=[campaign.intake_key])


def post(client, campaign, body, *, token=None, key=None, raw=False, content_type="application/json", **extra):
    """POST `body` (a dict as JSON, or bytes/str as is with raw=True) to the campaign's endpoint."""
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers["Idempotency-Key"] = key
    data = body if raw else json.dumps(body)
    return client.post(url(campaign), data, content_type=content_type, headers=headers, **extra)


class TestCapture:
    def test_a_new_lead_gets_201_with_its_id(self, client, campaign, token):
        """A good post creates the lead in the campaign, from the web form, and answers 201 with its id."""
        response = post(client, campaign, {**ADA, "job_title": "CTO", "company_size": 250}, token=token)

        assert response.status_code == 201
        lead = Lead.objects.get()
        assert response.json() == {"id": lead.pk, "created": True}
        assert (lead.full_name, lead.email, lead.job_title, lead.company_size) == (
            "Ada Lovelace",
            "ada@example.com",
            "CTO",
            250,
        )
        assert (lead.campaign, lead.source, lead.created_by) == (campaign, Lead.Source.INTAKE, None)
        assert lead.events.filter(kind=K.CAPTURED, actor=None).exists()
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "no-store" in response["Cache-Control"]

    def test_a_known_address_is_captured_again_with_200_and_keeps_owner_and_status(
        self, client, marketer, rep, campaign, token
    ):
        """An address that is already a lead answers 200 with that lead's id and created false; the lead
        gets a "captured again" event and keeps its campaign, owner and status."""
        fair = CampaignFactory(name="Trade fair", owner=marketer)
        lead = advance(
            LeadFactory(email="ada@example.com", campaign=fair), Lead.Status.CLAIMED, marketer=marketer, rep=rep
        )

        response = post(client, campaign, {**ADA, "email": " ADA@example.COM "}, token=token)

        assert response.status_code == 200
        assert response.json() == {"id": lead.pk, "created": False}
        assert Lead.objects.count() == 1
        lead.refresh_from_db()
        assert (lead.status, lead.owner, lead.campaign, lead.capture_count) == (Lead.Status.CLAIMED, rep, fair, 2)
        event = lead.events.get(kind=K.CAPTURED_AGAIN)
        assert campaign.name in event.note
        assert event.data == {"campaign": campaign.pk, "source": Lead.Source.INTAKE}

    def test_optional_fields_may_be_left_out_empty_or_null(self, client, campaign, token):
        """Only name and email are required; a landing page's empty inputs and nulls are accepted."""
        response = post(
            client,
            campaign,
            {"name": "Bo", "email": "bo@example.com", "company": "", "phone": None, "company_size": ""},
            token=token,
        )
        assert response.status_code == 201
        lead = Lead.objects.get()
        assert (lead.company, lead.phone, lead.company_size) == ("", "", None)

    def test_company_size_may_come_as_text_from_a_form(self, client, campaign, token):
        """An HTML input sends numbers as text: "250" is 250."""
        assert post(client, campaign, {**ADA, "company_size": "250"}, token=token).status_code == 201
        assert Lead.objects.get().company_size == 250

    def test_a_post_takes_a_constant_number_of_queries(self, client, campaign, token, django_assert_max_num_queries):
        """Authentication, the key, the capture and its events fit in a small fixed number of queries
        (9: the campaign with the key's stored answer, the scoring rules and the MQL threshold, survivors,
        lead, events, the key's answer, and the transaction with the insert's savepoint); a replay costs
        one."""
        QualificationPolicy.current()  # in force (the first capture with none creates it)
        with django_assert_max_num_queries(9):
            assert post(client, campaign, ADA, token=token, key="k-1").status_code == 201
        with django_assert_max_num_queries(1):  # a replay reads the campaign with its stored answer
            assert post(client, campaign, ADA, token=token, key="k-1").status_code == 201

    def test_a_lead_reaching_the_threshold_in_force_becomes_an_mql(self, client, campaign, token):
        """The rules and the threshold are read with the campaign (no statement of their own): the rules
        in force and the newest policy count."""
        ScoringRule.objects.update(is_active=False)
        ScoringRule.objects.create(kind=ScoringRule.Kind.FIELD_PRESENT, value="company", points=70)
        QualificationPolicy.objects.create(mql_threshold=60)
        assert post(client, campaign, ADA, token=token).status_code == 201
        QualificationPolicy.objects.create(mql_threshold=80)
        assert post(client, campaign, {**ADA, "email": "bo@example.com"}, token=token).status_code == 201

        statuses = dict(Lead.objects.values_list("email", "status"))
        assert statuses == {"ada@example.com": Lead.Status.MQL, "bo@example.com": Lead.Status.NEW}

    def test_a_rule_edited_between_two_posts_counts_at_the_second(self, client, campaign, token):
        """The rules a process built once for a version of the rules (`_rules_in_force`) are never those
        of an older version: new points, a rule switched off and a new rule all count at the next post."""
        ScoringRule.objects.update(is_active=False)
        rule = ScoringRule.objects.create(kind=ScoringRule.Kind.FIELD_PRESENT, value="company", points=10)
        assert post(client, campaign, ADA, token=token).status_code == 201
        ScoringRule.objects.filter(pk=rule.pk).update(points=30)
        assert post(client, campaign, {**ADA, "email": "bo@example.com"}, token=token).status_code == 201
        ScoringRule.objects.filter(pk=rule.pk).update(is_active=False)
        ScoringRule.objects.create(kind=ScoringRule.Kind.FIELD_PRESENT, value="company", points=5)
        assert post(client, campaign, {**ADA, "email": "cy@example.com"}, token=token).status_code == 201

        scores = dict(Lead.objects.values_list("email", "score"))
        assert scores == {"ada@example.com": 10, "bo@example.com": 30, "cy@example.com": 5}


class TestBadInput:
    @pytest.mark.parametrize(
        "body,field,message",
        [
            ({"email": "ada@example.com"}, "name", "This field is required."),
            ({"name": "  ", "email": "ada@example.com"}, "name", "This field is required."),
            ({"name": None, "email": "ada@example.com"}, "name", "This field is required."),
            ({"name": "Ada"}, "email", "This field is required."),
            ({"name": "Ada", "email": "not-an-address"}, "email", "Enter a valid email address."),
            ({"name": "A" * 201, "email": "ada@example.com"}, "name", "at most 200 characters"),
            ({"name": "Ada", "email": "ada@example.com", "phone": "1" * 51}, "phone", "at most 50 characters"),
            ({"name": 42, "email": "ada@example.com"}, "name", "Enter text."),
            ({"name": "Ada", "email": ["ada@example.com"]}, "email", "Enter text."),
            ({"name": "Ada", "email": "ada@example.com", "company_size": -1}, "company_size", "greater than or"),
            ({"name": "Ada", "email": "ada@example.com", "company_size": 2.5}, "company_size", "whole number"),
            ({"name": "Ada", "email": "ada@example.com", "company_size": "many"}, "company_size", "whole number"),
            ({"name": "Ada", "email": "ada@example.com", "company_size": True}, "company_size", "whole number"),
            ({"name": "Ada", "email": "ada@example.com", "company_size": {}}, "company_size", "whole number"),
            ({"name": "Ada", "email": "ada@example.com", "company_size": 2**31}, "company_size", "less than or"),
            ({"name": "Ada\x00", "email": "ada@example.com"}, "name", "Null characters are not allowed."),
            ({**ADA, "fax": "+49 1", "utm_source": "x"}, "fax", "Unknown field."),
            ({**ADA, "fax": "+49 1", "utm_source": "x"}, "utm_source", "Unknown field."),
        ],
    )
    def test_a_bad_field_gets_400_naming_it_and_nothing_is_captured(
        self, client, campaign, token, body, field, message
    ):
        """Each bad or unknown field is named in `errors` with a readable message; no lead is created."""
        response = post(client, campaign, body, token=token)

        assert response.status_code == 400
        assert message in " ".join(response.json()["errors"][field])
        assert not Lead.objects.exists()

    def test_every_problem_is_named_in_one_answer(self, client, campaign, token):
        """A client fixes everything in one round: unknown fields and bad values come together."""
        response = post(client, campaign, {"name": "Ada", "email": "nope", "fax": "1", "company_size": -3}, token=token)

        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"email", "fax", "company_size"}

    def test_an_address_that_grows_when_case_folded_past_the_column_is_refused(self, client, campaign, token):
        """Case-folding turns ß into ss; an address that then no longer fits is a 400, not a database error."""
        email = "a@" + "ß" * 60 + "." + "ß" * 60 + "." + "ß" * 60 + "." + "ß" * 60 + ".de"
        assert len(email) <= 254

        response = post(client, campaign, {"name": "Ada", "email": email}, token=token)

        assert response.status_code == 400
        assert response.json()["errors"]["email"] == ["Ensure this value has at most 254 characters."]

    @pytest.mark.parametrize(
        "body",
        [b"{not json", b"  ", b'{"name": "Ada",}', "[" * 5000 + "]" * 5000, b"\xff\xfe\x00garbage", b"NaN-ish"],
        ids=["broken", "blank", "trailing-comma", "deeply-nested", "bad-bytes", "not-json"],
    )
    def test_a_body_that_is_not_json_gets_400(self, client, campaign, token, body):
        response = post(client, campaign, body, token=token, raw=True)

        assert response.status_code == 400
        assert response.json() == {"errors": {"body": ["The body is not valid JSON."]}}

    @pytest.mark.parametrize("body", [["Ada", "ada@example.com"], "Ada", 42, None])
    def test_json_that_is_not_an_object_gets_400(self, client, campaign, token, body):
        response = post(client, campaign, body, token=token)

        assert response.status_code == 400
        assert response.json() == {"errors": {"body": ["Send one JSON object with the lead's fields."]}}

    @pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
    def test_a_body_that_is_not_declared_json_gets_415(self, client, campaign, token, content_type):
        response = post(client, campaign, json.dumps(ADA), token=token, raw=True, content_type=content_type)

        assert response.status_code == 415
        assert "application/json" in response.json()["errors"]["body"][0]
        assert not Lead.objects.exists()

    def test_json_with_a_charset_parameter_is_json(self, client, campaign, token):
        response = post(client, campaign, ADA, token=token, content_type="application/json; charset=utf-8")
        assert response.status_code == 201

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head"])
    def test_other_methods_get_405(self, client, campaign, token, method):
        response = getattr(client, method)(url(campaign), headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 405
        assert response["Allow"] == "POST, OPTIONS"
        if method != "head":
            assert response.json() == {"errors": {"method": ["Use POST."]}}

    def test_a_browser_preflight_is_allowed_from_any_site(self, client, campaign):
        """Before a cross-site JSON post with a token, browsers ask with OPTIONS; the answer lets them post."""
        response = client.options(url(campaign), headers={"Origin": "https://landing.example.com"})

        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response["Access-Control-Allow-Methods"] == "POST"
        assert "Idempotency-Key" in response["Access-Control-Allow-Headers"]
        assert "Authorization" in response["Access-Control-Allow-Headers"]


class TestBodySize:
    def test_a_body_over_the_limit_gets_413_by_its_content_length(self, client, campaign, token):
        """The default limit is 16 KB; the body is refused by its declared length, before it is read."""
        response = post(client, campaign, {**ADA, "company": "x" * 17_000}, token=token)

        assert response.status_code == 413
        assert "16384 bytes" in response.json()["errors"]["body"][0]
        assert not Lead.objects.exists()

    def test_a_body_exactly_at_the_limit_is_read(self, client, campaign, token, settings):
        body = json.dumps(ADA).encode()
        settings.INTAKE_MAX_BODY_BYTES = len(body)

        assert post(client, campaign, body, token=token, raw=True).status_code == 201

    def test_a_body_without_content_length_is_measured_as_it_is_read(self, campaign, token, settings):
        """Under ASGI a chunked body has no Content-Length; the endpoint counts the bytes it reads."""
        settings.INTAKE_MAX_BODY_BYTES = 100
        body = json.dumps({**ADA, "company": "x" * 200}).encode()
        scope = {
            "type": "http",
            "method": "POST",
            "path": url(campaign),
            "query_string": b"",
            "headers": [(b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        request = ASGIRequest(scope, io.BytesIO(body))
        assert "CONTENT_LENGTH" not in request.META

        response = intake_view(request, intake_key=campaign.intake_key)

        assert response.status_code == 413
        assert not Lead.objects.exists()


class TestToken:
    @pytest.mark.parametrize(
        "authorization",
        [None, "Bearer ", "Bearer wrong-token", "Basic YWRhOmFkYQ==", "wrong-token", "Bearer  "],
        ids=["missing", "empty", "wrong", "basic", "no-scheme", "blank"],
    )
    def test_a_missing_or_wrong_token_gets_401(self, client, campaign, token, authorization):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = client.post(url(campaign), json.dumps(ADA), content_type="application/json", headers=headers)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="intake"'
        assert list(response.json()["errors"]) == ["token"]
        assert not Lead.objects.exists()

    def test_the_scheme_is_case_insensitive(self, client, campaign, token):
        response = client.post(
            url(campaign),
            json.dumps(ADA),
            content_type="application/json",
            headers={"Authorization": f"bearer {token}"},
        )
        assert response.status_code == 201

    def test_an_unknown_key_gets_the_same_401_as_a_wrong_token(self, client, campaign, token):
        """Keys cannot be probed: an unknown key and a wrong token look the same."""
        wrong_token = post(client, campaign, ADA, token="wrong")
        unknown_key = client.post(
            reverse("campaigns:intake", args=["no-such-key"]),
            json.dumps(ADA),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

        assert unknown_key.status_code == wrong_token.status_code == 401
        assert unknown_key.json() == wrong_token.json()

    def test_a_campaign_without_a_token_refuses_every_post(self, client, campaign):
        """A new campaign has no token until a marketer issues one; an empty token never matches."""
        assert campaign.intake_token_hash == ""
        assert post(client, campaign, ADA, token="").status_code == 401
        assert post(client, campaign, ADA, token="anything").status_code == 401

    def test_the_token_of_campaign_a_cannot_add_a_lead_to_campaign_b(self, client, marketer):
        """The key in the URL picks the campaign and the token must be that campaign's."""
        campaign_a, campaign_b = CampaignFactory(owner=marketer), CampaignFactory(owner=marketer)
        token_a = campaign_a.rotate_intake_token()
        campaign_b.rotate_intake_token()

        response = post(client, campaign_b, ADA, token=token_a)

        assert response.status_code == 401
        assert not Lead.objects.exists()
        assert post(client, campaign_a, ADA, token=token_a).status_code == 201
        assert Lead.objects.get().campaign == campaign_a

    def test_an_archived_campaign_refuses_with_410(self, client, marketer):
        archived = CampaignFactory(owner=marketer, status=Campaign.Status.ARCHIVED)

        response = post(client, archived, ADA, token=archived.rotate_intake_token())

        assert response.status_code == 410
        assert response.json() == {"errors": {"campaign": ["This campaign is archived and takes no more leads."]}}
        assert not Lead.objects.exists()


class TestIdempotencyKey:
    def test_a_retry_gets_the_first_answer_and_creates_nothing(self, client, campaign, token):
        """The first answer is stored; a retry with the same key gets the same status and body back,
        marked as replayed, and adds no lead, no event and no capture."""
        first = post(client, campaign, ADA, token=token, key="order-42")
        events = LeadEvent.objects.count()

        retry = post(client, campaign, ADA, token=token, key="order-42")

        assert (retry.status_code, retry.json()) == (first.status_code, first.json()) == (201, first.json())
        assert retry["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        lead = Lead.objects.get()
        assert (lead.capture_count, LeadEvent.objects.count()) == (1, events)
        assert IntakeRequest.objects.get().response == {"id": lead.pk, "created": True}

    def test_a_retry_of_a_captured_again_answer_replays_200(self, client, marketer, campaign, token):
        post(client, campaign, ADA, token=token)
        first = post(client, campaign, ADA, token=token, key="again")

        retry = post(client, campaign, ADA, token=token, key="again")

        assert (first.status_code, retry.status_code) == (200, 200)
        assert retry.json() == first.json()
        assert Lead.objects.get().capture_count == 2

    def test_the_key_names_the_post_whatever_the_body_of_the_retry(self, client, campaign, token):
        """A key the campaign has answered is answered the same; the retry's body is not captured."""
        first = post(client, campaign, ADA, token=token, key="k")

        retry = post(client, campaign, {"name": "Bo", "email": "bo@example.com"}, token=token, key="k")

        assert retry.json() == first.json()
        assert list(Lead.objects.values_list("email", flat=True)) == ["ada@example.com"]

    def test_the_same_key_on_another_campaign_is_another_post(self, client, marketer, campaign, token):
        other = CampaignFactory(owner=marketer)
        post(client, campaign, ADA, token=token, key="k")

        response = post(
            client, other, {"name": "Bo", "email": "bo@example.com"}, token=other.rotate_intake_token(), key="k"
        )

        assert response.status_code == 201
        assert Lead.objects.count() == 2

    def test_refused_posts_are_not_stored_so_the_client_can_fix_and_retry(self, client, campaign, token, settings):
        """400, 401, 413 and 429 answers store nothing: the same key then captures the fixed post."""
        assert post(client, campaign, {"name": "Ada"}, token=token, key="k").status_code == 400
        assert post(client, campaign, ADA, token="wrong", key="k").status_code == 401
        assert post(client, campaign, {**ADA, "company": "x" * 17_000}, token=token, key="k").status_code == 413
        settings.INTAKE_RATE_PER_CAMPAIGN = 2  # the 400 and the 413 counted; the 401 did not
        assert post(client, campaign, ADA, token=token, key="k").status_code == 429
        assert not IntakeRequest.objects.exists()
        clear_rate_limits()

        assert post(client, campaign, ADA, token=token, key="k").status_code == 201
        assert IntakeRequest.objects.count() == 1

    def test_a_key_of_200_characters_is_accepted_and_a_longer_one_refused(self, client, campaign, token):
        assert post(client, campaign, ADA, token=token, key="k" * 200).status_code == 201

        response = post(client, campaign, ADA, token=token, key="k" * 201)

        assert response.status_code == 400
        assert response.json() == {"errors": {"idempotency_key": ["Send an Idempotency-Key of 1 to 200 characters."]}}
        assert IntakeRequest.objects.count() == 1

    def test_an_empty_key_is_refused(self, client, campaign, token):
        assert post(client, campaign, ADA, token=token, key=" ").status_code == 400
        assert not Lead.objects.exists()

    def test_a_retry_after_the_campaign_is_archived_still_gets_its_first_answer(self, client, campaign, token):
        """The lead was captured; archiving the campaign later does not turn the retry into a refusal."""
        first = post(client, campaign, ADA, token=token, key="k")
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.ARCHIVED)

        retry = post(client, campaign, ADA, token=token, key="k")

        assert (retry.status_code, retry.json()) == (201, first.json())

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_posts_with_one_key_create_one_lead(self, marketer):
        """Six posts with the same key at once: one captures, the others wait for it and replay its answer."""
        campaign = CampaignFactory(owner=marketer)
        token = campaign.rotate_intake_token()
        start = threading.Barrier(6)
        answers, errors = [], []

        def send(i):
            try:
                start.wait()
                response = post(Client(), campaign, {**ADA, "name": f"Racer {i}"}, token=token, key="same")
                answers.append((response.status_code, response.json()))
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert errors == []
        lead = Lead.objects.get()
        assert answers == [(201, {"id": lead.pk, "created": True})] * 6
        assert lead.capture_count == 1
        assert not lead.events.filter(kind=K.CAPTURED_AGAIN).exists()
        assert IntakeRequest.objects.count() == 1


class TestRateLimits:
    def test_a_client_ip_over_its_limit_gets_429_with_retry_after(self, client, campaign, token, settings):
        settings.INTAKE_RATE_PER_IP = 2
        assert post(client, campaign, ADA, token=token).status_code == 201
        assert post(client, campaign, ADA, token=token).status_code == 200

        response = post(client, campaign, {"name": "Bo", "email": "bo@example.com"}, token=token)

        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
        assert response.json()["errors"]["rate"] == [f"Too many posts; try again in {response['Retry-After']} seconds."]
        assert not Lead.objects.filter(email="bo@example.com").exists()
        other_ip = post(
            client, campaign, {"name": "Bo", "email": "bo@example.com"}, token=token, REMOTE_ADDR="10.0.0.9"
        )
        assert other_ip.status_code == 201

    def test_posts_with_a_wrong_token_count_against_the_ip(self, client, campaign, token, settings):
        """Guessing tokens from one address is slowed down like any other posting."""
        settings.INTAKE_RATE_PER_IP = 3
        for _ in range(3):
            assert post(client, campaign, ADA, token="guess").status_code == 401

        assert post(client, campaign, ADA, token=token).status_code == 429

    def test_a_campaign_over_its_limit_gets_429_from_every_ip(self, client, marketer, campaign, token, settings):
        settings.INTAKE_RATE_PER_CAMPAIGN = 2
        for i in range(2):
            body = {"name": f"Lead {i}", "email": f"lead{i}@example.com"}
            assert post(client, campaign, body, token=token, REMOTE_ADDR=f"10.0.0.{i}").status_code == 201

        response = post(client, campaign, ADA, token=token, REMOTE_ADDR="10.0.0.99")

        assert response.status_code == 429
        assert "Retry-After" in response
        other = CampaignFactory(owner=marketer)
        assert post(client, other, ADA, token=other.rotate_intake_token(), REMOTE_ADDR="10.0.0.99").status_code == 201

    def test_strangers_cannot_use_up_a_campaigns_quota(self, client, campaign, token, settings):
        """Posts with a wrong token are refused before they count against the campaign."""
        settings.INTAKE_RATE_PER_CAMPAIGN = 2
        for i in range(5):
            assert post(client, campaign, ADA, token="guess", REMOTE_ADDR=f"10.0.1.{i}").status_code == 401

        assert post(client, campaign, ADA, token=token).status_code == 201

    def test_without_redis_leads_are_still_captured(self, client, campaign, token, settings, caplog):
        """A lost lead costs more than a spell without limits: if Redis is down, the post goes through."""
        settings.REDIS_URL = "redis://127.0.0.1:1/15"

        response = post(client, campaign, ADA, token=token)

        assert response.status_code == 201
        assert "Redis failed" in caplog.text

    def test_behind_trusted_proxies_the_client_is_the_address_the_outer_proxy_saw(self, settings):
        """Addresses a client writes into X-Forwarded-For itself do not change which address is counted."""
        request = RequestFactory().post(
            "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
        )  # 6.6.6.6 is made up by the client; our proxy appended 203.0.113.7
        assert client_ip(request) == "10.0.0.1"

        settings.INTAKE_TRUSTED_PROXIES = 1
        assert client_ip(request) == "203.0.113.7"


@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_the_intake_answers_503_json_and_no_page_says_nothing_was_lost(client, campaign):
    """Given PostgreSQL cannot be reached, a post answers JSON 503 with Retry-After (its clients are
    programs that retry), not the HTML error page; and the error page never claims nothing was lost."""
    token = campaign.rotate_intake_token()
    connection.close()
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"  # nothing listens there: every connection attempt fails
    try:
        response = post(client, campaign, ADA, token=token)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    assert "Nothing was kept" in response.json()["errors"]["service"][0]
    assert not Lead.objects.filter(email="ada@example.com").exists()
    assert "Nothing you entered was lost" not in render_to_string("500.html")


class TestSettingsPage:
    def test_anonymous_visitors_are_sent_to_log_in(self, client, campaign):
        for response in (
            client.get(reverse("campaigns:intake_settings", args=[campaign.pk])),
            client.post(reverse("campaigns:intake_settings", args=[campaign.pk])),
        ):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
        campaign.refresh_from_db()
        assert campaign.intake_token_hash == ""

    def test_a_rep_gets_403_and_cannot_rotate(self, client, rep, campaign, token):
        client.force_login(rep)
        page = reverse("campaigns:intake_settings", args=[campaign.pk])

        assert client.get(page).status_code == 403
        assert client.post(page).status_code == 403
        assert post(client, campaign, ADA, token=token).status_code == 201

    def test_a_marketer_sees_the_endpoint_key_and_examples(self, client, marketer, campaign, token):
        client.force_login(marketer)

        response = client.get(reverse("campaigns:intake_settings", args=[campaign.pk]))

        assert response.status_code == 200
        endpoint = f"http://testserver/campaigns/intake/{campaign.intake_key}/leads/"
        assert response.context["endpoint"] == endpoint
        content = response.content.decode()
        assert f"curl -X POST &#x27;{endpoint}&#x27;" in content
        assert "&lt;form id=&quot;lead-form&quot;&gt;" in content  # the snippet is shown, not run
        assert campaign.intake_key in content
        assert "Rotate token" in content
        assert token not in content
        assert "YOUR_TOKEN" in content

    def test_a_manager_may_use_the_page(self, client, manager, campaign):
        client.force_login(manager)
        assert client.get(reverse("campaigns:intake_settings", args=[campaign.pk])).status_code == 200

    def test_a_new_campaign_offers_to_issue_its_first_token(self, client, marketer, campaign):
        client.force_login(marketer)
        content = client.get(reverse("campaigns:intake_settings", args=[campaign.pk])).content.decode()
        assert "Issue token" in content
        assert "refuses every post until you issue one" in content

    def test_rotation_shows_the_new_token_once_and_the_old_one_stops_working(self, client, marketer, campaign, token):
        client.force_login(marketer)
        page = reverse("campaigns:intake_settings", args=[campaign.pk])

        response = client.post(page)

        assert response.status_code == 200
        new_token = response.context["token"]
        assert new_token != token
        assert new_token in response.content.decode()
        assert f"Bearer {new_token}" in response.content.decode()
        assert "no-store" in response["Cache-Control"]
        assert new_token not in client.get(page).content.decode()
        assert post(client, campaign, ADA, token=token).status_code == 401
        assert post(client, campaign, ADA, token=new_token).status_code == 201

    def test_an_unknown_campaign_is_404(self, client, marketer):
        client.force_login(marketer)
        assert client.get(reverse("campaigns:intake_settings", args=[999_999])).status_code == 404
