"""Certificates as OB 3.0 VC-JWTs: codes, credential shape, signatures, status list, standing."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import hmac
import json
import math
import random
import re
import secrets
import warnings
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError, SecurityWarning
from joserfc.jwk import KeySet

from elearn.domain.credentials import (
    CODE_ALPHABET,
    STATUS_LIST_SIZE,
    AchievementInfo,
    CredentialInfo,
    CredentialInvalid,
    Issuer,
    SigningKey,
    build_credential,
    build_status_list_credential,
    encode_status_list,
    generate_key,
    jwks,
    key_from_pem,
    key_to_pem,
    new_code,
    normalise_code,
    public_jwk,
    sign_credential,
    standing,
    status_bit,
    verify_credential,
)

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
KID = "https://elearn.example/.well-known/jwks.json#k-2026-11-20"
OLD_KID = "https://elearn.example/.well-known/jwks.json#k-2025-11-20"
KEY = generate_key(KID)
RSA_KID = "https://elearn.example/keys/r-2026-11-20"
RSA_KEY = generate_key(RSA_KID, "RS256")
ISSUER = Issuer(
    id="https://elearn.example/issuer", name="Elearn Sertifisering", url="https://elearn.example"
)
ACHIEVEMENT = AchievementInfo(
    id="https://elearn.example/achievements/spp-basic",
    name="Bærekraftige innkjøp – grunnkurs",
    description="Sertifisert i bærekraftige offentlige anskaffelser.",
    criteria="Bestod den overvåkede eksamen med minst 80 % riktige svar.",
    alignments=(
        ("Bærekraftsmålene", "https://elearn.example/topics/sdgs"),
        ("Livssykluskostnader", "https://elearn.example/topics/lcc"),
    ),
)
CODE = "K7QM-3XPA-9TRD"
STATUS_URL = "https://elearn.example/status/1"


def _info(**changes: Any) -> CredentialInfo:
    info = CredentialInfo(
        id=f"https://elearn.example/api/v1/credentials/{CODE}",
        code=CODE,
        holder_name="Kari Nordmann",
        holder_id="mailto:kari@example.no",
        achievement=ACHIEVEMENT,
        issuer=ISSUER,
        valid_from=NOW,
        valid_until=NOW + timedelta(days=3 * 365),
        status_list_url=STATUS_URL,
        status_index=4242,
        language="nb",
    )
    return dataclasses.replace(info, **changes)


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, decoded by hand (no JOSE library involved)."""
    head, body, _ = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))),
        json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))),
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _reason(token: str, key_set: dict[str, Any]) -> str:
    with pytest.raises(CredentialInvalid) as caught:
        verify_credential(token, key_set)
    return caught.value.reason


def _signed_raw(
    payload: dict[str, Any], header: dict[str, Any] | None = None, drop: tuple[str, ...] = ()
) -> str:
    """A token with a valid EdDSA signature by KEY over an arbitrary payload and header."""
    head = {"alg": "EdDSA", "kid": KID, "typ": "vc+jwt", **(header or {})}
    for name in drop:
        del head[name]
    signing_input = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(KEY.private_key.sign(signing_input.encode()))}"


# --- codes -------------------------------------------------------------------------------------


def test_the_alphabet_has_32_symbols_and_none_of_the_ambiguous_ones() -> None:
    assert len(CODE_ALPHABET) == len(set(CODE_ALPHABET)) == 32
    assert not set("0O1I") & set(CODE_ALPHABET)
    assert CODE_ALPHABET.isupper() and CODE_ALPHABET.isalnum()


def test_a_code_is_12_symbols_in_three_groups_so_60_bits() -> None:
    code = new_code(random.Random(1))
    symbols = code.replace("-", "")
    assert re.fullmatch(r"[^-]{4}-[^-]{4}-[^-]{4}", code)
    assert len(symbols) * math.log2(len(CODE_ALPHABET)) == 60
    assert set(symbols) <= set(CODE_ALPHABET)


def test_codes_come_from_the_rng_passed_in() -> None:
    assert new_code(random.Random(7)) == new_code(random.Random(7))
    assert new_code(random.Random(7)) != new_code(random.Random(8))


def test_many_codes_from_system_random_are_distinct_and_use_every_symbol() -> None:
    codes = [new_code(secrets.SystemRandom()) for _ in range(20_000)]
    assert len(set(codes)) == len(codes)
    assert set("".join(codes).replace("-", "")) == set(CODE_ALPHABET)


