"""The eddsa-rdfc-2022 Data Integrity proof: the W3C test vectors first, then our credentials,
each checked by code that is not the project's own (pyld + cryptography called here directly)."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from elearn.domain import dataintegrity as di
from elearn.domain.credentials import AchievementInfo, CredentialInfo, Issuer, build_credential

VENDOR = Path(__file__).parents[1] / "vendor"
VECTORS = VENDOR / "vc-di-eddsa-vectors"
CONTEXTS = {
    "https://www.w3.org/ns/credentials/v2": Path(__file__).parents[2]
    / "elearn/domain/contexts/credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": Path(__file__).parents[2]
    / "elearn/domain/contexts/ob-context-3.0.3.json",
    "https://www.w3.org/ns/credentials/examples/v2": VENDOR / "credentials-examples-v2.jsonld",
}
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    """The test's own offline loader (the examples context too, for the W3C vectors)."""
    if url not in CONTEXTS:
        raise RuntimeError(f"no network in tests: {url}")
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(CONTEXTS[url].read_text()),
    }


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def _canon(document: dict[str, Any]) -> str:
    return jsonld.normalize(
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": _loader},
    )


def independent_verify(secured: dict[str, Any]) -> bool:
    """vc-di-eddsa 3.2 (eddsa-rdfc-2022) verification written out with pyld and cryptography."""
    document = {k: v for k, v in secured.items() if k != "proof"}
    proofs = secured["proof"]
    if isinstance(proofs, list):  # a proof set (OB 3.0's schema asks for an array)
        assert len(proofs) == 1
        proofs = proofs[0]
    proof = dict(proofs)
    value = proof.pop("proofValue")
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    proof["@context"] = secured["@context"]
    multibase = proof["verificationMethod"].split("#")[0].removeprefix("did:key:")
    raw = _b58decode(multibase[1:])
    assert raw[:2] == b"\xed\x01"
    public = Ed25519PublicKey.from_public_bytes(raw[2:])
    data = (
        hashlib.sha256(_canon(proof).encode()).digest()
        + hashlib.sha256(_canon(document).encode()).digest()
    )
    try:
        public.verify(_b58decode(value[1:]), data)
    except InvalidSignature:
        return False
    return True


