"""Certificates: issued for passes, signed as Open Badges 3.0 credentials, verified, revoked.

The ``Authority`` holds what signs: the Ed25519 keys in ``instance/keys/`` (every key ever used
stays published, so that old certificates still verify after a rotation) and the P-256 key that
certifies PDFs (or the organisation's own chain, PDF_SIGNING_PKCS12). It lives on the app;
services receive it as an argument.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, col, func, or_, select

from elearn.domain import credentials as vc
from elearn.domain import duties
from elearn.domain.content import BankSpec, ExamSpec
from elearn.domain.errors import N_, Conflict, NotFound
from elearn.domain.localize import pick
from elearn.models import Bank, Certificate, Exam, ExamAttempt, ExamVersion, User
from elearn.pdf import (
    CertificateText,
    PdfCheck,
    PdfSigner,
    SigningSetupError,
    document_title,
    render_certificate,
)
from elearn.pdf.text import FontError, FontFile
from elearn.pdf.text import load as load_font
from elearn.services import audit, xapi
from elearn.services.attempts import exam_spec
from elearn.services.paging import Page, contains, page_of

KEY_PREFIX = "k-"


@dataclass
class Authority:
    """The issuer's identity and keys."""

    public_url: str
    issuer_name: str
    keys_dir: Path
    pdf_dir: Path
    pdf_fonts: tuple[Path, ...] = ()  # CERTIFICATE_FONTS: asked after the bundled fonts
    # The organisation's own key and chain (PDF_SIGNING_PKCS12) instead of pdf_dir's own pair.
    pdf_pkcs12: Path | None = None
    pdf_pkcs12_passphrase: str | None = field(default=None, repr=False)
    pdf_timestamp_url: str | None = None  # PDF_TIMESTAMP_URL: an RFC 3161 authority
    pdf_timestamp_roots: tuple[bytes, ...] = ()  # PDF_TIMESTAMP_ROOTS: its root (PEM)
    _pdf_signer: PdfSigner | None = field(default=None, repr=False)

    @property
    def issuer(self) -> vc.Issuer:
        return vc.Issuer(id=self.url("/issuer"), name=self.issuer_name, url=self.public_url)

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def kid(self, name: str) -> str:
        return self.url(f"/.well-known/jwks.json#{name}")

    def keys(self) -> list[vc.SigningKey]:
        """Every signing key, oldest first."""
        return [
            vc.key_from_pem(self.kid(path.stem), path.read_bytes())
            for path in sorted(self.keys_dir.glob(f"{KEY_PREFIX}*.pem"))
        ]

    def current_key(self, *, now: datetime) -> vc.SigningKey:
        """The newest key; the first one is made (named by ``now``) when there is none."""
        keys = self.keys()
        return keys[-1] if keys else self.rotate(now=now)

    def rotate(self, *, now: datetime) -> vc.SigningKey:
        """A new signing key; the old ones stay published."""
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        name = f"{KEY_PREFIX}{now.strftime('%Y%m%dT%H%M%S%f')}"
        key = vc.generate_key(self.kid(name))
        path = self.keys_dir / f"{name}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(vc.key_to_pem(key))
        return key

    def public_keys(self) -> Callable[[str], Ed25519PublicKey | None]:
        """Every key ever used, by kid (what signed an audit checkpoint, after rotations too)."""
        return {key.kid: key.private_key.public_key() for key in self.keys()}.get

    def jwks(self) -> dict[str, Any]:
        return vc.jwks(self.keys())

    def pdf_signer(self, *, now: datetime) -> PdfSigner:
        """The PDF signer, made once; ``now`` dates its certificate when there is none yet.
        The certificate is issued to ISSUER_NAME, or comes from PDF_SIGNING_PKCS12."""
        if self._pdf_signer is None:
            if self.pdf_pkcs12 is not None:
                try:
                    data = self.pdf_pkcs12.read_bytes()
                except OSError as error:
                    raise SigningSetupError(f"PDF_SIGNING_PKCS12: {error}") from error
                # PDFs signed before the switch, with the key made here, still verify.
                earlier = [
                    path.read_bytes()
                    for path in sorted(self.pdf_dir.glob("*.pem"))
                    if path.name != "key.pem"
                ]
                self._pdf_signer = PdfSigner.from_pkcs12(
                    data,
                    self.pdf_pkcs12_passphrase,
                    previous=earlier,
                    timestamp_url=self.pdf_timestamp_url,
                    timestamp_roots=self.pdf_timestamp_roots,
                )
            else:
                self._pdf_signer = PdfSigner.from_directory(
                    self.pdf_dir,
                    now=now,
                    common_name=self.issuer_name,
                    timestamp_url=self.pdf_timestamp_url,
                    timestamp_roots=self.pdf_timestamp_roots,
                )
        return self._pdf_signer

    def pdf_signing_certificate(self, *, now: datetime) -> SigningCertificate:
        """The certificate that signs the PDFs, as published (verify page, issuer profile);
        init_app makes it at start-up, ``now`` only dates one made here."""
        signer = self.pdf_signer(now=now)
        return SigningCertificate(
            pem=signer.certificate_pem.decode("ascii"),
            der=signer.certificate_der,
            chain_pem=signer.chain_pem.decode("ascii"),
            sha256=signer.fingerprint,
            subject=signer.subject,
        )


