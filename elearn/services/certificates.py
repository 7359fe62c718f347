"""Certificates: issued for passes, signed as Open Badges 3.0 credentials, verified, revoked.

The ``Authority`` holds what signs: the credential keys in ``instance/keys/`` (Ed25519 ``k-*.pem``
for the Data Integrity proof and EdDSA JWTs, RSA ``r-*.pem`` for RS256 JWTs; every key ever used
stays published, so that old certificates still verify after a rotation) and the P-256 key that
signs PDFs. It lives on the app; services receive it as an argument.
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, func, or_, select

from elearn.domain import credentials as vc
from elearn.domain import dataintegrity as di
from elearn.domain import duties
from elearn.domain.content import BankSpec, ExamSpec
from elearn.domain.errors import N_, Conflict, NotFound
from elearn.domain.localize import pick
from elearn.models import Bank, Certificate, Exam, ExamAttempt, ExamVersion, User
from elearn.pdf import CertificateText, PdfSigner, render_certificate
from elearn.pdf.text import FontError, FontFile
from elearn.pdf.text import load as load_font
from elearn.services import audit, xapi
from elearn.services.attempts import exam_spec
from elearn.services.paging import Page, contains, page_of

KEY_PREFIX = "k-"  # Ed25519
RSA_KEY_PREFIX = "r-"
_PREFIXES = {vc.EDDSA: KEY_PREFIX, vc.RS256: RSA_KEY_PREFIX}
# The JWT claims sign_credential adds around the credential; the JSON-LD form leaves them out.
_JWT_CLAIMS = ("iss", "sub", "jti", "nbf", "iat", "exp")


@dataclass
class Authority:
    """The issuer's identity and keys."""

    public_url: str
    issuer_name: str
    keys_dir: Path
    pdf_dir: Path
    pdf_fonts: tuple[Path, ...] = ()  # CERTIFICATE_FONTS: asked after the bundled fonts
    jwt_algorithm: str = vc.RS256  # CREDENTIAL_JWT_ALG
    _pdf_signer: PdfSigner | None = field(default=None, repr=False)
    # Parsed keys by file: loading an RSA key checks it (about 0.1 s), too slow for each verify.
    _loaded: dict[Path, tuple[int, vc.SigningKey]] = field(default_factory=dict, repr=False)

    @property
    def issuer(self) -> vc.Issuer:
        return vc.Issuer(id=self.url("/issuer"), name=self.issuer_name, url=self.public_url)

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def kid(self, name: str) -> str:
        """The key's id: a URL that returns that one public JWK (OB 3.0 8.2, JOSE header)."""
        return self.url(f"/keys/{name}")

    def legacy_kid(self, name: str) -> str:
        """The id Ed25519 keys were published under before: a fragment of the JWK Set."""
        return self.url(f"/.well-known/jwks.json#{name}")

    def _key_paths(self, algorithm: str | None = None) -> list[Path]:
        """The key files of one algorithm (or all), oldest first (names carry the time)."""
        prefixes = [_PREFIXES[algorithm]] if algorithm else list(_PREFIXES.values())
        paths = [p for prefix in prefixes for p in self.keys_dir.glob(f"{prefix}*.pem")]
        return sorted(paths, key=lambda p: (p.stem[2:], p.stem))

    def _load(self, path: Path) -> vc.SigningKey:
        """The key in one file, parsed once while the file stays the same."""
        stamp = path.stat().st_mtime_ns
        cached = self._loaded.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, vc.key_from_pem(self.kid(path.stem), path.read_bytes()))
            self._loaded[path] = cached
        return cached[1]

    def keys(self, algorithm: str | None = None) -> list[vc.SigningKey]:
        """Every signing key (of one algorithm, or all), oldest first."""
        return [self._load(path) for path in self._key_paths(algorithm)]

    def current_key(self, *, now: datetime, algorithm: str | None = None) -> vc.SigningKey:
        """The newest key for ``algorithm`` (default: the JWT's, CREDENTIAL_JWT_ALG); the first
        one is made (named by ``now``) when there is none."""
        algorithm = algorithm or self.jwt_algorithm
        keys = self.keys(algorithm)
        return keys[-1] if keys else self.rotate(now=now, algorithm=algorithm)

    def rotate(self, *, now: datetime, algorithm: str = vc.EDDSA) -> vc.SigningKey:
        """A new signing key for ``algorithm``; the old ones stay published."""
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        name = f"{_PREFIXES[algorithm]}{now.strftime('%Y%m%dT%H%M%S%f')}"
        key = vc.generate_key(self.kid(name), algorithm)
        path = self.keys_dir / f"{name}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(vc.key_to_pem(key))
        return key

    def jwks(self) -> dict[str, Any]:
        """Every public key, under its id; Ed25519 keys also under the id they had before, so
        that the certificates signed then still find their key."""
        keys = self.keys()
        aliases = [
            vc.SigningKey(kid=self.legacy_kid(path.stem), private_key=key.private_key)
            for path, key in zip(self._key_paths(), keys, strict=True)
            if path.stem.startswith(KEY_PREFIX)
        ]
        return vc.jwks([*keys, *aliases])

    def public_jwk(self, name: str) -> dict[str, str] | None:
        """The one public JWK published as ``/keys/<name>``, or None if there is no such key."""
        for path in self._key_paths():
            if path.stem == name:
                return vc.public_jwk(self._load(path))
        return None

    def pdf_signer(self, *, now: datetime) -> PdfSigner:
        """The PDF signer, made once; ``now`` dates its certificate when there is none yet."""
        if self._pdf_signer is None:
            self._pdf_signer = PdfSigner.from_directory(self.pdf_dir, now=now)
        return self._pdf_signer


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
    algorithm = app.config.get("CREDENTIAL_JWT_ALG", vc.RS256)
    if algorithm not in vc.ALGORITHMS:
        raise ValueError(
            f"CREDENTIAL_JWT_ALG must be one of {', '.join(vc.ALGORITHMS)}, not {algorithm!r}"
        )
    authority = Authority(
        public_url=app.config["PUBLIC_URL"],
        issuer_name=app.config["ISSUER_NAME"],
        keys_dir=instance / "keys",
        pdf_dir=instance / "pdf-signing",
        pdf_fonts=fonts,
        jwt_algorithm=algorithm,
    )
    # The Ed25519 key signs the Data Integrity proof whatever the JWT's algorithm is.
    for needed in {vc.EDDSA, algorithm}:
        if not authority.keys(needed):
            authority.rotate(now=now, algorithm=needed)
    app.extensions["elearn.authority"] = authority


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


