"""Certificates as signed Open Badges 3.0 credentials with a revocation bit, checkable without us.

The JWT proof follows OB 3.0 section 8.2 (JSON Web Token Proof Format): header ``alg``,
``kid``, ``typ: JWT``; the payload is the credential with ``iss``, ``sub``, ``nbf``, ``exp``,
``jti`` mirroring it. It is signed with RS256 (OB 3.0's baseline) or EdDSA, whichever key the
caller passes.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import gzip
import json
import random
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import (
    RSAPrivateKey,
    RSAPublicKey,
    RSAPublicNumbers,
    generate_private_key,
)

# --- Certificate codes -------------------------------------------------------------------------

# 32 symbols, so each carries exactly 5 bits. 0/O and 1/I are left out because they are read
# as each other; L and U stay in, since with 1 and I gone nothing in the set looks like them.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 12  # 12 x 5 bits = 60 bits
_CODE_GROUP = 4
# Word processors and phones turn "-" into these; spaces and tabs are harmless too.
_CODE_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212 \t\r\n\u00a0")
_MAX_CODE_INPUT = 64


def new_code(rng: random.Random) -> str:
    """A fresh 60-bit certificate code such as "K7QM-3XPA-9TRD"; pass secrets.SystemRandom()."""
    return _format_code("".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def normalise_code(text: str) -> str | None:
    """The formatted code a person meant (any case, spacing, hyphens), or None if it is not one."""
    if len(text) > _MAX_CODE_INPUT:
        return None
    symbols = "".join(ch for ch in text if ch not in _CODE_SEPARATORS)
    # ASCII first: str.upper() would turn e.g. the long s "ſ" into a valid "S".
    if not symbols.isascii():
        return None
    symbols = symbols.upper()
    if len(symbols) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in symbols):
        return None
    return _format_code(symbols)


def _format_code(symbols: str) -> str:
    """Hyphenate a 12-symbol code in groups of four so it can be read out and typed."""
    return "-".join(symbols[i : i + _CODE_GROUP] for i in range(0, len(symbols), _CODE_GROUP))


# --- The credential ----------------------------------------------------------------------------

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


@dataclass(frozen=True)
class Issuer:
    """The issuing organisation's OB 3.0 Profile, identified by an https URL."""

    id: str
    name: str
    url: str


@dataclass(frozen=True)
class AchievementInfo:
    """What was achieved: one exam as an OB 3.0 Achievement, with its topics as alignments."""

    id: str
    name: str
    description: str
    criteria: str
    alignments: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CredentialInfo:
    """Everything needed to write one certificate, gathered by the caller from its records."""

    id: str
    code: str
    holder_name: str
    holder_id: str
    achievement: AchievementInfo
    issuer: Issuer
    valid_from: datetime
    valid_until: datetime | None
    status_list_url: str
    status_index: int
    language: str


def build_credential(info: CredentialInfo) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential (OB 3.0 on VC Data Model 2.0) for one passed exam."""
    valid_from = _iso(info.valid_from)
    valid_until = None if info.valid_until is None else _iso(info.valid_until)
    if info.valid_until is not None and info.valid_until <= info.valid_from:
        raise ValueError("valid_until must be after valid_from")
    if info.status_index < 0:
        raise ValueError("status_index must not be negative")
    achievement: dict[str, Any] = {
        "id": info.achievement.id,
        "type": ["Achievement"],
        "name": info.achievement.name,
        "description": info.achievement.description,
        "criteria": {"narrative": info.achievement.criteria},
    }
    if info.achievement.alignments:
        achievement["alignment"] = [
            {"type": ["Alignment"], "targetName": name, "targetUrl": url}
            for name, url in info.achievement.alignments
        ]
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": info.id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": info.issuer.id,
            "type": ["Profile"],
            "name": info.issuer.name,
            "url": info.issuer.url,
        },
        "name": info.achievement.name,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = {
        "id": info.holder_id,
        "type": ["AchievementSubject"],
        "name": info.holder_name,
        # OB 3.0's own place for the earner's name; OB displayers read this one.
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": info.holder_name,
            }
        ],
        "achievement": achievement,
    }
    credential["credentialStatus"] = {
        "id": f"{info.status_list_url}#{info.status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(info.status_index),
        "statusListCredential": info.status_list_url,
    }
    return credential


def _iso(moment: datetime) -> str:
    """An aware datetime as whole-second UTC ISO 8601 with "Z", so it equals its JWT NumericDate."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")
    utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat() + "Z"