@dataclass(frozen=True)
class SigningCertificate:
    """The PDF signing certificate: PEM, DER, the whole chain, and its SHA-256 fingerprint."""

    pem: str
    der: bytes
    chain_pem: str
    sha256: str  # lowercase hex of the DER's SHA-256
    subject: str  # RFC 4514

    @property
    def sha256_colons(self) -> str:
        """The fingerprint as pdfsig, certutil and browsers show it (AB:CD:...)."""
        return ":".join(self.sha256[i : i + 2] for i in range(0, 64, 2)).upper()


def authority_of(*, app: Any) -> Authority:
    """The authority ``init_app`` put on the app: the one way to reach it."""
    found: Authority = app.extensions["elearn.authority"]
    return found


def init_app(app: Any, *, now: datetime) -> None:
    """Put the authority on the app; make the first signing key (named by ``now``) if none.
    A font in CERTIFICATE_FONTS that cannot be embedded stops the start, naming the file."""
    instance = Path(app.instance_path)
    fonts = tuple(Path(path) for path in app.config.get("CERTIFICATE_FONTS", ()))
    for path in fonts:
        try:
            load_font(FontFile(path))
        except FontError as error:
            raise FontError(f"CERTIFICATE_FONTS: {error}") from error
    authority = Authority(
        public_url=app.config["PUBLIC_URL"],
        issuer_name=app.config["ISSUER_NAME"],
        keys_dir=instance / "keys",
        pdf_dir=instance / "pdf-signing",
        pdf_fonts=fonts,
        **_pdf_settings(app.config, instance),
    )
    if not authority.keys():
        authority.rotate(now=now)
    authority.pdf_signer(now=now)  # a PDF_SIGNING_PKCS12 or TSA setting that fails stops here
    app.extensions["elearn.authority"] = authority


def _pdf_settings(config: Any, instance: Path) -> dict[str, Any]:
    """The PDF signing settings as the authority's fields; relative paths are in instance/."""

    def path(name: str) -> Path | None:
        value = config.get(name)
        return instance / value if value else None

    pkcs12 = path("PDF_SIGNING_PKCS12")
    passphrase = config.get("PDF_SIGNING_PKCS12_PASSPHRASE") or None
    passphrase_file = path("PDF_SIGNING_PKCS12_PASSPHRASE_FILE")
    try:
        if passphrase_file is not None:
            passphrase = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
        roots_file = path("PDF_TIMESTAMP_ROOTS")
        roots = (roots_file.read_bytes(),) if roots_file is not None else ()
    except OSError as error:
        raise SigningSetupError(f"PDF signing settings: {error}") from error
    return {
        "pdf_pkcs12": pkcs12,
        "pdf_pkcs12_passphrase": passphrase,
        "pdf_timestamp_url": config.get("PDF_TIMESTAMP_URL") or None,
        "pdf_timestamp_roots": roots,
    }


# --- issuing -------------------------------------------------------------------------------------


def add_months(*, moment: datetime, months: int) -> datetime:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    days = [
        31,
        29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days))


