"""The English catalogue is complete, compiled, and the language switch in the page header works."""

from __future__ import annotations

import ast
import fcntl
import gettext
import re
import tempfile
from pathlib import Path

import pytest
from asgiref.local import Local
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django.utils.translation import trans_real

pytestmark = pytest.mark.django_db

MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO = MESSAGES / "django.po"
MO = MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: {"msgid", "msgid_plural", "msgstr": [..], "flags": set, "line"}.

    Just enough of the gettext format for this catalogue: comments, flags, msgctxt, plurals and
    multi-line strings. Obsolete entries (#~) are skipped.
    """
    entries: list[dict] = []
    entry: dict = {}
    key = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        starts_entry = line.startswith(("#", "msgctxt ", "msgid "))
        if starts_entry and (not entry or any(k[0] == "msgstr" for k in entry["fields"])):
            entry = {"fields": {}, "flags": set(), "line": number}
            entries.append(entry)
            key = None
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            pass
        elif line.startswith('"'):
            assert key is not None, f"{path}:{number}: string outside an entry"
            entry["fields"][key] += ast.literal_eval(line)
        else:
            match = re.fullmatch(
                r"(msgctxt|msgid|msgid_plural|msgstr)(?:\[(\d+)\])? (\".*\")", line
            )
            assert match, f"{path}:{number}: cannot parse {raw!r}"
            key = (match.group(1), int(match.group(2) or 0))
            entry["fields"][key] = ast.literal_eval(match.group(3))
    return [
        {
            "msgid": e["fields"][("msgid", 0)],
            "msgid_plural": e["fields"].get(("msgid_plural", 0)),
            "msgstr": [v for (name, _i), v in sorted(e["fields"].items()) if name == "msgstr"],
            "flags": e["flags"],
            "line": e["line"],
        }
        for e in entries
        if ("msgid", 0) in e["fields"]
    ]


def _reset_translation_caches() -> None:
    # What Django's autoreloader does when a .mo file changes (translation_file_changed).
    gettext._translations = {}
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = Local()


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue():
    """`make install` compiles the catalogue; compile it here too when the .mo is missing or stale."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        lock = Path(tempfile.gettempdir()) / "careloop-compilemessages.lock"
        with lock.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # pytest-xdist workers may get here together
            if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
                call_command(
                    "compilemessages",
                    locale=["en"],
                    ignore_patterns=[".venv", "node_modules", "var"],
                    verbosity=0,
                )
        _reset_translation_caches()
    assert MO.exists()
    return MO


def test_every_string_has_an_english_translation():
    entries = parse_po(PO)
    header = [e for e in entries if e["msgid"] == ""]
    assert len(header) == 1 and "fuzzy" not in header[0]["flags"], "the .po header is fuzzy"
    messages = [e for e in entries if e["msgid"] != ""]
    assert len(messages) > 100, "the catalogue looks empty: run `make messages`"
    untranslated = [
        f"{PO.name}:{e['line']}: {e['msgid']}"
        for e in messages
        if not e["msgstr"] or any(not s.strip() for s in e["msgstr"])
    ]
    fuzzy = [f"{PO.name}:{e['line']}: {e['msgid']}" for e in messages if "fuzzy" in e["flags"]]
    assert not untranslated, "untranslated:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy (check, then remove the flag):\n" + "\n".join(fuzzy)
    plural = [e for e in messages if e["msgid_plural"] is not None]
    assert all(len(e["msgstr"]) == 2 for e in plural), "English has two plural forms"


def test_translations_keep_every_placeholder():
    wrong = []
    for e in parse_po(PO):
        if e["msgid"] == "":
            continue
        expected = sorted(set(PLACEHOLDER.findall(e["msgid"] + (e["msgid_plural"] or ""))))
        for text in e["msgstr"]:
            if text and sorted(set(PLACEHOLDER.findall(text))) != expected:
                wrong.append(f"{PO.name}:{e['line']}: {e['msgid']!r} -> {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_language_switch_on_the_login_page():
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="zh-hans"' in page
    assert "登录" in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"

    page = client.get("/accounts/login/").content.decode()
    assert 'lang="en"' in page
    assert "Log in" in page
    assert "登录" not in page

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="zh-hans"' in page and "登录" in page


def test_role_names_are_translated():
    from careloop.accounts.roles import Role

    with translation.override("en"):
        assert str(Role.NURSE.label) == "Responsible nurse"
        assert str(Role.AGENT.label) == "Follow-up agent"
    with translation.override("zh-hans"):
        assert str(Role.NURSE.label) == "责任护士"
