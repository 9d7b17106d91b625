"""The dashboard's tables, built once from its figures for the page, its charts and its CSV exports.

A `Table` holds plain cells: `value` is what the CSV export writes, `text` what the page shows, `href`
the drill-down to the leads behind the number (with the page's filters). A chart is drawn in the
browser from its table (static/js/dashboard_charts.js), so the two can never disagree.

A long table (a rep per row: ~400 at a million leads) is ordered so that its first rows are the ones a
manager reads at a glance (worst first); the dashboard shows those (`Table.head`) and links to the whole
table on a page of its own, paginated; the CSV is always the whole table. A row's cells are built only
when it is shown (`Rows`).
"""

import dataclasses
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import mark_safe

from common.templatetags.money import money_text
from leads.models import LeadEvent
from people.names import person_name
from reporting.dashboard import FUNNEL, QUEUE, CampaignFigures, Dashboard, Filters, RepFigures, Side, funnel_stages
from sla.models import Deadline, Escalation, Handoff

K = Deadline.Kind
SIDE_LABELS = {Side.SALES: "Sales", Side.MARKETING: "Marketing", Side.NEUTRAL: "Neutral"}


class Cell:
    """One cell of a table: its value (what a CSV writes, what the charts and sorting read), the text
    shown (the value's by default), the leads behind it (`href`). A plain class with slots, its text
    worked out when read: a CSV of the reps at a million leads builds ~6,400 cells and reads only their
    values (a frozen dataclass cost ~3 µs a cell more on the 2-core machine)."""

    __slots__ = ("value", "_text", "href", "numeric", "danger")

    def __init__(self, value: object, text: str = "", href: str = "", numeric: bool = False, danger: bool = False):
        self.value, self._text, self.href, self.numeric, self.danger = value, text, href, numeric, danger

    @property
    def text(self) -> str:
        return self._text or ("–" if self.value is None else str(self.value))

    def __repr__(self) -> str:
        return f"Cell({self.value!r}, {self.text!r})"

    def _value_text(self) -> str:
        """The value as the template would print it (localized); counts and texts, most cells, directly."""
        return str(self.value) if type(self.value) in (int, str) else localize(self.value)

    def html(self, *, heading: bool = False) -> str:
        """The cell as a table cell: the row's first as its heading; the value in `data-value` (for the
        charts and sorting), the text linked to the leads behind it. Built here rather than in the
        template: a month's tables hold thousands of cells, and the template engine took ~40 µs a cell.
        Escaped by the standard library's `html.escape`, which `django.utils.html.escape` calls behind a
        lazy-string wrapper that cost more than the escaping."""
        escape, text = html.escape, self.text
        content = f'<a href="{escape(self.href)}">{escape(text)}</a>' if self.href else escape(text)
        value = "" if self.value is None else escape(self._value_text())
        if heading:
            return f'<th scope="row" class="fw-normal" data-value="{value}">{content}</th>'
        classes = ("text-end" if self.numeric else "") + (" text-danger fw-semibold" if self.danger else "")
        return f'<td class="{classes}" data-value="{value}">{content}</td>'


class Rows(Sequence):
    """A table's rows in their order, each row's cells built when it is read: the page shows 25 of a
    table's ~400 rows, and a row's links and texts are most of what the page costs in Python."""

    def __init__(self, items: Sequence, row: Callable[[object], list[Cell]]):
        self._items, self._row = items, row

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(item) for item in self._items[index]]
        return self._row(self._items[index])


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: list[str]
    rows: Sequence[list[Cell]]
    empty: str
    caption: str = ""
    chart: dict | None = field(default=None)
    # What a row is and the rows' order in words, for "Showing 25 of 421 reps, most misses first";
    # `count`: the whole table's rows when `rows` holds only its first ones (`head`).
    row_noun: str = "rows"
    order: str = ""
    count: int | None = None

    def head(self, size: int) -> "Table":
        """The table's first `size` rows only (its chart drawn from them), knowing how many it has; each
        row built once (the template reads them for the cells, the chart and the headers)."""
        count = len(self.rows)
        return dataclasses.replace(self, rows=self.rows[:size], count=count if count > size else None)

    def with_rows(self, rows: list[list[Cell]]) -> "Table":
        """The table holding `rows` (a page of its own rows) instead."""
        return dataclasses.replace(self, rows=rows)

    @property
    def is_part(self) -> bool:
        return self.count is not None

    @property
    def headers(self) -> list[tuple[str, bool]]:
        """Each column's heading and whether it holds numbers (aligned right, like its cells)."""
        first = self.rows[0] if self.rows else []
        return [(column, i < len(first) and first[i].numeric) for i, column in enumerate(self.columns)]

    @property
    def rows_html(self) -> list[str]:
        """Each row as `<tr>` markup (see `Cell.html`), escaped, for the template."""
        return [
            mark_safe("<tr>" + "".join(cell.html(heading=i == 0) for i, cell in enumerate(row)) + "</tr>")  # noqa: S308 - every part escaped above
            for row in self.rows
        ]

    @property
    def chart_has_data(self) -> bool:
        """Whether the chart has anything to draw: a bar chart of zeros is empty axes, said in words instead."""
        if not self.chart:
            return False
        if self.chart["type"] != "bar":
            return any(row[column].value is not None for row in self.rows for column in self.chart["columns"])
        return any(row[column].value for row in self.rows for column in self.chart["columns"])

    @property
    def chart_json(self) -> str:
        return json.dumps(self.chart) if self.chart else ""


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value:g} %"


