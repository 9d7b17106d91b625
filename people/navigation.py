"""The menu and the way back: links grouped by department (Marketing, Sales, SLA) so a manager's menu
fits from 768 px up, the current page marked, and lead pages linking back to the list they were
opened from."""

from dataclasses import dataclass, field

from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from people.roles import MARKETING_SIDE, SALES_SIDE, Role, user_roles


@dataclass(frozen=True)
class Link:
    label: str
    view_name: str
    roles: tuple[str, ...]
    # Other pages under this one (a campaign under Campaigns): the link is marked current there too.
    under: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    label: str
    links: tuple[Link, ...]


# The alerts and webhooks pages (integrations/), under the managers' "Alerts and webhooks" link;
# everyone else reaches their own channel from the menu under their name.
INTEGRATION_PAGES = tuple(
    f"integrations:{page}"
    for page in (
        "channel_new",
        "channel",
        "channel_edit",
        "endpoint_new",
        "endpoint",
        "endpoint_edit",
        "delivery",
    )
)

MENU = (
    Group(
        "Marketing",
        (
            Link(
                "Campaigns",
                "campaigns:list",
                MARKETING_SIDE,
                under=(
                    "campaigns:create",
                    "campaigns:detail",
                    "campaigns:edit",
                    "campaigns:add_lead",
                    "campaigns:import",
                    "campaigns:import_detail",
                    "campaigns:intake_settings",
                ),
            ),
            Link("Leads", "campaigns:leads", MARKETING_SIDE),
            Link("Returned by sales", "campaigns:returned", MARKETING_SIDE),
            Link("Scoring", "campaigns:scoring", MARKETING_SIDE, under=("campaigns:rule_edit",)),
        ),
    ),
    Group(
        "Sales",
        (
            Link("Queue", "leads:queue", SALES_SIDE),
            Link("My leads", "leads:mine", (Role.SALES,)),
            Link("My targets", "leads:my_targets", (Role.SALES,)),
            Link("Deals", "leads:deals", SALES_SIDE),
            Link("Teams", "leads:teams", (Role.MANAGERS,), under=("leads:team_edit", "leads:rep_edit")),
            Link("Time off", "routing:time_off", SALES_SIDE),
            Link("Routing rules", "routing:rules", (Role.MANAGERS,)),
            Link("Routing log", "routing:log", (Role.MANAGERS,)),
            Link("Return reasons", "leads:return_reasons", (Role.MANAGERS,)),
            Link("Targets", "leads:targets", (Role.MANAGERS,)),
        ),
    ),
    Group(
        "SLA",
        (
            Link("Dashboard", "dashboard", (Role.MANAGERS,)),
            Link("Appeals", "appeals:list", (Role.MANAGERS,), under=("appeals:deadline",)),
            Link("SLA policy", "sla_policy", (Role.MANAGERS,), under=("sla_policy_new", "sla_draft", "sla_draft_edit")),
            Link("Calendars", "calendars", (Role.MANAGERS,), under=("calendar_create", "calendar_edit")),
            Link("Locked logins", "login_lockouts", (Role.MANAGERS,)),
            Link("Alerts and webhooks", "integrations:index", (Role.MANAGERS,), under=INTEGRATION_PAGES),
        ),
    ),
)

# Pages listing leads, by view name: where a lead page's "back" link may lead, and what it says.
LEAD_LISTS = {
    "leads:queue": "Queue",
    "leads:mine": "My leads",
    "leads:deals": "Deals",
    "campaigns:leads": "Leads",
    "campaigns:returned": "Returned by sales",
    "campaigns:detail": "the campaign",
    "dashboard": "Dashboard",
    "notifications": "Notifications",
}


@dataclass
class ShownLink:
    label: str
    href: str
    current: bool


@dataclass
class ShownGroup:
    label: str
    links: list[ShownLink] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


def menu_for(user, view_name: str) -> list[ShownGroup]:
    """The groups and links `user` may open, the page `view_name` marked; empty groups left out."""
    roles = user_roles(user)
    shown = []
    for group in MENU:
        links = [
            ShownLink(link.label, reverse(link.view_name), view_name in (link.view_name, *link.under))
            for link in group.links
            if roles.intersection(link.roles)
        ]
        if links:
            shown.append(ShownGroup(group.label, links))
    return shown


def navigation_context(request) -> dict:
    """Template context: `menu` (see menu_for); a single group is shown as plain links."""
    if not request.user.is_authenticated:
        return {"menu": []}
    match = request.resolver_match
    return {"menu": menu_for(request.user, match.view_name if match else "")}


def back_link(request) -> tuple[str, str] | None:
    """(href, label) of the lead list a lead page was opened from (its `from` parameter, a path on this
    site), else the viewer's usual list; None when the viewer has none."""
    came_from = request.GET.get("from", "")
    if came_from.startswith("/") and url_has_allowed_host_and_scheme(came_from, allowed_hosts=None):
        try:
            view_name = resolve(came_from.split("?", 1)[0]).view_name
        except Resolver404:
            view_name = ""
        if view_name in LEAD_LISTS:
            return came_from, LEAD_LISTS[view_name]
    roles = user_roles(request.user)
    for role, view_name in (
        (Role.SALES, "leads:mine"),
        (Role.MARKETING, "campaigns:leads"),
        (Role.MANAGERS, "leads:queue"),
    ):
        if role in roles:
            return reverse(view_name), LEAD_LISTS[view_name]
    return None


def next_or(request, default: str) -> str:
    """The page a form said to go back to (its `next` field), if it is one of this site's; else `default`."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default
