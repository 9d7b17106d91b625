"""Site-wide pages: where each user starts, signing in and out, the health checks."""

from handoff.views.core import NoRoleView, healthz, home, livez
from handoff.views.site import FaviconView, LogoutView

__all__ = ["FaviconView", "LogoutView", "NoRoleView", "healthz", "home", "livez"]
