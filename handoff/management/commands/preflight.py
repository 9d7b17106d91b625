"""Check that PostgreSQL and Redis answer, and create the database if it is missing.

Run before migrate by `make run` and `make test`, so a missing service stops start-up with a message
that says which one and how to start it, instead of a stack trace.
"""

import psycopg2
import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg2 import sql

POSTGRES_FIX = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
REDIS_FIX = 'start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'


class Command(BaseCommand):
    help = "Check PostgreSQL and Redis, and create the database named in DATABASE_URL if missing."

    def handle(self, *args, **options):
        self.check_postgres()
        self.check_redis()

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