# The criteria narrative in the certificate's language (signed into it, so not a UI string).
_CRITERIA = {
    "en": (
        "Passed the exam “{title}”: {total} questions drawn at random from a reviewed question "
        "bank ({per_topic}), {minutes} minutes, at least {overall} overall{rules}."
    ),
    "nb": (
        "Bestått eksamen «{title}»: {total} spørsmål trukket tilfeldig fra en kvalitetssikret "
        "spørsmålsbank ({per_topic}), {minutes} minutter, minst {overall} samlet{rules}."
    ),
    "da": (
        "Bestået eksamen »{title}«: {total} spørgsmål trukket tilfældigt fra en kvalitetssikret "
        "spørgsmålsbank ({per_topic}), {minutes} minutter, mindst {overall} samlet{rules}."
    ),
}
_AND = {"en": " and ", "nb": " og ", "da": " og "}


def _percent(value: float, lang: str) -> str:
    """75 % / 62,5 %: the decimal mark of the language, a space before the sign."""
    text = f"{value:g}"
    return (text if lang == "en" else text.replace(".", ",")) + "\u00a0%"


def criteria_text(*, spec: ExamSpec, bank: BankSpec, lang: str) -> str:
    """What earning the certificate took, in nb, da or en (English for any other language),
    with the number drawn from each topic and the total."""
    default = bank.languages[0]
    lang_text = lang if lang in _CRITERIA else "en"
    topics = {t.id: pick(t.title, lang, default).value for t in bank.topics}
    per_topic: dict[str, int] = {}
    for entry in spec.blueprint:
        per_topic[entry.topic] = per_topic.get(entry.topic, 0) + entry.items
    rules = "; ".join(
        f"{topics.get(t, t)} ≥ {_percent(p, lang_text)}" for t, p in spec.pass_rules.topics.items()
    )
    return _CRITERIA[lang_text].format(
        title=pick(spec.title, lang, default).value,
        total=sum(per_topic.values()),
        per_topic=", ".join(f"{topics.get(t, t)}: {n}" for t, n in per_topic.items()),
        minutes=spec.time_limit_minutes,
        overall=_percent(spec.pass_rules.overall_percent, lang_text),
        rules=(_AND[lang_text] + rules) if rules else "",
    )


def achievement_url(*, authority: Authority, exam_id: str) -> str:
    """The achievement's id: a public page (HTML or JSON-LD) that alignments link into."""
    return authority.url(f"/achievements/{exam_id}")


def achievement_info(
    *, authority: Authority, exam_id: str, spec: ExamSpec, bank: BankSpec, lang: str
) -> vc.AchievementInfo:
    default = bank.languages[0]
    title = pick(spec.title, lang, default).value
    topics = {t.id: pick(t.title, lang, default).value for t in bank.topics}
    criteria = criteria_text(spec=spec, bank=bank, lang=lang)
    description = pick(spec.description, lang, default).value if spec.description else criteria
    url = achievement_url(authority=authority, exam_id=exam_id)
    return vc.AchievementInfo(
        id=url,
        name=title,
        description=description,
        criteria=criteria,
        alignments=tuple(
            (topics.get(topic, topic), f"{url}#topic-{topic}")
            for topic in dict.fromkeys(e.topic for e in spec.blueprint)
        ),
    )


