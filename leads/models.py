import re

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Value
from django.db.models.functions import Concat, Upper
from django.urls import reverse
from django.utils import timezone

from common.daterange import stored_day_in_range, stored_moment_in_range
from common.models import AppendOnly
from people.names import person_name
from sla.tiers import PRIORITY_FLOORS, Priority, priority_of


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    MQL = "mql", "MQL"
    HANDED_OFF = "handed_off", "Waiting in queue"
    CLAIMED = "claimed", "Claimed"
    CONTACTED = "contacted", "Contacted"
    ON_HOLD = "on_hold", "On hold"
    CONVERTED = "converted", "Converted"
    RETURNED = "returned", "Returned to marketing"
    DISQUALIFIED = "disqualified", "Disqualified"
    MERGED = "merged", "Merged into another lead"


def priority_q(priority: str, field: str = "score") -> models.Q:
    """The score range of a tier, for filtering in SQL."""
    floor = PRIORITY_FLOORS[priority]
    ceilings = {
        Priority.HOT: None,
        Priority.WARM: PRIORITY_FLOORS[Priority.HOT],
        Priority.COLD: PRIORITY_FLOORS[Priority.WARM],
    }
    q = models.Q(**{f"{field}__gte": floor})
    if ceilings[priority] is not None:
        q &= models.Q(**{f"{field}__lt": ceilings[priority]})
    return q


def phone_digits(field: str = "phone") -> Func:
    """The digits of a phone number alone ("+49 30 1234-5" → "493012345"), as the search index holds them."""
    return Func(
        F(field), Value("[^0-9]"), Value(""), Value("g"), function="regexp_replace", output_field=models.CharField()
    )


def word_beginnings() -> Func:
    """Every beginning of every word of a lead's name, company and email ("Ada", "ada@analytical.org":
    a, ad, ada, an, ana, …, analytical, o, or, org), as one text-search document: `Lead.search_words`.
    Words are the runs of letters and digits, lower-cased. The function is migration leads 0030's."""
    text = Concat(F("full_name"), Value(" "), F("company"), Value(" "), F("email"), output_field=models.TextField())
    return Func(text, function="handoff_word_beginnings", output_field=SearchVectorField())


def words_query(text: str) -> SearchQuery | None:
    """What was typed, as a query of `Lead.search_words`: each word typed begins a word of the lead's
    ("ada lov" finds "Ada Lovelace"); None when it has no letter or digit."""
    words = re.findall(r"[^\W_]+", text.lower())
    if not words:
        return None
    return SearchQuery(" & ".join(words), config="simple", search_type="raw")


# A rep owns the lead and works it in these statuses.
WORKED_BY_SALES = (LeadStatus.CLAIMED, LeadStatus.CONTACTED, LeadStatus.ON_HOLD)


