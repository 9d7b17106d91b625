"""Pages over big sets without counting them on every load.

Django's `Paginator` runs `COUNT(*)` over the whole set to number the pages; over 100,000 waiting
leads that count costs more than the page. `CountedPaginator` takes a count the caller already has
(from a read model, exact) or a planner estimate (`estimated_count`, said as such on the page).
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet


class CountedPaginator(Paginator):
    """A paginator told how many objects there are instead of counting them; `estimated` says the
    count is the planner's guess (the page shows "about")."""

    def __init__(self, object_list, per_page, *, count: int, estimated: bool = False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = count
        self.estimated = estimated

    @property
    def count(self) -> int:
        return self.known_count


def estimated_count(queryset: QuerySet) -> int:
    """How many rows PostgreSQL's planner expects `queryset` to return: one EXPLAIN, no scan."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