def subject_id(*, session: Session, user: User) -> str:
    """The holder's credentialSubject.id: random, made once per person and kept, so that it
    links that person's certificates without revealing anything about them."""
    if user.credential_subject_id is None:
        user.credential_subject_id = f"urn:uuid:{uuid.uuid4()}"
        session.add(user)
        session.flush()
    return user.credential_subject_id


def seal(*, credential: dict[str, Any], authority: Authority, now: datetime) -> str:
    """Both proofs for an unsigned credential: first the embedded Data Integrity proof
    (eddsa-rdfc-2022, Ed25519), then the JWT around it, as OB 3.0 8.2.2 orders them."""
    ed25519 = authority.current_key(now=now, algorithm=vc.EDDSA)
    assert isinstance(ed25519.private_key, Ed25519PrivateKey)
    secured = di.add_proof(
        credential, ed25519.private_key, created=credential["validFrom"], proof_set=True
    )
    return vc.sign_credential(secured, authority.current_key(now=now))


def jsonld_credential(
    *, certificate: Certificate, authority: Authority, now: datetime
) -> dict[str, Any]:
    """The credential as JSON-LD with its embedded Data Integrity proof, for wallets.

    It is the signed JWT's payload without the JWT claims: the proof inside was made before the
    JWT. A certificate issued before embedded proofs gets one now (without "created"; the same
    bytes every time while the key is the same), not stored, so that reading never writes.
    """
    payload = vc.verify_credential(certificate.credential, authority.jwks())
    document = {k: v for k, v in payload.items() if k not in _JWT_CLAIMS}
    if "proof" in document:
        return document
    ed25519 = authority.current_key(now=now, algorithm=vc.EDDSA)
    assert isinstance(ed25519.private_key, Ed25519PrivateKey)
    return di.add_proof(document, ed25519.private_key, created=None, proof_set=True)


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
    achievement = achievement_info(
        authority=authority, exam_id=exam_id, spec=spec, bank=bank, lang=language
    )
    info = vc.CredentialInfo(
        id=authority.url(f"/api/v1/credentials/{code}"),
        code=code,
        holder_name=user.name,
        holder_id=subject_id(session=session, user=user),
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
        credential=seal(credential=vc.build_credential(info), authority=authority, now=issued_at),
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
    # The dates as signed into the credential (what a verifier can prove), None when invalid.
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def verify(*, certificate: Certificate, authority: Authority, now: datetime) -> Verification:
    """Check the stored credential's signature with the published keys, then its standing."""
    try:
        payload = vc.verify_credential(certificate.credential, authority.jwks())
    except vc.CredentialInvalid as exc:
        return Verification("invalid", certificate, None, exc.reason)
    standing = vc.standing(payload, certificate.revoked_at is not None, now)
    return Verification(
        standing.state, certificate, payload, None, standing.valid_from, standing.valid_until
    )


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


def _render_pdf(
    authority: Authority, certificate: Certificate, achievement: str, now: datetime
) -> bytes:
    text = CertificateText(
        language=certificate.language if certificate.language in ("nb", "da", "en") else "en",
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


def pdf_of(*, authority: Authority, certificate: Certificate, now: datetime) -> bytes:
    """The signed PDF made at issuance. A row older than that gets a fresh copy that is not kept,
    so that reading never writes (``flask --app elearn certificates make-pdfs`` stores them)."""
    if certificate.pdf is not None:
        return certificate.pdf
    return _render_pdf(authority, certificate, achievement_name(certificate=certificate), now)


def make_missing_pdfs(
    *, session: Session, authority: Authority, now: datetime, limit: int = 100
) -> int:
    """Store the PDF of up to ``limit`` certificates issued before PDFs were made at issuance."""
    missing = session.exec(
        select(Certificate)
        .where(col(Certificate.pdf).is_(None))
        .order_by(col(Certificate.id))
        .limit(limit)
    ).all()
    for certificate in missing:
        certificate.pdf = _render_pdf(
            authority, certificate, achievement_name(certificate=certificate), now
        )
    session.flush()
    return len(missing)


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


def sign_checkpoint(*, authority: Authority, head: str, count: int, now: datetime) -> str:
    """The audit log's head hash signed with the credential key: an outside party who keeps
    these can later prove that the log up to that point was not rewritten."""
    key = authority.current_key(now=now, algorithm=vc.EDDSA)
    return jwt.encode(
        {
            "iss": authority.issuer.id,
            "iat": int(now.timestamp()),
            "audit_head": head,
            "audit_count": count,
        },
        key.private_key,
        algorithm="EdDSA",
        headers={"kid": key.kid, "typ": "JWT"},
    )