class Lead(models.Model):
    """A contact captured by a campaign, on its way from marketing to a deal.

    The status only changes through `leads.transitions.transition`, which checks the move and
    writes the timeline event; nothing else assigns `status`.
    """

    Status = LeadStatus
    WORKED_BY_SALES = WORKED_BY_SALES

    class Source(models.TextChoices):
        FORM = "form", "Added by hand"
        IMPORT = "import", "CSV import"
        INTAKE = "intake", "Web form"

    full_name = models.CharField("name", max_length=200)
    email = models.EmailField(max_length=254, help_text="Stored trimmed and lower-case: one lead per address.")
    company = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    # The beginnings of the words of the name, company and email, kept by PostgreSQL (the marketing lead
    # list's search). Beginnings rather than words, so that a search asks for whole entries only: ANALYZE
    # then knows how common each is, and the planner walks the page's order for common ones (a page is
    # near) and asks the GIN index for rare ones (their cost follows the rarest, not the table).
    search_words = models.GeneratedField(
        expression=word_beginnings(), output_field=SearchVectorField(), db_persist=True
    )
    job_title = models.CharField(max_length=200, blank=True)
    company_size = models.PositiveIntegerField("company size (employees)", null=True, blank=True)
    # A default in the database too: the bulk fills (demo/fills.py, seed_scale) insert leads in SQL.
    country = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text="Country or region, as given (routing rules read it).",
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FORM)
    capture_count = models.PositiveIntegerField(default=1, help_text="How many times the lead was captured.")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="leads")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
        help_text="The sales rep working the lead.",
    )
    score = models.PositiveSmallIntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(100)])
    score_overridden = models.BooleanField(
        default=False, help_text="Set by hand with a reason; the scoring rules leave it alone."
    )
    hold_reason = models.CharField(max_length=300, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_leads", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # The latest activity of the rep's pass (since a rep took the lead from the queue) and the next
    # step it set: what "My leads" groups by (`queries.rep_worklist`), kept here so a group is a range
    # of `lead_worklist_idx` rather than a look-up per lead. Only `activities.activity_log` sets them
    # and `services._take` empties them; the activities stay the record.
    last_activity_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_step_at = models.DateTimeField("next step", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=100), name="lead_score_at_most_100"),
            models.CheckConstraint(condition=stored_moment_in_range("next_step_at"), name="lead_next_step_in_range"),
            models.CheckConstraint(condition=models.Q(status__in=LeadStatus.values), name="lead_status_valid"),
            # A lead captured again is the same lead: one live lead per (normalised) address.
            models.UniqueConstraint(
                fields=["email"], condition=models.Q(merged_into__isnull=True), name="one_live_lead_per_email"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["campaign", "-created_at", "-id"]),
            models.Index(fields=["-created_at", "-id"], name="lead_newest_first_idx"),
            models.Index(fields=["-score", "-id"], name="lead_score_idx"),
            # The queue by score: only the waiting leads, so a page is the first rows of this index.
            models.Index(fields=["-score"], name="lead_waiting_score_idx", condition=models.Q(status="handed_off")),
            # The "possible duplicate" hint: live leads sharing a name and company (campaigns.capture).
            models.Index(
                Upper("full_name"),
                Upper("company"),
                name="lead_name_company_idx",
                condition=models.Q(merged_into__isnull=True),
            ),
            # Routing's owner match: the leads with a rep at a company, by the domain of their address.
            models.Index(
                Func(F("email"), Value("@"), Value(2), function="split_part", output_field=models.CharField()),
                "owner",
                name="lead_owner_domain_idx",
                condition=models.Q(owner__isnull=False),
            ),
            # Capture follows an address merged away to its survivor.
            models.Index(fields=["email"], name="lead_merged_email_idx", condition=models.Q(merged_into__isnull=False)),
            # The returned-by-sales inbox, most recently returned first.
            models.Index(
                fields=["-status_changed_at", "-id"], name="lead_returned_idx", condition=models.Q(status="returned")
            ),
            # My leads: a rep's leads of one status in next-step order (contacted leads are grouped by it).
            models.Index(
                fields=["owner", "status", "next_step_at", "-status_changed_at", "-id"],
                include=["last_activity_at"],
                name="lead_worklist_idx",
                condition=models.Q(status__in=WORKED_BY_SALES),
            ),
            # The marketing lead list's search: leads with a word beginning with each word typed (`words_query`).
            GinIndex(fields=["search_words"], name="lead_words_idx"),
            # The top bar's search: names, companies and emails containing what was typed, or like it.
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="lead_name_trgm_idx"),
            GinIndex(OpClass(Upper("company"), name="gin_trgm_ops"), name="lead_company_trgm_idx"),
            GinIndex(fields=["email"], opclasses=["gin_trgm_ops"], name="lead_email_trgm_idx"),
            # The top bar's search: names, companies and emails that start with what was typed (a
            # b-tree range, however many leads share a word), before those containing it (above).
            models.Index(OpClass(Upper("full_name"), name="text_pattern_ops"), name="lead_name_prefix_idx"),
            models.Index(OpClass(Upper("company"), name="text_pattern_ops"), name="lead_company_prefix_idx"),
            models.Index(fields=["email"], opclasses=["varchar_pattern_ops"], name="lead_email_prefix_idx"),
            # The top bar's search finds a phone number by its digits, however it was written.
            GinIndex(OpClass(phone_digits(), name="gin_trgm_ops"), name="lead_phone_digits_trgm_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def get_absolute_url(self) -> str:
        return reverse("leads:detail", args=[self.pk])

    def note_activity(self, activity: "Activity") -> None:
        """Keep the latest activity's time and next step on the lead (the caller holds its lock)."""
        self.last_activity_at, self.next_step_at = activity.created_at, activity.next_step_at
        self.save(update_fields=["last_activity_at", "next_step_at"])

    def timeline(self):
        """Every event of this lead and of the leads merged into it, oldest first."""
        ids, frontier = {self.pk}, [self.pk]
        while frontier:  # merges can chain: A into B, then B into C
            frontier = list(Lead.objects.filter(merged_into__in=frontier).values_list("pk", flat=True))
            ids.update(frontier)
        return LeadEvent.objects.filter(lead__in=ids).select_related("actor", "lead").order_by("created_at", "id")

    @property
    def priority(self) -> str:
        return priority_of(self.score)

    def get_priority_display(self) -> str:
        return Priority(self.priority).label

    @property
    def is_worked_by_sales(self) -> bool:
        return self.status in WORKED_BY_SALES


class LeadEvent(AppendOnly):
    """One line of a lead's timeline: who did what, when, from which status to which.

    Append-only: the model refuses updates and deletes, and so does a trigger in the database.
    """

    record_name = "Timeline events"

    class Kind(models.TextChoices):
        CAPTURED = "captured", "Captured"
        CAPTURED_AGAIN = "captured_again", "Captured again"
        SCORED = "scored", "Score changed"
        MERGED = "merged", "Merged"
        ON_HOLD = "on_hold", "Put on hold"
        RESUMED = "resumed", "Resumed"
        ASSIGNED = "assigned", "Assigned"
        ACTIVITY = "activity", "Activity"
        DEAL_STAGE = "deal_stage", "Deal stage changed"
        DEAL_UPDATED = "deal_updated", "Deal updated"
        QUALIFIED = "qualified", "Marked MQL"
        HANDED_OFF = "handed_off", "Handed to sales"
        CLAIMED = "claimed", "Claimed"
        CONTACTED = "contacted", "First contact"
        CONVERTED = "converted", "Converted"
        RETURNED = "returned", "Returned to marketing"
        DISQUALIFIED = "disqualified", "Disqualified"
        RENURTURED = "renurtured", "Back to nurturing"
        BREACH = "breach", "SLA breached"
        WARNING = "warning", "SLA warning"
        ESCALATED = "escalated", "Escalated"
        REQUEUED = "requeued", "Back to the queue"
        CLOCK_PAUSED = "clock_paused", "SLA clock paused"
        CLOCK_RESUMED = "clock_resumed", "SLA clock resumed"
        APPEALED = "appealed", "Breach appealed"
        APPEAL_UPHELD = "appeal_upheld", "Appeal upheld: breach excused"
        APPEAL_DISMISSED = "appeal_dismissed", "Appeal dismissed: breach stands"

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system (the SLA worker) acted.",
    )
    from_status = models.CharField(max_length=20, choices=Lead.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Lead.Status.choices, blank=True)
    note = models.TextField(blank=True, max_length=4000)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["lead", "created_at"]),
            # The events of one kind in a period: the dashboard's drill-down and assignment split.
            models.Index(fields=["kind", "created_at"], name="leadevent_kind_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.lead_id} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def actor_label(self) -> str:
        if self.actor is None:
            return "SLA worker" if self.kind == self.Kind.BREACH else "Handoff (automatic)"
        return person_name(self.actor)


class Deal(models.Model):
    """What a converted lead became: an opportunity moving through its stages to won or lost.

    Only won deals count towards targets and campaign revenue.
    """

    class Stage(models.TextChoices):
        QUALIFIED = "qualified", "Qualified"
        PROPOSAL = "proposal", "Proposal"
        NEGOTIATION = "negotiation", "Negotiation"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    OPEN_STAGES = (Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION)

    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, related_name="deal")
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="The lead's campaign, copied so the dashboard's won deals need no join (read by deal_won_idx).",
    )
    value = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals")
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.QUALIFIED)
    expected_close_date = models.DateField(null=True, blank=True)
    lost_reason = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it was won or lost.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gte=0), name="deal_value_not_negative"),
            models.CheckConstraint(
                condition=~models.Q(stage="lost") | ~models.Q(lost_reason=""), name="lost_deal_has_reason"
            ),
            models.CheckConstraint(
                condition=stored_day_in_range("expected_close_date"), name="deal_expected_close_date_in_range"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "stage", "closed_at"]),
            models.Index(fields=["stage", "closed_at"]),
            # The dashboard's won deals of a period per campaign and owner: an index-only scan (won is final).
            models.Index(
                fields=["closed_at"],
                name="deal_won_idx",
                condition=models.Q(stage="won"),
                include=["campaign", "owner", "value"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value} {self.currency} · {self.lead}"


class SalesTeam(models.Model):
    """Reps who share a queue; a manager leads it and decides whether leads are assigned automatically."""

    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="managed_teams"
    )
    auto_assign = models.BooleanField(
        default=False, help_text="Hand each new lead to the next available rep (round-robin) instead of the queue."
    )
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams",
        help_text="Business hours of the team's SLA clocks; empty for the default calendar.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RepProfile(models.Model):
    """A sales rep's working settings: team, capacity, away, and their place in the round-robin."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rep_profile")
    team = models.ForeignKey(SalesTeam, on_delete=models.PROTECT, null=True, blank=True, related_name="reps")
    capacity = models.PositiveSmallIntegerField(default=25, help_text="Most open leads the rep may hold at once.")
    is_away = models.BooleanField("out of office", default=False)
    weight = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="Share of automatic assignments: a rep of weight 2 gets two leads for a colleague's one.",
    )
    # The rep's place in the weighted round-robin (see routing.router): assignments received divided by
    # weight, so the rep furthest behind their share is next. Kept near the others' on a return.
    routing_pass = models.FloatField(default=0, editable=False)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["team", "last_assigned_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gte=1, weight__lte=5), name="rep_weight_1_to_5")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.team or 'no team'})"


class Activity(models.Model):
    """Something a rep did with a lead: a call, an email, a meeting or a note."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    # These reach the lead; a note does not, so it does not stop the first-contact clock.
    CONTACT_KINDS = (Kind.CALL, Kind.EMAIL, Kind.MEETING)

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="activities")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True, max_length=4000)
    next_step_at = models.DateTimeField("next step", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["lead", "-created_at"]), models.Index(fields=["rep", "next_step_at"])]
        constraints = [
            models.CheckConstraint(condition=stored_moment_in_range("next_step_at"), name="activity_next_step_in_range")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.lead}"


