import redis
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from common.outbox import outbox_backlog
from enforcement.health import sweep_status
from people.roles import Role, user_roles


def home(request):
    """Send each user to where their day starts."""
    if not request.user.is_authenticated:
        return redirect("login")
    roles = user_roles(request.user)
    if Role.MANAGERS in roles:
        return redirect("dashboard")
    if Role.SALES in roles:
        return redirect("leads:mine")
    if Role.MARKETING in roles:
        return redirect("campaigns:list")
    return redirect("no_role")


class NoRoleView(LoginRequiredMixin, TemplateView):
    """A signed-in user who belongs to no department yet."""

    template_name = "no_role.html"


def _database_check() -> str:
    """'ok' when PostgreSQL answers a trivial query, else the kind of error."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return f"error: {exc.__class__.__name__}"
    return "ok"


@never_cache
def livez(request):
    """Liveness for a load balancer or orchestrator: 200 while this web process serves requests and
    reaches its database, 503 otherwise. Deliberately blind to Redis and the workers, so a stale sweep
    never gets healthy web servers restarted; /healthz is the readiness and monitoring check."""
    database = _database_check()
    return JsonResponse(
        {"status": "ok" if database == "ok" else "unhealthy", "database": database},
        status=200 if database == "ok" else 503,
    )


@never_cache
def healthz(request):
    """Health for monitoring: 200 when PostgreSQL and Redis answer and the SLA sweep ran recently, 503 otherwise."""
    checks = {"database": _database_check()}
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        checks["broker"] = "ok"
    except redis.RedisError as exc:
        checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    sweep = sweep_status(now=timezone.now()) if checks["database"] == "ok" else None
    outbox = outbox_backlog() if checks["database"] == "ok" else None
    # A dead worker records no breaches, which looks exactly like a perfect SLA: whoever watches this
    # endpoint must hear about it, so a stale sweep fails the check too, as "degraded".
    status = "unhealthy" if not healthy else "degraded" if sweep.stale else "ok"
    return JsonResponse(
        {"status": status, **checks, "sweep": sweep.as_json() if sweep else None, "outbox": outbox},
        status=200 if status == "ok" else 503,
    )
