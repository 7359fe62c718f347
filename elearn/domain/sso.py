"""Sign-in through an organisation's OpenID provider (docs/sso.md, decision 0023): the providers'
settings, the checks on an ID token's claims, and the rules that turn claims into roles and
units. Pure: no Flask, no database; the service applies what this decides."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elearn.domain.errors import N_

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# Claims elearn reads. National identity numbers (ID-porten's `pid`) are never among them: they
# are not stored (docs/decisions/0023).
NEVER_STORED = frozenset({"pid", "nin", "ssn", "cpr"})


class SsoConfigError(ValueError):
    """A provider's settings are wrong; the message names the setting."""


class SsoRefused(Exception):
    """A sign-in that must not go through; ``message`` is shown to the person (translated),
    ``reason`` is the short code the audit log and the tests read."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ClaimRule:
    """When the claim ``claim`` holds ``value`` (equal, or a member of a list claim), grant
    ``role``, make the person manager of the unit ``manager_of``, and/or place them in ``unit``
    (unit paths as "Organisation / Unit", as the staff import writes them)."""

    claim: str
    value: str
    role: str | None = None
    manager_of: str | None = None
    unit: str | None = None

    def matches(self, claims: Mapping[str, Any]) -> bool:
        found = claims.get(self.claim)
        if isinstance(found, list | tuple):
            return self.value in {str(v) for v in found}
        return found is not None and str(found) == self.value


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    discovery_url: str
    client_id: str
    client_secret: str | None = None
    # private_key_jwt: a PEM private key (file, relative to the instance folder) whose public
    # part the provider holds; then no client secret is sent.
    private_key_file: str | None = None
    private_key_id: str | None = None
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    # Accounts without a password (made by a staff import) whose address is in one of these
    # domains are linked by e-mail at their first sign-in; and addresses in these domains count
    # as confirmed even without `email_verified` (Entra ID rarely sends it).
    trusted_email_domains: tuple[str, ...] = ()
    rules: tuple[ClaimRule, ...] = ()
    # Every account this provider signs in gets these roles (kept by hand otherwise).
    default_roles: tuple[str, ...] = ("learner",)
    logout: bool = True  # RP-initiated logout when the provider offers it
    leeway_seconds: int = 60  # clock skew allowed on `exp` and `iat`

    @property
    def token_auth_method(self) -> str:
        return "private_key_jwt" if self.private_key_file else "client_secret_basic"


def _strings(value: Any, setting: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SsoConfigError(f"{setting} must be a list of strings")
    return tuple(value)


def unit_path(path: Any, setting: str) -> str | None:
    """A unit path as the staff import and the unit pages write it: "Kommune/Innkjøp"."""
    if path is None:
        return None
    parts = [p.strip() for p in str(path).split("/")]
    if not all(parts):
        raise SsoConfigError(f"{setting}: a unit path is names separated by /")
    return "/".join(parts)


def parse_providers(raw: Mapping[str, Any], known_roles: tuple[str, ...]) -> dict[str, Provider]:
    """The OIDC_PROVIDERS setting, checked: a mapping of a short name (used in URLs) to a
    provider's settings. Wrong settings stop the app at start with the setting named."""
    if not isinstance(raw, Mapping):
        raise SsoConfigError("OIDC_PROVIDERS must be a mapping of names to provider settings")
    providers: dict[str, Provider] = {}
    for name, spec in raw.items():
        where = f"OIDC_PROVIDERS[{name!r}]"
        if not isinstance(name, str) or not NAME.match(name):
            raise SsoConfigError(f"{where}: a name is lower-case letters, digits and -")
        if not isinstance(spec, Mapping):
            raise SsoConfigError(f"{where} must be a mapping")
        unknown = set(spec) - {
            "label",
            "discovery_url",
            "client_id",
            "client_secret",
            "private_key_file",
            "private_key_id",
            "scopes",
            "trusted_email_domains",
            "rules",
            "default_roles",
            "logout",
            "leeway_seconds",
        }
        if unknown:
            raise SsoConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
        for required in ("discovery_url", "client_id"):
            if not isinstance(spec.get(required), str) or not spec[required]:
                raise SsoConfigError(f"{where}['{required}'] is required")
        if not re.match(r"^https?://", spec["discovery_url"]):
            raise SsoConfigError(f"{where}['discovery_url'] must be an http(s) URL")
        secret, key_file = spec.get("client_secret"), spec.get("private_key_file")
        if bool(secret) == bool(key_file):
            raise SsoConfigError(
                f"{where}: give either 'client_secret' or 'private_key_file' (private_key_jwt)"
            )
        scopes = _strings(spec.get("scopes", ("openid", "email", "profile")), f"{where}['scopes']")
        if "openid" not in scopes:
            raise SsoConfigError(f"{where}['scopes'] must include openid")
        rules = []
        for i, rule in enumerate(spec.get("rules", ())):
            rwhere = f"{where}['rules'][{i}]"
            if not isinstance(rule, Mapping) or not rule.get("claim") or "value" not in rule:
                raise SsoConfigError(f"{rwhere} needs 'claim' and 'value'")
            if rule["claim"] in NEVER_STORED:
                raise SsoConfigError(f"{rwhere}: the claim {rule['claim']!r} is never read")
            made = ClaimRule(
                claim=str(rule["claim"]),
                value=str(rule["value"]),
                role=rule.get("role"),
                manager_of=unit_path(rule.get("manager_of"), f"{rwhere}['manager_of']"),
                unit=unit_path(rule.get("unit"), f"{rwhere}['unit']"),
            )
            if not (made.role or made.manager_of or made.unit):
                raise SsoConfigError(f"{rwhere} grants nothing: give role, manager_of or unit")
            if made.role is not None and made.role not in known_roles:
                raise SsoConfigError(f"{rwhere}: unknown role {made.role!r}")
            rules.append(made)
        defaults = _strings(spec.get("default_roles", ("learner",)), f"{where}['default_roles']")
        for role in defaults:
            if role not in known_roles:
                raise SsoConfigError(f"{where}['default_roles']: unknown role {role!r}")
        providers[name] = Provider(
            name=name,
            label=str(spec.get("label") or name),
            discovery_url=spec["discovery_url"],
            client_id=spec["client_id"],
            client_secret=secret or None,
            private_key_file=key_file or None,
            private_key_id=spec.get("private_key_id"),
            scopes=scopes,
            trusted_email_domains=tuple(
                d.lower().lstrip("@")
                for d in _strings(
                    spec.get("trusted_email_domains", ()), f"{where}['trusted_email_domains']"
                )
            ),
            rules=tuple(rules),
            default_roles=defaults,
            logout=bool(spec.get("logout", True)),
            leeway_seconds=int(spec.get("leeway_seconds", 60)),
        )
    return providers


