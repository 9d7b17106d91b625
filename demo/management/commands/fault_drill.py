"""The fault drill: Redis stopped for 60 s, then PostgreSQL for 30 s, under intake and claim load.

Run it on a throwaway, migrated database of a PostgreSQL cluster of your own and a redis-server of
your own (the drill stops and starts both: never point it at shared ones):

    pg_createcluster 15 drill -p 5441 -- --auth=trust && pg_ctlcluster 15 drill start
    createdb -h 127.0.0.1 -p 5441 -U postgres handoff_fault
    redis-server --port 6391 --save "" --appendonly no --daemonize yes
    export DATABASE_URL=postgres://postgres@127.0.0.1:5441/handoff_fault REDIS_URL=redis://127.0.0.1:6391/0
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py fault_drill --pg-cluster "15 drill" --redis-port 6391 --port 8501

It fills `--leads` leads waiting in the queue, starts gunicorn (production settings over plain HTTP),
the general, SLA and escalation workers and beat, all on this DATABASE_URL and REDIS_URL, emails to
files; then `--clients` intake clients post new leads (each with an Idempotency-Key, retried with the
same key after a 503 or a refused connection, as the README asks of callers) and as many reps sign in
through the login form and claim leads from the queue, while the drill stops Redis for
`--redis-down` seconds, lets it run again, then stops PostgreSQL for `--postgres-down` seconds. Then
it waits until every email is sent and the outbox is empty (or `--settle` seconds), and reports the
answers users saw by status, leads lost (a post answered 201 whose lead is not there) or doubled,
claims lost or doubled, outbox messages unpublished, emails unsent or sent twice. It fails on any
answer 500 and on anything lost or doubled. 503 is allowed while PostgreSQL is down.
"""

import http.client
import http.cookiejar
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from common.models import OutboxMessage
from demo.fills import claim_deadlines_fill, refuse_real_data
from leads.models import Lead, LeadEvent, RepProfile
from notifications.models import Notification
from people.roles import Role

CAMPAIGN = "Fault drill"
ROOT = Path(settings.BASE_DIR)
PASSWORD = "fault-drill-" + uuid.uuid4().hex[:12]
RUN = uuid.uuid4().hex[:6]  # in the intake keys and addresses: a second run on the database is told apart