@pytest.mark.parametrize(
    "typed",
    [
        "K7QM-3XPA-9TRD",
        "k7qm 3xpa 9trd",
        "k7qm3xpa9trd",
        " K7QM--3XPA-9TRD- ",
        "k7q m3xp-a9trd",
        "K7QM–3XPA–9TRD",  # en dash, as word processors write it
        "K7QM\u00a03XPA\t9TRD\n",
    ],
)
def test_normalise_accepts_how_people_type_a_code(typed: str) -> None:
    assert normalise_code(typed) == "K7QM-3XPA-9TRD"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "----",
        "K7QM-3XPA-9TR",  # 11 symbols
        "K7QM-3XPA-9TRDX",  # 13 symbols
        "K7QM-3XPA-9TR0",  # zero is not in the alphabet
        "K7QM-3XPA-9TRO",  # nor is O
        "K7QM-3XPA-9TR1",
        "K7QM-3XPA-9TRI",
        "K7QM_3XPA_9TRD",
        "K7QM.3XPA.9TRD",
        "K7QM-3XPA-9TRſ",  # long s would upper-case to S
        "K7QM-3XPA-9TRＤ",  # full-width D
        "K7QM-3XPA-9TRD" + " " * 100,
    ],
)
def test_normalise_refuses_what_is_not_a_code(typed: str) -> None:
    assert normalise_code(typed) is None


def test_every_new_code_normalises_to_itself() -> None:
    rng = random.Random(3)
    for _ in range(200):
        code = new_code(rng)
        assert normalise_code(code) == code
        assert normalise_code(code.lower().replace("-", " ")) == code


# --- build_credential --------------------------------------------------------------------------


def test_the_credential_has_the_ob3_and_vc2_fields() -> None:
    cred = build_credential(_info())
    assert cred["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert cred["id"] == f"https://elearn.example/api/v1/credentials/{CODE}"
    assert cred["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert cred["issuer"] == {
        "id": "https://elearn.example/issuer",
        "type": ["Profile"],
        "name": "Elearn Sertifisering",
        "url": "https://elearn.example",
    }
    assert cred["name"] == ACHIEVEMENT.name
    subject = cred["credentialSubject"]
    assert subject["id"] == "mailto:kari@example.no"
    assert subject["type"] == ["AchievementSubject"]
    assert subject["name"] == "Kari Nordmann"
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "Kari Nordmann",
        }
    ]
    assert subject["achievement"] == {
        "id": ACHIEVEMENT.id,
        "type": ["Achievement"],
        "name": ACHIEVEMENT.name,
        "description": ACHIEVEMENT.description,
        "criteria": {"narrative": ACHIEVEMENT.criteria},
        "alignment": [
            {
                "type": ["Alignment"],
                "targetName": "Bærekraftsmålene",
                "targetUrl": "https://elearn.example/topics/sdgs",
            },
            {
                "type": ["Alignment"],
                "targetName": "Livssykluskostnader",
                "targetUrl": "https://elearn.example/topics/lcc",
            },
        ],
    }
    json.dumps(cred)  # plain JSON all the way down


def test_the_status_entry_points_at_the_bit_in_the_list() -> None:
    assert build_credential(_info())["credentialStatus"] == {
        "id": "https://elearn.example/status/1#4242",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "4242",
        "statusListCredential": "https://elearn.example/status/1",
    }


def test_dates_are_whole_second_utc_with_z() -> None:
    oslo = timezone(timedelta(hours=1))
    cred = build_credential(
        _info(
            valid_from=datetime(2026, 11, 20, 11, 30, 5, 999_999, tzinfo=oslo),
            valid_until=datetime(2029, 11, 20, 11, 30, tzinfo=oslo),
        )
    )
    assert cred["validFrom"] == "2026-11-20T10:30:05Z"
    assert cred["validUntil"] == "2029-11-20T10:30:00Z"


def test_valid_until_is_left_out_when_the_certificate_does_not_expire() -> None:
    cred = build_credential(_info(valid_until=None))
    assert "validUntil" not in cred
    assert cred["validFrom"].endswith("Z")


def test_an_achievement_without_topics_has_no_alignment() -> None:
    cred = build_credential(_info(achievement=dataclasses.replace(ACHIEVEMENT, alignments=())))
    assert "alignment" not in cred["credentialSubject"]["achievement"]


