"""The pure part of sign-in through an OpenID provider: settings, the ID token's claims, rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from elearn.domain.sso import (
    SsoConfigError,
    SsoRefused,
    access_of,
    check_id_token_claims,
    grants_of,
    parse_providers,
    person_of,
    sso_required,
)

ROLES = ("learner", "manager", "certifier", "panellist", "admin")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def spec(**overrides: Any) -> dict[str, Any]:
    return {
        "discovery_url": "https://login.example/.well-known/openid-configuration",
        "client_id": "elearn",
        "client_secret": "s3cret",
        **overrides,
    }


def claims(**overrides: Any) -> dict[str, Any]:
    return {
        "iss": "https://login.example",
        "aud": "elearn",
        "sub": "abc",
        "exp": int(NOW.timestamp()) + 300,
        "iat": int(NOW.timestamp()) - 5,
        "nonce": "n-1",
        **overrides,
    }


def check(found: dict[str, Any], **kw: Any) -> None:
    check_id_token_claims(
        found,
        **{
            "issuer": "https://login.example",
            "client_id": "elearn",
            "nonce": "n-1",
            "now": NOW,
            **kw,
        },
    )


def test_good_claims_pass() -> None:
    check(claims())
    check(claims(aud=["elearn", "api"], azp="elearn"))


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (claims(iss="https://evil.example"), "issuer"),
        (claims(aud="other-app"), "audience"),
        (claims(aud=["other-app", "elearn"]), "audience"),  # several audiences, no azp for us
        (claims(aud=["other-app", "elearn"], azp="other-app"), "audience"),
        (claims(exp=int(NOW.timestamp()) - 61), "expired"),
        (claims(exp=None), "expired"),
        (claims(iat=int(NOW.timestamp()) + 3600), "issued-in-future"),
        (claims(nonce="n-2"), "nonce"),
        (claims(nonce=None), "nonce"),
        (claims(sub=""), "subject"),
    ],
)
def test_claims_that_must_be_refused(found: dict[str, Any], reason: str) -> None:
    with pytest.raises(SsoRefused) as refused:
        check(found)
    assert refused.value.reason == reason


def test_an_empty_nonce_is_never_a_match() -> None:
    with pytest.raises(SsoRefused):
        check(claims(nonce=""), nonce="")


def test_leeway_allows_a_little_clock_skew_and_no_more() -> None:
    check(claims(exp=int(NOW.timestamp()) - 30))
    with pytest.raises(SsoRefused):
        check(claims(exp=int(NOW.timestamp()) - 30), leeway_seconds=10)


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({"x": spec(client_id="")}, "client_id"),
        ({"x": spec(discovery_url="ftp://x")}, "discovery_url"),
        ({"x": spec(private_key_file="k.pem")}, "either"),
        ({"x": {k: v for k, v in spec().items() if k != "client_secret"}}, "either"),
        ({"x": spec(scopes=["email"])}, "openid"),
        ({"x": spec(rules=[{"claim": "groups", "value": "g", "role": "pope"}])}, "unknown role"),
        ({"x": spec(rules=[{"claim": "groups", "value": "g"}])}, "grants nothing"),
        ({"x": spec(rules=[{"claim": "pid", "value": "1", "role": "learner"}])}, "never read"),
        ({"x": spec(rules=[{"claim": "g", "value": "1", "unit": "A//B"}])}, "unit path"),
        ({"x": spec(colour="blue")}, "unknown setting"),
        ({"Bad Name": spec()}, "lower-case"),
        ({"x": spec(default_roles=["root"])}, "unknown role"),
    ],
)
def test_wrong_settings_name_the_setting(raw: dict[str, Any], names: str) -> None:
    with pytest.raises(SsoConfigError, match=names):
        parse_providers(raw, ROLES)


def test_settings_are_read() -> None:
    [provider] = parse_providers(
        {
            "entra": spec(
                label="Kommune (Entra ID)",
                trusted_email_domains=["@Kommune.no"],
                rules=[{"claim": "groups", "value": "g1", "manager_of": "Kommune / Innkjøp"}],
            )
        },
        ROLES,
    ).values()
    assert provider.label == "Kommune (Entra ID)"
    assert provider.trusted_email_domains == ("kommune.no",)
    assert provider.rules[0].manager_of == "Kommune/Innkjøp"
    assert provider.token_auth_method == "client_secret_basic"


def test_rules_map_groups_and_tenants() -> None:
    [provider] = parse_providers(
        {
            "x": spec(
                rules=[
                    {"claim": "groups", "value": "leaders", "manager_of": "K/Innkjøp"},
                    {"claim": "groups", "value": "auditors", "role": "certifier"},
                    {"claim": "tid", "value": "t-1", "unit": "K"},
                    {"claim": "tid", "value": "t-1", "unit": "Other"},
                ]
            )
        },
        ROLES,
    ).values()
    access = access_of(claims(groups=["leaders", "x"], tid="t-1"), provider)
    assert access.roles == {"learner", "manager"}
    assert access.manager_of == {"K/Innkjøp"}
    assert access.unit == "K"  # the first rule that places the person
    assert grants_of(access) == {
        ("role", "learner"),
        ("role", "manager"),
        ("manages", "K/Innkjøp"),
        ("unit", "K"),
    }
    assert access_of(claims(groups="auditors"), provider).roles == {"learner", "certifier"}
    assert access_of(claims(), provider).roles == {"learner"}


def test_an_address_is_trusted_when_verified_or_in_a_trusted_domain() -> None:
    [provider] = parse_providers({"x": spec(trusted_email_domains=["kommune.no"])}, ROLES).values()
    assert person_of(claims(email="A@Kommune.no"), provider).email_trusted
    assert person_of(claims(email="a@else.no", email_verified=True), provider).email_trusted
    assert not person_of(claims(email="a@else.no"), provider).email_trusted
    assert not person_of(claims(email="a@else.no", email_verified="true"), provider).email_trusted
    assert person_of(claims(email="not-an-address"), provider).email is None
    assert person_of(claims(given_name="Kari", family_name="Nordmann"), provider).name == (
        "Kari Nordmann"
    )


def test_a_domain_may_require_its_provider() -> None:
    assert sso_required("Kari@Kommune.no", {"kommune.no": "entra"}) == "entra"
    assert sso_required("kari@kommune.no.evil.example", {"kommune.no": "entra"}) is None
