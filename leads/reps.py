"""The reps the managers' per-rep pages list (teams, targets): chosen by team and by name, in team and
name order, a page at a time. At a realistic million a company has ~400 reps; a page of each table
shows `REPS_PER_PAGE`, so the pages cost the same whatever the head count.

Both pages read their rows from different tables (rep profiles, users): `to_user` is the path from a
row to its user ("" for users, "user__" for profiles) and `to_team` the path to the rep's team.
"""

from django.db.models import F, Q

REPS_PER_PAGE = 25
NO_TEAM = "none"  # the team filter's value for reps in no team


def reps_where(*, team=None, no_team: bool = False, search: str = "", to_user: str = "", to_team: str) -> Q:
    """The reps of `team` (or in no team), each word of `search` in their first name, last name or username."""
    chosen = Q()
    if no_team:
        chosen &= Q(**{f"{to_team}__isnull": True})
    elif team is not None:
        chosen &= Q(**{to_team: team})
    for word in search.split():
        chosen &= (
            Q(**{f"{to_user}first_name__icontains": word})
            | Q(**{f"{to_user}last_name__icontains": word})
            | Q(**{f"{to_user}username__icontains": word})
        )
    return chosen


def reps_order(*, to_user: str = "", to_team: str) -> tuple:
    """Team by name (reps in no team last), then the rep's name; the id breaks ties so a page boundary
    never shows a rep twice or skips one."""
    return (
        F(f"{to_team}__name").asc(nulls_last=True),
        f"{to_user}first_name",
        f"{to_user}last_name",
        f"{to_user}username",
        f"{to_user}id",
    )


def query_without_page(request) -> str:
    """The page's query string without its page number, for its pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
