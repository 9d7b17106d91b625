"""The production set-up: gunicorn's configuration, persistent database connections only in the web
server, and plain HTTP with DEBUG=0 only when asked for."""

import json
import os
import subprocess
import sys

from django.conf import settings

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


def test_gunicorn_is_sized_for_two_cores():
    """Threads, because requests wait on PostgreSQL; one process per core by default."""
    output = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "--print-config",
            "-c",
            "handoff/gunicorn.conf.py",
            "handoff.wsgi",
        ],
        env={**os.environ, "WEB_CONCURRENCY": "2", "PORT": "8123"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    config = {key.strip(): value.strip() for key, value in (line.split(" = ", 1) for line in output.splitlines())}
    assert config["worker_class"] == "gthread"
    assert (config["workers"], config["threads"], config["timeout"]) == ("2", "4", "30")
    assert config["bind"] == "['127.0.0.1:8123']"
