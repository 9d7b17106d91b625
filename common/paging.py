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


class PagedByIds:
    """A queryset to page through in two steps a page: the page's ids in order, sorted with only what
    the order needs (no `select_related` joins), then those rows whole. For a sort PostgreSQL cannot
    walk from an index, which it otherwise runs after joining every row: the queue by score joined all
    798 waiting leads at a million to their campaign, hand-off and hand-off's author before sorting
    them, 16 ms against 8 ms in two steps (more than the one step when a few rows wait: use it where
    the rows sorted are many)."""

    def __init__(self, queryset: QuerySet):
        self.queryset = queryset
        self.model = queryset.model

    def __getitem__(self, page: slice) -> list:
        ids = list(self.queryset.select_related(None).values_list("pk", flat=True)[page])
        rows = self.queryset.in_bulk(ids)
        return [rows[pk] for pk in ids]


def estimated_count(queryset: QuerySet) -> int:
    """How many rows PostgreSQL's planner expects `queryset` to return: one EXPLAIN, no scan."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
