"""Bahasa Indonesia is the default language: every user-facing string must have a translation.

The test regenerates the Indonesian catalogue from the current source in a scratch copy of the
tree (so a new string that nobody translated shows up as untranslated) and asks msgfmt to count.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "test-results", "*.mo", "node_modules")


@pytest.fixture(scope="module")
def fresh_catalogue(tmp_path_factory):
    if shutil.which("msgfmt") is None:
        pytest.fail("GNU gettext is required (Debian package gettext); make test installs it")
    tree = tmp_path_factory.mktemp("i18n") / "src"
    shutil.copytree(ROOT, tree, ignore=IGNORED)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "id", "--no-obsolete", "--ignore=sandbox/*",
         "--ignore=tests/*", "--ignore=benchmarks/*"],
        cwd=tree, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "intrasa.settings.base",
             "DATABASE_URL": "sqlite:///:memory:", "HOME": str(tree)},
    )
    assert result.returncode == 0, result.stderr
    return tree / "locale" / "id" / "LC_MESSAGES" / "django.po"


def untranslated(po: Path) -> list[str]:
    """msgids whose msgstr is empty or marked fuzzy."""
    text = po.read_text(encoding="utf-8")
    missing = []
    for block in text.split("\n\n")[1:]:
        if "#, fuzzy" in block:
            missing.append(block)
            continue
        msgid = re.search(r'msgid "(.*)"', block)
        if not msgid:
            continue
        msgstrs = re.findall(r'msgstr(?:\[\d\])? ((?:".*"\n?)+)', block + "\n")
        if any(s.strip() == '""' for s in msgstrs):
            missing.append(block)
    return missing


def test_every_string_has_an_indonesian_translation(fresh_catalogue):
    missing = untranslated(fresh_catalogue)
    preview = "\n\n".join(missing[:15])
    assert not missing, f"{len(missing)} untranslated strings (run `make messages` and translate):\n{preview}"


def test_committed_catalogue_compiles_cleanly():
    result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(ROOT / "locale/id/LC_MESSAGES/django.po")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
