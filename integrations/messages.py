"""Alerts as Slack and Microsoft Teams show them: Slack Block Kit, Teams Adaptive Cards (a `message`
with one attachment of type application/vnd.microsoft.card.adaptive), both from one `Card`.

A card names the lead, the clock (when it is due), who holds it, and links to it; texts people typed
(names, companies) are escaped for Slack's mrkdwn, and Teams' TextBlocks are plain text.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from people.names import person_name

from .models import Channel, EventType
from .payloads import Happening, absolute

TITLES = {
    EventType.DEADLINE_BREACHED: "SLA breach",
    EventType.DEADLINE_WARNED: "SLA warning",
    EventType.LEAD_ASSIGNED: "Lead assigned",
}
DEADLINE_KINDS = {"claim": "Claim", "first_contact": "First contact", "follow_up": "Returned-lead follow-up"}


@dataclass(frozen=True)
class Card:
    title: str
    text: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: tuple[str, str] | None = None  # (label, absolute URL)
    due_at: datetime | None = None  # shown in each reader's own zone where the app can


def _when(moment: datetime, zone) -> str:
    return f"{timezone.localtime(moment, zone):%a %d %b %H:%M %Z}"


def alert_card(happening: Happening, zone) -> Card:
    """The card of one breach, warning or assignment: the lead, its clock, who holds it, its link."""
    lead = happening.lead_event.lead
    details = happening.lead_event.data
    title = TITLES[happening.event_type]
    facts = [("Lead", f"{lead.full_name}" + (f" · {lead.company}" if lead.company else ""))]
    due_at = None
    if happening.event_type in (EventType.DEADLINE_BREACHED, EventType.DEADLINE_WARNED):
        kind = DEADLINE_KINDS.get(details.get("kind"), "Deadline")
        title = f"{title}: {kind.lower()} of {lead.full_name}"
        if details.get("due_at"):
            due_at = datetime.fromisoformat(details["due_at"])
            facts.append(("Due", _when(due_at, zone)))
    else:
        title = f"{title}: {lead.full_name}"
    facts.append(("Held by", person_name(lead.owner, nobody="nobody: waiting in the queue")))
    facts.append(("Campaign", lead.campaign.name))
    return Card(
        title=title,
        text=happening.lead_event.note,
        facts=facts,
        link=("Open the lead", absolute(lead.get_absolute_url())),
        due_at=due_at,
    )


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack(card: Card) -> dict:
    facts = []
    for label, value in card.facts:
        value = _slack_escape(value)
        if label == "Due" and card.due_at is not None:
            # Slack shows the time in each reader's zone; the text after | is the fallback.
            value = f"<!date^{int(card.due_at.timestamp())}^{{date_short_pretty}} {{time}}|{value}>"
        facts.append({"type": "mrkdwn", "text": f"*{label}*\n{value}"})
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": card.title[:150]}}]
    if card.text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(card.text)[:3000]}})
    if facts:
        blocks.append({"type": "section", "fields": facts[:10]})
    if card.link:
        label, url = card.link
        blocks.append(
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": label}, "url": url}],
            }
        )
    return {"text": card.title, "blocks": blocks}


def _teams(card: Card) -> dict:
    body: list[dict] = [{"type": "TextBlock", "text": card.title, "weight": "Bolder", "size": "Medium", "wrap": True}]
    if card.text:
        body.append({"type": "TextBlock", "text": card.text, "wrap": True})
    if card.facts:
        body.append({"type": "FactSet", "facts": [{"title": label, "value": value} for label, value in card.facts]})
    content = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if card.link:
        label, url = card.link
        content["actions"] = [{"type": "Action.OpenUrl", "title": label, "url": url}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}
        ],
    }


def render(card: Card, kind: str) -> str:
    """The JSON body to post to a channel of `kind`."""
    message = _slack(card) if kind == Channel.Kind.SLACK else _teams(card)
    return json.dumps(message, separators=(",", ":"))
