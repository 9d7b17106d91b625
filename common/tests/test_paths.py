"""A list page's row paths, reversed once a page: the same paths `reverse()` and the template gave."""

import pytest
from django.template.defaultfilters import urlencode
from django.test import RequestFactory
from django.urls import reverse

from common.paths import back_query, id_path


@pytest.mark.parametrize("view_name", ["leads:detail", "leads:claim", "leads:log_activity"])
def test_id_path_gives_what_reverse_gives_for_every_id(view_name):
    """Given a view whose one argument is an id, then its path for any id is the one reverse() makes."""
    path = id_path(view_name)

    for pk in (1, 7, 42, 987654321, 10**15):
        assert path(pk) == reverse(view_name, args=[pk])


def test_back_query_is_the_page_as_the_template_wrote_it():
    """Given a page with a query string, then `?from=` holds it as `request.get_full_path|urlencode` did."""
    request = RequestFactory().get("/leads/queue/", {"order": "score", "campaign": "3", "q": "a&b é"})

    assert back_query(request) == "?from=" + urlencode(request.get_full_path())
