"""requirements.txt: every package pinned to one exact version, and each listed once, so a fresh clone
installs what was tested (a second pin of the same package would leave which one wins to pip)."""

import re
from collections import Counter

from django.conf import settings


def pins() -> list[tuple[str, str]]:
    lines = (settings.BASE_DIR / "requirements.txt").read_text().splitlines()
    return [tuple(line.split("==", 1)) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_every_package_is_pinned_to_an_exact_version():
    assert all(len(pin) == 2 and re.fullmatch(r"[0-9][0-9A-Za-z.]*", pin[1]) for pin in pins())


def test_each_package_is_listed_once():
    # pip treats case, "-", "_" and "." alike in names (PEP 503).
    names = Counter(re.sub(r"[-_.]+", "-", name).lower() for name, *_ in pins())
    assert [name for name, count in names.items() if count > 1] == []