@pytest.mark.parametrize(
    "changes",
    [
        {"valid_from": datetime(2026, 11, 20, 10, 30)},  # naive
        {"valid_until": datetime(2029, 11, 20)},  # naive
        {"valid_until": NOW},  # not after valid_from
        {"status_index": -1},
    ],
)
def test_build_refuses_impossible_input(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        build_credential(_info(**changes))


# --- sign and verify ---------------------------------------------------------------------------


def test_the_header_is_exactly_alg_kid_typ() -> None:
    header, _ = _segments(sign_credential(build_credential(_info()), KEY))
    assert header == {"alg": "EdDSA", "kid": KID, "typ": "JWT"}  # OB 3.0 8.2: typ "JWT"
    header, _ = _segments(sign_credential(build_credential(_info()), RSA_KEY))
    assert header == {"alg": "RS256", "kid": RSA_KID, "typ": "JWT"}


def test_the_payload_is_the_credential_plus_mirroring_jwt_claims() -> None:
    cred = build_credential(_info())
    _, payload = _segments(sign_credential(cred, KEY))
    assert "vc" not in payload
    claims = {k: payload.pop(k) for k in ("iss", "sub", "jti", "nbf", "exp")}
    assert payload == cred  # exactly OB 3.0's mapping: no "iat", no "vc" wrapper
    assert claims == {
        "iss": "https://elearn.example/issuer",
        "sub": "mailto:kari@example.no",
        "jti": cred["id"],
        "nbf": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(days=3 * 365)).timestamp()),
    }


def test_no_exp_claim_without_valid_until() -> None:
    _, payload = _segments(sign_credential(build_credential(_info(valid_until=None)), KEY))
    assert "exp" not in payload and "validUntil" not in payload


def test_signing_does_not_change_the_credential_passed_in() -> None:
    cred = build_credential(_info())
    before = json.dumps(cred, sort_keys=True)
    sign_credential(cred, KEY)
    assert json.dumps(cred, sort_keys=True) == before


def test_sign_refuses_a_credential_that_already_has_jwt_claims() -> None:
    with pytest.raises(ValueError):
        sign_credential({**build_credential(_info()), "exp": 1}, KEY)


def test_round_trip_through_verify_credential() -> None:
    cred = build_credential(_info())
    payload = verify_credential(sign_credential(cred, KEY), jwks([KEY]))
    assert {k: v for k, v in payload.items() if k in cred} == cred
    assert payload["jti"] == cred["id"]


def test_plain_pyjwt_verifies_it_from_the_published_jwk() -> None:
    token = sign_credential(build_credential(_info()), KEY)
    public = jwt.PyJWK(jwks([KEY])["keys"][0])
    claims = jwt.decode(token, public, algorithms=["EdDSA"])
    assert claims["iss"] == ISSUER.id
    assert claims["credentialSubject"]["name"] == "Kari Nordmann"


def test_joserfc_verifies_it_with_only_the_public_jwks() -> None:
    token = sign_credential(build_credential(_info()), KEY)
    published = json.loads(json.dumps(jwks([KEY])))  # exactly what a verifier downloads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # "EdDSA is deprecated via RFC 9864"
        decoded = jose_jwt.decode(token, KeySet.import_key_set(published), algorithms=["EdDSA"])
    assert decoded.header == {"alg": "EdDSA", "kid": KID, "typ": "JWT"}
    assert decoded.claims["credentialSubject"]["achievement"]["name"] == ACHIEVEMENT.name
    assert decoded.claims["credentialStatus"]["statusListIndex"] == "4242"


def test_joserfc_rejects_a_tampered_token_too() -> None:
    token = sign_credential(build_credential(_info()), KEY)
    head, _, sig = token.split(".")
    _, payload = _segments(token)
    payload["credentialSubject"]["name"] = "Ola Nordmann"
    forged = f"{head}.{_b64(json.dumps(payload).encode())}.{sig}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        with pytest.raises(BadSignatureError):
            key_set = KeySet.import_key_set(json.loads(json.dumps(jwks([KEY]))))
            jose_jwt.decode(forged, key_set, algorithms=["EdDSA"])