class Load:
    """What the users saw: answers by kind and status, and what they were told was saved."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers: Counter = Counter()
        self.kept: dict[str, str] = {}  # Idempotency-Key → email of a post answered 201 or 200
        self.claimed: list[tuple[int, str]] = []  # (lead id, rep) answered as claimed
        self.stopping = threading.Event()

    def saw(self, kind: str, status: int | str) -> None:
        with self.lock:
            self.answers[(kind, status)] += 1


class Command(BaseCommand):
    help = "Fault drill: Redis and then PostgreSQL stopped under intake and claim load (your own servers)."

    def add_arguments(self, parser):
        parser.add_argument("--pg-cluster", required=True, help='your own cluster for pg_ctlcluster, e.g. "15 drill"')
        parser.add_argument("--redis-port", type=int, required=True, help="your own redis-server's port")
        parser.add_argument("--port", type=int, default=8501, help="gunicorn's port")
        parser.add_argument("--leads", type=int, default=400)
        parser.add_argument("--clients", type=int, default=2, help="intake clients, and as many reps")
        parser.add_argument("--warm", type=float, default=20.0, help="seconds of load before and between faults")
        parser.add_argument("--redis-down", type=float, default=60.0)
        parser.add_argument("--postgres-down", type=float, default=30.0)
        parser.add_argument("--settle", type=float, default=480.0, help="seconds to wait for emails and outbox")

    def handle(self, **options):
        self.options = options
        self._refuse()
        work = self.work = Path(tempfile.mkdtemp(prefix="fault-drill-"))
        (work / "mail").mkdir()
        self.stdout.write(f"Logs and emails in {work}")
        campaign, reps = self._fill()
        token = campaign.rotate_intake_token()
        intake = reverse("campaigns:intake", args=[campaign.intake_key])
        subprocess.run(  # noqa: S603 - our own manage.py; gunicorn serves the static files (WhiteNoise)
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, check=True
        )
        processes = self._start(work)
        self.restarts: Counter = Counter()
        supervisor = threading.Thread(target=self._supervise, args=(processes, work), daemon=True)
        self.supervising = True
        load = Load()
        try:
            self._wait_for_server()
            supervisor.start()
            threads = [
                threading.Thread(target=self._intake, args=(load, intake, token, n), daemon=True)
                for n in range(options["clients"])
            ] + [threading.Thread(target=self._claims, args=(load, rep), daemon=True) for rep in reps]
            threads.append(threading.Thread(target=self._assigns, args=(load, "fault-manager"), daemon=True))
            for thread in threads:
                thread.start()
            self._faults()
            load.stopping.set()
            for thread in threads:
                thread.join(timeout=60)
            self._settle()
        finally:
            self.supervising = False
            if supervisor.is_alive():
                supervisor.join(timeout=5)
            for process in processes:
                _stop(process)
        self._report(load)

    def _supervise(self, processes: list[subprocess.Popen], work: Path) -> None:
        """Start again a process that stopped, as systemd's Restart=always would (a Celery worker can
        die of a lost broker connection: kombu's "Unrecoverable error" while acking), and count it."""
        while self.supervising:
            for index, process in enumerate(processes):
                if process.poll() is not None and self.supervising:
                    name = list(self.commands)[index]
                    self.restarts[name] += 1
                    self.stdout.write(f"{time.strftime('%H:%M:%S')} {name} stopped (rc={process.returncode}); again")
                    processes[index] = self._popen(name, work)
            time.sleep(1)

    # --- set-up --------------------------------------------------------------------------------
    def _refuse(self) -> None:
        url = f"postgres://{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}"
        redis_url = urllib.parse.urlsplit(settings.CELERY_BROKER_URL)
        if str(redis_url.port) != str(self.options["redis_port"]):
            raise CommandError(f"REDIS_URL must point at your own redis-server on port {self.options['redis_port']}.")
        if str(connection.settings_dict["PORT"]) in ("", "5432"):
            raise CommandError(f"DATABASE_URL ({url}) must point at your own cluster, not the shared one on 5432.")
        if refusal := refuse_real_data(CAMPAIGN):
            raise CommandError(refusal)

    def _fill(self) -> tuple[Campaign, list]:
        users = get_user_model()
        sales = Group.objects.get_or_create(name=Role.SALES)[0]
        managers = Group.objects.get_or_create(name=Role.MANAGERS)[0]
        manager = users.objects.get_or_create(username="fault-manager", defaults={"email": "manager@example.com"})[0]
        manager.set_password(PASSWORD)
        manager.save()
        manager.groups.add(managers)
        reps = []
        for n in range(self.options["clients"]):
            rep = users.objects.get_or_create(username=f"fault-rep-{n}", defaults={"email": f"rep{n}@example.com"})[0]
            rep.set_password(PASSWORD)
            rep.save()
            rep.groups.add(sales)
            # Room for every lead of the drill: a claim or an assignment refused for capacity tests nothing.
            RepProfile.objects.update_or_create(user=rep, defaults={"capacity": 10_000})
            reps.append(rep.username)
        claim_deadlines_fill(
            campaign_name=CAMPAIGN, count=self.options["leads"], due=timezone.now() + timedelta(hours=2)
        )
        return Campaign.objects.get(name=CAMPAIGN), reps

    def _start(self, work: Path) -> list[subprocess.Popen]:
        env = {
            **os.environ,
            "DEBUG": "0",
            "PLAIN_HTTP": "1",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "fault-drill-" + uuid.uuid4().hex),
            "ALLOWED_HOSTS": "127.0.0.1",
            "GUNICORN_BIND": f"127.0.0.1:{self.options['port']}",
            "INTAKE_RATE_PER_IP": "1000000",
            "INTAKE_RATE_PER_CAMPAIGN": "1000000",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(work / "mail"),
        }
        bin_dir = Path(sys.executable).parent
        quiet = "--loglevel=WARNING"
        commands = {
            "web": f"{bin_dir}/gunicorn -c handoff/gunicorn.conf.py handoff.wsgi",
            "worker": f"{bin_dir}/celery -A handoff worker -Q celery --concurrency=2 -n fault@%h {quiet}",
            "sla": f"{bin_dir}/celery -A handoff worker -Q {settings.SLA_QUEUE} --concurrency=2 -n sla@%h {quiet}",
            "escalations": f"{bin_dir}/celery -A handoff worker -Q {settings.ESCALATION_QUEUE} --concurrency=2 "
            f"-n escalations@%h {quiet}",
            "beat": f"{bin_dir}/celery -A handoff beat {quiet} --schedule={work / 'beat'}",
        }
        self.commands, self.env = commands, env
        return [self._popen(name, work) for name in commands]

    def _popen(self, name: str, work: Path) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - our own commands
            shlex.split(self.commands[name]),
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=(work / f"{name}.log").open("a"),
            stderr=subprocess.STDOUT,
        )

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.options['port']}{path}"

    def _wait_for_server(self) -> None:
        give_up = time.monotonic() + 120
        while time.monotonic() < give_up:
            try:
                with urllib.request.urlopen(self._url("/livez"), timeout=5) as answer:  # noqa: S310 - ours
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(1)
        raise CommandError("gunicorn did not answer /livez within 120 s")

    # --- the faults ----------------------------------------------------------------------------
    def _faults(self) -> None:
        cluster = self.options["pg_cluster"].split()
        port = str(self.options["redis_port"])
        self._phase("load, all up", self.options["warm"])
        _run("redis-cli", "-p", port, "shutdown", "nosave")
        self._phase("Redis stopped", self.options["redis_down"])
        _run("redis-server", "--port", port, "--save", "", "--appendonly", "no", "--daemonize", "yes")
        self._phase("Redis back", self.options["warm"])
        _run("pg_ctlcluster", *cluster, "stop", "-m", "fast")
        self._phase("PostgreSQL stopped", self.options["postgres_down"])
        _run("pg_ctlcluster", *cluster, "start")
        connection.close()
        self._phase("PostgreSQL back", self.options["warm"])

    def _phase(self, name: str, seconds: float) -> None:
        self.stdout.write(f"{time.strftime('%H:%M:%S')} {name} for {seconds:g} s")
        time.sleep(seconds)

    # --- the users -----------------------------------------------------------------------------
    def _intake(self, load: Load, path: str, token: str, number: int) -> None:
        """Post new leads one after another; a post not answered 2xx is posted again with the same key."""
        n = 0
        while not load.stopping.is_set():
            key = f"fault-{RUN}-{number}-{n}"
            email = f"{key}@example.com"
            body = json.dumps({"name": f"Fault {number} {n}", "email": email, "company": "Fault"}).encode()
            while True:
                request = urllib.request.Request(  # noqa: S310 - ours
                    self._url(path),
                    data=body,
                    method="POST",
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": key,
                    },
                )
                status = _answer(request)
                load.saw("intake", status)
                if status in (200, 201):
                    with load.lock:
                        load.kept[key] = email
                    break
                if load.stopping.is_set() and status == 500:
                    break
                time.sleep(1)
            n += 1
            time.sleep(0.2)

    def _signed_in(self, load: Load, username: str):
        """A browser signed in through the login form (tried again until it is), or None once stopping."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        login = self._url(reverse("login"))
        while not load.stopping.is_set():
            status, page, _ = _open(opener, login)
            load.saw("login page", status)
            if status == 200 and (token := _csrf(page)):
                form = urllib.parse.urlencode(
                    {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
                )
                status, *_ = _open(opener, login, form.encode(), referer=login)
                load.saw("sign in", status)
                if status == 302:
                    return opener
            time.sleep(0.5)
        return None

    def _assigns(self, load: Load, username: str) -> None:
        """A manager assigns the newest lead of the queue to the first rep the form offers, again and
        again: each assignment notifies the rep, whose email goes through the outbox."""
        opener = self._signed_in(load, username)
        while opener and not load.stopping.is_set():
            time.sleep(1)
            status, page, _ = _open(opener, self._url(reverse("leads:queue")))
            found = re.findall(r'<a href="/leads/(\d+)/\?from=', page) if status == 200 else []
            if not found:
                continue
            assign = self._url(reverse("leads:assign", args=[found[-1]]))
            status, page, _ = _open(opener, assign)
            load.saw("assign page", status)
            rep = re.search(r'<option value="(\d+)"', page) if status == 200 else None
            if not rep or not (token := _csrf(page)):
                continue
            form = urllib.parse.urlencode({"rep": rep.group(1), "csrfmiddlewaretoken": token}).encode()
            status, *_ = _open(opener, assign, form, referer=assign)
            load.saw("assign", status)

    def _claims(self, load: Load, username: str) -> None:
        """Sign in through the form, then claim the oldest lead of the queue, again and again."""
        opener = self._signed_in(load, username)
        while opener and not load.stopping.is_set():
            status, page, _ = _open(opener, self._url(reverse("leads:queue")))
            load.saw("queue page", status)
            found = re.search(r'action="(/leads/(\d+)/claim/)"', page)
            token = _csrf(page)
            if status != 200 or not found or not token:
                time.sleep(1)
                continue
            status, _, location = _open(
                opener,
                self._url(found.group(1)),
                urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode(),
                referer=self._url(reverse("leads:queue")),
            )
            load.saw("claim", status)
            # A claim won leads to the lead's page; one lost to the other rep, back to the queue.
            if status == 302 and location.rstrip("/").endswith(f"/leads/{found.group(2)}"):
                with load.lock:
                    load.claimed.append((int(found.group(2)), username))
            time.sleep(0.3)

    # --- the end -------------------------------------------------------------------------------
    def _settle(self) -> None:
        unsent = Notification.objects.filter(delivery=Notification.Delivery.EMAIL, emailed_at__isnull=True)
        unpublished = OutboxMessage.objects.filter(published_at__isnull=True)
        give_up = time.monotonic() + self.options["settle"]
        report_at = 0.0
        while time.monotonic() < give_up and (unsent.exists() or unpublished.exists()):
            if time.monotonic() > report_at:
                self.stdout.write(
                    f"  waiting: {unsent.count()} emails unsent, {unpublished.count()} outbox unpublished"
                )
                report_at = time.monotonic() + 30
            time.sleep(2)

    def _report(self, load: Load) -> None:
        leads = Lead.objects.filter(campaign__name=CAMPAIGN, email__startswith=f"fault-{RUN}-")
        by_email = dict(leads.values("email").annotate(n=Count("pk")).values_list("email", "n"))
        lost = [key for key, email in load.kept.items() if by_email.get(email, 0) == 0]
        doubled = [email for email, n in by_email.items() if n > 1]
        claims = Counter(
            LeadEvent.objects.filter(kind=LeadEvent.Kind.CLAIMED, lead__campaign__name=CAMPAIGN).values_list(
                "lead_id", flat=True
            )
        )
        claims_lost = [lead for lead, _ in load.claimed if claims[lead] == 0]
        claims_doubled = [lead for lead, n in claims.items() if n > 1]
        to_email = Notification.objects.filter(delivery=Notification.Delivery.EMAIL)
        unsent = to_email.filter(emailed_at__isnull=True).count()
        sent = sum(
            len(re.findall(r"^Subject: ", path.read_text(errors="replace"), re.MULTILINE))
            for path in (self.work / "mail").iterdir()
        )
        emailed = to_email.filter(emailed_at__isnull=False).count()
        unpublished = OutboxMessage.objects.filter(published_at__isnull=True).count()
        answers = sorted(load.answers.items(), key=lambda item: (item[0][0], str(item[0][1])))
        errors = sum(n for (_, status), n in load.answers.items() if status == 500)
        self.stdout.write(
            "\nAnswers users saw: " + ", ".join(f"{kind} {status}: {n}" for (kind, status), n in answers) + "\n"
            f"Intake: {len(load.kept)} posts answered 201/200, {len(lost)} lost, {len(doubled)} doubled\n"
            f"Claims: {len(load.claimed)} answered as claimed, {len(claims_lost)} lost, "
            f"{len(claims_doubled)} claimed twice\n"
            f"Outbox: {OutboxMessage.objects.count()} messages, {unpublished} unpublished\n"
            f"Emails: {to_email.count()} to send, {unsent} unsent, {sent} sent for {emailed} notices "
            f"({max(sent - emailed, 0)} sent twice)\n"
            f"Assignments by the manager: "
            f"{LeadEvent.objects.filter(kind=LeadEvent.Kind.ASSIGNED, actor__username='fault-manager').count()}\n"
            f"Answers 500: {errors}\n"
            f"Processes started again after they stopped: {dict(self.restarts) or 'none'}"
        )
        if errors or lost or doubled or claims_lost or claims_doubled or unsent or unpublished or sent > emailed:
            raise CommandError("the fault drill failed (see above)")


def _run(*command: str) -> None:
    """One of the drill's own commands on the operator's own servers (redis-cli, pg_ctlcluster)."""
    subprocess.run(command, check=False, capture_output=True)  # noqa: S603 - arguments of ours


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _answer(request) -> int | str:
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - ours
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__


def _open(opener, url: str, data: bytes | None = None, referer: str | None = None) -> tuple[int | str, str, str]:
    """(status, page, where a redirect leads) of one request; a refused connection's status is its error."""
    request = urllib.request.Request(url, data=data, headers={"Referer": referer} if referer else {})  # noqa: S310
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, answer.read().decode(errors="replace"), ""
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers.get("Location", "")
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__, "", ""


def _csrf(page: str) -> str | None:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return found.group(1) if found else None


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
