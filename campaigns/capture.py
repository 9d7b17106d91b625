"""Lead capture, the one door for all three ways in: the form, CSV import and web-to-lead intake.

An address is one lead: emails are normalised (trimmed, case-folded), and a lead captured again gets
a "captured again" event and keeps its owner and state instead of becoming a second lead. New leads
are scored by the rules and become MQLs when they reach the threshold.

Callers check who may capture (a marketer's view, an intake token, an import a marketer confirmed);
the actor is None for the web form.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from leads.models import Lead, LeadEvent
from leads.transitions import TransitionError, transition
from sla.clocks import follow_up_meet

from .models import Campaign, QualificationPolicy, ScoringRule
from .scoring import active_rules, lead_auto_qualify, lead_rescore, qualify_many, rules_scored_event, score

BULK_CHUNK = 1000


@dataclass(frozen=True)
class LeadData:
    """One captured contact, already validated (the form, the import or the intake did that)."""

    full_name: str
    email: str
    company: str = ""
    phone: str = ""
    job_title: str = ""
    company_size: int | None = None
    country: str = ""


@dataclass(frozen=True)
class CaptureResult:
    lead: Lead
    created: bool


def normalise_email(email: str) -> str:
    return email.strip().casefold()


# Live and merged-away leads of these addresses in one query (naming both sides of `merged_into` was
# written to keep PostgreSQL off the trigram index; at 1M it is one index scan of an email btree,
# `lead_email_prefix_idx`, as with the ORM's `IN`). Written by hand: every
# capture runs it, and the ORM took about 0.4 ms of CPU to compose it (web intake aims at 200 posts a
# second on two cores, about 10 ms of CPU a post for everything).
SURVIVORS = """
SELECT email, id, merged_into_id FROM leads_lead
 WHERE (merged_into_id IS NULL OR merged_into_id IS NOT NULL) AND email = ANY(%s)