def _vector_key() -> Ed25519PrivateKey:
    pair = json.loads((VECTORS / "keyPair.json").read_text())
    secret = _b58decode(pair["privateKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Ed25519PrivateKey.from_private_bytes(secret[2:])


# --- the W3C test vectors ------------------------------------------------------------------------


def test_the_independent_verifier_accepts_the_w3c_signed_vector() -> None:
    assert independent_verify(json.loads((VECTORS / "signedDataInt.json").read_text()))


def test_the_independent_verifier_refuses_the_w3c_vector_with_a_changed_claim() -> None:
    signed = json.loads((VECTORS / "signedDataInt.json").read_text())
    signed["credentialSubject"]["alumniOf"] = "Another School"
    assert not independent_verify(signed)


def test_our_proof_reproduces_the_w3c_vector_byte_for_byte() -> None:
    unsigned = json.loads((VECTORS / "unsigned.json").read_text())
    config = json.loads((VECTORS / "proofConfigDataInt.json").read_text())
    assert di.canonize(unsigned, _loader) == (VECTORS / "canonDocDataInt.txt").read_text()
    assert di.canonize(config, _loader) == (VECTORS / "proofCanonDataInt.txt").read_text()
    signed = di.add_proof(unsigned, _vector_key(), created=config["created"], loader=_loader)
    assert signed == json.loads((VECTORS / "signedDataInt.json").read_text())
    expected_hash = (VECTORS / "combinedHashDataInt.txt").read_text().strip()
    assert di._hash_data(unsigned, config, _loader).hex() == expected_hash
    assert signed["proof"]["proofValue"] == (VECTORS / "sigBTC58DataInt.txt").read_text().strip()


def test_our_verifier_accepts_the_w3c_vector_and_names_its_key() -> None:
    signed = json.loads((VECTORS / "signedDataInt.json").read_text())
    document, public = di.verify_proof(signed, _loader)
    assert "proof" not in document
    pair = json.loads((VECTORS / "keyPair.json").read_text())
    assert di.multikey(public) == pair["publicKeyMultibase"]


# --- our credential -------------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def _credential() -> dict[str, Any]:
    return build_credential(
        CredentialInfo(
            id="https://elearn.example/api/v1/credentials/K7QM-3XPA-9TRD",
            code="K7QM-3XPA-9TRD",
            holder_name="Kari Nordmann",
            holder_id="urn:uuid:0d5a4a0e-8a4b-4d0a-9f3c-0b8f6a1c2d3e",
            achievement=AchievementInfo(
                id="https://elearn.example/achievements/soa",
                name="Bærekraftige anskaffelser",
                description="Sertifisering",
                criteria="Bestått eksamen.",
                alignments=(("Klima", "https://elearn.example/achievements/soa#topic-klima"),),
            ),
            issuer=Issuer(
                id="https://elearn.example/issuer", name="DFØ", url="https://elearn.example"
            ),
            valid_from=NOW,
            valid_until=NOW + timedelta(days=3 * 365),
            status_list_url="https://elearn.example/status/1",
            status_index=94567,
            language="nb",
        )
    )


KEY = Ed25519PrivateKey.generate()


def test_our_credential_defines_every_term_it_uses() -> None:
    assert di.undefined_terms(_credential()) == []


def test_a_term_the_contexts_do_not_define_is_found_and_refused() -> None:
    credential = _credential()
    credential["credentialSubject"]["favouriteColour"] = "green"
    credential["issuer"]["motto"] = "x"
    assert di.undefined_terms(credential) == [
        "credentialSubject.favouriteColour",
        "issuer.motto",
    ]
    with pytest.raises(ValueError, match="favouriteColour"):
        di.add_proof(credential, KEY, created="2026-11-20T10:30:00Z")


def test_our_signed_credential_verifies_with_pyld_and_cryptography_directly() -> None:
    signed = di.add_proof(_credential(), KEY, created="2026-11-20T10:30:00Z")
    assert signed["proof"]["verificationMethod"] == di.did_key(KEY.public_key())
    assert independent_verify(signed)
    document, public = di.verify_proof(signed)
    assert document == _credential() and public == KEY.public_key()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c["credentialSubject"].update(name="Ola Nordmann"),
        lambda c: c.update(validUntil="2099-01-01T00:00:00Z"),
        lambda c: c["credentialSubject"]["achievement"].update(name="Something else"),
        lambda c: c["proof"].update(created="2020-01-01T00:00:00Z"),
        lambda c: c["credentialStatus"].update(statusListIndex="1"),
    ],
)
def test_a_changed_credential_fails_both_verifiers(tamper: Any) -> None:
    signed = di.add_proof(_credential(), KEY, created="2026-11-20T10:30:00Z")
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    assert not independent_verify(tampered)
    with pytest.raises(di.ProofInvalid):
        di.verify_proof(tampered)


def test_a_proof_by_another_key_under_our_did_is_refused() -> None:
    signed = di.add_proof(_credential(), Ed25519PrivateKey.generate(), created=None)
    signed["proof"]["verificationMethod"] = di.did_key(KEY.public_key())
    with pytest.raises(di.ProofInvalid, match="signature"):
        di.verify_proof(signed)


def test_an_unknown_context_fails_loudly_and_fetches_nothing() -> None:
    credential = _credential()
    credential["@context"].append("https://evil.example/context.json")
    with pytest.raises(di.UnknownContext, match=r"evil\.example"):
        di.canonize(credential)
    with pytest.raises(di.UnknownContext):
        di.add_proof(credential, KEY, created=None)
    signed = di.add_proof(_credential(), KEY, created=None)
    signed["@context"].append("https://evil.example/context.json")
    with pytest.raises(di.ProofInvalid, match="unknown JSON-LD context"):
        di.verify_proof(signed)


@pytest.mark.parametrize(
    "method",
    ["https://elearn.example/keys/1", "did:key:zNotBase58!", "did:key:z6MkAAAA", 7],
)
def test_a_verification_method_that_is_not_an_ed25519_did_key_is_refused(method: Any) -> None:
    signed = di.add_proof(_credential(), KEY, created=None)
    signed["proof"]["verificationMethod"] = method
    with pytest.raises(di.ProofInvalid):
        di.verify_proof(signed)


def test_base58_round_trips_leading_zeros() -> None:
    for data in (b"", b"\0", b"\0\0\x01", bytes(range(40))):
        assert di.base58btc_decode(di.base58btc(data)) == data


def test_a_proof_set_of_one_verifies_and_a_set_of_two_is_refused() -> None:
    signed = di.add_proof(_credential(), KEY, created=None, proof_set=True)
    assert isinstance(signed["proof"], list) and independent_verify(signed)
    di.verify_proof(signed)
    signed["proof"] = signed["proof"] * 2
    with pytest.raises(di.ProofInvalid, match="single proof"):
        di.verify_proof(signed)