def business_time_text(seconds: float | None) -> str:
    """'2 h 05 min' of business time; a dash when nothing was measured."""
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


Link = Callable[..., str]


def late_chart(title: str, columns: list[int], *, empty: str) -> dict:
    """A stacked bar chart of late claims and first contacts; `empty` says so when nobody was late."""
    return {"type": "bar", "columns": columns, "stacked": True, "title": title, "empty": empty}


def count(value: int, link: Link, figure: str, *, danger: bool = False, **filters) -> Cell:
    """A number linking to the leads behind it."""
    return Cell(value, href=link(figure, **filters), numeric=True, danger=danger and bool(value))


def rate_cell(value: float | None) -> Cell:
    return Cell(value, percent_text(value), numeric=True)


@dataclass(frozen=True)
class TableSource:
    """How to build one table, and the parts of the figures it shows (`reporting.dashboard.PARTS`)."""

    build: Callable[[Dashboard, Link], "Table"]
    parts: frozenset[str]


# A campaign's row shows when the campaign did something in the period (`CampaignFigures.is_idle`), which
# every part about campaigns decides. A table that shows only campaigns that did what it counts needs only
# the parts it shows (whatever else they did, such campaigns are not idle): the misses by campaign (rows
# with deadlines decided) the deadlines; the funnel (rows that captured, qualified, handed off or won, and
# its total, where an idle campaign adds nothing) the rest.
_CAMPAIGN_PARTS = frozenset({"deadlines", "events", "campaigns", "mqls", "won", "acceptance"})
_FUNNEL_PARTS = _CAMPAIGN_PARTS - {"deadlines"}


def _by_team(d: Dashboard, link: Link) -> "Table":
    return _groups("breaches_by_team", "Sales' misses by team", d.teams, "team", link)


def _by_channel(d: Dashboard, link: Link) -> "Table":
    return _groups("breaches_by_channel", "Sales' misses by channel", d.channels, "channel", link)


def tables(dashboard: Dashboard, link: Link, *, head: int | None = None) -> dict[str, Table]:
    """Every table of the page, by name, each of its first `head` rows only if given (`Table.head`).
    `link(figure, **filter overrides)` makes a drill-down URL."""
    built = {name: source.build(dashboard, link) for name, source in TABLES.items()}
    return built if head is None else {name: table.head(head) for name, table in built.items()}


def _attribution(d: Dashboard, link: Link) -> Table:
    rows = [
        [
            Cell(SIDE_LABELS[miss.side]),
            Cell(miss.label),
            count(miss.count, link, miss.figure, danger=miss.side != Side.NEUTRAL, **miss.extra),
            Cell(miss.evidence),
        ]
        for miss in d.attribution
        if miss.count or miss.side == Side.SALES or miss.figure == "follow_ups_late"
    ]
    return Table(
        "attribution",
        "Whose misses: sales, marketing or neither",
        ["Side", "Miss", "Leads", "Evidence"],
        rows,
        "No misses in this period.",
        caption=(
            f"Sales {d.side_total(Side.SALES)} · marketing {d.side_total(Side.MARKETING)} · "
            f"neutral {d.side_total(Side.NEUTRAL)}. A deadline counts in the period it fell due (or was met "
            "on time); a return when it happened."
        ),
    )


