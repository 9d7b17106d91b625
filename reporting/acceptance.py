"""The acceptance's read model: `AcceptanceDay` rows kept current by triggers, rebuilt by a command.

The one definition of how a hand-off is counted is `ACCEPTANCE_SELECT` (the conditions of
`reporting.dashboard.acceptance_rows`): a marketing hand-off joined to its claim clock. It depends on
two tables, so each has its statement triggers; a statement changes rows of one of them, so its old
rows (joined to the other table as it stands) are taken out and its new rows put in. (Two transactions
changing a hand-off and its claim clock at once would each join the other's old row: the services that
change either hold the lead's row lock, `leads.services.lock_lead`.) An update takes
out and puts in only the rows whose counted columns changed: the sweep's breaches (100,000 deadlines
in a storm) change none of them and join nothing.

Days are those of the site's zone (written into the triggers; `acceptance_rebuild` installs them again
after a change of TIME_ZONE). What depends on the time of reading (a claim window closed because its
due time passed while the clock still runs) is not here: the dashboard reads those few clocks live.
"""

from common.triggers import drop_transition_triggers, only_if_any, read_model_rebuild, transition_triggers
from leads.tally import site_zone

_COUNTED = ("handed_off", "closed", "claimed", "returned", "by_escalation")

# `{handoffs}` and `{deadlines}`: relations (tables, transition tables, or a part of them), each row
# counted with `{sign}` (+1 put in, -1 taken out).
ACCEPTANCE_SELECT = """
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       {sign} * COUNT(*) AS handed_off,
       {sign} * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       {sign} * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       {sign} * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       {sign} * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM {handoffs} h JOIN {deadlines} d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
"""

# Adds up the contributions and applies them in key order, into this transaction's count slot.
ACCEPTANCE_UPSERT = (
    """
INSERT INTO reporting_acceptanceday (day, campaign_id, """  # noqa: S608 - constant SQL, no input
    + ", ".join(_COUNTED)
    + """, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, campaign_id, """
    + ", ".join(f"SUM({name})" for name in _COUNTED)
    + """
  FROM ({changes}) c
 GROUP BY 1, 2
HAVING """
    + " OR ".join(f"SUM({name}) <> 0" for name in _COUNTED)
    + """
 ORDER BY 1, 2) AS summed
ON CONFLICT (day, campaign_id, slot) DO UPDATE SET """
    + ", ".join(f"{name} = reporting_acceptanceday.{name} + EXCLUDED.{name}" for name in _COUNTED)
)

# The rows of an update whose counted columns changed, old (`o`) or new (`n`).
_CHANGED_HANDOFFS = """(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.source IS DISTINCT FROM n.source OR o.handed_off_at IS DISTINCT FROM n.handed_off_at
    OR o.campaign_id IS DISTINCT FROM n.campaign_id
    OR (o.outcome = 'returned') IS DISTINCT FROM (n.outcome = 'returned'))"""
_CHANGED_DEADLINES = """(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.kind = 'claim' OR n.kind = 'claim')
   AND (o.kind IS DISTINCT FROM n.kind OR o.handoff_id IS DISTINCT FROM n.handoff_id
        OR (o.met_at IS NULL) IS DISTINCT FROM (n.met_at IS NULL)
        OR (o.cancelled_at IS NULL) IS DISTINCT FROM (n.cancelled_at IS NULL)
        OR o.met_by_escalation IS DISTINCT FROM n.met_by_escalation))"""


def acceptance_upsert(*parts: tuple[str, str, int]) -> str:
    """The statement adding the hand-offs of each (handoffs, deadlines, sign) part to the read model."""
    changes = " UNION ALL".join(
        ACCEPTANCE_SELECT.format(handoffs=handoffs, deadlines=deadlines, sign=sign, zone=site_zone())
        for handoffs, deadlines, sign in parts
    )
    return ACCEPTANCE_UPSERT.format(changes=changes)


def trigger_sql() -> str:
    """Both tables' triggers, for the site's zone as configured now."""
    handoffs, deadlines = "handoff_handoff", "handoff_deadline"
    changed_handoffs = (_CHANGED_HANDOFFS.format(side="o"), _CHANGED_HANDOFFS.format(side="n"))
    changed_deadlines = (_CHANGED_DEADLINES.format(side="o"), _CHANGED_DEADLINES.format(side="n"))
    return transition_triggers(
        "handoff_count_acceptance_handoffs",
        handoffs,
        insert=acceptance_upsert(("new_rows", deadlines, 1)),
        update=acceptance_upsert((changed_handoffs[0], deadlines, -1), (changed_handoffs[1], deadlines, 1)),
        delete=acceptance_upsert(("old_rows", deadlines, -1)),
    ) + transition_triggers(
        "handoff_count_acceptance_deadlines",
        deadlines,
        insert=only_if_any(
            "(SELECT * FROM new_rows WHERE kind = 'claim')", acceptance_upsert((handoffs, "new_rows", 1))
        ),
        update=only_if_any(
            changed_deadlines[1],
            acceptance_upsert((handoffs, changed_deadlines[0], -1), (handoffs, changed_deadlines[1], 1)),
        ),
        delete=only_if_any(
            "(SELECT * FROM old_rows WHERE kind = 'claim')", acceptance_upsert((handoffs, "old_rows", -1))
        ),
    )


DROP_TRIGGER_SQL = drop_transition_triggers(
    "handoff_count_acceptance_handoffs", "handoff_handoff"
) + drop_transition_triggers("handoff_count_acceptance_deadlines", "handoff_deadline")


def acceptance_fill(cursor, *, handoffs: str = "handoff_handoff") -> None:
    """Add the hand-offs of relation `handoffs` (the whole table, or a part to check) with their claim
    clocks to the read model: for the rebuild, and for writers that run with triggers off (`seed_scale`)."""
    cursor.execute(acceptance_upsert((handoffs, "handoff_deadline", 1)))


def acceptance_rebuild() -> int:
    """Recount every hand-off; returns the number of rows written. Holds a SHARE lock on the hand-offs
    and deadlines meanwhile (writers wait, then count themselves as usual); installs the triggers again."""
    return read_model_rebuild(
        sources="handoff_handoff, handoff_deadline",
        table="reporting_acceptanceday",
        triggers=trigger_sql(),
        fill=acceptance_fill,
    )
