"""The interface exists in nb, da and en, and every string is translated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lang", ["nb", "da"])
def test_catalogue_is_complete_and_covers_every_string_in_the_code(
    lang: str, tmp_path: Path
) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(pot),
            ".",  # babel.cfg's patterns (elearn/**.py, ...) are relative to the project root
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    # The extraction found the code's strings (a wrong path finds none, and proves nothing).
    assert len(wanted) > 500 and "Sign out everywhere" in wanted
    with (ROOT / f"elearn/translations/{lang}/LC_MESSAGES/messages.po").open("rb") as f:
        catalogue = {m.id: m for m in read_po(f) if m.id}
    missing = sorted(str(i) for i in wanted - set(catalogue))
    assert missing == [], "run 'make i18n-update' and translate"

    def translated(m: object) -> bool:
        forms = m.string if isinstance(m.string, tuple) else (m.string,)  # type: ignore[attr-defined]
        return all(forms) and not m.fuzzy  # type: ignore[attr-defined]

    untranslated = sorted(str(i) for i, m in catalogue.items() if i in wanted and not translated(m))
    assert untranslated == []


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nb", ["Logg inn", "E-post", "Passord"]),
        ("da", ["Log ind", "Adgangskode"]),
        ("en", ["Sign in", "E-mail", "Password"]),
    ],
)
def test_login_page_speaks_the_browser_language(
    client: FlaskClient, lang: str, words: list[str]
) -> None:
    page = client.get("/login", headers={"Accept-Language": lang}).get_data(as_text=True)
    for word in words:
        assert word in page, (lang, word)


def test_wrong_password_message_is_translated(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nb"
    page = login(client, "learner@example.org", "wrong-password").get_data(as_text=True)
    assert "The e-mail address or the password is not right." not in page
    assert 'lang="nb"' in page
