"""A storm drill anyone can run: `manage.py storm_drill`.

Fills a throwaway database with `--deadlines` claim deadlines (default 10,000) that all fall due at the
same moment, plus `--late` deadlines falling due during and after the storm; starts the real processes
as `make run` does (a general worker, an escalation worker, `--sla-workers` workers on the sla queue,
`--beats` beats, all
on this DATABASE_URL and REDIS_URL), optionally SIGKILLs an SLA worker in the middle of the sweep (and
starts it again, as a supervisor would), waits until every notice is emailed and every escalation step
has run, stops everything and prints: time until all were recorded, detection delay p50/p99/max from
`breached_at`, duplicates, missing, emails unsent, and whether the late deadlines were detected on time.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_storm REDIS_URL=redis://127.0.0.1:6379/9
    ./.venv/bin/python manage.py preflight && ./.venv/bin/python manage.py migrate
    ./.venv/bin/python manage.py storm_drill --kill

Refuses a database with leads of real campaigns. Empties the broker's two queues first: give it a Redis
database of its own.
"""

import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from celery import current_app as app
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from demo.fills import claim_deadlines_fill, fill_campaign, refuse_real_data
from enforcement.health import DETECTION_TARGET_INTERVALS, STALE_AFTER_INTERVALS
from enforcement.models import SweepHeartbeat
from enforcement.sweep import BREACHES_CHANNEL
from leads.models import LeadEvent
from notifications.models import Notification
from people.roles import Role
from sla.models import Deadline, Escalation, SlaPolicy

CAMPAIGN = "Storm drill"
ROOT = Path(settings.BASE_DIR)

_DELAYS = """
SELECT count(*), count(breached_at),
       extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY breached_at - due_at)),
       extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY breached_at - due_at)),
       extract(epoch FROM max(breached_at - due_at)),
       extract(epoch FROM max(breached_at) - min(due_at)),
       extract(epoch FROM max(breached_at) - min(breached_at))
FROM handoff_deadline WHERE id = ANY(%s)
"""


# Detection by visibility: when each breach could first be seen (its batch's commit, when the listener
# got the batch's announcement), against when it fell due; and the commit lag behind `breached_at`.
# Per distinct `breached_at` (a statement's), so matched to the announcements in Python.
_BY_RECORDING = """
SELECT extract(epoch FROM breached_at)::text, extract(epoch FROM breached_at)::float8,
       array_agg(extract(epoch FROM due_at)::float8)
  FROM handoff_deadline WHERE id = ANY(%s) AND breached_at IS NOT NULL GROUP BY breached_at
"""


# How many of the watched deadlines (the temporary table `_watch` fills once) are recorded.
_WATCHED_BREACHED = """
SELECT count(*) FROM drill_watched JOIN handoff_deadline AS deadline USING (id) WHERE deadline.breached_at IS NOT NULL
"""


class Visibility(threading.Thread):
    """Listens to the sweep's announcements (delivered at each batch's commit) on a connection of its
    own and notes when each `breached_at` was first seen."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: dict[str, float] = {}
        self.stopping = threading.Event()
        self.listening = threading.Event()

    def run(self) -> None:
        listener = connection.get_new_connection(connection.get_connection_params())
        listener.autocommit = True
        with listener.cursor() as cursor:
            cursor.execute(f"LISTEN {BREACHES_CHANNEL}")
        self.listening.set()
        try:
            while not self.stopping.is_set():
                if select.select([listener], [], [], 0.5)[0]:
                    listener.poll()
                    now = time.time()
                    while listener.notifies:
                        for stamp in listener.notifies.pop(0).payload.split():
                            self.seen.setdefault(stamp, now)
        finally:
            listener.close()


class Process:
    """One celery process in its own session, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict, logs: Path):
        self.name, self.args, self.env, self.log = name, args, env, logs / f"{name}.log"
        self.popen = None

    def start(self) -> None:
        celery = Path(sys.executable).with_name("celery")
        self.popen = subprocess.Popen(  # noqa: S603 - our own celery, arguments of ours
            [str(celery), "-A", "handoff", *self.args],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )

    def kill(self, sig=signal.SIGKILL, wait: float = 30) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=wait)