def _free_index(session: Session, status_list: int) -> int:
    """A random unused bit: random places keep holders from being told apart by order."""
    used = set(
        session.exec(select(Certificate.status_index).where(Certificate.status_list == status_list))
    )
    if len(used) >= vc.STATUS_LIST_SIZE:
        raise Conflict(N_("The status list is full."))
    while True:
        index = secrets.randbelow(vc.STATUS_LIST_SIZE)
        if index not in used:
            return index


def _achievement(
    authority: Authority, exam_id: str, spec: ExamSpec, bank: BankSpec, lang: str
) -> vc.AchievementInfo:
    default = bank.languages[0]
    title = pick(spec.title, lang, default).value
    topics = {t.id: pick(t.title, lang, default).value for t in bank.topics}
    items = sum(entry.items for entry in spec.blueprint)
    rules = "; ".join(f"{topics.get(t, t)} ≥ {p:g} %" for t, p in spec.pass_rules.topics.items())
    criteria = (
        f"Passed the exam '{title}': {items} questions drawn at random per topic from a reviewed "
        f"question bank, {spec.time_limit_minutes} minutes, at least "
        f"{spec.pass_rules.overall_percent:g} % overall" + (f" and {rules}" if rules else "") + "."
    )
    description = pick(spec.description, lang, default).value if spec.description else criteria
    return vc.AchievementInfo(
        id=authority.url(f"/achievements/{exam_id}"),
        name=title,
        description=description,
        criteria=criteria,
        alignments=tuple(
            (topics.get(e.topic, e.topic), authority.url(f"/exams/{exam_id}#topic-{e.topic}"))
            for e in spec.blueprint
        ),
    )


def issue(
    *, session: Session, authority: Authority, attempt: ExamAttempt, now: datetime
) -> Certificate:
    """Sign and store the certificate for a passed attempt, with its signed PDF, in the same
    transaction as the decision that earned it (once: a second call returns it)."""
    assert attempt.id is not None
    existing = of_attempt(session=session, attempt_id=attempt.id)
    if existing is not None:
        return existing
    if not attempt.passed:
        raise Conflict(N_("Only a passed attempt earns a certificate."))
    user = session.get(User, attempt.user_id)
    assert user is not None
    spec = exam_spec(session=session, attempt=attempt)
    months = spec.certificate.valid_months
    certificate = _sign_and_store(
        session=session,
        authority=authority,
        user=user,
        exam_id=attempt.exam_id,
        spec=spec,
        language=attempt.language,
        issued_at=now,
        valid_until=add_months(moment=now, months=months) if months else None,
        now=now,
        attempt_id=attempt.id,
        fingerprint=attempt.fingerprint,
    )
    audit.record(
        session=session,
        action="certificate.issued",
        subject=f"certificate:{certificate.code}",
        now=now,
        actor_id=user.id,
        data={"attempt": attempt.id, "exam": attempt.exam_id},
    )
    xapi.certificate_earned(session=session, certificate=certificate, title=spec.title)
    return certificate


def _sign_and_store(
    *,
    session: Session,
    authority: Authority,
    user: User,
    exam_id: str,
    spec: ExamSpec,
    language: str,
    issued_at: datetime,
    now: datetime,
    valid_until: datetime | None,
    attempt_id: int | None = None,
    fingerprint: str | None = None,
) -> Certificate:
    assert user.id is not None
    exam = session.get(Exam, exam_id)
    bank_row = session.get(Bank, exam.bank_id) if exam else None
    assert bank_row is not None
    bank = BankSpec.model_validate(bank_row.spec)
    code = vc.new_code(secrets.SystemRandom())
    while session.exec(select(Certificate.id).where(Certificate.code == code)).first():
        code = vc.new_code(secrets.SystemRandom())
    index = _free_index(session, 1)
    achievement = _achievement(authority, exam_id, spec, bank, language)
    info = vc.CredentialInfo(
        id=authority.url(f"/api/v1/credentials/{code}"),
        code=code,
        holder_name=user.name,
        holder_id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, authority.url(f'/users/{user.id}'))}",
        achievement=achievement,
        issuer=authority.issuer,
        valid_from=issued_at,
        valid_until=valid_until,
        status_list_url=authority.url("/status/1"),
        status_index=index,
        language=language,
    )
    certificate = Certificate(
        code=code,
        user_id=user.id,
        exam_id=exam_id,
        attempt_id=attempt_id,
        holder_name=user.name,
        language=language,
        form_fingerprint=fingerprint,
        issued_at=issued_at,
        valid_until=valid_until,
        status_list=1,
        status_index=index,
        credential=vc.sign_credential(
            vc.build_credential(info), authority.current_key(now=issued_at)
        ),
    )
    # Made now, once: every download is the same file, and reading it never writes.
    certificate.pdf = _render_pdf(authority, certificate, achievement.name, now)
    session.add(certificate)
    session.flush()
    return certificate