class ReturnReason(models.Model):
    """Why sales sends a lead back to marketing; managers keep the list."""

    class Side(models.TextChoices):
        """Whose miss a return is on the SLA dashboard's attribution."""

        MARKETING = "marketing", "Marketing's (lead quality)"
        NEUTRAL = "neutral", "Neutral (nobody's miss)"

    label = models.CharField(max_length=100, unique=True)
    side = models.CharField(
        max_length=10,
        choices=Side.choices,
        default=Side.NEUTRAL,
        help_text="Bad data, a duplicate or the wrong target is marketing's; not ready to buy and similar are neutral.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class MonthlyTarget(models.Model):
    """A month's sales target: the department's (no rep) or one rep's."""

    month = models.DateField(help_text="The first day of the month.")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="targets"
    )
    deals_won = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["month", "rep"], name="one_target_per_rep_and_month"),
            models.UniqueConstraint(
                fields=["month"], condition=models.Q(rep__isnull=True), name="one_department_target_per_month"
            ),
            models.CheckConstraint(condition=models.Q(month__day=1), name="target_month_starts_on_the_first"),
            models.CheckConstraint(condition=models.Q(revenue__gte=0), name="target_revenue_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%B %Y} · {self.rep or 'department'}"


def count_slot() -> models.SmallIntegerField:
    """A count row's slot: which concurrent writer's share of its key's count the row holds."""
    return models.SmallIntegerField(
        default=0,
        db_default=0,
        help_text="Which writer's share of the count this row is (`leads.tally.COUNT_SLOT_FUNCTION`): read the sum.",
    )


class LeadTally(models.Model):
    """How many leads each campaign has in each status, per owner: a read model of `Lead`.

    A PostgreSQL trigger on `leads_lead` (any INSERT, UPDATE or DELETE statement, whoever runs it)
    adds the change in the same transaction, so the campaign list, the campaign results and the
    teams page read a few rows per campaign or rep instead of counting leads.
    `manage.py rebuild_counts` recounts it from the leads (`leads.tally`).
    """

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+")
    status = models.CharField(max_length=20, choices=LeadStatus.choices)
    leads = models.BigIntegerField(default=0)
    slot = count_slot()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "owner", "status", "slot"], name="lead_tally_slot_key", nulls_distinct=False
            )
        ]
        indexes = [models.Index(fields=["owner", "status"], name="lead_tally_owner_idx")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} · owner {self.owner_id} · {self.status}: {self.leads}"


