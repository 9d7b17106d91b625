"""gunicorn, Handoff's production web server: `gunicorn -c handoff/gunicorn.conf.py handoff.wsgi`.

Sized for this project's machine, 2 cores that also run the Celery workers, beat, PostgreSQL and
Redis: one worker process per core, each with a few threads, because a request spends most of its
time waiting for PostgreSQL. 2 processes x 4 threads serve 8 requests at once and hold at most
8 database connections, kept open between requests (CONN_MAX_AGE), which only pays off here, where
the same threads serve request after request. Every number can be changed from the environment.
"""

import gc
import multiprocessing
import os

# Persistent connections for the web server only; Django's default here is 0 (see settings).
os.environ.setdefault("CONN_MAX_AGE", "60")

# Where the README says, also under honcho, which gives every process PORT=5000: PORT is ignored.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A CSV upload of 20 MB is read and checked within a request (about a second); nothing takes 30.
timeout = 30
graceful_timeout = 30
# A kept-alive connection stays with the worker that accepted it: 8 clients on kept-alive connections
# once all landed on one worker, the other idle (issue 25). Behind the TLS proxy each request comes on
# a connection of its own (nginx's default towards an upstream), which the two workers share out; these
# 5 s only serve clients that talk to gunicorn directly.
keepalive = 5
# Recycle workers now and then, at different times, so a slow leak never grows. Not every 2,000
# requests: at the intake's 200 posts a second that restarted each worker every 10 s, and each restart
# costs a Django boot (0.65 s of CPU, then the first requests' warm-up), four new PostgreSQL connections,
# and the other worker serving alone meanwhile, its kept-alive connections gathered on one worker
# (issue 25: at 32 clients, runs of 3,000 posts with restarts had a p99 up to 5.9 s, 1.0-1.5 s without).
# 20,000 requests is a restart every few minutes at full load.
max_requests = 20000
max_requests_jitter = 2000
# The reverse proxy that terminates TLS sets X-Forwarded-Proto; trust it from these addresses only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"


def post_worker_init(worker):
    """Move everything the worker loaded (Django, the project, their modules) out of the garbage
    collector's sight: a full collection otherwise walks those ~150,000 objects each time, ~90 ms that
    fell on one dashboard request in twelve at a million leads (issue 25; with them frozen it walks the
    request's own objects, ~8 ms). Frozen objects are still freed by reference counting."""
    gc.freeze()
