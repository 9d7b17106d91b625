"""What a subscriber receives: the versioned JSON body of each event type (Standard Webhooks' shape:
`type`, `timestamp`, `data`, plus our `version`), built from the outbox's rows a batch at a time.

Version 1 (2026-12-07). Fields are only ever added within a version; renaming or removing one makes
version 2, which endpoints opt into (`Endpoint.payload_version`).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from leads.models import Deal, LeadEvent
from people.names import person_name
from sla.models import Deadline, SlaPolicy

from .models import EventType, OutboxEvent

PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class Happening:
    """One outbox event with what its messages say: the payload (for endpoints) and the facts an alert
    needs (for channels)."""

    message_id: str
    event_type: str
    payload: dict
    lead_event: LeadEvent | None = None

    @property
    def body(self) -> str:
        """The bytes signed and sent: compact, keys in a stable order."""
        return json.dumps(self.payload, separators=(",", ":"), sort_keys=True)

    @property
    def summary(self) -> str:
        lead = self.payload["data"].get("lead")
        return f"{EventType(self.event_type).label}: {lead['name']}" if lead else EventType(self.event_type).label

    @property
    def subject_person_id(self) -> int | None:
        """The person an alert is about: a deadline's owner, the rep a lead was assigned to."""
        details = self.lead_event.data if self.lead_event else {}
        return details.get("rep") if self.event_type == EventType.LEAD_ASSIGNED else details.get("owner")


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _person(user) -> dict | None:
    return None if user is None else {"id": user.pk, "name": person_name(user), "email": user.email}


def envelope(event_type: str, occurred_at: datetime, data: dict) -> dict:
    return {"type": event_type, "timestamp": _iso(occurred_at), "version": PAYLOAD_VERSION, "data": data}


def _lead_data(event: LeadEvent, deals: dict[int, Deal]) -> dict:
    lead = event.lead
    data = {
        "event_id": event.pk,
        "lead": {
            "id": lead.pk,
            "name": lead.full_name,
            "email": lead.email,
            "company": lead.company,
            "status": lead.status,
            "score": lead.score,
            "priority": lead.priority,
            "campaign": {"id": lead.campaign_id, "name": lead.campaign.name},
            "owner": _person(lead.owner),
            "url": absolute(lead.get_absolute_url()),
        },
        "actor": _person(event.actor),
        "from_status": event.from_status or None,
        "to_status": event.to_status or None,
        "note": event.note,
    }
    if event.kind in (LeadEvent.Kind.BREACH, LeadEvent.Kind.WARNING):
        data["deadline"] = {
            "id": event.data.get("deadline"),
            "kind": event.data.get("kind"),
            "due_at": event.data.get("due_at"),
            "owner_id": event.data.get("owner"),
        }
    deal = deals.get(lead.pk)
    if deal is not None and event.kind in (LeadEvent.Kind.CONVERTED, LeadEvent.Kind.DEAL_STAGE):
        data["deal"] = {
            "id": deal.pk,
            "stage": event.data.get("to", deal.stage),
            "from_stage": event.data.get("from"),
            "value": event.data.get("value", str(deal.value)),
            "currency": deal.currency,
            "lost_reason": event.data.get("reason"),
        }
    return data


def _policy_data(policy: SlaPolicy) -> dict:
    return {
        "policy": {
            "version": policy.version,
            "note": policy.note,
            "claim_hours": {tier: str(policy.hours(Deadline.Kind.CLAIM, tier)) for tier in SlaPolicy.TIERS},
            "first_contact_hours": {
                tier: str(policy.hours(Deadline.Kind.FIRST_CONTACT, tier)) for tier in SlaPolicy.TIERS
            },
            "follow_up_days": policy.follow_up_days,
            "warning_percent": policy.warning_percent,
            "acceptance_target_percent": policy.acceptance_target_percent,
            "escalation_steps": list(policy.escalation_steps),
            "started_by": _person(policy.created_by),
        }
    }


def happenings(outbox: list[OutboxEvent]) -> list[Happening]:
    """The outbox rows as messages, in their order, in a fixed number of queries."""
    lead_events = LeadEvent.objects.select_related("lead__campaign", "lead__owner", "actor").in_bulk(
        [row.lead_event_id for row in outbox if row.lead_event_id]
    )
    deals = {
        deal.lead_id: deal
        for deal in Deal.objects.filter(lead_id__in={event.lead_id for event in lead_events.values()})
    }
    policies = SlaPolicy.objects.select_related("created_by").in_bulk(
        [row.policy_id for row in outbox if row.policy_id]
    )
    said = []
    for row in outbox:
        if row.lead_event_id in lead_events:
            event = lead_events[row.lead_event_id]
            data = _lead_data(event, deals)
            said.append(
                Happening(f"evt_{event.pk}", row.event_type, envelope(row.event_type, row.occurred_at, data), event)
            )
        elif row.policy_id in policies:
            data = _policy_data(policies[row.policy_id])
            message_id = f"evt_policy_{row.policy_id}"
            said.append(Happening(message_id, row.event_type, envelope(row.event_type, row.occurred_at, data)))
    return said