class CampaignTally(models.Model):
    """How many leads each campaign has in each status: `LeadTally` summed over the owners, a read model of
    `Lead` kept by the same triggers (`leads.tally`). The campaign list reads a few rows per campaign here;
    `LeadTally` holds a row per owner too (~1,600 per campaign with 400 reps at a million leads)."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, related_name="+")
    status = models.CharField(max_length=20, choices=LeadStatus.choices)
    leads = models.BigIntegerField(default=0)
    slot = count_slot()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "status", "slot"], name="campaign_tally_slot_key")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} · {self.status}: {self.leads}"


class CampaignMilestone(models.Model):
    """How many of a campaign's live leads ever reached a milestone of the funnel: a read model of
    the timeline (`leads.tally`), for the campaign results.

    A lead counts once per milestone however often it got there (qualified twice is one MQL), and
    stops counting when it is merged into another lead. Triggers on the timeline and on the leads
    keep it current; `manage.py rebuild_counts` recounts it.
    """

    class Milestone(models.TextChoices):
        QUALIFIED = "qualified", "Qualified (MQL)"
        HANDED_OFF = "handed_off", "Handed to sales"
        ACCEPTED = "accepted", "Accepted by sales (claimed or assigned)"
        RETURNED = "returned", "Returned to marketing"
        BREACHED = "breached", "An SLA deadline breached"

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, related_name="+")
    milestone = models.CharField(max_length=20, choices=Milestone.choices)
    leads = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "milestone"], name="campaign_milestone_key")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} · {self.milestone}: {self.leads}"


class CampaignMonthMqls(models.Model):
    """How many of a campaign's live leads were qualified in each calendar month, by the day each was
    first qualified in its month: a read model of the timeline (`leads.tally`). The one count of MQLs
    for the campaign results' months, the monthly target check and the managers' dashboard.

    Months and days are those of the site's time zone (settings.TIME_ZONE, whoever looks). A lead
    counts once in a month however often it was qualified in it (re-nurtured and qualified again), and
    in each month it was qualified in; it stops counting when merged into another lead. A month's MQLs
    are the sum of its days, a period's the sum of its days (a lead qualified on the 3rd and again on
    the 20th counts on the 3rd only). Triggers keep it current; `manage.py rebuild_counts` recounts it
    (needed after changing TIME_ZONE).
    """

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, related_name="+")
    day = models.DateField(help_text="The day the leads were first qualified in their month (site's time zone).")
    leads = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="campaign_mqls_day_key")]
        indexes = [models.Index(fields=["day"], name="campaign_mqls_day_idx")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} · {self.day:%-d %B %Y}: {self.leads}"


class CampaignRevenue(models.Model):
    """A campaign's won deals and their value: a read model of `Deal` (`leads.tally`), kept by
    triggers when a deal is created won, moves to or from won, or changes value."""

    campaign = models.OneToOneField("campaigns.Campaign", on_delete=models.DO_NOTHING, related_name="+")
    won_deals = models.BigIntegerField(default=0)
    won_revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}: {self.won_deals} won, {self.won_revenue}"


class EventCount(models.Model):
    """How many timeline events of one kind happened on one day, per campaign and person.

    A read model of the timeline (which stays the source of truth): a PostgreSQL trigger on
    `leads_leadevent` adds every inserted event here in the same transaction, whoever inserted it
    (a service, a bulk import, the sweep's set-based INSERT), so pages sum a few rows per hour shown
    instead of reading the timeline. `manage.py rebuild_counts` recomputes the table from the
    timeline with the same SQL (`leads.counts`).

    Days are calendar days in the site's zone (settings.TIME_ZONE, whoever looks), like every period,
    week and month the pages show: a month is about 30 rows per campaign, kind and person, where UTC
    hours made it 720. The trigger has the zone written in; `rebuild_counts` after changing TIME_ZONE.
    """

    day = models.DateField(help_text="The day the events happened on, in the site's time zone (TIME_ZONE).")
    kind = models.CharField(max_length=20, help_text="The timeline event kind (LeadEvent.Kind).")
    subgroup = models.CharField(
        max_length=100,
        blank=True,
        help_text="What the kind is split by: deadline kind for breaches and warnings, reason for returns, "
        "stage for deal moves, activity kind, capture source.",
    )
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        help_text="Whom the event is about: the rep or deadline owner named in it, else its actor.",
    )
    value = models.BigIntegerField(default=0)
    amount = models.DecimalField(
        max_digits=18, decimal_places=2, default=0, help_text="Money the events carry: converted or won value."
    )
    slot = count_slot()

    class Meta:
        db_table = "handoff_eventcount"  # its table from before it left handoff/
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "subgroup", "campaign", "user", "slot"],
                name="event_count_day_slot_key",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["kind", "day"], name="event_count_kind_day_idx"),
            # A campaign's all-time figures (its results page): its rows of one kind, whatever the hours.
            models.Index(fields=["campaign", "kind"], name="event_count_campaign_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subgroup} {self.day:%Y-%m-%d} campaign {self.campaign_id}: {self.value}"


class EventSums(models.Model):
    """`EventCount` summed over a span of days and one side of it: per campaign (`user` empty) or per
    person (`campaign` empty), never both; keyed by the daily row's slot, so concurrent writers never
    share a row here either. The span is the subclass's."""

    class Side(models.TextChoices):
        CAMPAIGN = "campaign"
        USER = "user"

    side = models.CharField(max_length=8, choices=Side.choices)
    kind = models.CharField(max_length=20)
    subgroup = models.CharField(max_length=100, blank=True)
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, null=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+")
    slot = models.SmallIntegerField(default=0, db_default=0)
    value = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        abstract = True


class EventMonthCount(EventSums):
    """`EventCount` summed per month and one side of it. A month of the daily rows holds every
    (campaign, person) pair that did something, ~100,000 rows at a million leads; its sides hold a few
    thousand, so a page that wants a period's totals per campaign and per person (the dashboard) reads
    these for the whole months of the period and the daily rows only for the days at its edges
    (`leads.counts`).

    Kept by a trigger on `handoff_eventcount` itself, so whoever writes the daily rows (the timeline's
    trigger, a rebuild, `seed_scale`'s chunks through `event_months_fill`) keeps the months equal to
    their sums.
    """

    month = models.DateField(help_text="The first day of the month, in the site's time zone (as EventCount.day).")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "side", "kind", "subgroup", "campaign", "user", "slot"],
                name="event_month_count_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subgroup} {self.month:%Y-%m} {self.side}: {self.value}"


class EventWeekCount(EventSums):
    """`EventCount` summed per week of the month and one side of it, as `EventMonthCount` is per month.
    The weeks of a month are its days 1–7, 8–14, 15–21, 22–28 and 29 to its end: each lies in one
    month, so a period's days at its edges (a custom range starting on the 10th: the month less its
    first 9 days) are a few whole weeks and at most three days either side of each, not up to fifteen
    days of every (campaign, person) pair (`leads.counts.plan_spans`). A week's sums per side are about
    as many rows as one day's pairs.

    Kept by a trigger on `handoff_eventcount` itself, as the months are.
    """

    week = models.DateField(help_text="The first day of the week of the month (1, 8, 15, 22 or 29), local.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "side", "kind", "subgroup", "campaign", "user", "slot"],
                name="event_week_count_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subgroup} week of {self.week:%Y-%m-%d} {self.side}: {self.value}"


def email_domain_of(field: str = "email") -> Func:
    """The domain of an address, as SQL (the expression of `lead_owner_domain_idx`)."""
    return Func(F(field), Value("@"), Value(2), function="split_part", output_field=models.CharField())
