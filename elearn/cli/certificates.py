"""``flask certificates``: every issued certificate with its state now; missing PDFs made."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app

from elearn.cli import GROUPS
from elearn.clock import utcnow
from elearn.domain.credentials import certificate_state
from elearn.jobs import unit_of_work
from elearn.jobs.certificates import make_pdfs
from elearn.services.certificates import all_certificates

group = GROUPS["certificates"]


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of every certificate.")
def certificates_list(as_json: bool) -> None:
    """Every certificate: code, holder, exam, status, issued and valid until."""
    now = utcnow()
    with unit_of_work(current_app) as session:
        rows: list[dict[str, Any]] = [
            {
                "code": cert.code,
                "holder": cert.holder_name,
                "email": email,
                "exam": cert.exam_id,
                "status": certificate_state(
                    revoked=cert.revoked_at is not None,
                    valid_from=cert.issued_at,
                    valid_until=cert.valid_until,
                    now=now,
                ),
                "issued": cert.issued_at.isoformat(),
                "valid_until": cert.valid_until.isoformat() if cert.valid_until else None,
                "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None,
            }
            for cert, email in all_certificates(session=session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['code']}  {row['status']:<8} {row['exam']:<20} {row['holder']} "
            f"<{row['email']}>  issued {row['issued'][:10]}  until "
            f"{(row['valid_until'] or '-')[:10]}"
        )


@group.command("make-pdfs")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(min=1))
def certificates_make_pdfs(batch: int) -> None:
    """Store the signed PDF of certificates issued before PDFs were made at issuance."""
    click.echo(f"made {make_pdfs(current_app, batch=batch, now=utcnow())} PDF(s)")
