"""The form renderer writes plain <input> widgets in Python: the same markup as Django's templates."""

import datetime
import decimal
from pathlib import Path

import django
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from handoff.renderers import INPUTS, InputRenderer

WIDGETS = Path(django.__file__).parent / "forms" / "templates"


def test_the_widgets_written_in_python_are_exactly_djangos_input_template():
    """Given Django's widget templates, then each one the renderer writes itself only includes input.html
    (a Django upgrade that changes one fails here rather than changing pages silently)."""
    for name in INPUTS:
        assert (WIDGETS / name).read_text() == '{% include "django/forms/widgets/input.html" %}\n', name


class EveryInput(forms.Form):
    text = forms.CharField(max_length=20, help_text='Say "hi" & <more>', initial="O'Brien <&>")
    number = forms.IntegerField(min_value=0, max_value=10, required=False)
    money = forms.DecimalField(max_digits=8, decimal_places=2, initial=decimal.Decimal("12.50"))
    email = forms.EmailField(disabled=True, initial="ada@example.org")
    hidden = forms.CharField(widget=forms.HiddenInput, initial='x"y')
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date", "min": "1900-01-01"}))
    when = forms.DateTimeField(initial=datetime.datetime(2026, 12, 7, 15, 0))
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="pw")
    tick = forms.BooleanField(required=False, initial=True)
    untick = forms.BooleanField(required=False)
    upload = forms.FileField(required=False)
    page = forms.URLField(
        required=False, assume_scheme="https", widget=forms.URLInput(attrs={"data-x": True, "data-off": False})
    )


@pytest.mark.parametrize("data", [None, {"text": "", "number": "lots", "money": "1e999", "hidden": "<b>"}])
def test_inputs_are_written_as_djangos_templates_write_them(data):
    """Given a form with every kind of plain input, unbound and bound with errors, then each field is
    rendered the same by this renderer as by Django's own."""
    ours = EveryInput(data, renderer=InputRenderer())
    djangos = EveryInput(data, renderer=DjangoTemplates())

    for name in EveryInput.base_fields:
        assert str(ours[name]) == str(djangos[name]), name
