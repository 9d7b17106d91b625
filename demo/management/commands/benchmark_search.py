"""Time the top bar's search on a database filled by `seed_scale`: `manage.py benchmark_search`.

For a rep (the queue and the leads sales holds) and a manager (every lead), times `--runs` searches
of each kind below through `leads.search.lead_search` (after two warm-ups) and prints, per kind and
role, what was found, p50 and p95, and the statements the search took. The kinds follow seed_scale's
leads ("Scale Lead <n>", "scale-<n>@example.com", "Company <n mod 5000>"), whose names all share two
words: a typo in those is the worst case there is (see `SEARCH_TIMEOUT_MS`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_scale .venv/bin/python manage.py benchmark_search
"""

import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.search import lead_search
from people.roles import Role

QUERIES = {
    "company, as written": "Company 4217",
    "company, a typo": "Compnay 4217",
    "company, one common word": "Company",
    "name, as written": "Scale Lead 123456",
    "name, a typo in the shared words": "Scael Lead 654321",
    "email, whole": "scale-777777@example.com",
    "email, part": "scale-77777",
    "phone, written another way": "030 2111 1110",
    "nothing like it": "Zyxwvut",
}


class Command(BaseCommand):
    help = "Time the lead search on a database filled by seed_scale."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=30)

    def handle(self, *, runs: int, **options):
        users = get_user_model().objects
        rep = users.filter(groups__name=Role.SALES).order_by("pk").first()
        manager = users.filter(groups__name=Role.MANAGERS).order_by("pk").first()
        if rep is None or manager is None:
            raise CommandError("No rep or manager here: fill the database with seed_scale first.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM leads_lead")
            self.stdout.write(f"{cursor.fetchone()[0]:,} leads; {runs} runs per search after two warm-ups\n")
        self.stdout.write("| search | role | found | p50 | p95 | statements |\n|---|---|---|---|---|---|")
        for label, query in QUERIES.items():
            for role, user in (("rep", rep), ("manager", manager)):
                for _ in range(2):
                    lead_search(user=user, query=query)
                times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    result = lead_search(user=user, query=query)
                    times.append((time.perf_counter() - started) * 1000)
                with CaptureQueriesContext(connection) as statements:
                    lead_search(user=user, query=query)
                times.sort()
                found = (
                    "stopped (too broad)" if result.too_broad else f"{len(result.leads)}{'+' if result.more else ''}"
                )
                if result.lookalikes:
                    found += " lookalikes"
                p95 = times[max(0, round(0.95 * len(times)) - 1)]
                self.stdout.write(
                    f"| {label} `{query}` | {role} | {found} | {statistics.median(times):.1f} ms | {p95:.1f} ms "
                    f"| {len(statements.captured_queries)} |"
                )