def test_a_tampered_payload_is_a_bad_signature() -> None:
    token = sign_credential(build_credential(_info()), KEY)
    head, _, sig = token.split(".")
    _, payload = _segments(token)
    payload["credentialSubject"]["name"] = "Ola Nordmann"
    forged = f"{head}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}.{sig}"
    assert _reason(forged, jwks([KEY])) == "bad signature"


def test_a_token_from_another_key_under_our_kid_is_a_bad_signature() -> None:
    impostor = generate_key(KID)
    token = sign_credential(build_credential(_info()), impostor)
    assert _reason(token, jwks([KEY])) == "bad signature"


def test_alg_none_and_hmac_with_the_public_key_are_bad_signatures() -> None:
    _, payload = _segments(sign_credential(build_credential(_info()), KEY))
    body = _b64(json.dumps(payload).encode())
    none_head = _b64(json.dumps({"alg": "none", "kid": KID, "typ": "vc+jwt"}).encode())
    assert _reason(f"{none_head}.{body}.", jwks([KEY])) == "bad signature"
    hs_head = _b64(json.dumps({"alg": "HS256", "kid": KID, "typ": "vc+jwt"}).encode())
    secret = jwks([KEY])["keys"][0]["x"].encode()
    mac = hmac.new(secret, f"{hs_head}.{body}".encode(), hashlib.sha256).digest()
    assert _reason(f"{hs_head}.{body}.{_b64(mac)}", jwks([KEY])) == "bad signature"


def test_an_unknown_kid_is_an_unknown_key() -> None:
    stranger = generate_key("https://elsewhere.example/keys#1")
    token = sign_credential(build_credential(_info()), stranger)
    assert _reason(token, jwks([KEY])) == "unknown key"
    assert _reason(sign_credential(build_credential(_info()), KEY), {"keys": []}) == "unknown key"
    assert _reason(sign_credential(build_credential(_info()), KEY), {}) == "unknown key"


def test_a_token_without_kid_is_an_unknown_key() -> None:
    _, payload = _segments(_good_token())
    assert _reason(_signed_raw(payload, drop=("kid",)), jwks([KEY])) == "unknown key"


def _good_token() -> str:
    return sign_credential(build_credential(_info()), KEY)


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b", "a.b.c", "!!!.###.$$$", "a.b.c.d", "W10.e30.", " " * 10],
)
def test_garbage_is_malformed(garbage: str) -> None:
    assert _reason(garbage, jwks([KEY])) == "malformed"


def test_a_header_that_is_not_json_is_malformed() -> None:
    _, body, sig = _good_token().split(".")
    assert _reason(f"{_b64(b'not json')}.{body}.{sig}", jwks([KEY])) == "malformed"


@pytest.mark.parametrize(
    "payload",
    [
        {"hello": "world"},
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]},
    ],
)
def test_a_signed_token_that_is_no_credential_is_not_a_credential(payload: dict[str, Any]) -> None:
    assert _reason(_signed_raw(payload), jwks([KEY])) == "not a credential"


def test_a_signed_payload_that_is_not_an_object_is_not_a_credential() -> None:
    head = _b64(json.dumps({"alg": "EdDSA", "kid": KID, "typ": "vc+jwt"}).encode())
    signing_input = f"{head}.{_b64(b'[1, 2, 3]')}"
    token = f"{signing_input}.{_b64(KEY.private_key.sign(signing_input.encode()))}"
    assert _reason(token, jwks([KEY])) == "not a credential"


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "https://evil.example/issuer"},
        {"sub": "mailto:someone@else.example"},
        {"jti": "https://elearn.example/api/v1/credentials/OTHER"},
        {"nbf": 0},
        {"exp": 4_000_000_000},
        {"validFrom": "yesterday"},
    ],
)
def test_claims_that_contradict_the_credential_are_not_a_credential(
    change: dict[str, Any],
) -> None:
    _, payload = _segments(_good_token())
    assert verify_credential(_signed_raw(payload), jwks([KEY]))  # the unchanged one passes
    assert _reason(_signed_raw({**payload, **change}), jwks([KEY])) == "not a credential"


def test_a_token_of_another_type_is_not_a_credential() -> None:
    _, payload = _segments(_good_token())
    assert _reason(_signed_raw(payload, {"typ": "at+jwt"}), jwks([KEY])) == "not a credential"
    assert verify_credential(_signed_raw(payload, {"typ": "JWT"}), jwks([KEY]))


