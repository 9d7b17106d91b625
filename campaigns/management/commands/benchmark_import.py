"""Time a CSV lead import end to end on the real database: `manage.py benchmark_import --rows 50000`.

Generates a trade-fair list the way they arrive (quoted companies with commas, umlauts, thousands
separators, blank lines, an unknown column, addresses repeated in the file and already known as leads,
a few bad rows), then runs what a user's upload and the Celery task run: `import_create` (parse,
validate, store) and `import_run` (parse again, capture in one transaction). Everything happens in a
throwaway campaign inside a transaction that is rolled back at the end, unless --keep.
"""

import datetime
import io
import random
import secrets
import time
import unicodedata
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaigns.capture import LeadData, leads_capture_bulk
from campaigns.imports import import_create, import_run
from campaigns.models import Campaign, ImportJob
from leads.models import Lead

FIRST = ["Anna", "Jörg", "Léa", "Mehmet", "Sofia", "Lukas", "Zoë", "Henrik", "Aisha", "Mateo", "Grete", "Ivan"]
LAST = ["Müller", "Schmidt", "O'Brien", "García", "Nowak", "Öztürk", "Dubois", "Jansen", "Rossi", "Lindqvist"]
COMPANIES = ["Acme, Inc.", "Müller & Söhne GmbH", "Nordwind AG", 'The "Best" Widgets Ltd', "Solis SA", "Kern KG"]
TITLES = ["Head of Marketing", "CTO", "Procurement Manager", "Marketing Director", "Engineer", "CEO", ""]
SIZES = ["12", "250", "1.200", "5,000", "80", "", "40"]
HEADER = ["Full Name", "E-Mail", "Company", "Job Title", "Telephone", "Employees", "Notes"]
# One in a hundred rows is bad, in the ways real lists are.
BAD_ROWS = [
    lambda row: {**row, "E-Mail": ""},
    lambda row: {**row, "E-Mail": row["E-Mail"].replace("@", " at ")},
    lambda row: {**row, "Employees": "approx. 50"},
    lambda row: {**row, "Full Name": "x" * 250},
]


def generate(rows: int, *, tag: str, rng: random.Random, known: list[str]) -> bytes:
    """A UTF-8 CSV of `rows` leads: 5 % repeat an earlier address of the file (in another spelling),
    `known` addresses appear once each, 1 % are bad, and a blank line every 500 rows."""
    out = io.StringIO()
    out.write(",".join(HEADER) + "\r\n")
    emails: list[str] = []
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if i < len(known):
            email = known[i].upper()
        elif emails and rng.random() < 0.05:
            email = f"  {rng.choice(emails).upper()} "
        else:
            email = _ascii(f"{first}.{last}.{i}@{tag}.example".lower())
            emails.append(email)
        row = {
            "Full Name": f"{first} {last}",
            "E-Mail": email,
            "Company": rng.choice(COMPANIES),
            "Job Title": rng.choice(TITLES),
            "Telephone": f"+49 30 {rng.randrange(10**6, 10**7)}",
            "Employees": rng.choice(SIZES),
            "Notes": "Met at booth B12;\nwants a demo" if i % 7 == 0 else "",
        }
        if i % 100 == 99:
            row = rng.choice(BAD_ROWS)(row)
        out.write(",".join(_quoted(row[name]) for name in HEADER) + "\r\n")
        if i % 500 == 499:
            out.write("\r\n")
    return out.getvalue().encode()


def _ascii(value: str) -> str:
    """Addresses are ASCII (Django's EmailValidator, like most mail systems, wants that): Jörg → jorg."""
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().replace("'", "")


def _quoted(value: str) -> str:
    if any(char in value for char in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


class Command(BaseCommand):
    help = "Time parse, validation and import of a generated CSV of leads (rolled back unless --keep)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=50_000)
        parser.add_argument("--known", type=int, default=1_000, help="Rows whose address is already a lead.")
        parser.add_argument("--seed", type=int, default=3)
        parser.add_argument("--keep", action="store_true", help="Commit the campaign and its leads.")

    def handle(self, *args, rows: int, known: int, seed: int, keep: bool, **options):
        if rows < 1 or not 0 <= known <= rows:
            raise CommandError("--rows must be at least 1 and --known between 0 and --rows.")
        tag = f"bench-{secrets.token_hex(4)}"
        rng = random.Random(seed)  # noqa: S311 — test data, reproducible on purpose
        known_emails = [f"known.{i}@{tag}.example" for i in range(known)]
        self.timings: list[tuple[str, float]] = []

        with self.phase("generate the CSV"):
            content = generate(rows, tag=tag, rng=rng, known=known_emails)
        with transaction.atomic():
            user, _ = get_user_model().objects.get_or_create(username="import-benchmark")
            campaign = Campaign.objects.create(
                name=f"Import benchmark {tag}",
                channel=Campaign.Channel.EVENT,
                owner=user,
                start_date=datetime.date.today(),
            )
            with self.phase(f"set up {known:,} known leads"):
                leads_capture_bulk(
                    campaign=campaign, rows=[LeadData("Known Lead", email) for email in known_emails], actor=user
                )
            with self.phase("upload: parse, validate, store (web request)"):
                job = import_create(campaign=campaign, filename=f"{tag}.csv", content=content, actor=user)
            # Confirmed without the broker: the task's work runs here, in this process.
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, confirmed_by=user)
            with self.phase("import: parse again, capture in one transaction (Celery task)"):
                import_run(job_id=job.pk)
            job.refresh_from_db()
            leads = Lead.objects.filter(campaign=campaign).count()
            if not keep:
                transaction.set_rollback(True)

        if job.status != ImportJob.Status.DONE:
            raise CommandError(f"The import did not finish: {job.status} {job.failure}")
        self.stdout.write(
            f"{rows:,} rows, {len(content) / 2**20:.1f} MB: {job.valid_rows:,} valid, {job.bad_rows:,} bad; "
            f"{job.created_count:,} new leads ({leads:,} in the campaign), {job.duplicate_count:,} captured again."
        )
        for name, seconds in self.timings:
            self.stdout.write(f"  {seconds:7.2f} s  {name}")
        user_facing = sum(seconds for name, seconds in self.timings if name.startswith(("upload", "import")))
        verdict = "within" if user_facing < 30 else "OVER"
        self.stdout.write(f"  {user_facing:7.2f} s  upload + import ({verdict} the 30 s budget)")
        self.stdout.write("Kept." if keep else "Rolled back: nothing was kept.")

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        yield
        self.timings.append((name, time.perf_counter() - started))
