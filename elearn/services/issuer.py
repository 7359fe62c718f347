"""What the URLs signed into credentials resolve to: the issuer's OB 3.0 Profile, each exam's
Achievement (the PDF signing certificate it lists is ``Authority.pdf_signing_certificate``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from elearn.domain import credentials as vc
from elearn.domain.content import BankSpec, ExamSpec
from elearn.domain.errors import N_, NotFound
from elearn.domain.localize import pick
from elearn.models import Bank, Certificate, Exam, ExamVersion
from elearn.services.certificates import Authority, achievement_info

# The identifierType of the profile's entries that name the PDF signing certificate (OB 3.0
# allows "ext:" types of one's own for IdentifierEntry).
PDF_CERTIFICATE_SHA256 = "ext:PdfSigningCertificateSha256"
PDF_CERTIFICATE_URL = "ext:PdfSigningCertificateUrl"


def issuer_profile(*, authority: Authority, now: datetime) -> dict[str, Any]:
    """The issuer's OB 3.0 Profile as JSON-LD: what ``issuer.id`` (the JWT's ``iss``) returns."""
    issuer = authority.issuer
    pdf = authority.pdf_signing_certificate(now=now)
    return {
        "@context": [vc.VC_CONTEXT, vc.OB_CONTEXT],
        "id": issuer.id,
        "type": ["Profile"],
        "name": issuer.name,
        "url": issuer.url,
        "otherIdentifier": [
            {
                "type": "IdentifierEntry",
                "identifier": f"sha256:{pdf.sha256}",
                "identifierType": PDF_CERTIFICATE_SHA256,
            },
            {
                "type": "IdentifierEntry",
                "identifier": authority.url("/pdf-signing-certificate.pem"),
                "identifierType": PDF_CERTIFICATE_URL,
            },
        ],
    }


@dataclass(frozen=True)
class AchievementPage:
    """One exam as an OB 3.0 Achievement, with what its public page shows."""

    json_ld: dict[str, Any]
    title: str
    description: str
    criteria: str
    topics: list[tuple[str, str, int]]  # (id, title, items drawn)
    language: str


def achievement(
    *, session: Session, authority: Authority, exam_id: str, lang: str
) -> AchievementPage:
    """The Achievement that ``achievement.id`` names, in ``lang`` where the bank has it.

    NotFound for an exam that does not exist or never gives a certificate (a practice exam)
    and has none; an exam that is closed now still answers, as its certificates name it.
    """
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(N_("There is no such achievement."))
    version_id = exam.current_version_id
    if version_id is None:
        version_id = session.exec(
            select(ExamVersion.id)
            .where(ExamVersion.exam_id == exam_id)
            .order_by(col(ExamVersion.version).desc())
        ).first()
    version = session.get(ExamVersion, version_id) if version_id is not None else None
    bank_row = session.get(Bank, exam.bank_id)
    if version is None or bank_row is None:
        raise NotFound(N_("There is no such achievement."))
    spec = ExamSpec.model_validate(version.spec)
    if not spec.certificate.issue:
        issued = session.exec(select(Certificate.id).where(Certificate.exam_id == exam_id)).first()
        if issued is None:
            raise NotFound(N_("There is no such achievement."))
    bank = BankSpec.model_validate(bank_row.spec)
    language = lang if lang in bank.languages else bank.languages[0]
    info = achievement_info(
        authority=authority, exam_id=exam_id, spec=spec, bank=bank, lang=language
    )
    titles = {t.id: pick(t.title, language, bank.languages[0]).value for t in bank.topics}
    counts: dict[str, int] = {}
    for entry in spec.blueprint:
        counts[entry.topic] = counts.get(entry.topic, 0) + entry.items
    json_ld: dict[str, Any] = {
        "@context": [vc.VC_CONTEXT, vc.OB_CONTEXT],
        "id": info.id,
        "type": ["Achievement"],
        "name": info.name,
        "description": info.description,
        "criteria": {"id": info.id, "narrative": info.criteria},
        "creator": {
            "id": authority.issuer.id,
            "type": ["Profile"],
            "name": authority.issuer.name,
            "url": authority.issuer.url,
        },
        "inLanguage": language,
    }
    if info.alignments:
        json_ld["alignment"] = [
            {"type": ["Alignment"], "targetName": name, "targetUrl": url}
            for name, url in info.alignments
        ]
    return AchievementPage(
        json_ld=json_ld,
        title=info.name,
        description=info.description,
        criteria=info.criteria,
        topics=[(topic, titles.get(topic, topic), n) for topic, n in counts.items()],
        language=language,
    )