def _parse_datetime(value: object) -> datetime:
    """A credential's ISO 8601 date back as an aware UTC datetime; ValueError if it is not one."""
    if not isinstance(value, str):
        raise ValueError("date must be a string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("date must carry a time zone")
    return moment.astimezone(UTC)


def _epoch(moment: datetime) -> int:
    """Whole seconds since 1970 (floored), the JWT NumericDate for a credential date."""
    return calendar.timegm(moment.utctimetuple())


# --- Keys --------------------------------------------------------------------------------------


# The JWS algorithms we sign and verify with: OB 3.0's baseline RS256, and Ed25519 (written
# "EdDSA": PyJWT does not know the RFC 9864 name "Ed25519").
RS256 = "RS256"
EDDSA = "EdDSA"
ALGORITHMS = (RS256, EDDSA)
RSA_KEY_BITS = 3072
_MIN_RSA_BITS = 2048  # OB 3.0 (SEC-11, 6.1 RSA Key): at least 2048 bits


@dataclass(frozen=True)
class SigningKey:
    """A signing key (Ed25519 or RSA) and its kid, a URI that resolves to the public JWK."""

    kid: str
    private_key: Ed25519PrivateKey | RSAPrivateKey

    def __post_init__(self) -> None:
        """Refuse a kid that OB 3.0 would not accept (it must be a URI) or a key of another kind."""
        _check_kid(self.kid)
        if isinstance(self.private_key, RSAPrivateKey):
            if self.private_key.key_size < _MIN_RSA_BITS:
                raise ValueError(f"an RSA key needs at least {_MIN_RSA_BITS} bits")
        elif not isinstance(self.private_key, Ed25519PrivateKey):
            raise TypeError("private_key must be an Ed25519PrivateKey or an RSAPrivateKey")

    @property
    def algorithm(self) -> str:
        """The JWS "alg" this key signs with."""
        return RS256 if isinstance(self.private_key, RSAPrivateKey) else EDDSA


def _check_kid(kid: str) -> None:
    """Raise ValueError unless kid is an absolute URI without spaces."""
    if not kid or any(ch.isspace() for ch in kid) or not urlsplit(kid).scheme:
        raise ValueError(f"kid must be an absolute URI, got {kid!r}")


def generate_key(kid: str, algorithm: str = EDDSA) -> SigningKey:
    """A new random signing key for ``algorithm`` (EdDSA: Ed25519; RS256: RSA 3072) under kid."""
    if algorithm == EDDSA:
        return SigningKey(kid=kid, private_key=Ed25519PrivateKey.generate())
    if algorithm == RS256:
        private = generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
        return SigningKey(kid=kid, private_key=private)
    raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")


def key_to_pem(key: SigningKey) -> bytes:
    """The private key as unencrypted PKCS#8 PEM, for the caller to store with mode 0600."""
    return key.private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def key_from_pem(kid: str, pem: bytes) -> SigningKey:
    """Load a key written by key_to_pem; ValueError unless an unencrypted Ed25519 or RSA key."""
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except TypeError as error:  # encrypted PEM
        raise ValueError(str(error)) from error
    if not isinstance(private_key, Ed25519PrivateKey | RSAPrivateKey):
        raise ValueError("PEM does not hold an Ed25519 or RSA private key")
    return SigningKey(kid=kid, private_key=private_key)


def public_jwk(
    key: SigningKey | Ed25519PublicKey | RSAPublicKey, kid: str | None = None
) -> dict[str, str]:
    """The public JWK to publish (OKP/Ed25519 or RSA) with kid and use, never a private part.

    "alg" is deliberately left out: libraries that read it refuse tokens naming the other
    spelling of Ed25519 (EdDSA vs the RFC 9864 "Ed25519"); the key type says it all.
    """
    public: Ed25519PublicKey | RSAPublicKey
    if isinstance(key, SigningKey):
        public = key.private_key.public_key()
        kid = key.kid if kid is None else kid
    elif isinstance(key, Ed25519PublicKey | RSAPublicKey):
        public = key
    else:
        raise TypeError("key must be a SigningKey, an Ed25519PublicKey or an RSAPublicKey")
    jwk: dict[str, str]
    if isinstance(public, RSAPublicKey):
        numbers = public.public_numbers()
        jwk = {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}
    else:
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    if kid is not None:
        _check_kid(kid)
        jwk["kid"] = kid
    jwk["use"] = "sig"
    return jwk


def jwks(keys: Iterable[SigningKey]) -> dict[str, list[dict[str, str]]]:
    """The JWK Set to publish: every key whose tokens must still verify, current and retired."""
    published = [public_jwk(key) for key in keys]
    kids = [jwk["kid"] for jwk in published]
    if len(set(kids)) != len(kids):
        raise ValueError("two keys share a kid")
    return {"keys": published}


def _b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE writes binary values."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    """A JWK integer (RFC 7518 6.3.1): big-endian, no leading zero octets, base64url."""
    return _b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url decoding; ValueError on any other character."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError("not base64url") from error


# --- Signing and verifying ---------------------------------------------------------------------

# OB 3.0 8.2 (JOSE Header): typ, if present, MUST be "JWT".
JWT_TYPE = "JWT"
# Accepted on verification: OB 3.0's "JWT", and the "vc+jwt" that certificates issued before
# that change carry (they stay valid).
_ACCEPTED_TYPES = frozenset({JWT_TYPE, "vc+jwt"})
_REGISTERED_CLAIMS = ("iss", "sub", "jti", "nbf", "iat", "exp", "aud")
_MAX_TOKEN = 1_000_000
_JWS = jwt.PyJWS(algorithms=list(ALGORITHMS))


def sign_credential(credential: dict[str, Any], key: SigningKey) -> str:
    """The credential as a compact JWS, as OB 3.0 section 8.2 specifies.

    The payload is the credential itself (OB 3.0 on VC Data Model 2.0 has no "vc" claim) with
    the claims that mirror it: iss = issuer.id, sub = credentialSubject.id, jti = id,
    nbf = validFrom, exp = validUntil when it has one. No other claim is added. The header is
    exactly {alg, kid, typ: "JWT"}. An embedded proof, if any, is added before this (8.2.2).
    """
    clash = [name for name in _REGISTERED_CLAIMS if name in credential]
    if clash:
        raise ValueError(f"credential already holds JWT claims: {clash}")
    issuer_id = _issuer_id(credential.get("issuer"))
    if issuer_id is None:
        raise ValueError("credential has no issuer id")
    if "validFrom" not in credential:
        raise ValueError("credential has no validFrom")
    valid_from = _epoch(_parse_datetime(credential["validFrom"]))
    claims: dict[str, Any] = dict(credential)
    claims["iss"] = issuer_id
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    claims["nbf"] = valid_from
    if "validUntil" in credential:
        claims["exp"] = _epoch(_parse_datetime(credential["validUntil"]))
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # PyJWS writes exactly {"alg", "kid", "typ"}: OB 3.0 allows no other header parameters.
    return _JWS.encode(
        payload, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": JWT_TYPE}
    )


class CredentialInvalid(Exception):
    """A token that does not verify; reason says why in one of four words for the caller."""

    def __init__(
        self, reason: Literal["malformed", "unknown key", "bad signature", "not a credential"]
    ) -> None:
        """Keep the reason both as the message and as an attribute to branch on."""
        super().__init__(reason)
        self.reason = reason


def verify_credential(token: str, key_set: dict[str, Any]) -> dict[str, Any]:
    """The payload of a VC-JWT signed by a key in key_set (a JWKS); raise CredentialInvalid if not.

    Only the signature and the credential's shape are judged here. Expiry and not-yet-valid are
    not: they are a credential's standing (see standing()), which the caller reports.
    """
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        raise CredentialInvalid("malformed")
    try:
        header = _JWS.get_unverified_header(token)
    except jwt.PyJWTError:
        raise CredentialInvalid("malformed") from None
    public_key = _find_key(key_set, header.get("kid"))
    if public_key is None:
        raise CredentialInvalid("unknown key")
    # The key decides the algorithm, never the token: an RSA key verifies RS256 only.
    algorithm = RS256 if isinstance(public_key, RSAPublicKey) else EDDSA
    if header.get("alg") != algorithm:
        raise CredentialInvalid("bad signature")
    try:
        # The JWS layer checks the signature only; no claim (exp, nbf, iat) is looked at.
        decoded = _JWS.decode_complete(token, public_key, algorithms=[algorithm])
    except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError):
        raise CredentialInvalid("bad signature") from None
    except jwt.PyJWTError:
        raise CredentialInvalid("malformed") from None
    try:
        payload = json.loads(decoded["payload"])
    except ValueError:  # also UnicodeDecodeError
        raise CredentialInvalid("not a credential") from None
    if not isinstance(payload, dict) or not _is_credential(header, payload):
        raise CredentialInvalid("not a credential")
    return payload


def _find_key(key_set: Mapping[str, Any], kid: object) -> Ed25519PublicKey | RSAPublicKey | None:
    """The public key the JWKS publishes under kid, or None if it has no usable one."""
    if not isinstance(kid, str):
        return None
    keys = key_set.get("keys") if isinstance(key_set, Mapping) else None
    if not isinstance(keys, list):
        return None
    for jwk in keys:
        if not isinstance(jwk, Mapping) or jwk.get("kid") != kid:
            continue
        return _public_key(jwk)
    return None


def _public_key(jwk: Mapping[str, Any]) -> Ed25519PublicKey | RSAPublicKey | None:
    """A public key from one JWK (OKP/Ed25519 or RSA of 2048+ bits), or None if unusable."""
    private_parts = {"d", "p", "q", "dp", "dq", "qi", "oth"}
    if private_parts & set(jwk) or jwk.get("use", "sig") != "sig":
        return None
    try:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            if not isinstance(jwk.get("x"), str):
                return None
            return Ed25519PublicKey.from_public_bytes(_b64url_decode(jwk["x"]))
        if jwk.get("kty") == "RSA":
            n, e = jwk.get("n"), jwk.get("e")
            if not isinstance(n, str) or not isinstance(e, str):
                return None
            public = RSAPublicNumbers(
                int.from_bytes(_b64url_decode(e), "big"), int.from_bytes(_b64url_decode(n), "big")
            ).public_key()
            return public if public.key_size >= _MIN_RSA_BITS else None
    except ValueError:
        return None
    return None


def _issuer_id(issuer: object) -> str | None:
    """The issuer's id whether the credential gives the issuer as a URL or as a Profile."""
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        return str(issuer["id"])
    return None


def _is_credential(header: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    """Whether a verified payload is a VC 2.0 credential whose JWT claims mirror it (OB 3.0)."""
    if header.get("typ") not in _ACCEPTED_TYPES:
        return False
    context = payload.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        return False
    types = payload.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        return False
    issuer_id = _issuer_id(payload.get("issuer"))
    subject = payload.get("credentialSubject")
    if issuer_id is None or not isinstance(subject, Mapping):
        return False
    try:
        valid_from = _epoch(_parse_datetime(payload.get("validFrom")))
        valid_until = (
            _epoch(_parse_datetime(payload["validUntil"])) if "validUntil" in payload else None
        )
    except ValueError:
        return False
    exp = payload.get("exp")
    return (
        payload.get("iss") == issuer_id
        and payload.get("jti") == payload.get("id")
        and payload.get("sub") == subject.get("id")
        and _is_int(payload.get("nbf"))
        and payload["nbf"] == valid_from
        and (exp is None if valid_until is None else _is_int(exp) and exp == valid_until)
    )


def _is_int(value: object) -> bool:
    """Whether a JSON value is an integer NumericDate (not a bool, which isinstance lets in)."""
    return type(value) is int


class UnrecordedAddress(RuntimeError):
    """Production whose recorded identifiers name an address it no longer answers for."""


class StatusUnknown(Exception):
    """A credential's revocation status cannot be established: its list is missing, unreachable,
    tampered, signed by another key, or does not hold its index (the message says which). The
    Bitstring Status List spec calls this a STATUS_RETRIEVAL_ERROR; it is never "valid"."""


# --- Standing ----------------------------------------------------------------------------------


CertificateState = Literal["valid", "expiring", "expired", "revoked", "not yet valid"]


def certificate_state(
    *,
    revoked: bool,
    valid_from: datetime,
    valid_until: datetime | None,
    now: datetime,
    warn_days: int | None = None,
) -> CertificateState:
    """A certificate's state at now from its dates, the one rule every page and command applies.

    Revoked wins, then not yet valid, then expired (from ``valid_until`` on, like JWT "exp"),
    then expiring (``warn_days`` or fewer before ``valid_until``; never when ``warn_days`` is None).
    """
    if revoked:
        return "revoked"
    if now < valid_from:
        return "not yet valid"
    if valid_until is not None:
        if now >= valid_until:
            return "expired"
        if warn_days is not None and now >= valid_until - timedelta(days=warn_days):
            return "expiring"
    return "valid"


@dataclass(frozen=True)
class Standing:
    """Where a verified credential stands at one moment, with the dates that decided it."""

    state: CertificateState  # never "expiring": a credential's standing has no warning window
    valid_from: datetime
    valid_until: datetime | None


def standing(payload: dict[str, Any], revoked: bool, now: datetime) -> Standing:
    """A verified payload's standing at now, by certificate_state from its signed dates."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    valid_from = _parse_datetime(payload.get("validFrom"))
    raw_until = payload.get("validUntil")
    valid_until = None if raw_until is None else _parse_datetime(raw_until)
    state = certificate_state(
        revoked=revoked, valid_from=valid_from, valid_until=valid_until, now=now
    )
    return Standing(state=state, valid_from=valid_from, valid_until=valid_until)


# --- Bitstring status list ---------------------------------------------------------------------

# The spec's minimum (16 KiB of bits): a list this long hides which certificate is checked.
STATUS_LIST_SIZE = 131_072
_MAX_STATUS_BYTES = 16 * 1024 * 1024  # refuse anything that inflates beyond this


def encode_status_list(
    revoked: Iterable[int], size: int = STATUS_LIST_SIZE, minimum: int = STATUS_LIST_SIZE
) -> str:
    """The encodedList for these revoked indexes: "u" + base64url(gzip(bits)), byte-stable.
    ``minimum`` guards the size (lower it only where small lists are wanted, e.g. in tests)."""
    if size < max(minimum, 8) or size % 8:
        raise ValueError(f"size must be a multiple of 8 and at least {minimum}")
    bits = bytearray(size // 8)
    for index in revoked:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside the list")
        bits[index // 8] |= 0x80 >> (index % 8)  # bit 0 is the most significant bit
    # mtime=0 keeps the output identical for identical input, so caches and ETags hold.
    return "u" + _b64url(gzip.compress(bytes(bits), mtime=0))


def status_bit(encoded: str, index: int) -> bool:
    """Whether bit index is set in an encodedList; ValueError if malformed or out of range."""
    bits = _decode_status_list(encoded)
    if not 0 <= index < len(bits) * 8:
        raise ValueError(f"status index {index} is outside the list")
    return bool((bits[index // 8] >> (7 - index % 8)) & 1)


def _decode_status_list(encoded: str) -> bytes:
    """The raw bitstring inside an encodedList, refusing bad encodings and oversized gzip."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (prefix 'u')")
    compressed = _b64url_decode(encoded[1:])
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip only
    try:
        bits = inflater.decompress(compressed, _MAX_STATUS_BYTES + 1)
    except zlib.error as error:
        raise ValueError("encodedList is not gzip") from error
    if len(bits) > _MAX_STATUS_BYTES:
        raise ValueError("encodedList is too large")
    if not inflater.eof or inflater.unused_data or not bits:
        raise ValueError("encodedList is truncated or has trailing data")
    return bits


def build_status_list_credential(
    list_url: str, issuer: Issuer, encoded: str, valid_from: datetime
) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential publishing the revocation bits at list_url."""
    _decode_status_list(encoded)  # never publish a list that verifiers cannot read
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.id,
        "validFrom": _iso(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }
