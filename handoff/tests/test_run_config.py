"""How `make run` serves the app: where the web process listens, and how it holds database connections."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def procfile_command(name: str) -> str:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{name}:"))


def shell(command: str, **env: str) -> str:
    """Run `command` the way honcho does (through the shell) with `env` on top of ours, minus WEB_BIND."""
    environment = {key: value for key, value in os.environ.items() if key != "WEB_BIND"} | env
    return subprocess.run(
        ["/bin/sh", "-c", command], env=environment, capture_output=True, text=True, check=True
    ).stdout


def test_make_run_serves_on_localhost_port_8000_even_though_honcho_sets_port_5000():
    """honcho gives each process PORT=5000; the web process ignores it and listens where the README
    says, on 127.0.0.1 (the debug page must not reach the network), unless WEB_BIND says otherwise."""
    web = procfile_command("web")
    assert web.startswith("python manage.py runserver ")
    address = web.removeprefix("python manage.py runserver ")

    assert shell(f"echo {address}", PORT="5000").strip() == "127.0.0.1:8000"
    assert shell(f"echo {address}", PORT="5000", WEB_BIND="0.0.0.0:8009").strip() == "0.0.0.0:8009"
    assert "`make run` serves the app at <http://127.0.0.1:8000>" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(("env", "expected"), [({}, "0"), ({"CONN_MAX_AGE": "60"}, "60")])
def test_database_connections_are_not_kept_unless_asked_for(env, expected):
    """The development server opens a thread per request: persistent connections would pile up idle,
    so they are off by default; a WSGI server that reuses its threads turns them on with CONN_MAX_AGE."""
    environment = {key: value for key, value in os.environ.items() if key != "CONN_MAX_AGE"} | env
    code = "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environment | {"DJANGO_SETTINGS_MODULE": "handoff.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == expected
