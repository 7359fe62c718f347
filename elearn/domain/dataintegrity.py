"""Data Integrity proofs (W3C vc-di-eddsa, cryptosuite ``eddsa-rdfc-2022``) for JSON-LD credentials.

Canonicalisation is RDFC-1.0 (URDNA2015) by pyld against the JSON-LD contexts shipped in
``elearn/domain/contexts/``: nothing is fetched at issue or verify time, and a document naming any
other context is refused. A term the contexts do not define would be dropped from the canonical
form, so left unsigned: ``undefined_terms`` finds such terms and signing refuses them.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"

# Every context the app can read, by the URL documents name it with, and the file shipped.
SHIPPED_CONTEXTS: dict[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-context-3.0.3.json",
}

_MULTICODEC_ED25519_PUB = b"\xed\x01"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class UnknownContext(ValueError):
    """A JSON-LD document names a context the app does not ship (nothing is fetched)."""


class ProofInvalid(Exception):
    """A Data Integrity proof that does not verify; the message says why."""


Loader = Callable[[str, Any], dict[str, Any]]


@cache
def _shipped(url: str) -> dict[str, Any]:
    """The parsed context file shipped for url."""
    name = SHIPPED_CONTEXTS[url]
    text = resources.files("elearn.domain").joinpath("contexts", name).read_text("utf-8")
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def shipped_loader(url: str, options: Any = None) -> dict[str, Any]:
    """A pyld document loader that serves only the shipped contexts; UnknownContext otherwise."""
    if url not in SHIPPED_CONTEXTS:
        raise UnknownContext(f"unknown JSON-LD context {url!r}: only shipped contexts are used")
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(_shipped(url))}


def _unwrap_context_error(error: jsonld.JsonLdError) -> UnknownContext | None:
    """The UnknownContext that pyld wrapped (it re-raises loader errors as its own), if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, UnknownContext):
            return seen
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) else seen.__cause__
    return None


def canonize(document: Mapping[str, Any], loader: Loader = shipped_loader) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document, contexts from loader only."""
    try:
        result = jsonld.normalize(
            dict(document),
            {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
        )
    except jsonld.JsonLdError as error:
        unknown = _unwrap_context_error(error)
        if unknown is not None:
            raise unknown from error
        raise ValueError(f"not JSON-LD that the shipped contexts can read: {error}") from error
    return str(result)


def undefined_terms(document: Mapping[str, Any], loader: Loader = shipped_loader) -> list[str]:
    """The key paths of document that its contexts do not define (JSON-LD would drop them).

    Expands and compacts with the document's own context and lists every key path that did not
    come back: such data would not be signed by a Data Integrity proof.
    """
    options = {"documentLoader": loader}
    try:
        expanded = jsonld.expand(dict(document), options)
        compacted = jsonld.compact(expanded, {"@context": document.get("@context")}, options)
    except jsonld.JsonLdError as error:
        unknown = _unwrap_context_error(error)
        if unknown is not None:
            raise unknown from error
        raise ValueError(f"not JSON-LD that the shipped contexts can read: {error}") from error
    kept = _key_paths(compacted)
    return sorted(path for path in _key_paths(document) if path not in kept)


def _key_paths(node: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value ("a.b.c"), list positions left out."""
    paths: set[str] = set()
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "@context":
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.add(path)
            paths |= _key_paths(value, path)
    elif isinstance(node, list):
        for value in node:
            paths |= _key_paths(value, prefix)
    return paths


# --- keys as did:key / Multikey ----------------------------------------------------------------


def base58btc(data: bytes) -> str:
    """Base58 in the Bitcoin alphabet, leading zero bytes kept as "1"."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _BASE58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def base58btc_decode(text: str) -> bytes:
    """The bytes of a base58btc string; ValueError on a character outside the alphabet."""
    number = 0
    for char in text:
        index = _BASE58.find(char)
        if index < 0:
            raise ValueError("not base58btc")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multikey(public_key: Ed25519PublicKey) -> str:
    """The Multikey publicKeyMultibase of an Ed25519 public key ("z6Mk...")."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc(_MULTICODEC_ED25519_PUB + raw)


