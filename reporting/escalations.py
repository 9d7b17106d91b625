"""The escalations caused's read model: `EscalationDay` rows kept current by triggers, rebuilt by a command.

The one definition of what is counted is `ESCALATIONS_SELECT` (the conditions of
`reporting.dashboard.escalation_steps`): an escalation step done for a breached sales deadline, counted
on the local day of the deadline's due time, under its kind, owner and campaign. It depends on two
tables, so each has its statement triggers; a statement changes rows of one of them, so its old rows
(joined to the other table as it stands) are taken out and its new rows put in. An update takes out and
puts in only the rows whose counted columns changed:

- a step counts once done (`done_at` is set once, by the step's task, one row a statement);
- a deadline's change counts only while it is breached before and after: the sweep opens steps only
  for a breached deadline, in the breach's transaction, and a breach is never undone, so the breach
  itself (the sweep's 100,000 deadlines in a storm) never has a done step to move and joins nothing.

Days are those of the site's zone (written into the triggers; `rebuild_counts` installs them again
after a change of TIME_ZONE).
"""

from common.triggers import drop_transition_triggers, only_if_any, read_model_rebuild, transition_triggers
from leads.tally import site_zone
from sla.models import Deadline

_SALES_KINDS = ", ".join(f"'{kind}'" for kind in Deadline.SALES_KINDS)

# `{escalations}` and `{deadlines}`: relations (tables, transition tables, or a part of them), each step
# counted with `{sign}` (+1 put in, -1 taken out).
ESCALATIONS_SELECT = (
    """
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       {sign} * COUNT(*) AS escalations
  FROM {escalations} e JOIN {deadlines} d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ("""
    + _SALES_KINDS
    + """)
 GROUP BY 1, 2, 3, 4
"""
)

# Adds up the contributions and applies them in key order, into this transaction's count slot.
ESCALATIONS_UPSERT = """
INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM ({changes}) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations"""

# The rows of an update whose counted columns changed, old (`o`) or new (`n`).
_CHANGED_STEPS = """(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.done_at IS NULL) IS DISTINCT FROM (n.done_at IS NULL) OR o.deadline_id IS DISTINCT FROM n.deadline_id)"""
_CHANGED_DEADLINES = """(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.breached_at IS NOT NULL AND n.breached_at IS NOT NULL
   AND (o.due_at IS DISTINCT FROM n.due_at OR o.kind IS DISTINCT FROM n.kind
        OR o.owner_id IS DISTINCT FROM n.owner_id OR o.campaign_id IS DISTINCT FROM n.campaign_id))"""


def escalations_upsert(*parts: tuple[str, str, int]) -> str:
    """The statement adding the steps of each (escalations, deadlines, sign) part to the read model."""
    changes = " UNION ALL".join(
        ESCALATIONS_SELECT.format(escalations=escalations, deadlines=deadlines, sign=sign, zone=site_zone())
        for escalations, deadlines, sign in parts
    )
    return ESCALATIONS_UPSERT.format(changes=changes)


def trigger_sql() -> str:
    """Both tables' triggers, for the site's zone as configured now. A new deadline has no steps and one
    that has steps cannot be deleted (PROTECT): its insert and delete count nothing."""
    escalations, deadlines = "handoff_escalation", "handoff_deadline"
    changed_steps = (_CHANGED_STEPS.format(side="o"), _CHANGED_STEPS.format(side="n"))
    changed_deadlines = (_CHANGED_DEADLINES.format(side="o"), _CHANGED_DEADLINES.format(side="n"))
    return transition_triggers(
        "handoff_count_escalation_steps",
        escalations,
        insert=only_if_any(
            "(SELECT * FROM new_rows WHERE done_at IS NOT NULL)", escalations_upsert(("new_rows", deadlines, 1))
        ),
        update=only_if_any(
            changed_steps[1],
            escalations_upsert((changed_steps[0], deadlines, -1), (changed_steps[1], deadlines, 1)),
        ),
        delete=escalations_upsert(("old_rows", deadlines, -1)),
    ) + transition_triggers(
        "handoff_count_escalation_deadlines",
        deadlines,
        insert="NULL",
        update=only_if_any(
            changed_deadlines[1],
            escalations_upsert((escalations, changed_deadlines[0], -1), (escalations, changed_deadlines[1], 1)),
        ),
        delete="NULL",
    )


DROP_TRIGGER_SQL = drop_transition_triggers(
    "handoff_count_escalation_steps", "handoff_escalation"
) + drop_transition_triggers("handoff_count_escalation_deadlines", "handoff_deadline")


def escalations_fill(cursor, *, escalations: str = "handoff_escalation") -> None:
    """Add the steps of relation `escalations` (the whole table, or a part to check) to the read model:
    for the rebuild, and for writers that run with triggers off (`seed_scale`)."""
    cursor.execute(escalations_upsert((escalations, "handoff_deadline", 1)))


def escalations_rebuild() -> int:
    """Recount every step; returns the number of rows written. Holds a SHARE lock on the steps and
    deadlines meanwhile (writers wait, then count themselves as usual); installs the triggers again."""
    return read_model_rebuild(
        sources="handoff_escalation, handoff_deadline",
        table="reporting_escalationday",
        triggers=trigger_sql(),
        fill=escalations_fill,
    )
