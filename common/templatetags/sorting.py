"""Column headers that sort a list by the sorts its filter form already offers."""

from django import template

register = template.Library()

# Query parameters that point into one sort's pages; a new sort starts from the first page.
PAGE_PARAMETERS = ("page", "cursor")


@register.inclusion_tag("_sort_header.html", takes_context=True)
def sort_header(context, label: str, param: str, options: str, default: str = "", align: str = ""):
    """A `<th>` whose link sorts by this column, keeping the other filters.

    `options` lists the sorts of this column as "value:direction" separated by spaces, e.g.
    "-budget:descending budget:ascending": the link goes to the first one, or to the next one when the
    list is already sorted by this column; `default` is the sort when the query string has none.
    """
    request = context["request"]
    sorts = [tuple(option.split(":", 1)) for option in options.split()]
    values = [value for value, _ in sorts]
    current = request.GET.get(param) or default
    following = values[(values.index(current) + 1) % len(values)] if current in values else values[0]
    query = request.GET.copy()
    query[param] = following
    for name in PAGE_PARAMETERS:
        query.pop(name, None)
    return {"label": label, "href": f"?{query.urlencode()}", "direction": dict(sorts).get(current), "align": align}
