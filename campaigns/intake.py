"""Web-to-lead intake: the JSON endpoint a campaign's landing page posts leads to.

`intake_receive` answers one POST. It checks, in this order, and stops at the first refusal:

1. the client IP's rate limit (429), before anything touches the database;
2. the campaign key in the URL and that campaign's token in `Authorization: Bearer …` (401). An
   unknown key gets the same 401 as a wrong token, so keys cannot be probed;
3. the campaign's rate limit (429), counted only once the token is right, so strangers cannot use up
   a campaign's quota and lock its landing page out;
4. the `Idempotency-Key` header (400 when empty or too long); a key the campaign has already answered
   gets that first answer back, whatever the body;
5. an archived campaign (410), the content type (415), the body size (413), the JSON and its fields (400);
6. capture through `lead_capture`: 201 for a new lead, 200 for a known address captured again.

When PostgreSQL cannot be reached, the answer is 503 with Retry-After: nothing was stored.

Only a capture's answer is stored for its Idempotency-Key: a refused post changed nothing, so the
client may fix it and retry with the same key.

The limits are Django settings, read on each post so tests can change them: INTAKE_MAX_BODY_BYTES,
INTAKE_RATE_PER_IP, INTAKE_RATE_PER_CAMPAIGN, INTAKE_RATE_WINDOW (seconds) and INTAKE_TRUSTED_PROXIES
(how many reverse proxies in front of the app append to X-Forwarded-For; 0 trusts REMOTE_ADDR only).
"""

import json
import logging
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache

import redis
from django import forms
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from common.addresses import client_ip
from leads.models import Lead

from .capture import LeadData, lead_capture, normalise_email
from .models import Campaign, IntakeRequest, ScoringRule

logger = logging.getLogger(__name__)

RATE_KEY_PREFIX = "intake:rate:"
IDEMPOTENCY_KEY_MAX = IntakeRequest._meta.get_field("idempotency_key").max_length
EMAIL_MAX = Lead._meta.get_field("email").max_length
REPLAYED = {"Idempotent-Replayed": "true"}
RETRY_AFTER_SECONDS = 30


def intake_setting(name: str) -> int:
    """Read at call time (not import time) so tests can change limits with the settings fixture."""
    return getattr(settings, name)


@dataclass(frozen=True)
class IntakeAnswer:
    """What the endpoint answers: a status, a JSON body and extra headers."""

    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


UNAVAILABLE = IntakeAnswer(
    503,
    {"errors": {"service": ["The lead could not be stored: the database is unavailable. Nothing was kept; retry."]}},
    {"Retry-After": str(RETRY_AFTER_SECONDS)},
)


class Refused(Exception):
    def __init__(self, status: int, errors: dict[str, list[str]], headers: dict[str, str] | None = None):
        super().__init__(status, errors)
        self.answer = IntakeAnswer(status, {"errors": errors}, headers or {})


class IntakeLeadForm(forms.Form):
    """The JSON body's fields, with the limits of the Lead model's columns."""

    name = forms.CharField(max_length=Lead._meta.get_field("full_name").max_length)
    email = forms.EmailField(max_length=EMAIL_MAX)
    company = forms.CharField(max_length=Lead._meta.get_field("company").max_length, required=False)
    phone = forms.CharField(max_length=Lead._meta.get_field("phone").max_length, required=False)
    job_title = forms.CharField(max_length=Lead._meta.get_field("job_title").max_length, required=False)
    country = forms.CharField(max_length=Lead._meta.get_field("country").max_length, required=False)
    # The upper bound of PostgreSQL's integer column: the model field's form field leaves it out.
    company_size = forms.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        # Case-folding can lengthen an address (ß → ss in the domain); it must still fit the column.
        if len(normalise_email(email)) > EMAIL_MAX:
            raise forms.ValidationError(f"Ensure this value has at most {EMAIL_MAX} characters.")
        return email


TEXT_FIELDS = ("name", "email", "company", "phone", "job_title")


