"""Times issuing (build + sign) and checking (verify) one certificate: both run per request.

Also both proofs as issuance makes them: the Data Integrity proof (eddsa-rdfc-2022, pyld) and
the RS256 JWT around it, and verifying the Data Integrity proof.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from elearn.domain import dataintegrity as di  # noqa: E402
from elearn.domain.credentials import (  # noqa: E402
    AchievementInfo,
    CredentialInfo,
    Issuer,
    build_credential,
    generate_key,
    jwks,
    sign_credential,
    verify_credential,
)

WARMUP = 100
REPETITIONS = 1_000
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def sample_info() -> CredentialInfo:
    """A certificate of realistic size: Norwegian text and eight exam topics as alignments."""
    topics = tuple(
        (f"Emne {n}: bærekraftige innkjøp", f"https://elearn.example/topics/t{n}") for n in range(8)
    )
    return CredentialInfo(
        id="https://elearn.example/api/v1/credentials/K7QM-3XPA-9TRD",
        code="K7QM-3XPA-9TRD",
        holder_name="Kari Nordmann",
        holder_id="mailto:kari@example.no",
        achievement=AchievementInfo(
            id="https://elearn.example/achievements/spp-basic",
            name="Bærekraftige offentlige anskaffelser – grunnkurs",
            description="Sertifisert i bærekraftige offentlige anskaffelser.",
            criteria="Bestod den overvåkede eksamen med minst 80 % riktige svar.",
            alignments=topics,
        ),
        issuer=Issuer(
            id="https://elearn.example/issuer",
            name="Elearn Sertifisering",
            url="https://elearn.example",
        ),
        valid_from=NOW,
        valid_until=NOW + timedelta(days=3 * 365),
        status_list_url="https://elearn.example/status/1",
        status_index=4242,
        language="nb",
    )


def timed(
    action: Callable[[], object], repetitions: int = REPETITIONS, warmup: int = WARMUP
) -> dict[str, float]:
    """Median, p95 and max in ms of ``repetitions`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        action()
    times: list[float] = []
    for _ in range(repetitions):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 3),
        "max_ms": round(times[-1], 3),
    }


def main() -> None:
    info = sample_info()
    key = generate_key("https://elearn.example/.well-known/jwks.json#k-2026-11-20")
    old = generate_key("https://elearn.example/.well-known/jwks.json#k-2025-11-20")
    key_set = jwks([key, old])  # a rotated set, as published
    token = sign_credential(build_credential(info), key)
    rsa = generate_key("https://elearn.example/keys/r-2026-11-20", "RS256")
    ed25519 = key.private_key
    assert isinstance(ed25519, di.Ed25519PrivateKey)

    def both_proofs() -> str:
        credential = build_credential(info)
        secured = di.add_proof(credential, ed25519, created=credential["validFrom"], proof_set=True)
        return sign_credential(secured, rsa)

    secured = di.add_proof(build_credential(info), ed25519, created=None, proof_set=True)
    result = {
        "repetitions": REPETITIONS,
        "token_chars": len(token),
        "issue": timed(lambda: sign_credential(build_credential(info), key)),
        "verify": timed(lambda: verify_credential(token, key_set)),
        "issue_both_proofs": timed(both_proofs, repetitions=50, warmup=5),
        "verify_data_integrity": timed(lambda: di.verify_proof(secured), repetitions=50, warmup=5),
        "both_proofs_token_chars": len(both_proofs()),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    for name in ("issue", "verify", "issue_both_proofs", "verify_data_integrity"):
        r = result[name]
        assert isinstance(r, dict)
        print(f"{name:<6} median {r['median_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms")
    print(f"token {len(token)} characters (Python {result['python']}, {result['cpus']} cores)")
    out = ROOT / "bench" / "credential_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
