"""The three roles and the one place that checks them.

A role is a Django group. Views declare the roles they admit with `RoleRequiredMixin`
(class-based) or `role_required` (function views); anonymous users are sent to the login page,
signed-in users without the role get the 403 page.
"""

from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models


class Role(models.TextChoices):
    MARKETING = "Marketing"
    SALES = "Sales"
    MANAGERS = "Managers"


# Who works on which side of the handoff; managers see both.
MARKETING_SIDE = (Role.MARKETING, Role.MANAGERS)
SALES_SIDE = (Role.SALES, Role.MANAGERS)
ANY_ROLE = (Role.MARKETING, Role.SALES, Role.MANAGERS)


def user_roles(user) -> frozenset[str]:
    """The roles of `user`, read once per request object and cached on it."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_handoff_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(Role.values)
        else:
            cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._handoff_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def check_role(request, roles) -> None:
    """Raise PermissionDenied unless the signed-in user has one of `roles`."""
    if not has_role(request.user, *roles):
        raise PermissionDenied("This page belongs to another department: your role does not give access to it.")


class RoleRequiredMixin(AccessMixin):
    """Admit only signed-in users who have one of `allowed_roles`."""

    allowed_roles: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        check_role(request, self.allowed_roles)
        return super().dispatch(request, *args, **kwargs)


def role_required(*roles: str):
    """Function-view twin of RoleRequiredMixin."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            check_role(request, roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def sales_reps():
    """Active users in the Sales role, by name."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=Role.SALES, is_active=True).order_by("first_name", "username")


def roles_context(request) -> dict:
    """Template context: which navigation each user sees."""
    roles = user_roles(request.user)
    return {
        "is_marketing": Role.MARKETING in roles,
        "is_sales": Role.SALES in roles,
        "is_manager": Role.MANAGERS in roles,
    }
