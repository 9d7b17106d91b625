"""The replay form, for the draft page (sla's template) to offer without sla knowing about replays."""

from django import template

from replays.forms import ReplayForm
from replays.models import DEFAULT_WEEKS

register = template.Library()


@register.inclusion_tag("replays/_replay_form.html")
def replay_form(draft, weeks: int = DEFAULT_WEEKS, listed: bool = True) -> dict:
    """The form asking for a replay of `draft`, and (`listed`) links to its latest replays' reports."""
    replays = draft.replays.select_related("requested_by")[:5] if listed else ()
    return {"draft": draft, "form": ReplayForm(initial={"weeks": weeks}), "replays": replays}