def test_an_expired_credential_still_verifies_and_stands_expired() -> None:
    past = NOW - timedelta(days=4 * 365)
    token = sign_credential(
        build_credential(_info(valid_from=past, valid_until=past + timedelta(days=365))), KEY
    )
    payload = verify_credential(token, jwks([KEY]))
    assert standing(payload, revoked=False, now=NOW).state == "expired"


def test_a_future_dated_credential_still_verifies_and_stands_not_yet_valid() -> None:
    token = sign_credential(build_credential(_info(valid_from=NOW + timedelta(days=1))), KEY)
    payload = verify_credential(token, jwks([KEY]))
    assert standing(payload, revoked=False, now=NOW).state == "not yet valid"


def test_after_rotation_the_set_verifies_tokens_from_old_and_new_keys() -> None:
    old, new = generate_key(OLD_KID), KEY
    old_token = sign_credential(build_credential(_info()), old)
    new_token = sign_credential(build_credential(_info()), new)
    both = jwks([new, old])
    assert verify_credential(old_token, both)["iss"] == ISSUER.id
    assert verify_credential(new_token, both)["iss"] == ISSUER.id
    assert _reason(old_token, jwks([new])) == "unknown key"


def test_the_published_jwk_has_no_alg_and_no_private_part() -> None:
    (jwk,) = jwks([KEY])["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "use"}
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["use"] == "sig"
    assert jwk["kid"] == KID
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
    assert public_jwk(KEY.private_key.public_key(), KID) == jwk
    assert "kid" not in public_jwk(KEY.private_key.public_key())


def test_a_jwks_refuses_two_keys_with_one_kid() -> None:
    with pytest.raises(ValueError):
        jwks([KEY, generate_key(KID)])


def test_a_published_key_with_a_private_part_is_not_used() -> None:
    jwk = {**jwks([KEY])["keys"][0], "d": "AAAA"}
    assert _reason(_good_token(), {"keys": [jwk]}) == "unknown key"


def test_a_key_survives_a_pem_round_trip() -> None:
    pem = key_to_pem(KEY)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = key_from_pem(KID, pem)
    assert public_jwk(loaded) == public_jwk(KEY)
    assert verify_credential(sign_credential(build_credential(_info()), loaded), jwks([KEY]))


def test_key_from_pem_refuses_a_key_of_another_kind() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError):
        key_from_pem(KID, pem)


@pytest.mark.parametrize("kid", ["", "k-2026-11-20", "https://elearn.example/keys #1"])
def test_a_kid_must_be_a_uri(kid: str) -> None:
    with pytest.raises(ValueError):
        generate_key(kid)
    with pytest.raises(ValueError):
        SigningKey(kid=kid, private_key=KEY.private_key)


# --- status list -------------------------------------------------------------------------------


def test_status_bits_are_set_exactly_where_revoked() -> None:
    revoked = {0, 7, 8, 131_071}
    encoded = encode_status_list(revoked)
    for index in (*revoked, 1, 6, 9, 15, 16, 4242, 131_070):
        assert status_bit(encoded, index) is (index in revoked)


def test_bit_zero_is_the_most_significant_bit_of_byte_zero() -> None:
    encoded = encode_status_list([0, 7, 8])
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) == STATUS_LIST_SIZE // 8
    assert bits[:3] == bytes([0b1000_0001, 0b1000_0000, 0])


def test_a_full_list_with_one_revocation_is_short() -> None:
    encoded = encode_status_list([4242])
    assert encoded.startswith("u") and "=" not in encoded
    assert re.fullmatch(r"u[A-Za-z0-9_-]+", encoded)
    assert 60 <= len(encoded) <= 90  # 69-77 characters here, by where the bit falls


def test_the_encoding_is_byte_stable() -> None:
    assert encode_status_list([8, 0, 8, 131_071]) == encode_status_list([0, 8, 131_071])
    assert encode_status_list([]) == encode_status_list(iter(()))


def test_indexes_outside_the_list_are_refused() -> None:
    encoded = encode_status_list([1])
    for index in (-1, STATUS_LIST_SIZE, STATUS_LIST_SIZE + 8):
        with pytest.raises(ValueError):
            status_bit(encoded, index)
    with pytest.raises(ValueError):
        encode_status_list([STATUS_LIST_SIZE])
    with pytest.raises(ValueError):
        encode_status_list([-1])