def _rep_filters(rep) -> dict:
    return {"rep": rep.user.pk, "team": None} if rep.user is not None else {"unassigned": 1, "rep": None, "team": None}


def _rep_row(rep: RepFigures, link: Link) -> list[Cell]:
    f = _rep_filters(rep)
    claims, contacts = rep.claims, rep.first_contacts
    return [
        Cell(person_name(rep.user, "The queue (nobody claimed it)")),
        Cell(rep.team.name if rep.team else "–"),
        Cell(rep.claimed, numeric=True),
        Cell(rep.assigned_by_manager, numeric=True),
        Cell(rep.assigned_automatically, numeric=True),
        Cell(rep.assigned_by_escalation, numeric=True),
        Cell(rep.reassigned_to, numeric=True),
        count(claims.on_time, link, "claims_on_time", **f),
        count(claims.late, link, "claims_late", danger=True, **f),
        count(contacts.on_time, link, "first_contacts_on_time", **f),
        count(contacts.late, link, "first_contacts_late", danger=True, **f),
        count(contacts.unrecorded, link, "first_contacts_unrecorded", **f),
        rate_cell(claims.attainment),
        rate_cell(contacts.attainment),
        count(rep.escalations, link, "escalations", **f),
        count(rep.won, link, "won", **f),
    ]


def _reps(d: Dashboard, link: Link) -> Table:
    # Worst first: the most late claims and first contacts (the queue's included), then by name as
    # `d.reps` is; what a manager opens the table for is at its top.
    reps = sorted(d.reps, key=lambda rep: -rep.missed)
    rows = Rows(reps, lambda rep: _rep_row(rep, link))
    return Table(
        "reps",
        "Sales by rep",
        [
            "Rep",
            "Team",
            "Claimed from the queue",
            "Assigned by a manager",
            "Assigned automatically",
            "Given by an escalation",
            "Reassigned to them",
            "Claims on time",
            "Claims late",
            "First contacts on time",
            "First contacts late",
            "First contacts late, not recorded by the sweep",
            "Claim attainment",
            "First-contact attainment",
            "Escalations caused",
            "Deals won",
        ],
        rows,
        "No sales reps yet.",
        caption=(
            "Claims are counted apart by how the lead came: claimed from the queue, a manager's assignment, "
            "automatic (routing's round-robin), given by an escalation (nobody's claim: never in the on-time "
            "figures), or reassigned from another rep. A claim deadline met in time counts for the person who "
            "claimed the lead; one missed in the queue is the queue's (the sales team's), whoever claims or is "
            "given the lead afterwards. A first contact counts for whoever held the lead when it fell due (a "
            "reassignment after that leaves the miss where it was)."
        ),
        chart=late_chart(
            "Late claims and first contacts by rep",
            [8, 10],
            empty="Nobody was late with a claim or a first contact in this period: no chart to draw.",
        ),
        row_noun="reps",
        order="most misses first",
    )


def _group_row(group, filter_name: str, link: Link) -> list[Cell]:
    f = {filter_name: group.key.pk if hasattr(group.key, "pk") else group.key}
    if filter_name == "team" and group.key == QUEUE:
        f = {"unassigned": 1, "team": None, "rep": None}
    elif filter_name == "team" and group.key is None:
        f = {"no_team": 1, "team": None}
    claims, contacts = group.clocks[K.CLAIM], group.clocks[K.FIRST_CONTACT]
    return [
        Cell(group.label),
        count(claims.late, link, "claims_late", danger=True, **f),
        count(contacts.late, link, "first_contacts_late", danger=True, **f),
        count(group.escalations, link, "escalations", **f),
        rate_cell(claims.attainment),
        rate_cell(contacts.attainment),
    ]


GROUP_COLUMNS = [
    "Late claims",
    "Late first contacts",
    "Escalations caused",
    "Claim attainment",
    "First-contact attainment",
]


def _groups(name: str, title: str, groups, filter_name: str, link: Link) -> Table:
    return Table(
        name,
        title,
        [filter_name.capitalize(), *GROUP_COLUMNS],
        [_group_row(group, filter_name, link) for group in groups],
        "No sales deadlines fell due in this period.",
    )