def issue_demo(
    *,
    session: Session,
    authority: Authority,
    user: User,
    exam_id: str,
    spec: ExamSpec,
    issued_at: datetime,
    now: datetime,
    valid_until: datetime | None,
) -> Certificate:
    """A certificate without an attempt behind it, for the demo data only."""
    return _sign_and_store(
        session=session,
        authority=authority,
        user=user,
        exam_id=exam_id,
        spec=spec,
        language="nb",
        issued_at=issued_at,
        now=now,
        valid_until=valid_until,
    )


def issue_due(
    *, session: Session, authority: Authority, now: datetime, user_id: int | None = None
) -> list[Certificate]:
    """Issue what is due but missing: passes decided before certificates were issued with the
    decision (a backfill for cron; idempotent), approved where the exam asks for sign-off."""
    query = (
        select(ExamAttempt, ExamVersion.spec)
        .join(ExamVersion, col(ExamVersion.id) == col(ExamAttempt.exam_version_id))
        .join(Certificate, col(Certificate.attempt_id) == col(ExamAttempt.id), isouter=True)
        .where(col(ExamAttempt.passed).is_(True), col(Certificate.id).is_(None))
    )
    if user_id is not None:
        query = query.where(ExamAttempt.user_id == user_id)
    issued = []
    for attempt, spec in session.exec(query).all():
        if not spec.get("certificate", {}).get("issue", True):
            continue  # a practice exam
        if spec.get("sign_off") and attempt.review_decision != "approved":
            continue
        issued.append(issue(session=session, authority=authority, attempt=attempt, now=now))
    return issued


def sign_off(
    *,
    session: Session,
    authority: Authority,
    attempt_id: int,
    approve: bool,
    comment: str,
    reviewer_id: int,
    now: datetime,
) -> Certificate | None:
    """A certifier's sign-off of another person's pass; approval issues the certificate at once."""
    attempt = session.get(ExamAttempt, attempt_id)
    if attempt is not None:
        duties.require(
            actor_id=reviewer_id,
            subject_user_id=attempt.user_id,
            action=duties.ATTEMPT_APPROVE if approve else duties.ATTEMPT_REJECT,
            subject=f"attempt:{attempt_id}",
            exam=attempt.exam_id,
        )
    if attempt is None or not attempt.passed:
        raise NotFound(N_("There is no passed attempt to review here."))
    if attempt.review_decision is not None:
        raise Conflict(N_("This attempt has been reviewed already."))
    version = session.get(ExamVersion, attempt.exam_version_id)
    if version is None or not version.spec.get("sign_off"):
        # Only passes that wait for a sign-off are decided here: "rejecting" a pass of an exam
        # that issues at once would leave its valid certificate beside a rejected attempt.
        raise Conflict(N_("This exam's passes need no sign-off: there is nothing to decide."))
    attempt.review_decision = "approved" if approve else "rejected"
    attempt.reviewed_at, attempt.reviewed_by_id = now, reviewer_id
    attempt.review_comment = comment.strip() or None
    audit.record(
        session=session,
        action=f"attempt.{attempt.review_decision}",
        subject=f"attempt:{attempt_id}",
        now=now,
        actor_id=reviewer_id,
        data={"comment": attempt.review_comment},
    )
    session.flush()
    if approve:
        return issue(session=session, authority=authority, attempt=attempt, now=now)
    return None


# --- verifying and revoking -----------------------------------------------------------------------


def find(*, session: Session, code: str) -> Certificate | None:
    normal = vc.normalise_code(code)
    if normal is None:
        return None
    return session.exec(select(Certificate).where(Certificate.code == normal)).first()


