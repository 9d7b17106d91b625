"""Bulk fills of a throwaway database for the sweep's benchmark and storm drill: many claim deadlines in
one `INSERT … SELECT generate_series` each (a lead in the queue and a handoff per deadline), fast
enough for a million rows."""

import time
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign
from leads.models import Lead
from sla.models import Deadline, SlaPolicy

# Met deadlines are history: due (and warned-at times) somewhere in the past year, met half an hour
# before their due time. Running ones fall due at %(due)s, spread over %(spread)s.
_FILL = """
WITH new_leads AS (
    INSERT INTO leads_lead (campaign_id, full_name, email, company, phone, job_title, status, score,
                            source, capture_count, score_overridden, hold_reason, created_at, status_changed_at)
    SELECT %(campaign)s, 'Drill ' || g, 'drill-' || %(tag)s || '-' || g || '@example.com', 'Drill Ltd', '', '',
           'handed_off', 60, 'manual', 1, false, '', now(), now()
    FROM generate_series(1, %(count)s) AS g
    RETURNING id
), new_handoffs AS (
    INSERT INTO handoff_handoff (lead_id, handed_off_by_id, handed_off_at, note, policy_id, return_reason, outcome)
    SELECT id, %(user)s, now(), '', %(policy)s, '', '' FROM new_leads
    RETURNING id, lead_id
), clocks AS (
    SELECT id, lead_id, random() * 100 < %(met_percent)s AS met, random() AS r FROM new_handoffs
), timed AS (
    SELECT id, lead_id, met,
           CASE WHEN met THEN now() - r * interval '365 days' ELSE %(due)s + r * %(spread)s END AS due
    FROM clocks
)
INSERT INTO handoff_deadline (handoff_id, lead_id, kind, policy_id, priority, starts_at, allowed,
                              given_due_at, due_at, warn_at, met_at, paused_for)
SELECT id, lead_id, 'claim', %(policy)s, 'warm', due - interval '4 hours', interval '4 hours', due, due,
       CASE WHEN met THEN due - interval '1 hour' ELSE %(warn)s END,
       CASE WHEN met THEN due - interval '30 minutes' END, interval '0'
FROM timed
RETURNING id
"""


def fill_campaign(name: str) -> tuple[Campaign, object]:
    """The campaign (and its marketer) the fill's leads belong to."""
    user = get_user_model().objects.get_or_create(username="drill", defaults={"email": "drill@example.com"})[0]
    campaign = Campaign.objects.filter(name=name).first() or Campaign.objects.create(
        name=name, owner=user, channel=Campaign.Channel.EMAIL, start_date=timezone.localdate()
    )
    return campaign, user


def claim_deadlines_fill(
    *,
    campaign_name: str,
    count: int,
    due: datetime,
    spread: timedelta = timedelta(0),
    warn: datetime | None = None,
    met_percent: float = 0,
    chunk: int = 100_000,
) -> list[int]:
    """Add `count` leads in the queue, each with a claim deadline: about `met_percent` % met in the past
    year, the rest running and due between `due` and `due + spread` (warning at `warn`, or none).
    Returns the deadlines' ids."""
    campaign, user = fill_campaign(campaign_name)
    policy = SlaPolicy.current()
    tag = f"{int(time.time() * 1000)}"
    ids: list[int] = []
    for start in range(0, count, chunk):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _FILL,
                {
                    "campaign": campaign.pk,
                    "user": user.pk,
                    "policy": policy.pk,
                    "count": min(chunk, count - start),
                    "tag": f"{tag}-{start}",
                    "met_percent": met_percent,
                    "due": due,
                    "spread": spread,
                    "warn": warn,
                },
            )
            ids += [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead; ANALYZE handoff_handoff; ANALYZE handoff_deadline")
    return ids


def refuse_real_data(campaign_name: str) -> str | None:
    """Why this database must not be filled (it holds leads of real campaigns), or None."""
    real = Lead.objects.exclude(campaign__name=campaign_name).count()
    if real:
        return f"This database holds {real:,} leads of other campaigns: point DATABASE_URL at a throwaway one."
    if Deadline.objects.exclude(lead__campaign__name=campaign_name).exists():
        return "This database holds deadlines of other campaigns: point DATABASE_URL at a throwaway one."
    return None