"""


def _survivors(emails: set[str]) -> dict[str, int]:
    """The live lead id for each known address; an address merged away leads to its survivor."""
    found: dict[str, int] = {}
    pending: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(SURVIVORS, [list(emails)])
        rows = cursor.fetchall()
    for email, pk, merged_into in rows:
        if merged_into is None:
            found[email] = pk
        else:
            pending.setdefault(email, merged_into)
    for email in found:
        pending.pop(email, None)
    while pending:  # merges can chain
        parents = dict(Lead.objects.filter(pk__in=set(pending.values())).values_list("pk", "merged_into"))
        for email, pk in list(pending.items()):
            if parents.get(pk) is None:
                found[email] = pending.pop(email)
            else:
                pending[email] = parents[pk]
    return found


def _locked(ids) -> dict[int, Lead]:
    return {
        lead.pk: lead
        for lead in Lead.objects.select_for_update(of=("self",)).select_related("campaign").filter(pk__in=ids)
    }


def _live_lead_locked(email: str) -> Lead | None:
    pk = _survivors({email}).get(email)
    return None if pk is None else _locked([pk]).get(pk)


def _new_lead(campaign: Campaign, data: LeadData, *, actor, source: str) -> Lead:
    now = timezone.now()
    return Lead(
        created_at=now,
        status_changed_at=now,
        campaign=campaign,
        full_name=data.full_name.strip(),
        email=normalise_email(data.email),
        company=data.company.strip(),
        phone=data.phone.strip(),
        job_title=data.job_title.strip(),
        company_size=data.company_size,
        country=data.country.strip(),
        source=source,
        created_by=actor,
    )


def _captured_event(lead: Lead, campaign: Campaign, *, actor, source: str) -> LeadEvent:
    return LeadEvent(
        lead=lead,
        kind=LeadEvent.Kind.CAPTURED,
        actor=actor,
        to_status=Lead.Status.NEW,
        note=f"Captured by campaign “{campaign.name}” ({Lead.Source(source).label.lower()}).",
        data={"campaign": campaign.pk, "source": source},
        created_at=lead.created_at,
    )


def _captured_again_event(lead: Lead, campaign: Campaign, *, actor, source: str) -> LeadEvent:
    return LeadEvent(
        lead=lead,
        kind=LeadEvent.Kind.CAPTURED_AGAIN,
        actor=actor,
        note=f"Captured again from campaign “{campaign.name}” ({Lead.Source(source).label.lower()}).",
        data={"campaign": campaign.pk, "source": source},
        created_at=timezone.now(),
    )


def lead_capture(
    *,
    campaign: Campaign,
    data: LeadData,
    actor=None,
    source: str = Lead.Source.FORM,
    rules: list[ScoringRule] | None = None,
    mql_threshold: int | None = None,
) -> CaptureResult:
    """Capture one lead; a known address becomes a 'captured again' event on the existing lead.
    `rules` (the active scoring rules) and `mql_threshold` (the qualification policy's): when the caller
    has read them already (else they are read here)."""
    email = normalise_email(data.email)
    # No savepoint of its own inside a caller's transaction (the intake's): a failure here fails the
    # caller's transaction too, and no caller carries on after one. Two statements fewer per capture.
    with transaction.atomic(savepoint=False):
        existing = _live_lead_locked(email)
        if existing is None:
            try:
                # A savepoint: a concurrent capture of the same address may insert it first.
                with transaction.atomic():
                    lead = _new_lead(campaign, data, actor=actor, source=source)
                    result = score(lead, active_rules() if rules is None else rules, channel=campaign.channel)
                    lead.score = result.value  # scored before it is written: one INSERT, no UPDATE
                    lead.save()
            except IntegrityError:
                existing = _live_lead_locked(email)
            else:
                events = [_captured_event(lead, campaign, actor=actor, source=source)]
                if result.value:
                    events.append(rules_scored_event(lead, old=0, result=result, actor=actor))
                LeadEvent.objects.bulk_create(events)
                lead_auto_qualify(lead, threshold=mql_threshold)
                return CaptureResult(lead=lead, created=True)
        _capture_again(existing, campaign, actor=actor, source=source, rules=rules)
        return CaptureResult(lead=existing, created=False)


def _capture_again(lead: Lead, campaign: Campaign, *, actor, source: str, rules=None) -> None:
    lead.capture_count += 1
    lead.save(update_fields=["capture_count"])
    _captured_again_event(lead, campaign, actor=actor, source=source).save()
    lead_rescore(lead=lead, actor=actor, rules=rules)


def leads_capture_bulk(
    *, campaign: Campaign, rows: Sequence[LeadData], actor, source: str = Lead.Source.IMPORT
) -> tuple[int, int]:
    """Capture many rows in one transaction with a few queries per thousand rows.

    Same rules as `lead_capture` (duplicates in the file or in the database become 'captured again'
    events); returns (created, captured again).
    """
    rules = active_rules()
    threshold = QualificationPolicy.current().mql_threshold
    created = again = 0
    with transaction.atomic():
        for start in range(0, len(rows), BULK_CHUNK):
            c, a = _capture_chunk(campaign, rows[start : start + BULK_CHUNK], actor, source, rules, threshold)
            created, again = created + c, again + a
    return created, again


def _capture_chunk(campaign, rows, actor, source, rules, threshold) -> tuple[int, int]:
    survivors = _survivors({normalise_email(row.email) for row in rows})
    locked = _locked(set(survivors.values()))
    existing = {email: locked[pk] for email, pk in survivors.items() if pk in locked}
    new_leads: dict[str, Lead] = {}
    repeats: list[Lead] = []
    for row in rows:
        email = normalise_email(row.email)
        known = existing.get(email) or new_leads.get(email)
        if known is not None:
            repeats.append(known)
            continue
        lead = _new_lead(campaign, row, actor=actor, source=source)
        lead.score = score(lead, rules, channel=campaign.channel).value
        new_leads[email] = lead
    try:
        with transaction.atomic():
            Lead.objects.bulk_create(list(new_leads.values()))
    except IntegrityError:
        # Someone captured one of these addresses meanwhile: take the careful road for this chunk.
        results = [lead_capture(campaign=campaign, data=row, actor=actor, source=source) for row in rows]
        created = sum(result.created for result in results)
        return created, len(results) - created
    LeadEvent.objects.bulk_create(
        _captured_event(lead, campaign, actor=actor, source=source) for lead in new_leads.values()
    )
    qualify_many(list(new_leads.values()), threshold)
    _capture_again_many(repeats, campaign, actor=actor, source=source, rules=rules, threshold=threshold)
    return len(new_leads), len(repeats)


def _capture_again_many(repeats: list[Lead], campaign, *, actor, source: str, rules, threshold: int) -> None:
    """`_capture_again` for a chunk (locked leads, each listed once per repeat), in a few queries:
    counts, events, new scores and automatic qualification, each written in bulk."""
    times: dict[int, int] = {}
    leads: dict[int, Lead] = {}
    for lead in repeats:
        times[lead.pk] = times.get(lead.pk, 0) + 1
        leads[lead.pk] = lead
    by_count: dict[int, list[int]] = {}
    for pk, n in times.items():
        leads[pk].capture_count += n
        by_count.setdefault(n, []).append(pk)
    for n, pks in by_count.items():
        Lead.objects.filter(pk__in=pks).update(capture_count=F("capture_count") + n)
    events = [_captured_again_event(lead, campaign, actor=actor, source=source) for lead in repeats]
    rescored = []
    for lead in leads.values():
        if lead.score_overridden:
            continue
        new = score(lead, rules, channel=lead.campaign.channel)
        if new.value != lead.score:
            events.append(rules_scored_event(lead, old=lead.score, result=new, actor=actor))
            lead.score = new.value
            rescored.append(lead)
    if rescored:
        Lead.objects.bulk_update(rescored, ["score"])
    LeadEvent.objects.bulk_create(events)
    qualify_many(rescored, threshold)


def lead_merge(*, duplicate: Lead, into: Lead, actor) -> Lead:
    """Fold `duplicate` into `into` by hand. Nothing is deleted: the duplicate moves to 'merged' and
    points at the survivor, whose timeline then shows both leads' events (`Lead.timeline`)."""
    if duplicate.pk == into.pk:
        raise TransitionError("A lead cannot be merged into itself.")
    with transaction.atomic():
        # Lock both in id order so two opposite merges cannot deadlock.
        locked = {
            lead.pk: lead
            for lead in Lead.objects.select_for_update(of=("self",))
            .filter(pk__in=[duplicate.pk, into.pk])
            .order_by("pk")
        }
        duplicate, into = locked[duplicate.pk], locked[into.pk]
        if into.merged_into_id is not None:
            raise TransitionError("That lead was itself merged away; merge into the lead it was merged into.")
        event = transition(
            duplicate,
            move="merge",
            actor=actor,
            note=f"Merged into {into.full_name} <{into.email}>.",
            merged_into=into,
        )
        if event.from_status == Lead.Status.RETURNED:
            # Merging is marketing acting on the returned lead: its follow-up is done.
            follow_up_meet(lead=duplicate, now=event.created_at)
        into.capture_count += duplicate.capture_count
        into.save(update_fields=["capture_count"])
        LeadEvent.objects.create(
            lead=into,
            kind=LeadEvent.Kind.MERGED,
            actor=actor,
            note=f"{duplicate.full_name} <{duplicate.email}> was merged into this lead; its history is shown here.",
            data={"merged": duplicate.pk},
        )
    return into