def intake_receive(request, *, intake_key: str) -> IntakeAnswer:
    """Answer one POST to the intake endpoint of the campaign with `intake_key` (order of checks above)."""
    try:
        _count(f"ip:{client_ip(request)}", intake_setting("INTAKE_RATE_PER_IP"))
        header = request.headers.get("Idempotency-Key")
        campaign = _authenticated_campaign(
            intake_key, request.headers.get("Authorization", ""), key=header if _key_is_valid(header) else None
        )
        _count(f"campaign:{campaign.pk}", intake_setting("INTAKE_RATE_PER_CAMPAIGN"))
        key = _idempotency_key(header)
        if key is not None and campaign.stored_status is not None:
            return IntakeAnswer(campaign.stored_status, campaign.stored_response, REPLAYED)
        if campaign.is_archived:
            raise Refused(410, {"campaign": ["This campaign is archived and takes no more leads."]})
        data = _lead_data(_json_body(request))
        return _capture(campaign, data, key)
    except Refused as refusal:
        return refusal.answer
    except (OperationalError, InterfaceError) as exc:
        # The database is unreachable: the lead was not stored, and the client is a program that can
        # retry. Say so, instead of the HTML error page.
        logger.error("Intake refused with 503, the database failed: %s", exc)
        return UNAVAILABLE