def _campaign_breach_row(figures: CampaignFigures, link: Link) -> list[Cell]:
    claims, contacts = figures.clocks[K.CLAIM], figures.clocks[K.FIRST_CONTACT]
    f = {"campaign": figures.campaign.pk}
    return [
        Cell(figures.campaign.name, href=figures.campaign.get_absolute_url()),
        count(claims.late, link, "claims_late", danger=True, **f),
        count(contacts.late, link, "first_contacts_late", danger=True, **f),
        count(claims.escalations + contacts.escalations, link, "escalations", **f),
        rate_cell(claims.attainment),
        rate_cell(contacts.attainment),
    ]


def _campaign_breaches(d: Dashboard, link: Link) -> Table:
    decided = [
        figures for figures in d.campaigns if figures.clocks[K.CLAIM].decided or figures.clocks[K.FIRST_CONTACT].decided
    ]
    # Worst first: the most late claims and first contacts, then by name.
    worst = sorted(decided, key=lambda figures: -(figures.clocks[K.CLAIM].late + figures.clocks[K.FIRST_CONTACT].late))
    rows = Rows(worst, lambda figures: _campaign_breach_row(figures, link))
    return Table(
        "breaches_by_campaign",
        "Sales' misses by campaign",
        ["Campaign", *GROUP_COLUMNS],
        rows,
        "No sales deadlines fell due in this period.",
        chart=late_chart(
            "Late claims and first contacts by campaign",
            [1, 2],
            empty="No campaign's leads were claimed or first contacted late in this period: no chart to draw.",
        ),
        row_noun="campaigns",
        order="most misses first",
    )


def _marketing_row(figures: CampaignFigures, d: Dashboard, link: Link) -> list[Cell]:
    a, f = figures.acceptance, {"campaign": figures.campaign.pk}
    below = a.kept_rate is not None and a.kept_rate < d.acceptance_target
    return [
        Cell(figures.campaign.name, href=figures.campaign.get_absolute_url()),
        Cell(person_name(figures.campaign.owner)),
        count(figures.mqls, link, "mqls", **f),
        Cell(figures.mql_target, numeric=True),
        _of_target(figures.mql_percent, d),
        count(a.handed_off, link, "handed_off", **f),
        count(a.in_claim_window, link, "acceptance_open", **f),
        count(a.decided, link, "acceptance_decided", **f),
        count(a.claimed, link, "acceptance_claimed", **f),
        count(a.by_escalation, link, "acceptance_by_escalation", **f),
        count(a.returned, link, "acceptance_returned", **f),
        count(a.kept, link, "acceptance_kept", **f),
        Cell(
            a.kept_rate,
            f"{percent_text(a.kept_rate)} (below {d.acceptance_target} %)" if below else percent_text(a.kept_rate),
            numeric=True,
            danger=below,
        ),
        rate_cell(a.claimed_rate),
        count(figures.clocks[K.FOLLOW_UP].late, link, "follow_ups_late", danger=True, **f),
    ]


def _marketing(d: Dashboard, link: Link) -> Table:
    # Worst first: the most hand-offs sales did not keep (claim window closed, not claimed and kept:
    # the campaigns that feed sales badly), then by name.
    worst = sorted(d.campaigns, key=lambda figures: figures.acceptance.kept - figures.acceptance.decided)
    rows = Rows(worst, lambda figures: _marketing_row(figures, d, link))
    return Table(
        "marketing",
        "Marketing by campaign",
        [
            "Campaign",
            "Owner",
            "MQLs",
            "MQL target for the period",
            "Of target",
            "Handed off",
            "Still in claim window",
            "Claim window closed",
            "Claimed",
            "Given by an escalation",
            "Claimed, then returned",
            "Claimed and kept",
            "Acceptance (claimed and kept)",
            "Claimed at least once",
            "Late follow-ups",
        ],
        rows,
        "No campaigns match these filters.",
        row_noun="campaigns",
        order="most hand-offs sales did not keep first",
        caption=(
            f"Acceptance is claimed and kept (the policy's words) ÷ marketing's hand-offs in the period whose claim "
            f"window has closed; leads still inside it are not counted either way. A lead put back in the queue is "
            f"not a new hand-off; one an escalation gave to someone was not claimed (shown apart). "
            f"Target: {d.acceptance_target} %. "
            "MQLs count a lead once a month (qualified again in the same month: still one), as on the campaign "
            "page and in the monthly target check. The monthly MQL target is prorated to the period's days; for a "
            'period not yet over, "of target" says "so far" and how much of the period has gone.'
        ),
    )


