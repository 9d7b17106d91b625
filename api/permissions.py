"""Who may call an endpoint: the pages' roles (people.roles), declared on each view."""

from rest_framework.permissions import BasePermission

from people.roles import check_role


class HasRole(BasePermission):
    """Signed-in (or token) users holding one of the view's roles for this action.

    A view names its roles in `allowed_roles`, or per action in `action_roles` ({"create": …});
    anonymous callers get 401, callers without the role 403 with the pages' message."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        roles = getattr(view, "action_roles", {}).get(getattr(view, "action", None), None)
        check_role(request, roles if roles is not None else view.allowed_roles)
        return True
