"""Times certificate rendering and signing: both run on every certificate issued or downloaded."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from elearn.pdf import CertificateText, PdfSigner, render_certificate  # noqa: E402

WARMUP = 20
REPETITIONS = 200
LANGUAGES = ("nb", "da", "en")
# A name per script the bundled fonts cover, and a long one that wraps (issue 14, point 10).
HOLDERS = {
    "latin": "Åse Øvrebø Ærlig",
    "latin_long": " ".join(["Maja Kristine Østergaard-Lindqvist Bjørnstad-Hægeland"] * 2),
    "greek": "Γιώργος Παπαδόπουλος",
    "cyrillic": "Анна Кузнецова",
    "cjk": "山田 太郎",
    "arabic": "محمد عبد الله",
}


def certificate(run: int, holder: str = HOLDERS["latin"]) -> CertificateText:
    """A distinct certificate per run (new code, so a new QR code), cycling the languages."""
    code = f"K7QM-{run:04d}-9TRD"
    return CertificateText(
        language=LANGUAGES[run % len(LANGUAGES)],
        holder=holder,
        achievement="Knowledge test: sustainability in the public sector",
        issued=dt.date(2026, 11, 20),
        valid_until=dt.date(2028, 11, 20) if run % 2 else None,
        issuer="elearn – Eksempel kommune",
        code=code,
        verify_url=f"https://elearn.example.org/verify/{code}",
    )


def timed(work: Callable[[int], object]) -> dict[str, float]:
    """Median, p95 and max milliseconds of `work(run)` over the repetitions, after warm-up."""
    for run in range(WARMUP):
        work(run)
    times: list[float] = []
    for run in range(REPETITIONS):
        start = time.perf_counter()
        work(run)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 3),
        "max_ms": round(times[-1], 3),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as keys:
        signer = PdfSigner.from_directory(Path(keys) / "signing", now=dt.datetime.now(dt.UTC))
        pdfs = [render_certificate(certificate(run)) for run in range(REPETITIONS)]
        results = {
            "render": timed(lambda run: render_certificate(certificate(run))),
            "sign": timed(lambda run: signer.sign(pdfs[run % len(pdfs)])),
            "render_and_sign": timed(lambda run: signer.sign(render_certificate(certificate(run)))),
        }
        for script, holder in HOLDERS.items():
            if script != "latin":
                results[f"render_{script}"] = timed(
                    lambda run, h=holder: render_certificate(certificate(run, h))  # type: ignore[misc]
                )
        sizes = {
            script: {
                "rendered_bytes": len(pdf := render_certificate(certificate(0, holder))),
                "signed_bytes": len(signer.sign(pdf)),
            }
            for script, holder in HOLDERS.items()
        }
    result = {
        **results,
        "pdf_bytes": sizes,
        "repetitions": REPETITIONS,
        "warmup": WARMUP,
        "key": "ECDSA P-256",
        "bytes_reserved": 8192,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    for name, numbers in results.items():
        print(
            f"{name}: {REPETITIONS} runs: median {numbers['median_ms']} ms, "
            f"p95 {numbers['p95_ms']} ms, max {numbers['max_ms']} ms"
        )
    print(f"(Python {result['python']}, {result['cpus']} cores)")
    out = ROOT / "bench" / "pdf_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