def intake_token_rotate(*, campaign: Campaign, actor) -> str:
    """Issue a new intake token for `campaign`; the old one stops working at once.

    Returns the token: only its hash is kept, so this is the one time anyone sees it.
    """
    token = campaign.rotate_intake_token()
    logger.info("Intake token of campaign %s rotated by user %s", campaign.pk, actor.pk)
    return token


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    # One connection pool per process; short timeouts so a slow Redis cannot hold up a landing page.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def _count(subject: str, limit: int) -> None:
    """Count one post against `subject` in the current fixed window; refuse it with 429 over `limit`."""
    window = intake_setting("INTAKE_RATE_WINDOW")
    now = time.time()
    start = int(now // window) * window
    key = f"{RATE_KEY_PREFIX}{subject}:{start}"
    try:
        # One round trip, without MULTI/EXEC around it: both commands always run, and a key that missed
        # its expiry names a window that is over, so nothing needs them to be atomic.
        with _redis(settings.REDIS_URL).pipeline(transaction=False) as pipe:
            hits, _ = pipe.incr(key).expire(key, window).execute()
    except redis.RedisError as exc:
        # A lost lead costs more than a few minutes without limits: let the post through, loudly.
        logger.warning("Intake rate limit not checked, Redis failed: %s", exc)
        return
    if hits > limit:
        retry = max(1, math.ceil(start + window - now))
        raise Refused(429, {"rate": [f"Too many posts; try again in {retry} seconds."]}, {"Retry-After": str(retry)})


# A post's campaign with what the post needs of the database before its transaction, in one statement
# written by hand (the ORM took 1.2 ms of CPU to compose it, more than PostgreSQL takes to run it, and
# 200 posts a second on two cores leave about 10 ms of CPU a post for everything): the answer stored for
# its Idempotency-Key, the scoring rules in force (`scoring.active_rules`, in the model's order) and the
# MQL threshold in force (`QualificationPolicy.current`'s order; NULL while there is no policy yet).
CAMPAIGN_FOR_POST = """
SELECT c.*, stored.status_code AS stored_status, stored.response::text AS stored_response,
       (SELECT json_agg(json_build_array(r.id, r.kind, r.value, r.points) ORDER BY r.kind, r.value)
          FROM campaigns_scoringrule r WHERE r.is_active)::text AS rules_in_force,
       (SELECT p.mql_threshold FROM campaigns_qualificationpolicy p
         ORDER BY p.created_at DESC, p.id DESC LIMIT 1) AS mql_threshold
  FROM campaigns_campaign c
  LEFT JOIN campaigns_intakerequest stored ON stored.campaign_id = c.id AND stored.idempotency_key = %s
 WHERE c.intake_key = %s
"""


def _authenticated_campaign(intake_key: str, authorization: str, *, key: str | None) -> Campaign:
    """The campaign of `intake_key` if the token is its own (else 401), read with the answer stored for
    the Idempotency-Key `key` (`stored_status`, `stored_response`: None when there is none), the scoring
    rules in force (`rules`) and the MQL threshold in force (`mql_threshold`)."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    campaign = next(iter(Campaign.objects.raw(CAMPAIGN_FOR_POST, [key, intake_key])), None)
    if campaign is None or scheme.lower() != "bearer" or not token or not campaign.intake_token_matches(token):
        raise Refused(
            401,
            {"token": ["Missing or wrong intake token: send the campaign's token as Authorization: Bearer <token>."]},
            {"WWW-Authenticate": 'Bearer realm="intake"'},
        )
    if campaign.stored_response is not None:
        campaign.stored_response = json.loads(campaign.stored_response)
    campaign.rules = _rules_in_force(campaign.rules_in_force or "[]")
    return campaign


@lru_cache(maxsize=8)
def _rules_in_force(rules_json: str) -> tuple[ScoringRule, ...]:
    """The scoring rules listed in `rules_json` (CAMPAIGN_FOR_POST's `rules_in_force`), built once per
    process for each version of the rules: twelve model instances cost a post 0.3 ms of CPU, the same
    every time. The text lists every rule's id, kind, value and points, so an edited rule is a new text
    and a new entry, never a stale one. The instances are only read (scoring, the event's reasons)."""
    return tuple(
        ScoringRule(pk=pk, kind=kind, value=value, points=points) for pk, kind, value, points in json.loads(rules_json)
    )


def _key_is_valid(key: str | None) -> bool:
    return key is not None and bool(key.strip()) and len(key) <= IDEMPOTENCY_KEY_MAX and "\x00" not in key


def _idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not _key_is_valid(key):
        raise Refused(400, {"idempotency_key": [f"Send an Idempotency-Key of 1 to {IDEMPOTENCY_KEY_MAX} characters."]})
    return key


def _stored_answer(campaign: Campaign, key: str) -> IntakeAnswer | None:
    record = IntakeRequest.objects.filter(campaign=campaign, idempotency_key=key).first()
    if record is None:
        return None
    return IntakeAnswer(record.status_code, record.response, REPLAYED)


def _json_body(request) -> object:
    if request.content_type.lower() != "application/json":
        raise Refused(415, {"body": ["Send the lead as JSON, with Content-Type: application/json."]})
    limit = intake_setting("INTAKE_MAX_BODY_BYTES")
    too_big = Refused(413, {"body": [f"The body is larger than the limit of {limit} bytes."]})
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    # The header may be missing (a chunked body under ASGI) or lie: count what is actually read.
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_big
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Refused(400, {"body": ["The body is not valid JSON."]}) from None


def _lead_data(payload: object) -> LeadData:
    """The lead in `payload`, or a 400 naming every unknown field and every bad value."""
    if not isinstance(payload, dict):
        raise Refused(400, {"body": ["Send one JSON object with the lead's fields."]})
    errors = {name: ["Unknown field."] for name in payload if name not in IntakeLeadForm.base_fields}
    for name in TEXT_FIELDS:
        if payload.get(name) is not None and not isinstance(payload[name], str):
            errors[name] = ["Enter text."]
    size = payload.get("company_size")
    if isinstance(size, bool) or not isinstance(size, int | float | str | None):
        errors["company_size"] = ["Enter a whole number."]
    form = IntakeLeadForm({name: value for name, value in payload.items() if name not in errors and value is not None})
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors.setdefault(name, list(messages))
    if errors:
        raise Refused(400, errors)
    cleaned = form.cleaned_data
    return LeadData(
        full_name=cleaned["name"],
        email=cleaned["email"],
        company=cleaned["company"],
        phone=cleaned["phone"],
        job_title=cleaned["job_title"],
        company_size=cleaned["company_size"],
        country=cleaned["country"],
    )


def _capture(campaign: Campaign, data: LeadData, key: str | None) -> IntakeAnswer:
    """Capture the lead and store the answer under `key`, both or neither.

    The key's row is inserted last, with the answer (one INSERT, no UPDATE): a concurrent post with
    the same key (both passed `_stored_answer`) waits on the unique index until the first ends, then
    fails to insert it, which rolls its own capture back, and replays what was committed.
    """
    try:
        with transaction.atomic():
            result = lead_capture(
                campaign=campaign,
                data=data,
                actor=None,
                source=Lead.Source.INTAKE,
                rules=campaign.rules,
                mql_threshold=campaign.mql_threshold,
            )
            answer = IntakeAnswer(201 if result.created else 200, {"id": result.lead.pk, "created": result.created})
            if key is not None:
                IntakeRequest.objects.create(
                    campaign=campaign, idempotency_key=key, status_code=answer.status, response=answer.body
                )
    except IntegrityError:
        stored = _stored_answer(campaign, key) if key is not None else None
        if stored is None:
            raise
        return stored
    return answer
