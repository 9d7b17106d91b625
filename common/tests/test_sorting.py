"""Sortable column headers (common/templatetags/sorting.py)."""

from django.template import Context, Template
from django.test import RequestFactory

HEADER = Template(
    '{% load sorting %}{% sort_header "Budget" "sort" "-budget:descending budget:ascending" default="-start_date" %}'
)


def render(query: str) -> str:
    return HEADER.render(Context({"request": RequestFactory().get(f"/campaigns/?{query}")}))


def test_an_unsorted_column_links_to_its_first_sort_and_keeps_the_filters():
    html = render("channel=email&page=3")
    assert 'href="?channel=email&amp;sort=-budget"' in html
    assert "aria-sort" not in html


def test_the_sorted_column_says_so_and_links_to_the_other_direction():
    html = render("sort=-budget")
    assert 'aria-sort="descending"' in html
    assert 'href="?sort=budget"' in html
    assert "▼" in html
    assert 'aria-sort="ascending"' in render("sort=budget")


def test_the_default_sort_counts_when_the_query_has_none():
    runs = '"Runs" "sort" "-start_date:descending start_date:ascending" default="-start_date"'
    html = Template(f"{{% load sorting %}}{{% sort_header {runs} %}}").render(
        Context({"request": RequestFactory().get("/campaigns/")})
    )
    assert 'aria-sort="descending"' in html
    assert 'href="?sort=start_date"' in html