def check_id_token_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    now: datetime,
    leeway_seconds: int = 60,
) -> None:
    """OpenID Connect Core 3.1.3.7 on claims whose signature was checked already: the issuer,
    the audience (and `azp` when there are several), expiry and issue time against the app's
    own clock, and the nonce this browser was given. SsoRefused otherwise."""
    refused = N_("Your organisation's sign-in could not be confirmed. Please try again.")
    if claims.get("iss") != issuer:
        raise SsoRefused("issuer", refused)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise SsoRefused("audience", refused)
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SsoRefused("audience", refused)
    stamp = now.timestamp()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp + leeway_seconds <= stamp:
        raise SsoRefused(
            "expired",
            N_("Your organisation's sign-in took too long and expired. Please try again."),
        )
    if not isinstance(iat, int | float) or iat - leeway_seconds > stamp:
        raise SsoRefused("issued-in-future", refused)
    if not nonce or claims.get("nonce") != nonce:
        raise SsoRefused("nonce", refused)
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SsoRefused("subject", refused)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


@dataclass(frozen=True)
class Person:
    """What elearn keeps of a provider's claims: the stable subject, a name, and the e-mail
    address with whether it may be trusted (verified by the provider, or in a trusted domain)."""

    issuer: str
    subject: str
    name: str
    email: str | None
    email_trusted: bool


def person_of(claims: Mapping[str, Any], provider: Provider) -> Person:
    email = claims.get("email")
    email = email.strip().lower() if isinstance(email, str) and "@" in email else None
    trusted = bool(email) and (
        claims.get("email_verified") is True
        or email_domain(email or "") in provider.trusted_email_domains
    )
    name = claims.get("name") or " ".join(
        str(claims[k]) for k in ("given_name", "family_name") if claims.get(k)
    )
    return Person(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        name=str(name or (email or "").split("@")[0] or "—").strip(),
        email=email,
        email_trusted=trusted,
    )


@dataclass(frozen=True)
class Access:
    """What a provider's rules grant one person at this sign-in."""

    roles: frozenset[str] = frozenset()
    manager_of: frozenset[str] = frozenset()
    unit: str | None = None
    matched: tuple[int, ...] = field(default=())  # which rules matched, for the audit entry


def access_of(claims: Mapping[str, Any], provider: Provider) -> Access:
    roles: set[str] = set(provider.default_roles)
    manages: set[str] = set()
    unit = None
    matched = []
    for i, rule in enumerate(provider.rules):
        if not rule.matches(claims):
            continue
        matched.append(i)
        if rule.role:
            roles.add(rule.role)
        if rule.manager_of:
            manages.add(rule.manager_of)
            roles.add("manager")
        if rule.unit and unit is None:
            unit = rule.unit  # the first matching rule places the person
    return Access(frozenset(roles), frozenset(manages), unit, tuple(matched))


def grants_of(access: Access) -> set[tuple[str, str]]:
    """The grants as (kind, value) pairs, as the service stores what rules gave."""
    return (
        {("role", r) for r in access.roles}
        | {("manages", u) for u in access.manager_of}
        | ({("unit", access.unit)} if access.unit else set())
    )


def sso_required(email: str, required_domains: Mapping[str, str]) -> str | None:
    """The provider an e-mail domain must sign in with, or None."""
    return required_domains.get(email_domain(email))