@dataclass(frozen=True)
class Verification:
    """What a verifier learns: the state, and the signed facts when the signature holds."""

    state: str  # valid | revoked | expired | not yet valid | invalid
    certificate: Certificate
    payload: dict[str, Any] | None
    reason: str | None = None


def verify(*, certificate: Certificate, authority: Authority, now: datetime) -> Verification:
    """Check the stored credential's signature with the published keys, then its standing."""
    try:
        payload = vc.verify_credential(certificate.credential, authority.jwks())
    except vc.CredentialInvalid as exc:
        return Verification("invalid", certificate, None, exc.reason)
    standing = vc.standing(payload, certificate.revoked_at is not None, now)
    return Verification(standing.state, certificate, payload)


def revoke(
    *, session: Session, code: str, reason: str, revoker_id: int, now: datetime
) -> Certificate:
    certificate = find(session=session, code=code)
    if certificate is None:
        raise NotFound(N_("There is no certificate with this code."))
    duties.require(
        actor_id=revoker_id,
        subject_user_id=certificate.user_id,
        action=duties.CERTIFICATE_REVOKE,
        subject=f"certificate:{certificate.code}",
        exam=certificate.exam_id,
    )
    if certificate.revoked_at is not None:
        raise Conflict(N_("This certificate is revoked already."))
    if not reason.strip():
        raise Conflict(N_("Give a reason for the revocation."))
    certificate.revoked_at, certificate.revoked_reason = now, reason.strip()
    certificate.revoked_by_id = revoker_id
    audit.record(
        session=session,
        action="certificate.revoked",
        subject=f"certificate:{certificate.code}",
        now=now,
        actor_id=revoker_id,
        data={"reason": certificate.revoked_reason},
    )
    session.flush()
    return certificate


def status_list_token(
    *, session: Session, authority: Authority, status_list: int, now: datetime
) -> str:
    """The signed revocation list: one bit per certificate slot, set where revoked."""
    revoked = session.exec(
        select(Certificate.status_index).where(
            Certificate.status_list == status_list, col(Certificate.revoked_at).is_not(None)
        )
    ).all()
    encoded = vc.encode_status_list(revoked)
    credential = vc.build_status_list_credential(
        authority.url(f"/status/{status_list}"), authority.issuer, encoded, now
    )
    return vc.sign_credential(credential, authority.current_key(now=now))


def _pdf_language(certificate: Certificate) -> str:
    return certificate.language if certificate.language in ("nb", "da", "en") else "en"


def _render_pdf(
    authority: Authority, certificate: Certificate, achievement: str, now: datetime
) -> bytes:
    if certificate.revoked_at is not None:  # never a fresh signature on a revoked certificate
        raise Conflict(N_("This certificate is revoked."))
    text = CertificateText(
        language=_pdf_language(certificate),
        holder=certificate.holder_name,
        achievement=achievement,
        issued=certificate.issued_at.date(),
        valid_until=certificate.valid_until.date() if certificate.valid_until else None,
        issuer=authority.issuer_name,
        code=certificate.code,
        verify_url=authority.url(f"/verify/{certificate.code}"),
    )
    pdf = render_certificate(text, extra_fonts=authority.pdf_fonts)
    return authority.pdf_signer(now=now).sign(pdf)


def pdf_of(*, authority: Authority, certificate: Certificate, now: datetime) -> bytes | None:
    """The signed PDF made at issuance; none for a revoked certificate. A row older than that
    gets a fresh copy that is not kept, so that reading never writes (``flask --app elearn
    certificates make-pdfs`` stores them)."""
    if certificate.revoked_at is not None:
        return None
    if certificate.pdf is not None:
        return certificate.pdf
    return _render_pdf(authority, certificate, achievement_name(certificate=certificate), now)


def make_missing_pdfs(
    *, session: Session, authority: Authority, now: datetime, limit: int = 100
) -> int:
    """Store the PDF of up to ``limit`` certificates issued before PDFs were made at issuance."""
    missing = session.exec(
        select(Certificate)
        .where(col(Certificate.pdf).is_(None), col(Certificate.revoked_at).is_(None))
        .order_by(col(Certificate.id))
        .limit(limit)
    ).all()
    for certificate in missing:
        certificate.pdf = _render_pdf(
            authority, certificate, achievement_name(certificate=certificate), now
        )
    session.flush()
    return len(missing)