class Command(BaseCommand):
    help = "Storm drill: N deadlines due at once, real workers and beat, figures at the end (throwaway database)."

    def add_arguments(self, parser):
        parser.add_argument("--deadlines", type=int, default=10_000)
        parser.add_argument("--late", type=int, default=20, help="deadlines falling due during/after the storm")
        parser.add_argument("--late-spread", type=float, default=40.0, help="seconds the late ones spread over")
        parser.add_argument("--sla-workers", type=int, default=1)
        parser.add_argument("--beats", type=int, default=1, help="2 = two beats by mistake")
        parser.add_argument(
            "--kill",
            "--kill-sla-worker",
            action="store_true",
            dest="kill",
            help="SIGKILL an SLA worker mid-sweep, then restart it",
        )
        parser.add_argument("--interval", type=float, default=settings.SLA_SWEEP_INTERVAL)
        parser.add_argument("--managers", type=int, default=1)
        parser.add_argument("--lead-time", type=float, default=20.0, help="seconds from the fill to the storm")
        parser.add_argument("--settle", type=float, default=900.0, help="seconds to wait for emails and steps")

    def handle(self, **options):
        if refusal := refuse_real_data(CAMPAIGN):
            raise CommandError(refusal)
        if Deadline.objects.exists():
            raise CommandError("Run the drill on an empty database (drop and migrate it again).")
        self.options = options
        work = Path(tempfile.mkdtemp(prefix="storm-drill-"))
        (work / "mail").mkdir()
        self.stdout.write(f"Logs and emails in {work}")
        for queue in ("celery", settings.SLA_QUEUE, settings.ESCALATION_QUEUE):
            with app.connection_for_write() as broker:
                broker.default_channel.queue_purge(queue)
        self._managers(options["managers"])

        due = timezone.now() + timedelta(seconds=options["lead_time"])
        started = time.monotonic()
        storm = claim_deadlines_fill(campaign_name=CAMPAIGN, count=options["deadlines"], due=due)
        late = claim_deadlines_fill(
            campaign_name=CAMPAIGN,
            count=options["late"],
            due=due + timedelta(seconds=2),
            spread=timedelta(seconds=options["late_spread"]),
        )
        self.stdout.write(
            f"Filled {len(storm):,} deadlines due {due:%H:%M:%S} and {len(late)} due in the "
            f"{options['late_spread']:g} s after, in {time.monotonic() - started:.1f} s"
        )
        processes = self._processes(work)
        self.visibility = Visibility()
        self.visibility.start()
        self.visibility.listening.wait(timeout=30)
        self.heartbeat_age = 0.0
        try:
            for process in processes:
                process.start()
            self._watch(storm + late, processes, work, last_due=due + timedelta(seconds=options["late_spread"] + 2))
        finally:
            for process in processes:
                process.kill(signal.SIGTERM)
            self.visibility.stopping.set()
            self.visibility.join(timeout=5)
        self._report(storm, late, work)

    def _heartbeat_watch(self) -> None:
        """The oldest the sweep's heartbeat was, seen at any check since the first sweep finished."""
        last = SweepHeartbeat.objects.filter(pk=1).values_list("last_finished_at", flat=True).first()
        if last is not None:
            self.heartbeat_age = max(self.heartbeat_age, (timezone.now() - last).total_seconds())

    def _managers(self, count: int) -> None:
        from django.contrib.auth import get_user_model

        managers = Group.objects.get_or_create(name=Role.MANAGERS)[0]
        for n in range(count):
            user = get_user_model().objects.get_or_create(
                username=f"drill-manager-{n}", defaults={"email": f"drill-manager-{n}@example.com"}
            )[0]
            user.groups.add(managers)
        fill_campaign(CAMPAIGN)

    def _processes(self, work: Path) -> list[Process]:
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "storm-drill"),
            "ALLOWED_HOSTS": "localhost",
            "SLA_SWEEP_INTERVAL": str(self.options["interval"]),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(work / "mail"),
        }
        quiet = ["--loglevel=WARNING", "--without-gossip", "--without-mingle"]
        processes = [
            Process("worker", ["worker", "-Q", "celery", "--concurrency=2", "-n", "drill@%h", *quiet], env, work),
            Process(
                "escalations",
                ["worker", "-Q", settings.ESCALATION_QUEUE, "--concurrency=2", "-n", "escalations@%h", *quiet],
                env,
                work,
            ),
        ]
        processes += [
            Process(
                f"sla{n}",
                ["worker", "-Q", settings.SLA_QUEUE, "--concurrency=2", "-n", f"sla{n}@%h", *quiet],
                env,
                work,
            )
            for n in range(self.options["sla_workers"])
        ]
        processes += [
            Process(f"beat{n}", ["beat", "--loglevel=WARNING", f"--schedule={work / f'beat{n}'}"], env, work)
            for n in range(self.options["beats"])
        ]
        return processes

    def _watch(self, ids: list[int], processes: list[Process], work: Path, last_due) -> None:
        """Wait until every deadline is recorded (killing an SLA worker mid-sweep if asked), then until
        every email is sent and every escalation step has run, or --settle seconds pass."""
        # The ids go to the server once: a count of `pk__in` 100,000 ids, composed and parsed every tenth
        # of a second, kept a core busy and slowed down the storm it measured.
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE drill_watched AS SELECT unnest(%s::bigint[]) AS id", [ids])
            cursor.execute("ALTER TABLE drill_watched ADD PRIMARY KEY (id)")
        sla = next(process for process in processes if process.name.startswith("sla"))
        killed = not self.options["kill"]
        give_up = time.monotonic() + self.options["lead_time"] + self.options["late_spread"] + 300
        while time.monotonic() < give_up:
            with connection.cursor() as cursor:
                cursor.execute(_WATCHED_BREACHED)
                done = cursor.fetchone()[0]
            if not killed and done > 0:
                sla.kill()
                killed = True
                self.stdout.write(f"SIGKILLed {sla.name} with {done:,} of {len(ids):,} recorded; starting it again")
                sla.start()
            if done == len(ids) and timezone.now() > last_due:
                break
            self._heartbeat_watch()
            # The figures come from the recorded times, not from this loop; counting more often only
            # takes the cores the storm needs.
            time.sleep(0.5)
        unsent = Notification.objects.filter(delivery=Notification.Delivery.EMAIL, emailed_at__isnull=True)
        pending = Escalation.objects.filter(done_at__isnull=True)
        give_up = time.monotonic() + self.options["settle"]
        report_at = 0.0
        while time.monotonic() < give_up and (unsent.exists() or pending.exists()):
            if time.monotonic() > report_at:
                self.stdout.write(f"  waiting: {unsent.count():,} emails unsent, {pending.count():,} steps pending")
                report_at = time.monotonic() + 15
            self._heartbeat_watch()
            time.sleep(1)
        self._heartbeat_watch()

    def _report(self, storm: list[int], late: list[int], work: Path) -> None:
        ids = storm + late
        with connection.cursor() as cursor:
            cursor.execute(_DELAYS, [storm])
            total, recorded, p50, p99, worst, all_recorded_after, recording_span = cursor.fetchone()
            cursor.execute(_DELAYS, [late])
            late_total, late_recorded, late_p50, late_p99, late_worst, *_ = cursor.fetchone()
            seen_total, seen_p50, seen_p99, seen_worst, lag_p50, lag_worst = self._visible(cursor, storm)
            _, late_seen_p50, late_seen_p99, late_seen_worst, *_ = self._visible(cursor, late)
            # When the side effects were done, from when the storm fell due.
            cursor.execute(
                "SELECT extract(epoch FROM (SELECT max(done_at) FROM handoff_escalation) - min(due_at)), "
                "extract(epoch FROM (SELECT max(emailed_at) FROM handoff_notification) - min(due_at)) "
                "FROM handoff_deadline WHERE id = ANY(%s)",
                [storm],
            )
            steps_done_after, emails_done_after = cursor.fetchone()
        events = Counter(LeadEvent.objects.filter(kind=LeadEvent.Kind.BREACH).values_list("data__deadline", flat=True))
        steps = len(SlaPolicy.current().escalation_steps)
        escalations = Counter(Escalation.objects.values_list("deadline_id", flat=True))
        told = Notification.objects.filter(kind=Notification.Kind.BREACH)
        notices = Counter(told.filter(key__startswith="breach:").values_list("key", flat=True))
        # A storm folds what is past the threshold into one summary per manager and window.
        summaries = told.filter(key__startswith="storm:")
        folded = summaries.aggregate(told=Sum("count"))["told"] or 0
        managers = Group.objects.get(name=Role.MANAGERS).user_set.count()
        mails = Counter(self._sent(work / "mail"))
        to_email = Notification.objects.filter(delivery=Notification.Delivery.EMAIL)
        beat = SweepHeartbeat.objects.filter(pk=1).first()
        duplicates = (
            sum(1 for n in events.values() if n > 1)
            + sum(1 for n in escalations.values() if n > steps)
            + sum(1 for n in mails.values() if n > 1)
        )
        missing = (
            (len(ids) - recorded - late_recorded)
            + sum(1 for pk in ids if events[pk] != 1)
            + sum(1 for pk in ids if escalations[pk] != steps)
            + abs(len(ids) * managers - sum(notices.values()) - folded)
        )
        per_manager = Counter(told.values_list("user_id", flat=True))
        emails_per_manager = Counter(self._sent_to(work / "mail"))
        # The promise at the drill's own interval (10 s at the default 5 s): health.detection_target.
        target = DETECTION_TARGET_INTERVALS * self.options["interval"]
        late_on_time = late_worst is not None and late_worst <= target
        self.stdout.write(
            f"\nStorm: {total:,} deadlines due at once, {recorded:,} recorded; "
            f"all recorded {_s(all_recorded_after)} after they fell due "
            f"(first to last recording: {_s(recording_span)})\n"
            f"Detection delay (breached_at - due_at): p50 {_s(p50)}, p99 {_s(p99)}, max {_s(worst)}\n"
            f"Detection by visibility (the batch's commit - due_at): {seen_total:,} of {recorded:,} seen, "
            f"p50 {_s(seen_p50)}, p99 {_s(seen_p99)}, max {_s(seen_worst)}: all visible {_s(seen_worst)} after "
            f"they fell due; commit after breached_at p50 {_s(lag_p50)}, max {_s(lag_worst)}; "
            f"late deadlines by visibility p50 {_s(late_seen_p50)}, p99 {_s(late_seen_p99)}, "
            f"max {_s(late_seen_worst)}\n"
            f"Late deadlines (due in the {self.options['late_spread']:g} s after the storm): {late_recorded} of "
            f"{late_total} recorded, delay p50 {_s(late_p50)}, p99 {_s(late_p99)}, max {_s(late_worst)}: "
            f"{'on time' if late_on_time else 'LATE'} (target {target:g} s)\n"
            f"Duplicates: {duplicates} (breach events, escalation steps, emails)\n"
            f"Missing: {missing} (breaches, events, escalation steps, notices)\n"
            f"Emails: {to_email.count():,} to send, {sum(emails_per_manager.values()):,} sent "
            f"({sum(mails.values()):,} about one lead, the rest summaries), "
            f"{to_email.filter(emailed_at__isnull=True).count():,} unsent\n"
            f"Notices: {sum(notices.values()):,} single and {summaries.count()} summaries telling of {folded:,} "
            f"more; per manager at most {max(per_manager.values(), default=0)} notices and "
            f"{max(emails_per_manager.values(), default=0)} emails\n"
            f"Escalation steps: {Escalation.objects.filter(done_at__isnull=False).count():,} done, the last "
            f"{_s(steps_done_after)} after the storm fell due; "
            f"{Escalation.objects.filter(done_at__isnull=True).count():,} pending\n"
            f"Emails done: the last sent {_s(emails_done_after)} after the storm fell due\n"
            f"Sweep heartbeat: at most {_s(self.heartbeat_age)} old (stale past "
            f"{STALE_AFTER_INTERVALS * self.options['interval']:g} s, three intervals)\n"
            f"Sweeps run: {beat.runs if beat else 0}"
        )

    def _visible(self, cursor, ids: list[int]) -> tuple:
        """(breaches seen, visibility delay after due p50, p99, max, commit lag p50, max) of these deadlines."""
        cursor.execute(_BY_RECORDING, [ids])
        after_due, lags = [], []
        for stamp, recorded, dues in cursor.fetchall():
            if (seen := self.visibility.seen.get(stamp)) is not None:
                after_due += [seen - due for due in dues]
                lags += [seen - recorded] * len(dues)
        if not after_due:
            return 0, None, None, None, None, None
        after_due.sort()
        lags.sort()
        return (
            len(after_due),
            _quantile(after_due, 0.5),
            _quantile(after_due, 0.99),
            after_due[-1],
            _quantile(lags, 0.5),
            lags[-1],
        )

    @staticmethod
    def _sent_to(folder: Path):
        """The recipient of every email the file backend wrote, summaries included."""
        for path in folder.iterdir():
            yield from re.findall(r"^To: (.+)$", path.read_text(errors="replace"), re.MULTILINE)

    @staticmethod
    def _sent(folder: Path):
        """(recipient, lead) of every email the file backend wrote: one file per connection."""
        for path in folder.iterdir():
            text = path.read_text(errors="replace")
            for message in text.split("\n" + "-" * 79 + "\n"):
                to = re.search(r"^To: (.+)$", message, re.MULTILINE)
                lead = re.search(r"/leads/(\d+)/", message)
                if to and lead:
                    yield to.group(1), int(lead.group(1))


def _quantile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values, interpolated as PostgreSQL's percentile_cont."""
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _s(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.1f} s"
