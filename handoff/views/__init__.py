"""Pages that sit between the departments, one module per concern."""

from .core import DashboardView, NoRoleView, healthz, home, livez

__all__ = ["DashboardView", "NoRoleView", "healthz", "home", "livez"]
