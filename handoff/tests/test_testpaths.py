"""Every app's tests run: pytest collects only the folders pytest.ini names (routing's once went
unnamed, and so unrun)."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_folder_of_tests_is_in_testpaths():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    named = set(config["pytest"]["testpaths"].split())
    with_tests = {path.parent.name for path in ROOT.glob("*/tests") if any(path.rglob("test_*.py"))}
    assert with_tests - named == set()
