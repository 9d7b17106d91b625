"""Time one routing decision with many reps: `manage.py benchmark_routing`.

Fills a throwaway database with `--leads` leads in the queue (bulk SQL, as benchmark_sweep does),
`--reps` sales reps in five teams that assign automatically (three open around the clock, one on
Berlin office hours, one on New York's; one rep in ten on time off, one in ten part-time, one in
twenty out of office) and `--open-per-rep` claimed leads each. Then times `--runs` routing
decisions of a lead, as a hand-off makes them (who is on shift, open leads per rep, the weighted
turn, the lock, the decision record), each in a transaction rolled back so every run sees the same
state, and prints p50/p95 and the statements per decision (counted in a run of their own).
Refuses a database with leads of real campaigns.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_bench ./.venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_bench ./.venv/bin/python manage.py benchmark_routing
"""

import datetime
import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo.fills import claim_deadlines_fill, refuse_real_data
from leads.models import Lead, RepProfile, SalesTeam
from people.roles import Role
from routing.models import RuleSet, TimeOff, WorkingHours
from routing.router import WeightedRouter
from routing.services import rules_publish
from sla.models import BusinessCalendar, OpeningHours

CAMPAIGN = "Routing benchmark"
DAY = (datetime.time.min, datetime.time.max)


def _calendar(name: str, zone: str, hours: dict) -> BusinessCalendar:
    calendar, created = BusinessCalendar.objects.get_or_create(name=name, defaults={"time_zone": zone})
    if created:
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=day, opens=opens, closes=closes)
            for day, (opens, closes) in hours.items()
        )
    return calendar


class Command(BaseCommand):
    help = "Time one routing decision among many reps (use a throwaway database)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--reps", type=int, default=500)
        parser.add_argument("--open-per-rep", type=int, default=20)
        parser.add_argument("--rules", type=int, default=200)
        parser.add_argument("--runs", type=int, default=200)

    def handle(self, *, leads: int, reps: int, open_per_rep: int, rules: int, runs: int, **options):
        if refusal := refuse_real_data(CAMPAIGN):
            raise CommandError(refusal)
        if (missing := leads - Lead.objects.count()) > 0:
            self.stdout.write(f"Adding {missing:,} leads in the queue…")
            claim_deadlines_fill(campaign_name=CAMPAIGN, count=missing, due=timezone.now() + timedelta(days=365))
        self._reps(reps, open_per_rep)
        self._rules(rules)
        lead = Lead.objects.filter(status=Lead.Status.HANDED_OFF, owner__isnull=True).first()
        # A company address, so owner matching looks the company up (it finds no other lead there).
        Lead.objects.filter(pk=lead.pk).update(email=f"buyer{lead.pk}@bench-company.com", country="Germany")
        lead.refresh_from_db()
        router = WeightedRouter()

        def decide():
            with transaction.atomic():
                routed = router.route(lead=lead, now=timezone.now())
                transaction.set_rollback(True)
            return routed

        # The statements are counted in a run of their own: capturing them costs time of its own.
        with CaptureQueriesContext(connection) as queries:
            decide()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            routed = decide()
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        self.stdout.write(
            f"{Lead.objects.count():,} leads, {RepProfile.objects.count()} reps, {rules} rules: one routing decision "
            f"p50 {statistics.median(samples):.1f} ms, p95 {samples[int(len(samples) * 0.95) - 1]:.1f} ms "
            f"over {runs} runs; {len(queries)} statements; last chose "
            f"{routed.profile.user.username if routed.profile else 'nobody'}."
        )

    def _rules(self, count: int) -> None:
        """`count` rules a lead is tried against in order, the last one (the default) matching: the
        worst case, every rule read. Owner matching on (90 days)."""
        current = RuleSet.current()
        if count == 0 or (current and current.rules.count() == count):
            return
        teams = list(SalesTeam.objects.filter(name__startswith="Bench ").order_by("pk"))
        conditions = [
            {"company_words": "nowhere corp"},
            {"countries": "Atlantis"},
            {"min_company_size": 1_000_000},
            {"title_words": "astronaut"},
        ]
        rules = [
            {"name": f"Rule {i}", "team": teams[i % len(teams)], **conditions[i % len(conditions)]}
            for i in range(count - 1)
        ] + [{"name": "Default", "team": teams[0]}]
        admin = get_user_model().objects.get_or_create(username="bench-manager")[0]
        Group.objects.get(name=Role.MANAGERS).user_set.add(admin)
        rules_publish(actor=admin, rules=rules, owner_match_days=90)

    def _reps(self, count: int, open_per_rep: int) -> None:
        have = RepProfile.objects.filter(team__name__startswith="Bench ").count()
        if have >= count:
            return
        self.stdout.write(f"Adding {count - have} reps with {open_per_rep} open leads each…")
        calendars = [
            _calendar("Bench around the clock", "UTC", dict.fromkeys(range(7), DAY)),
            _calendar("Bench Berlin", "Europe/Berlin", dict.fromkeys(range(5), (datetime.time(9), datetime.time(17)))),
            _calendar(
                "Bench New York", "America/New_York", dict.fromkeys(range(5), (datetime.time(9), datetime.time(17)))
            ),
        ]
        teams = [
            SalesTeam.objects.get_or_create(
                name=f"Bench {i}", defaults={"auto_assign": True, "calendar": calendars[min(i, 2) if i < 3 else 0]}
            )[0]
            for i in range(5)
        ]
        sales = Group.objects.get(name=Role.SALES)
        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"bench{i}", first_name="Bench", last_name=str(i)) for i in range(have, count)
        )
        sales.user_set.add(*users)
        RepProfile.objects.bulk_create(
            RepProfile(user=user, team=teams[i % 5], capacity=open_per_rep + 5, is_away=i % 20 == 0, weight=1 + i % 3)
            for i, user in enumerate(users)
        )
        today = timezone.localdate()
        TimeOff.objects.bulk_create(
            TimeOff(rep=user, starts_on=today, ends_on=today + timedelta(days=3), created_by=user)
            for i, user in enumerate(users)
            if i % 10 == 1
        )
        # One in ten works part-time: mornings on their team's weekdays.
        WorkingHours.objects.bulk_create(
            WorkingHours(rep=user, weekday=day, starts=datetime.time(8), ends=datetime.time(13))
            for i, user in enumerate(users)
            if i % 10 == 3
            for day in range(5)
        )
        with connection.cursor() as cursor:
            for user in users:
                cursor.execute(
                    "UPDATE leads_lead SET owner_id = %s, status = 'claimed' WHERE id IN ("
                    "SELECT id FROM leads_lead WHERE owner_id IS NULL AND status = 'handed_off' LIMIT %s)",
                    [user.pk, open_per_rep],
                )
            cursor.execute("ANALYZE leads_lead; ANALYZE leads_repprofile")
