"""Pages that sit between the departments, one module per concern."""

from .core import NoRoleView, healthz, home, livez
from .dashboard import DashboardLeadsView, DashboardView, dashboard_export, dashboard_live

__all__ = [
    "DashboardLeadsView",
    "DashboardView",
    "NoRoleView",
    "dashboard_export",
    "dashboard_live",
    "healthz",
    "home",
    "livez",
]