@dataclass(frozen=True)
class PdfVerification:
    """What an uploaded PDF proves. ``outcome`` is the PDF check's verdict when it is not a
    genuine certificate of ours (see ``PdfCheck``); for a genuine one, ``unknown code`` (no
    record), ``differs`` (the record says otherwise: ``differences`` names what), or the
    record's standing (valid | revoked | expired | not yet valid | invalid)."""

    check: PdfCheck
    outcome: str
    record: Verification | None = None
    differences: tuple[str, ...] = ()


def verify_pdf(
    *, session: Session, authority: Authority, data: bytes, now: datetime
) -> PdfVerification:
    """Is `data` an unchanged certificate PDF signed with this issuer's key, and does it match
    the record (holder, achievement, date of issue) and the record's standing?"""
    check = authority.pdf_signer(now=now).check(data)
    if not check.genuine:
        return PdfVerification(check, check.verdict)
    keywords = check.info.get("Keywords", "").split()
    certificate = find(session=session, code=keywords[0]) if keywords else None
    if certificate is None:
        return PdfVerification(check, "unknown code")
    record = verify(certificate=certificate, authority=authority, now=now)
    differences = []
    title = document_title(_pdf_language(certificate), certificate.holder_name)
    if check.info.get("Title") != title:
        differences.append("holder")
    if check.info.get("Subject") != achievement_name(certificate=certificate):
        differences.append("achievement")
    if not check.info.get("CreationDate", "").startswith(f"D:{certificate.issued_at:%Y%m%d}"):
        differences.append("issued")
    return PdfVerification(
        check, "differs" if differences else record.state, record, tuple(differences)
    )


def achievement_name(*, certificate: Certificate) -> str:
    """The achievement as signed into the credential (its payload is the source of truth)."""
    payload = jwt.decode(certificate.credential, options={"verify_signature": False})
    return str(payload["credentialSubject"]["achievement"]["name"])


def of_attempt(*, session: Session, attempt_id: int) -> Certificate | None:
    """The certificate a passed attempt earned, if it has one yet."""
    return session.exec(select(Certificate).where(Certificate.attempt_id == attempt_id)).first()


def of_user(*, session: Session, user_id: int) -> list[Certificate]:
    return list(
        session.exec(
            select(Certificate)
            .where(Certificate.user_id == user_id)
            .order_by(col(Certificate.issued_at).desc())
        )
    )


def search(
    *, session: Session, query: str, number: int, size: int = 50
) -> Page[tuple[Certificate, str]]:
    """Certificates, newest first, found by code, holder or e-mail (any case), a page at a time."""
    statement = select(Certificate, User.email).join(User, col(User.id) == col(Certificate.user_id))
    if query.strip():
        pattern = contains(text=query.strip())
        statement = statement.where(
            or_(
                func.lower(Certificate.code).like(pattern, escape="\\"),
                func.lower(Certificate.holder_name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    statement = statement.order_by(col(Certificate.issued_at).desc(), col(Certificate.id).desc())
    page = page_of(session=session, statement=statement, number=number, size=size)
    return Page([(c, email) for c, email in page.rows], page.number, page.size, page.total)


def waiting_for_sign_off(*, session: Session) -> list[tuple[ExamAttempt, str, str]]:
    """Passes of exams that ask for a sign-off and have none yet, oldest first, with the
    learner's name and e-mail."""
    versions = [
        version_id
        for version_id, spec in session.exec(select(ExamVersion.id, ExamVersion.spec))
        if spec.get("sign_off")
    ]
    rows = session.exec(
        select(ExamAttempt, User.name, User.email)
        .join(User, col(User.id) == col(ExamAttempt.user_id))
        .where(
            col(ExamAttempt.exam_version_id).in_(versions),
            col(ExamAttempt.passed).is_(True),
            col(ExamAttempt.review_decision).is_(None),
        )
        .order_by(col(ExamAttempt.submitted_at))
    )
    return [(attempt, name, email) for attempt, name, email in rows]


def all_certificates(*, session: Session) -> list[tuple[Certificate, str]]:
    return [
        (c, email)
        for c, email in session.exec(
            select(Certificate, User.email)
            .join(User, col(User.id) == col(Certificate.user_id))
            .order_by(col(Certificate.issued_at))
        ).all()
    ]
