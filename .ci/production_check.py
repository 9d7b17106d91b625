"""Start production the way the README's Production section says (`make production`) and check it serves.

On a database of its own (handoff_prodcheck, dropped again), Redis database 13 (it must be empty, and
is emptied after; the tests use 15, development 0) and a free port in 8300-8399, with the settings the README
asks for plus PLAIN_HTTP=1 (no TLS proxy here): waits for /livez, then /healthz (which needs beat and
the SLA worker to have swept), signs in through the real login form as a superuser it creates and
opens the page the login leads to, fetches that page's stylesheet (collectstatic, WhiteNoise), and
keeps probing /livez and /healthz for a minute while every process stays up. Then it stops
everything with one SIGTERM, as an operator's Ctrl-C would, and fails if any process it started is
still alive (it finds them by a marker in their environment, whatever their session).

Run by `.ci/run` after `make test`, or `make production-check`. Exits 0 when all held.
"""

import argparse
import contextlib
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import dj_database_url
import psycopg2
import redis
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
MARKER = "HANDOFF_PRODUCTION_CHECK"
USERNAME = "prodcheck"


def log(message: str) -> None:
    print(f"[production-check {time.strftime('%H:%M:%S')}] {message}", flush=True)


class CheckFailed(Exception):
    pass


def free_port(ports: range) -> int:
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise CheckFailed(f"no free port in {ports.start}-{ports.stop - 1}")


def drop_database(url: str) -> None:
    """Drop the check's database (its name is the check's own), closing any session left on it."""
    db = dj_database_url.parse(url)
    conn = psycopg2.connect(
        dbname="postgres", host=db["HOST"], port=db["PORT"] or None, user=db["USER"], password=db["PASSWORD"] or None
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db["NAME"])))
    conn.close()