def did_key(public_key: Ed25519PublicKey) -> str:
    """The did:key verification method of an Ed25519 public key (did:key:z6Mk...#z6Mk...)."""
    value = multikey(public_key)
    return f"did:key:{value}#{value}"


def public_key_of(verification_method: str) -> Ed25519PublicKey:
    """The Ed25519 key a did:key verification method names; ProofInvalid for anything else."""
    if not isinstance(verification_method, str) or not verification_method.startswith("did:key:z"):
        raise ProofInvalid("the verification method is not an Ed25519 did:key")
    did, _, fragment = verification_method.partition("#")
    value = did.removeprefix("did:key:")
    if fragment and fragment != value:
        raise ProofInvalid("the did:key fragment does not name its own key")
    try:
        decoded = base58btc_decode(value[1:])
    except ValueError:
        raise ProofInvalid("the did:key is not base58btc") from None
    if len(decoded) != 34 or not decoded.startswith(_MULTICODEC_ED25519_PUB):
        raise ProofInvalid("the did:key is not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


# --- proofs ------------------------------------------------------------------------------------


def _hash_data(
    document: Mapping[str, Any], proof_config: Mapping[str, Any], loader: Loader
) -> bytes:
    """sha256(canonical proof config) + sha256(canonical document), as vc-di-eddsa 3.2.4 says."""
    proof_hash = hashlib.sha256(canonize(proof_config, loader).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonize(document, loader).encode("utf-8")).digest()
    return proof_hash + document_hash


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    created: str | None,
    loader: Loader = shipped_loader,
    proof_set: bool = False,
) -> dict[str, Any]:
    """document with an eddsa-rdfc-2022 proof by private_key (a did:key verification method).

    Refuses a document that already has a proof, or has a term its contexts do not define
    (it would not be signed). ``created`` is an XML Schema dateTime, or None to leave it out.
    ``proof_set`` writes the proof as a one-element array, as OB 3.0's JSON Schema requires.
    """
    if "proof" in document:
        raise ValueError("the document has a proof already")
    missing = undefined_terms(document, loader)
    if missing:
        raise ValueError(f"terms the JSON-LD contexts do not define: {', '.join(missing)}")
    proof: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE}
    if created is not None:
        proof["created"] = created
    proof["verificationMethod"] = did_key(private_key.public_key())
    proof["proofPurpose"] = "assertionMethod"
    config = {**proof, "@context": document["@context"]}
    signature = private_key.sign(_hash_data(document, config, loader))
    signed = {**proof, "proofValue": "z" + base58btc(signature)}
    return {**copy.deepcopy(dict(document)), "proof": [signed] if proof_set else signed}


def verify_proof(
    secured: Mapping[str, Any], loader: Loader = shipped_loader
) -> tuple[dict[str, Any], Ed25519PublicKey]:
    """The unsecured document and the key that signed it; ProofInvalid if the proof fails.

    The caller decides whether that key is one the issuer publishes.
    """
    proof = secured.get("proof")
    if isinstance(proof, list) and len(proof) == 1:  # a proof set of one
        proof = proof[0]
    if not isinstance(proof, Mapping):
        raise ProofInvalid("there is no single proof")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofInvalid(f"the proof is not a {PROOF_TYPE} with {CRYPTOSUITE}")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofInvalid("the proof's purpose is not assertionMethod")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofInvalid("the proofValue is not base58btc multibase")
    try:
        signature = base58btc_decode(value[1:])
    except ValueError:
        raise ProofInvalid("the proofValue is not base58btc") from None
    public_key = public_key_of(proof.get("verificationMethod"))  # type: ignore[arg-type]
    document = {k: copy.deepcopy(v) for k, v in secured.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = secured.get("@context")
    try:
        hash_data = _hash_data(document, config, loader)
    except ValueError as error:
        raise ProofInvalid(str(error)) from error
    try:
        public_key.verify(signature, hash_data)
    except InvalidSignature:
        raise ProofInvalid("the signature does not match") from None
    return document, public_key