def test_a_list_shorter_than_the_minimum_or_not_whole_bytes_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_status_list([], size=1024)
    with pytest.raises(ValueError):
        encode_status_list([], size=STATUS_LIST_SIZE + 1)
    longer = encode_status_list([STATUS_LIST_SIZE + 5], size=2 * STATUS_LIST_SIZE)
    assert status_bit(longer, STATUS_LIST_SIZE + 5)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "u",
        "z" + encode_status_list([1])[1:],  # another multibase prefix
        "u!!!!",
        encode_status_list([1]) + "=",
        "u" + _b64(b"plainly not gzip"),
        "u" + _b64(gzip.compress(bytes(16), mtime=0)[:-4]),  # truncated
        "u" + _b64(gzip.compress(bytes(16), mtime=0) + b"junk"),
        "u" + _b64(gzip.compress(b"", mtime=0)),
    ],
)
def test_a_malformed_list_is_refused(encoded: str) -> None:
    with pytest.raises(ValueError):
        status_bit(encoded, 0)


def test_a_list_that_inflates_beyond_16_mib_is_refused() -> None:
    bomb = "u" + _b64(gzip.compress(bytes(17 * 1024 * 1024), mtime=0))
    with pytest.raises(ValueError):
        status_bit(bomb, 0)


def test_the_status_list_credential_signs_and_verifies() -> None:
    encoded = encode_status_list([4242])
    cred = build_status_list_credential(STATUS_URL, ISSUER, encoded, NOW)
    assert cred == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": STATUS_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER.id,
        "validFrom": "2026-11-20T10:30:00Z",
        "credentialSubject": {
            "id": f"{STATUS_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }
    payload = verify_credential(sign_credential(cred, KEY), jwks([KEY]))
    assert payload["iss"] == ISSUER.id and payload["sub"] == f"{STATUS_URL}#list"
    assert status_bit(payload["credentialSubject"]["encodedList"], 4242)


def test_build_status_list_credential_refuses_a_bad_list() -> None:
    with pytest.raises(ValueError):
        build_status_list_credential(STATUS_URL, ISSUER, "u!!!", NOW)


def test_revocation_end_to_end() -> None:
    cred = build_credential(_info())
    payload = verify_credential(sign_credential(cred, KEY), jwks([KEY]))
    entry = payload["credentialStatus"]
    encoded = encode_status_list([int(entry["statusListIndex"])])
    revoked = status_bit(encoded, int(entry["statusListIndex"]))
    assert standing(payload, revoked=revoked, now=NOW + timedelta(days=1)).state == "revoked"


# --- standing ----------------------------------------------------------------------------------


def _payload(valid_until: datetime | None = NOW + timedelta(days=365)) -> dict[str, Any]:
    return verify_credential(
        sign_credential(build_credential(_info(valid_until=valid_until)), KEY), jwks([KEY])
    )


def test_standing_valid_within_the_window_with_its_dates() -> None:
    result = standing(_payload(), revoked=False, now=NOW + timedelta(days=30))
    assert result.state == "valid"
    assert result.valid_from == NOW
    assert result.valid_until == NOW + timedelta(days=365)


def test_standing_valid_forever_without_valid_until() -> None:
    result = standing(_payload(None), revoked=False, now=NOW + timedelta(days=50 * 365))
    assert result.state == "valid" and result.valid_until is None


def test_standing_boundaries() -> None:
    payload = _payload()
    assert standing(payload, False, NOW).state == "valid"
    assert standing(payload, False, NOW - timedelta(seconds=1)).state == "not yet valid"
    assert standing(payload, False, NOW + timedelta(days=365)).state == "expired"


def test_revoked_wins_over_expired_and_not_yet_valid() -> None:
    payload = _payload()
    assert standing(payload, True, NOW + timedelta(days=30)).state == "revoked"
    assert standing(payload, True, NOW + timedelta(days=400)).state == "revoked"
    assert standing(payload, True, NOW - timedelta(days=1)).state == "revoked"


def test_standing_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        standing(_payload(), False, datetime(2026, 12, 1))


def test_standing_reads_other_time_zones() -> None:
    oslo = timezone(timedelta(hours=1))
    result = standing(_payload(), False, datetime(2026, 11, 20, 11, 29, 59, tzinfo=oslo))
    assert result.state == "not yet valid"


# --- RS256 beside EdDSA, verified by two independent JOSE libraries --------------------------------


def test_an_rs256_credential_verifies_with_our_verifier_beside_an_eddsa_one() -> None:
    key_set = jwks([KEY, RSA_KEY])
    for key in (KEY, RSA_KEY):
        payload = verify_credential(sign_credential(build_credential(_info()), key), key_set)
        assert payload["credentialSubject"]["name"] == "Kari Nordmann"


def test_the_published_rsa_jwk_has_no_private_part() -> None:
    jwk = public_jwk(RSA_KEY)
    assert set(jwk) == {"kty", "n", "e", "kid", "use"}
    assert jwk["kty"] == "RSA" and jwk["e"] == "AQAB" and jwk["kid"] == RSA_KID


def test_joserfc_verifies_the_rs256_credential() -> None:
    token = sign_credential(build_credential(_info()), RSA_KEY)
    published = json.loads(json.dumps(jwks([KEY, RSA_KEY])))
    decoded = jose_jwt.decode(token, KeySet.import_key_set(published), algorithms=["RS256"])
    assert decoded.header == {"alg": "RS256", "kid": RSA_KID, "typ": "JWT"}
    assert decoded.claims["iss"] == ISSUER.id and decoded.claims["jti"] == _info().id


@pytest.mark.parametrize("key", [KEY, RSA_KEY], ids=["EdDSA", "RS256"])
def test_jwcrypto_verifies_both_algorithms_from_the_published_jwks(key: SigningKey) -> None:
    from jwcrypto import jwk as jwcrypto_jwk
    from jwcrypto import jws as jwcrypto_jws

    token = sign_credential(build_credential(_info()), key)
    published = jwcrypto_jwk.JWKSet.from_json(json.dumps(jwks([KEY, RSA_KEY])))
    verifier = jwcrypto_jws.JWS()
    verifier.deserialize(token)
    verifier.verify(published.get_key(key.kid), alg=key.algorithm)
    claims = json.loads(verifier.payload)
    assert claims["sub"] == "mailto:kari@example.no"
    forged = token[:-8] + ("A" * 8 if not token.endswith("A" * 8) else "B" * 8)
    verifier = jwcrypto_jws.JWS()
    verifier.deserialize(forged)
    with pytest.raises(jwcrypto_jws.InvalidJWSSignature):
        verifier.verify(published.get_key(key.kid), alg=key.algorithm)


def test_a_token_claiming_eddsa_under_an_rsa_kid_is_a_bad_signature() -> None:
    _, payload = _segments(sign_credential(build_credential(_info()), KEY))
    forged = _signed_raw(payload, header={"kid": RSA_KID})  # EdDSA-signed, names the RSA key
    assert _reason(forged, jwks([KEY, RSA_KEY])) == "bad signature"


def test_an_old_vc_jwt_token_with_iat_still_verifies() -> None:
    """Certificates issued before OB 3.0's exact mapping carry typ vc+jwt and an iat claim."""
    _, payload = _segments(sign_credential(build_credential(_info()), KEY))
    payload["iat"] = payload["nbf"]
    old = _signed_raw(payload, header={"typ": "vc+jwt"})
    assert verify_credential(old, jwks([KEY]))["iat"] == payload["nbf"]


def test_a_short_rsa_key_is_refused_to_sign_and_to_verify() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="2048"):
        SigningKey(kid=RSA_KID, private_key=weak)
    numbers = weak.public_key().public_numbers()
    weak_jwk = {
        "kty": "RSA",
        "kid": RSA_KID,
        "n": _b64(numbers.n.to_bytes(128, "big")),
        "e": "AQAB",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT: "below the minimum recommended size"
        token = jwt.encode(
            {"x": 1}, weak, algorithm="RS256", headers={"kid": RSA_KID, "typ": "JWT"}
        )
    assert _reason(token, {"keys": [weak_jwk]}) == "unknown key"


def test_an_rsa_key_round_trips_through_pem() -> None:
    loaded = key_from_pem(RSA_KID, key_to_pem(RSA_KEY))
    assert loaded.algorithm == "RS256" and public_jwk(loaded) == public_jwk(RSA_KEY)


def test_an_unknown_algorithm_is_refused_when_generating() -> None:
    with pytest.raises(ValueError, match="RS256"):
        generate_key(KID, "HS256")