# The funnel follows the campaign and channel filters only (definition 7): its links drop the others.
FUNNEL_LINK = {"team": None, "rep": None, "unassigned": None, "no_team": None}


def _of_target(percent: float | None, d: Dashboard) -> Cell:
    """MQLs of the period's target; for a period not yet over, said so with how much of it has gone
    (definition 10): a month 40 % gone at 40 % of its target is on course, not behind."""
    period = d.filters.period
    if percent is None or not period.is_partial(d.now):
        return rate_cell(percent)
    gone = int(100 * period.share_gone(d.now))
    return Cell(percent, f"{percent_text(percent)} so far ({gone} % of the period gone)", numeric=True)


def _funnel_total(d: Dashboard, link: Link) -> Table:
    stages = funnel_stages([sum(getattr(c, attribute) for c in d.campaigns) for attribute, _, _ in FUNNEL])
    rows = [
        [Cell(label), count(value, link, figure, **FUNNEL_LINK), rate_cell(step)]
        for label, figure, value, step in stages
    ]
    return Table(
        "funnel_total",
        "Funnel, all campaigns shown",
        ["Stage", "Leads", "From the stage before"],
        rows if any(row[1].value for row in rows) else [],
        "Nothing happened in this period.",
        caption="Events in the period (not one cohort followed through), so a stage can exceed the one before.",
        chart={"type": "bar", "columns": [1], "title": "Funnel"},
    )


def _funnel_row(figures: CampaignFigures, link: Link) -> list[Cell]:
    f = {"campaign": figures.campaign.pk, **FUNNEL_LINK}
    cells = [Cell(figures.campaign.name, href=figures.campaign.get_absolute_url())]
    for _, figure, value, step in figures.stages():
        text = f"{value}" if step is None else f"{value} ({percent_text(step)})"
        cells.append(Cell(value, text, href=link(figure, **f), numeric=True))
    return [
        *cells,
        Cell(figures.spend, money_text(figures.spend), numeric=True),
        Cell(figures.won_revenue, money_text(figures.won_revenue), numeric=True),
        Cell(figures.cost_per_won, money_text(figures.cost_per_won), numeric=True),
        rate_cell(figures.roi),
    ]


def _funnel(d: Dashboard, link: Link) -> Table:
    active = [c for c in d.campaigns if c.captured or c.mqls or c.handed_off or c.won]
    # The biggest first (most leads captured), then by name.
    rows = Rows(sorted(active, key=lambda figures: -figures.captured), lambda figures: _funnel_row(figures, link))
    return Table(
        "funnel",
        "Funnel per campaign",
        [
            "Campaign",
            "Captured",
            "MQL",
            "Handed off",
            "Accepted",
            "Contacted",
            "Converted",
            "Won",
            "Spend to date",
            "Won revenue",
            "Cost per won deal",
            "ROI",
        ],
        rows,
        "No campaign captured, qualified, handed off or won anything in this period.",
        caption="In brackets: the share of the stage before. Handed off = marketing's hand-offs (a lead put back "
        "in the queue is not one); Accepted = those a person claimed (or a manager or routing assigned) and sales "
        "kept, as in acceptance; not the escalation's. "
        "Spend is the campaign's spend to date; ROI = (won revenue − spend) ÷ spend.",
        row_noun="campaigns",
        order="most leads captured first",
    )


def _trends(d: Dashboard) -> Table:
    rows = [
        [
            Cell(week.start.isoformat(), f"{week.start:%-d %b}" + (" (so far)" if week.is_partial(d.now) else "")),
            rate_cell(week.attainment),
            Cell(hours(week.median_claim_seconds), business_time_text(week.median_claim_seconds), numeric=True),
            Cell(week.handed_off, numeric=True),
            rate_cell(week.acceptance.kept_rate),
        ]
        for week in d.trends
    ]
    has_data = any(week.on_time or week.late or week.handed_off or week.acceptance.handed_off for week in d.trends)
    return Table(
        "trends",
        "Weekly trends, last 13 weeks",
        [
            "Week from",
            "Sales attainment",
            "Median time to claim (business hours)",
            "Handed off",
            "Acceptance (claimed and kept)",
        ],
        rows if has_data else [],
        "Nothing was handed off or fell due in the last 13 weeks.",
        caption="Sales attainment: claims and first contacts on time ÷ those decided that week. The week still "
        'running says "so far": it holds only the days that have passed. The period filter does not apply here; '
        "the others do.",
        chart={"type": "line", "columns": [1, 4], "title": "Attainment and acceptance by week", "percent": True},
    )


# Every table of the page, in its order, by name (its CSV export's name).
TABLES: dict[str, TableSource] = {
    "attribution": TableSource(_attribution, frozenset({"deadlines", "events", "campaigns", "people"})),
    "reps": TableSource(_reps, frozenset({"deadlines", "events", "assignments", "won", "people"})),
    "breaches_by_team": TableSource(_by_team, frozenset({"deadlines", "people"})),
    "breaches_by_campaign": TableSource(_campaign_breaches, frozenset({"deadlines", "campaigns"})),
    "breaches_by_channel": TableSource(_by_channel, frozenset({"deadlines", "campaigns"})),
    "marketing": TableSource(_marketing, _CAMPAIGN_PARTS),
    "funnel_total": TableSource(_funnel_total, _FUNNEL_PARTS),
    "funnel": TableSource(_funnel, _FUNNEL_PARTS),
    "trends": TableSource(lambda d, link: _trends(d), frozenset({"trends"})),
}


def filters_summary(filters: Filters) -> str:
    """The filters in words, for export file names and headings."""
    parts = [filters.period.label]
    people = "The queue" if filters.unassigned else "No team" if filters.no_team else ""
    for value in (filters.team, filters.rep and person_name(filters.rep), people, filters.campaign, filters.channel):
        if value:
            parts.append(str(value))
    return " · ".join(parts)


def _when(moment) -> Cell:
    if moment is None:
        return Cell(None)
    local = timezone.localtime(moment)
    return Cell(local.isoformat(timespec="minutes"), f"{local:%-d %b %Y %H:%M}")


def _drill_row(item) -> tuple[object, object, str, object]:
    """(lead, when, what, who) for a deadline, timeline event, handoff or deal behind a figure."""
    if isinstance(item, Deadline):
        what = f"{item.get_kind_display()} due {timezone.localtime(item.due_at):%-d %b %H:%M}"
        if item.met_at:
            what += f", met {timezone.localtime(item.met_at):%-d %b %H:%M}"
            if item.business_seconds is not None:
                what += f" after {business_time_text(item.business_seconds)} of business time"
        else:
            what += ", not met"
        if item.breached_at:
            what += ", breach recorded"
        elif item.met_at is None or item.met_at > item.due_at:
            what += ", late, not recorded by the sweep"
        if item.met_by_escalation:
            what += ", claimed by an escalation"
        elif item.kind == K.CLAIM and item.met_at and item.met_at > item.due_at and item.handoff.claimed_by:
            what += f", rescued late by {person_name(item.handoff.claimed_by)}"
        return item.lead, item.decided, what, item.owner
    if isinstance(item, LeadEvent):
        what = item.get_kind_display()
        if item.data.get("reason"):
            what += f": {item.data['reason']}"
        return item.lead, item.created_at, what, item.actor
    if isinstance(item, Escalation):
        deadline = item.deadline
        what = (
            f"{item.get_step_display()} for the {deadline.get_kind_display().lower()} due "
            f"{timezone.localtime(deadline.due_at):%-d %b %H:%M}: {item.outcome}"
        )
        return item.lead, item.done_at, what, deadline.owner
    if isinstance(item, Handoff):
        what = "claimed" if item.claimed_at else "not claimed"
        if item.outcome:
            what += f", {item.get_outcome_display().lower()}"
            if item.return_reason:
                what += f" ({item.return_reason})"
        return item.lead, item.handed_off_at, what, item.claimed_by
    return item.lead, item.closed_at, f"Won {money_text(item.value, item.currency)}", item.owner


def drill_table(figure: str, title: str, items) -> Table:
    """The leads behind a figure, one row per deadline, event, handoff or deal."""
    rows = []
    for item in items:
        lead, when, what, who = _drill_row(item)
        rows.append(
            [
                Cell(lead.full_name, href=lead.get_absolute_url()),
                Cell(lead.email),
                Cell(lead.campaign.name),
                _when(when),
                Cell(what),
                Cell(person_name(who, "the queue")),
            ]
        )
    return Table(
        figure,
        title,
        ["Lead", "Email", "Campaign", "When", "What", "Who"],
        rows,
        "No leads behind this figure with these filters.",
    )
