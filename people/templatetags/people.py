"""Showing people: a user's name as colleagues know them."""

from django import template

from people.names import person_name

register = template.Library()


@register.filter
def person(user, nobody: str = "—") -> str:
    """Full name, else username; `nobody` when there is no user."""
    return person_name(user, nobody)
