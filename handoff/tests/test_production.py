"""The production set-up: gunicorn's configuration, persistent database connections only in the web
server, plain HTTP with DEBUG=0 only when asked for, and what `make production` needs in place
(beat's schedule, the host names). `.ci/production_check.py` starts the whole of it in CI."""

import gc
import json
import os
import runpy
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from handoff.celery import app

PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "handoff.example.com"}
READ_SETTINGS = """
import json, runpy, sys
if sys.argv[1] == "gunicorn":
    runpy.run_path("handoff/gunicorn.conf.py")
import django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "conn_max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "session_cookie_secure": s.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": s.CSRF_COOKIE_SECURE,
    "hsts": s.SECURE_HSTS_SECONDS,
}))
"""


def production_settings(*, server: str = "manage.py", **env: str) -> dict:
    """Settings as a fresh process with the production environment (plus `env`) sees them."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "CONN_MAX_AGE", "PLAIN_HTTP")}
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS, server],
        env={**clean, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "handoff.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_is_https_only_by_default():
    assert production_settings() == {
        "conn_max_age": 0,
        "ssl_redirect": True,
        "session_cookie_secure": True,
        "csrf_cookie_secure": True,
        "hsts": 31536000,
    }


def test_plain_http_lets_a_local_benchmark_log_in_with_debug_off():
    """PLAIN_HTTP=1: no redirect to HTTPS, cookies sent over HTTP (else the login never sticks), no HSTS."""
    plain = production_settings(PLAIN_HTTP="1")
    assert (plain["ssl_redirect"], plain["session_cookie_secure"], plain["csrf_cookie_secure"], plain["hsts"]) == (
        False,
        False,
        False,
        0,
    )


def test_only_the_web_server_keeps_database_connections():
    assert production_settings(server="gunicorn")["conn_max_age"] == 60
    assert production_settings(server="gunicorn", CONN_MAX_AGE="30")["conn_max_age"] == 30


def gunicorn_config(**env: str) -> dict[str, str]:
    """gunicorn's configuration as `gunicorn -c handoff/gunicorn.conf.py` sees it with `env`."""
    environment = {key: value for key, value in os.environ.items() if key not in ("GUNICORN_BIND", "PORT")}
    output = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "--print-config",
            "-c",
            "handoff/gunicorn.conf.py",
            "handoff.wsgi",
        ],
        env=environment | env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {key.strip(): value.strip() for key, value in (line.split(" = ", 1) for line in output.splitlines())}


def test_gunicorn_is_sized_for_two_cores():
    """Threads, because requests wait on PostgreSQL; one process per core by default."""
    config = gunicorn_config(WEB_CONCURRENCY="2")
    assert config["worker_class"] == "gthread"
    assert (config["workers"], config["threads"], config["timeout"]) == ("2", "4", "30")


def test_gunicorn_workers_freeze_what_they_loaded():
    """A booted worker's objects are left out of the garbage collector's full collections."""
    hooks = runpy.run_path(str(settings.BASE_DIR / "handoff" / "gunicorn.conf.py"))
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_under_honcho_gunicorn_listens_where_the_readme_says():
    """honcho gives every process PORT=5000; gunicorn ignores it and listens on GUNICORN_BIND, by default
    127.0.0.1:8000 as the configuration table says."""
    assert gunicorn_config(PORT="5000")["bind"] == "['127.0.0.1:8000']"
    assert gunicorn_config(PORT="5000", GUNICORN_BIND="127.0.0.1:8123")["bind"] == "['127.0.0.1:8123']"
    assert "| `GUNICORN_BIND` | `127.0.0.1:8000` |" in (settings.BASE_DIR / "README.md").read_text()


def test_beat_keeps_its_schedule_in_the_checkout_by_default():
    """Not under /var/lib, which a fresh machine lacks and only root may create: var/ is in every clone,
    and production's beat reads the path from the settings (no --schedule of its own)."""
    assert Path(app.conf.beat_schedule_filename) == settings.BASE_DIR / "var" / "celerybeat-schedule"
    assert (
        "var/.gitignore"
        in subprocess.run(
            ["git", "ls-files", "var"], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    beat = next(line for line in (settings.BASE_DIR / "Procfile.production").read_text().splitlines() if "beat" in line)
    assert "--schedule" not in beat


@pytest.mark.django_db
class TestPreflightInProduction:
    """`manage.py preflight`, which `make production` runs first, with DEBUG off."""

    @pytest.fixture(autouse=True)
    def production(self, settings):
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = ["handoff.example.com"]

    def test_it_creates_the_directory_of_beats_schedule(self, settings, tmp_path):
        settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "var" / "lib" / "handoff" / "celerybeat-schedule")
        call_command("preflight", stdout=StringIO())
        assert (tmp_path / "var" / "lib" / "handoff").is_dir()

    def test_it_stops_with_a_message_when_beat_could_not_write_its_schedule(self, settings, tmp_path):
        (tmp_path / "a-file").write_text("")
        settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "a-file" / "celerybeat-schedule")
        with pytest.raises(CommandError, match="Set BEAT_SCHEDULE_FILE"):
            call_command("preflight", stdout=StringIO())

    def test_it_stops_with_a_message_without_a_host_name(self, settings):
        settings.ALLOWED_HOSTS = []
        with pytest.raises(CommandError, match="Set ALLOWED_HOSTS"):
            call_command("preflight", stdout=StringIO())
