"""Demo data: a user per role, campaigns on several channels, and leads in every state.

Idempotent: users and campaigns are matched by name, leads by email; a lead that exists is left as
it is. Leads are scored and moved through the real services, so every figure a page shows agrees with
the lead's timeline. The leads whose SLA clock has (nearly) run out went through those services in
the past: their whole story is told at the moment it happened, never backdated afterwards.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from campaigns.capture import LeadData, lead_capture
from campaigns.models import Campaign
from campaigns.scoring import lead_override_score
from enforcement.sweep import sweep_deadlines
from leads import services
from leads.models import Deal, Lead, MonthlyTarget, RepProfile, SalesTeam
from people.roles import Role
from sla.calendar import business_time_between
from sla.clocks import priority_of
from sla.models import BusinessCalendar, Deadline, Department, DepartmentHead, SlaPolicy

PASSWORD = "handoff-demo"  # noqa: S105 - demo logins, printed on purpose

USERS = [
    # username, first name, last name, role
    ("marketer", "Maria", "Marketing", Role.MARKETING),
    ("rep", "Sam", "Sales", Role.SALES),
    ("rep2", "Alex", "Seller", Role.SALES),
    ("manager", "Morgan", "Manager", Role.MANAGERS),
]

CAMPAIGNS = [
    # name, channel, months ago started, months to run, budget
    ("Spring webinar series", Campaign.Channel.CONTENT, 6, 4, 12000),
    ("Hannover trade fair", Campaign.Channel.EVENT, 2, 1, 45000),
    ("LinkedIn ads Q4", Campaign.Channel.PAID_ADS, 1, 3, 20000),
    ("November newsletter", Campaign.Channel.EMAIL, 0, 2, 1500),
    ("Partner referrals", Campaign.Channel.REFERRAL, 9, None, 0),
]

S = Lead.Status
# email, name, company, campaign index, score, target state, rep
LEADS = [
    ("ada@lovelace.example", "Ada Lovelace", "Analytical Engines Ltd", 0, 35, S.NEW, None),
    ("grace@hopper.example", "Grace Hopper", "Cobol Systems", 1, 55, S.NEW, None),
    ("alan@turing.example", "Alan Turing", "Bletchley Park Co", 2, 72, S.MQL, None),
    ("edsger@dijkstra.example", "Edsger Dijkstra", "Shortest Path BV", 3, 64, S.MQL, None),
    ("barbara@liskov.example", "Barbara Liskov", "Substitution Inc", 1, 88, S.HANDED_OFF, None),
    ("donald@knuth.example", "Donald Knuth", "TeX Publishing", 0, 81, S.HANDED_OFF, None),
    ("margaret@hamilton.example", "Margaret Hamilton", "Apollo Software", 2, 93, "late_claim", None),
    ("katherine@johnson.example", "Katherine Johnson", "Orbital Mechanics", 0, 52, "warned_claim", None),
    ("ken@thompson.example", "Ken Thompson", "Unix Labs", 4, 70, S.CLAIMED, "rep"),
    ("hedy@lamarr.example", "Hedy Lamarr", "Frequency Hopping GmbH", 4, 74, S.ON_HOLD, "rep"),
    ("dennis@ritchie.example", "Dennis Ritchie", "C Works", 4, 66, "late_contact", "rep2"),
    ("john@mccarthy.example", "John McCarthy", "Lisp Machines", 2, 77, S.CONTACTED, "rep"),
    ("frances@allen.example", "Frances Allen", "Optimizing Compilers", 1, 84, S.CONTACTED, "rep2"),
    ("tim@berners-lee.example", "Tim Berners-Lee", "Web Foundation", 1, 95, S.CONVERTED, "rep"),
    ("radia@perlman.example", "Radia Perlman", "Spanning Tree AG", 2, 90, S.CONVERTED, "rep2"),
    ("linus@torvalds.example", "Linus Torvalds", "Kernel Oy", 3, 58, S.RETURNED, "rep"),
    ("spam@nowhere.example", "N. O. Body", "", 3, 5, S.DISQUALIFIED, None),
]


class Command(BaseCommand):
    help = "Create demo users, campaigns and leads in every state (safe to run again)."

    def handle(self, *args, **options):
        users = {username: self.user(username, first, last, role) for username, first, last, role in USERS}
        self.team(users)
        # A small firm: the demo manager heads both departments, so one login can draft and sign.
        for department in Department:
            DepartmentHead.objects.get_or_create(department=department, defaults={"user": users["manager"]})
        campaigns = [self.campaign(*row, owner=users["marketer"]) for row in CAMPAIGNS]
        created = 0
        for email, name, company, campaign_index, score, target, rep in LEADS:
            if Lead.objects.filter(email=email).exists():
                continue
            with transaction.atomic(), clock_at(self.story_starts(target, score)):
                lead = lead_capture(
                    campaign=campaigns[campaign_index],
                    actor=users["marketer"],
                    data=LeadData(full_name=name, email=email, company=company),
                ).lead
                # The rules score these bare rows low: marketing sets the demo score by hand, on the
                # timeline like anyone would (a score past the threshold makes it an MQL at once).
                lead_override_score(
                    lead=lead, actor=users["marketer"], score_value=score, reason="Scored at the first call."
                )
                lead.refresh_from_db()
                self.advance(lead, target, marketer=users["marketer"], rep=users.get(rep))
            if target in ("late_claim", "late_contact"):
                self.sweep_as_it_ran(lead)
            created += 1
        self.targets(users)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new leads). Log in with:"))
        for username, _first, _last, role in USERS:
            self.stdout.write(f"  {role:<9} {username:<9} password: {PASSWORD}")

    def user(self, username, first_name, last_name, role):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "last_name": last_name, "email": f"{username}@handoff.example"},
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        return user

    def team(self, users):
        """One team, assigning from the queue so the demo queue has leads; managers can switch it."""
        team, _ = SalesTeam.objects.get_or_create(name="Inside Sales", defaults={"manager": users["manager"]})
        for username in ("rep", "rep2"):
            RepProfile.objects.get_or_create(user=users[username], defaults={"team": team, "capacity": 25})

    def targets(self, users):
        month = timezone.localdate().replace(day=1)
        for rep, deals, revenue in ((None, 8, 200000), (users["rep"], 4, 100000), (users["rep2"], 4, 100000)):
            MonthlyTarget.objects.get_or_create(
                month=month, rep=rep, defaults={"deals_won": deals, "revenue": revenue, "set_by": users["manager"]}
            )

    def campaign(self, name, channel, months_ago, months, budget, *, owner):
        today = timezone.localdate()
        start = today - datetime.timedelta(days=30 * months_ago)
        end = start + datetime.timedelta(days=30 * months) if months else None
        status = Campaign.Status.ACTIVE if end is None or end >= today else Campaign.Status.COMPLETED
        campaign, _ = Campaign.objects.get_or_create(
            name=name,
            defaults={
                "channel": channel,
                "owner": owner,
                "status": status,
                "start_date": start,
                "end_date": end,
                "budget": budget,
                "actual_spend": budget * 8 // 10,
                "target_mqls_per_month": 5,
                "objective": f"Pipeline from {Campaign.Channel(channel).label.lower()}",
            },
        )
        return campaign

    def advance(self, lead, target, *, marketer, rep):
        """Walk a lead along the lifecycle to `target` through the services."""
        if target == S.NEW:
            return
        if target == S.DISQUALIFIED:
            services.lead_disqualify(lead=lead, actor=marketer, reason="Fake sign-up.")
            return
        if lead.status == S.NEW:
            services.lead_qualify(lead=lead, actor=marketer, note="Downloaded the whitepaper and attended the webinar.")
        if target == S.MQL:
            return
        services.lead_hand_off(lead=lead, actor=marketer, note="Asked for a demo; budget this quarter.")
        # A late claim (handed off a week ago) was breached when it fell due (`sweep_as_it_ran`), a
        # warned one (most of its claim time gone) is warned on the worker's next sweep.
        if target in (S.HANDED_OFF, "late_claim", "warned_claim"):
            return
        services.lead_claim(lead=lead, rep=rep)
        # A late contact (claimed a week ago) was breached when it fell due (`sweep_as_it_ran`).
        if target in (S.CLAIMED, "late_contact"):
            return
        if target == S.ON_HOLD:
            # The clock stops while the customer decides; resuming moves the due time.
            services.lead_hold(lead=lead, actor=rep, reason="Waiting for their budget sign-off.")
            return
        if target == S.RETURNED:
            services.lead_return(lead=lead, actor=rep, reason="Not ready to buy", note="Call again next spring.")
            return
        services.lead_log_first_contact(lead=lead, actor=rep, note="Intro call, keen to see a proposal.")
        if target == S.CONVERTED:
            # One deal signed at once, the other still in negotiation.
            stage = Deal.Stage.WON if lead.score >= 95 else Deal.Stage.NEGOTIATION
            services.lead_convert(lead=lead, actor=rep, value=Decimal(lead.score * 500), note="Signed.", stage=stage)

    def sweep_as_it_ran(self, lead):
        """Record the warning and the breach of a late lead's running clocks as a worker running then
        would have: the sweep itself, a second after the warning time and the due time. The story of a
        late lead starts a week ago; left to the first sweep of `make run`, its breach would be recorded
        days after its due time, and the dashboard would rightly say that breach detection is slow."""
        running = lead.deadlines.filter(met_at__isnull=True, cancelled_at__isnull=True, breached_at__isnull=True)
        moments = sorted({moment for deadline in running for moment in (deadline.warn_at, deadline.due_at) if moment})
        for moment in moments:
            if moment < timezone.now():
                sweep_deadlines(now=moment + datetime.timedelta(seconds=1))

    def story_starts(self, target, score) -> datetime.datetime:
        """When the story of a lead heading for `target` starts: now, except for the demo's late and
        warned leads. A late one starts a week ago, so its claim or first-contact time ran out long
        since; a warned one when more than the warning share, but not all, of its claim time has passed
        (in business time, which stands still at night and at weekends)."""
        now = timezone.now()
        if target in ("late_claim", "late_contact"):
            return now - datetime.timedelta(days=7)
        if target != "warned_claim":
            return now
        policy = SlaPolicy.current()
        allowed = policy.allowed(Deadline.Kind.CLAIM, priority_of(score))
        gone = (policy.warn_after(allowed) + allowed) / 2
        spec = BusinessCalendar.objects.spec_for(None)
        # The latest start with `gone` of business time behind it: bisect over the last four weeks.
        early, late = now - datetime.timedelta(days=28), now
        while late - early > datetime.timedelta(seconds=1):
            middle = early + (late - early) / 2
            early, late = (middle, late) if business_time_between(middle, now, spec) >= gone else (early, middle)
        return early


@contextmanager
def clock_at(moment: datetime.datetime):
    """Run the services as if it were `moment`: every `timezone.now()` they read says so."""
    with mock.patch.object(timezone, "now", return_value=moment):
        yield
