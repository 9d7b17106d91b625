"""The form renderer: Django's, but an `<input>` widget is written in Python.

Django renders every widget through templates (`number.html` includes `input.html`, which includes
`attrs.html`): three templates for one tag. A page with hundreds of inputs (Targets: three per rep,
1,203 with 400 reps) spent most of its time there. The widgets below are exactly `input.html`; this
renderer writes the same tag as those templates, and hands every other template to Django's renderer.
`handoff/tests/test_renderers.py` checks both the templates (a Django upgrade that changes them fails
it) and that the markup is the same.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html_join
from django.utils.safestring import mark_safe

INPUTS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "file",
        "hidden",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    )
)


def input_tag(widget: dict) -> str:
    """`<input>` as django/forms/widgets/input.html and attrs.html write it, from a widget's context."""
    value = "" if widget["value"] is None else format_html_join("", ' value="{}"', [(widget["value"],)])
    attrs = "".join(
        f" {conditional_escape(name)}" if attr is True else f' {conditional_escape(name)}="{conditional_escape(attr)}"'
        for name, attr in widget["attrs"].items()
        if attr is not False
    )
    return mark_safe(  # noqa: S308 - every part escaped above
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"{value}{attrs}>'
    )


class InputRenderer(DjangoTemplates):
    """Django's default form renderer, writing plain `<input>` widgets in Python (see the module)."""

    def render(self, template_name, context, request=None):
        if template_name in INPUTS:
            return input_tag(context["widget"])
        return super().render(template_name, context, request)
