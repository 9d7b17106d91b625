"""Check that PostgreSQL and Redis answer, and create the database if it is missing; with DEBUG off,
check that the site has a host name and create the directory of beat's schedule.

Run before migrate by `make run`, `make test` and `make production`, so a missing service or setting
stops start-up with a message that says which one and how to fix it, instead of a stack trace (or a
beat that dies 15 seconds after the rest has started).
"""

import errno
import os
from pathlib import Path

import psycopg2
import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg2 import sql

POSTGRES_FIX = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
REDIS_FIX = 'start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'


class Command(BaseCommand):
    help = (
        "Check PostgreSQL and Redis, and create the database named in DATABASE_URL if missing; "
        "in production, check ALLOWED_HOSTS and create the directory of beat's schedule."
    )

    def handle(self, *args, **options):
        self.check_postgres()
        self.check_redis()
        if not settings.DEBUG:
            self.check_allowed_hosts()
            self.check_beat_schedule()

    def check_postgres(self):
        db = settings.DATABASES["default"]
        where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
        params = {
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "connect_timeout": 5,
        }
        try:
            conn = psycopg2.connect(dbname="postgres", **params)
        except psycopg2.OperationalError as exc:
            raise CommandError(
                f"PostgreSQL is not reachable at {where} ({str(exc).strip()}).\nCheck DATABASE_URL, or {POSTGRES_FIX}"
            ) from exc
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
                self.stdout.write(f"Created database {db['NAME']}.")
        conn.close()
        self.stdout.write(f"PostgreSQL OK at {where}, database {db['NAME']}.")

    def check_redis(self):
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            raise CommandError(
                f"Redis is not reachable at {settings.REDIS_URL} ({exc}).\nCheck REDIS_URL, or {REDIS_FIX}"
            ) from exc
        self.stdout.write(f"Redis OK at {settings.REDIS_URL}.")

    def check_allowed_hosts(self):
        if not settings.ALLOWED_HOSTS:
            raise CommandError(
                "ALLOWED_HOSTS is empty, so every request would be refused (400).\n"
                "Set ALLOWED_HOSTS to the site's host names, comma-separated (e.g. handoff.example.com)."
            )

    def check_beat_schedule(self):
        directory = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if not os.access(directory, os.W_OK):
                raise PermissionError(errno.EACCES, "not writable")
        except OSError as exc:
            raise CommandError(
                f"Beat cannot keep its schedule in {directory} ({exc.strerror}).\n"
                "Set BEAT_SCHEDULE_FILE to a file in a directory this user may write, or create that one."
            ) from exc
        self.stdout.write(f"Beat's schedule in {directory}.")