def marked_processes(token: str) -> dict[int, str]:
    """Every process whose environment carries this run's marker: all that `make production` started."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if f"{MARKER}={token}".encode() in environ:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue  # gone meanwhile, or a kernel thread
    return found


class Site:
    """An HTTP client for the running site, with a cookie jar (the session and CSRF cookies)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str, *, data: dict | None = None, timeout: float = 10) -> tuple[int, str, str]:
        """(status, final URL, body) of a GET, or a POST of `data`, following redirects."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        url = self.base + path  # always http://127.0.0.1:<port>/…
        request = urllib.request.Request(url, data=body, headers={"Referer": url})  # noqa: S310
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.url, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            return 0, self.base + path, str(exc)


def wait_for(site: Site, path: str, *, until: float, alive) -> float:
    """Seconds it took until `path` answered 200; fails at `until` or when the processes died."""
    started = time.monotonic()
    status, body = None, ""
    while time.monotonic() < until:
        if not alive():
            raise CheckFailed(f"`make production` exited before {path} answered 200")
        status, _, body = site.get(path, timeout=5)
        if status == 200:
            return time.monotonic() - started
        time.sleep(1)
    raise CheckFailed(f"{path} did not answer 200 in time (last: {status} {body[:300]})")


def sign_in(site: Site, password: str) -> str:
    """Log in through the login form; returns the path the login leads to, checked to need the login."""
    status, _, html = site.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if status != 200 or not token:
        raise CheckFailed(f"the login page answered {status} without a CSRF token")
    status, url, html = site.get(
        "/accounts/login/", data={"username": USERNAME, "password": password, "csrfmiddlewaretoken": token[1]}
    )
    path = urllib.parse.urlsplit(url).path
    if status != 200 or path.startswith("/accounts/login") or 'action="/accounts/logout/"' not in html:
        raise CheckFailed(f"signing in led to {status} {path}, not a signed-in page")
    stylesheet = re.search(r'<link rel="stylesheet" href="(/static/[^"]+)"', html)
    if not stylesheet or site.get(stylesheet[1])[0] != 200:
        raise CheckFailed(f"the page's stylesheet is not served ({stylesheet and stylesheet[1]})")
    status, url, _ = Site(site.base).get(path)
    if urllib.parse.urlsplit(url).path != "/accounts/login/":
        raise CheckFailed(f"{path} answered {status} at {url} without a login: it should send to the login page")
    return path


def run(args, work: Path) -> None:
    token = secrets.token_hex(8)
    port = args.port or free_port(range(8300, 8400))
    base = f"http://127.0.0.1:{port}"
    password = secrets.token_urlsafe(16)
    env = {
        **{key: value for key, value in os.environ.items() if key not in ("DEBUG", "CONN_MAX_AGE", "PORT")},
        # What the README's Production section asks for, then what this check needs.
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SITE_URL": base,
        "PLAIN_HTTP": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # A directory that does not exist yet: preflight must create it.
        "BEAT_SCHEDULE_FILE": str(work / "beat" / "celerybeat-schedule"),
        MARKER: token,
    }
    broker = redis.Redis.from_url(args.redis_url)
    if broker.dbsize():
        # Someone else's queues: our workers would take their tasks, and emptying it would lose them.
        raise CheckFailed(f"{args.redis_url} is not empty: another installation uses it; pass --redis-url")
    output = (work / "production.log").open("w")
    drop_database(args.database_url)
    started = time.monotonic()
    log(f"make production on {base}, database {dj_database_url.parse(args.database_url)['NAME']}, log {output.name}")
    make = subprocess.Popen(  # noqa: S603 - the README's command, arguments of ours
        ["make", "production"],  # noqa: S607 - make from PATH, as an operator runs it
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def alive() -> bool:
        return make.poll() is None

    site = Site(base)
    try:
        took = wait_for(site, "/livez", until=started + args.start_timeout, alive=alive)
        log(f"/livez 200 after {took:.1f} s (install, preflight, migrate, collectstatic, start)")
        took = wait_for(site, "/healthz", until=time.monotonic() + 60, alive=alive)
        log(f"/healthz 200 after {took:.1f} s more (beat and the SLA worker swept)")
        subprocess.run(  # noqa: S603 - our own manage.py, arguments of ours
            [PYTHON, "manage.py", "createsuperuser", "--no-input", "--username", USERNAME, "--email", "x@localhost"],
            cwd=ROOT,
            env={**env, "DEBUG": "0", "DJANGO_SUPERUSER_PASSWORD": password},
            check=True,
            capture_output=True,
        )
        log(f"signed in through the login form and opened {sign_in(site, password)}, its stylesheet served")
        probes = 0
        until = time.monotonic() + args.seconds
        while time.monotonic() < until:
            if not alive():
                raise CheckFailed("a process stopped while running (honcho then stops them all)")
            for path in ("/livez", "/healthz"):
                status, _, body = site.get(path)
                if status != 200:
                    raise CheckFailed(f"{path} answered {status}: {body[:300]}")
                probes += 1
            time.sleep(args.interval)
        log(f"ran {args.seconds} s: {probes} probes of /livez and /healthz, all 200, no process stopped")
    finally:
        try:
            stop(make, token, output)
        finally:
            drop_database(args.database_url)
            broker.flushdb()
            log(f"database dropped, Redis database emptied; {time.monotonic() - started:.0f} s in all")


def stop(make: subprocess.Popen, token: str, output) -> None:
    """One SIGTERM to make and honcho (honcho passes it on to each process's group), then no process
    of this run may be left."""
    stopping = time.monotonic()
    if make.poll() is None:
        os.killpg(make.pid, signal.SIGTERM)
    try:
        make.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(make.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (left := marked_processes(token)) and time.monotonic() < deadline:
        time.sleep(0.5)
    output.close()
    # honcho repeats its SIGKILL every 0.1 s while a process holds on: each line once.
    stops = list(
        dict.fromkeys(
            re.findall(r"\| (\S+ stopped \(rc=-?\d+\)|sending SIGKILL to \S+)", Path(output.name).read_text())
        )
    )
    log("honcho: " + ", ".join(stops))
    if left:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        listed = "; ".join(f"{pid} {command}" for pid, command in left.items())
        raise CheckFailed(f"still running after the stop (killed now): {listed}")
    if any(line.startswith("sending SIGKILL") for line in stops):
        raise CheckFailed("a process did not stop within honcho's 5 s of SIGTERM and was killed")
    names = [line.split(":")[0] for line in (ROOT / "Procfile.production").read_text().splitlines() if line]
    if not all(any(line.startswith(f"{name}.1 stopped") for line in stops) for name in names):
        raise CheckFailed(f"honcho did not see all of {names} stop")
    log(f"stopped in {time.monotonic() - stopping:.1f} s, no process left")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long to keep probing once signed in")
    parser.add_argument("--interval", type=float, default=5, help="seconds between probes")
    parser.add_argument("--start-timeout", type=int, default=150, help="seconds `make production` may take to serve")
    parser.add_argument("--port", type=int, help="default: the first free one in 8300-8399")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/handoff_prodcheck")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="handoff-production-check-"))
    try:
        run(args, work)
    except (CheckFailed, subprocess.CalledProcessError) as exc:
        log(f"FAILED: {exc}")
        if (work / "production.log").exists():
            log(f"the processes' output, last lines ({work / 'production.log'}):")
            print("".join((work / "production.log").read_text().splitlines(keepends=True)[-60:]), file=sys.stderr)
        else:
            shutil.rmtree(work)  # it failed before starting anything
        return 1
    shutil.rmtree(work)
    log("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
