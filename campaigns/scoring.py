"""The lead score: rules a marketer edits, applied by one pure function.

`score` is pure (rules in, number and reasons out) so imports can score 50,000 rows with the rules
loaded once; `lead_rescore` is the service that saves a new score, writes the event, and makes the
lead an MQL when it reaches the threshold.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadEvent
from leads.services import lock_lead
from leads.transitions import transition, transition_many

from .models import QualificationPolicy, ScoringRule

SCORABLE_FIELDS = ("phone", "company", "job_title", "company_size")


@dataclass(frozen=True)
class Score:
    value: int
    rules: tuple[ScoringRule, ...]

    @property
    def reasons(self) -> list[str]:
        # Built only when shown: labelling every matched rule of 50,000 imported rows costs seconds.
        return [str(rule) for rule in self.rules]


def active_rules() -> list[ScoringRule]:
    # The intake reads the same rules in SQL of its own (`campaigns.intake.CAMPAIGN_FOR_POST`).
    return list(ScoringRule.objects.filter(is_active=True))


def _matches(rule: ScoringRule, lead: Lead, channel: str) -> bool:
    value = rule.value.strip()
    if rule.kind == ScoringRule.Kind.FIELD_PRESENT:
        return value in SCORABLE_FIELDS and getattr(lead, value) not in ("", None)
    if rule.kind == ScoringRule.Kind.TITLE_KEYWORD:
        return bool(value) and value.casefold() in lead.job_title.casefold()
    if rule.kind == ScoringRule.Kind.COMPANY_SIZE:
        return value.isdigit() and lead.company_size is not None and lead.company_size >= int(value)
    if rule.kind == ScoringRule.Kind.CHANNEL:
        return value == channel
    if rule.kind == ScoringRule.Kind.REPEAT_CAPTURE:
        return value.isdigit() and lead.capture_count >= int(value)
    return False


def score(lead: Lead, rules: Iterable[ScoringRule], *, channel: str) -> Score:
    """The lead's score under `rules`, clamped to 0–100, with the rules that counted."""
    hits = [rule for rule in rules if _matches(rule, lead, channel)]
    total = sum(rule.points for rule in hits)
    return Score(value=max(0, min(100, total)), rules=tuple(hits))


def qualifies(lead: Lead, threshold: int) -> bool:
    return lead.status == Lead.Status.NEW and lead.score >= threshold


def auto_qualify_note(lead: Lead, threshold: int) -> str:
    return f"Score {lead.score} reached the MQL threshold of {threshold}."


def qualify_many(leads: list[Lead], threshold: int) -> None:
    """Make MQLs of the new leads among `leads` that reach the threshold, in one batch."""
    to_qualify = [lead for lead in leads if qualifies(lead, threshold)]
    if to_qualify:
        transition_many(
            to_qualify,
            move="qualify",
            actor=None,
            notes=[auto_qualify_note(lead, threshold) for lead in to_qualify],
        )


def rules_scored_event(lead: Lead, *, old: int, result: Score, actor) -> LeadEvent:
    """The timeline entry for a score the rules changed (unsaved, so batches can bulk-create)."""
    return LeadEvent(
        lead=lead,
        kind=LeadEvent.Kind.SCORED,
        actor=actor,
        note=f"Score {old} → {result.value} by the rules.",
        data={"from": old, "to": result.value, "rules": result.reasons},
        created_at=timezone.now(),
    )


def lead_rescore(*, lead: Lead, actor=None, rules: list[ScoringRule] | None = None) -> Lead:
    """Recompute the score of a (locked) lead by the rules; qualify it if it reaches the threshold.

    A score set by hand is left alone. Runs inside the caller's transaction.
    """
    if not lead.score_overridden:
        result = score(lead, active_rules() if rules is None else rules, channel=lead.campaign.channel)
        if result.value != lead.score:
            event = rules_scored_event(lead, old=lead.score, result=result, actor=actor)
            lead.score = result.value
            lead.save(update_fields=["score"])
            event.save()
    lead_auto_qualify(lead)
    return lead


def lead_auto_qualify(lead: Lead, *, threshold: int | None = None) -> None:
    """Make a new (locked) lead an MQL if its score reaches the policy's threshold (`threshold`: the one
    in force, when the caller has read it already)."""
    if threshold is None:
        threshold = QualificationPolicy.current().mql_threshold
    if qualifies(lead, threshold):
        transition(lead, move="qualify", actor=None, note=auto_qualify_note(lead, threshold))


def lead_override_score(*, lead: Lead, actor, score_value: int, reason: str) -> Lead:
    """A marketer sets the score by hand, with a reason on the timeline; the rules then leave it be."""
    if not reason.strip():
        raise ValueError("Say why the score is overridden.")
    if not 0 <= score_value <= 100:
        raise ValueError("The score is between 0 and 100.")
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        old = lead.score
        lead.score, lead.score_overridden = score_value, True
        lead.save(update_fields=["score", "score_overridden"])
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.SCORED,
            actor=actor,
            note=reason,
            data={"from": old, "to": score_value, "override": True},
            created_at=timezone.now(),
        )
        lead_auto_qualify(lead)
    return lead
