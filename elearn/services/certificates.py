"""Certificates: issued for passes, signed as Open Badges 3.0 credentials, verified, revoked.

The ``Authority`` holds what signs: the credential keys in ``instance/keys/`` (Ed25519 ``k-*.pem``
for the Data Integrity proof and EdDSA JWTs, RSA ``r-*.pem`` for RS256 JWTs; every key ever used
stays published, so that old certificates still verify after a rotation) and the P-256 key that
certifies PDFs (or the organisation's own chain, PDF_SIGNING_PKCS12). It lives on the app;
services receive it as an argument.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, func, or_, select

from elearn.domain import credentials as vc
from elearn.domain import dataintegrity as di
from elearn.domain import duties
from elearn.domain.content import BankSpec, ExamSpec
from elearn.domain.errors import N_, Conflict, NotFound
from elearn.domain.localize import pick
from elearn.models import Bank, Certificate, Exam, ExamAttempt, ExamVersion, StatusList, User
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
from elearn.services import audit, notices, xapi
from elearn.services.attempts import exam_spec
from elearn.services.paging import Page, contains, page_of

KEY_PREFIX = "k-"  # Ed25519
RSA_KEY_PREFIX = "r-"
_PREFIXES = {vc.EDDSA: KEY_PREFIX, vc.RS256: RSA_KEY_PREFIX}
# The JWT claims sign_credential adds around the credential; the JSON-LD form leaves them out.
_JWT_CLAIMS = ("iss", "sub", "jti", "nbf", "iat", "exp")
IDENTITY_FILE = "identity.json"  # in keys/: the issuer's base URL, recorded on first start


@dataclass(frozen=True)
class KeyRecord:
    """A signing key with what was recorded when it was made: its kid (for ever) and the moment
    from which it signs (after verifiers' caches of the key set have seen it)."""

    key: vc.SigningKey
    sign_from: datetime


@dataclass
class Authority:
    """The issuer's identity and keys.

    Identifiers signed into credentials are recorded when first used and never rebuilt from
    today's ``PUBLIC_URL`` (docs/decisions/0014): the issuer's base URL in ``keys/identity.json``,
    each key's kid in the ``.json`` beside its ``.pem``, each status list's URL in its row.
    ``public_url`` is only where the site is served now (new credentials' own links).
    """

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
    aliases: tuple[str, ...] = ()  # PUBLIC_URL_ALIASES: earlier addresses that still answer
    jwks_max_age: int = 300  # JWKS_MAX_AGE: a rotated key signs only once this has passed
    status_list_size: int = vc.STATUS_LIST_SIZE
    jwt_algorithm: str = vc.RS256  # CREDENTIAL_JWT_ALG
    _pdf_signer: PdfSigner | None = field(default=None, repr=False)
    _base: str | None = field(default=None, repr=False)  # recorded once, never changes
    # Key records by file, with the file's modification time (see _record).
    _loaded: dict[Path, tuple[int, KeyRecord]] = field(default_factory=dict, repr=False)

    @property
    def issuer(self) -> vc.Issuer:
        return vc.Issuer(id=self.id_url("/issuer"), name=self.issuer_name, url=self.public_url)

    def url(self, path: str) -> str:
        """A URL at the address the site is served at now."""
        return self.public_url.rstrip("/") + path

    def id_url(self, path: str) -> str:
        """An identifier under the issuer's recorded base URL (issuer, achievements): the same in
        every credential, whatever the address is today."""
        return self.issuer_base().rstrip("/") + path

    def issuer_base(self) -> str:
        """The base URL recorded on first start (today's address if nothing is recorded yet)."""
        if self._base is None:
            self._base = self._recorded_base()
        return self._base

    def _recorded_base(self) -> str:
        path = self.keys_dir / IDENTITY_FILE
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["base"])
        except FileNotFoundError:
            pass
        self._private_dir()
        data = json.dumps({"base": self.public_url.rstrip("/")}, indent=2) + "\n"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process recorded it first: theirs holds
            return str(json.loads(path.read_text(encoding="utf-8"))["base"])
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        return self.public_url.rstrip("/")

    def bases(self) -> tuple[str, ...]:
        """Every base URL this site answers for: today's address and its aliases."""
        return (self.public_url.rstrip("/"), *self.aliases)

    def kid(self, name: str) -> str:
        """The kid a new key is published under: a URL that returns that one public JWK (OB 3.0
        8.2), at today's address, then recorded for ever beside the key."""
        return self.url(f"/keys/{name}")

    def _key_paths(self, algorithm: str | None = None) -> list[Path]:
        """The key files of one algorithm (or all), oldest first (names carry the time)."""
        prefixes = [_PREFIXES[algorithm]] if algorithm else list(_PREFIXES.values())
        paths = [p for prefix in prefixes for p in self.keys_dir.glob(f"{prefix}*.pem")]
        return sorted(paths, key=lambda p: (p.stem[2:], p.stem))

    def _record(self, path: Path) -> KeyRecord:
        """One key with its record. A key made before kids were recorded (an Ed25519 key, whose
        kid was a fragment of the key set) gets its record now, under the issuer's recorded
        base, and signs as before. Parsed once while the key file stays the same (a record is
        written once, and loading an RSA key checks it: about 0.1 s, too slow for each verify)."""
        stamp = path.stat().st_mtime_ns
        cached = self._loaded.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        meta_path = path.with_suffix(".json")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            kid = self.id_url(f"/.well-known/jwks.json#{path.stem}")
            meta = {"kid": kid, "sign_from": datetime(1970, 1, 1, tzinfo=UTC).isoformat()}
            _write_private(meta_path, json.dumps(meta, indent=2) + "\n", exclusive=False)
        key = vc.key_from_pem(str(meta["kid"]), path.read_bytes())
        record = KeyRecord(key, datetime.fromisoformat(str(meta["sign_from"])))
        self._loaded[path] = (stamp, record)
        return record

    def records(self, algorithm: str | None = None) -> list[KeyRecord]:
        """Every signing key (of one algorithm, or all) with its recorded kid and signing
        start, oldest first."""
        return [self._record(path) for path in self._key_paths(algorithm)]

    def keys(self, algorithm: str | None = None) -> list[vc.SigningKey]:
        """Every signing key (of one algorithm, or all), oldest first, staged ones included
        (they are published at once)."""
        return [record.key for record in self.records(algorithm)]

    def current_key(self, *, now: datetime, algorithm: str | None = None) -> vc.SigningKey:
        """The newest key for ``algorithm`` (default: the JWT's, CREDENTIAL_JWT_ALG) whose
        signing time has come; the first one is made (named by ``now``) when there is none."""
        algorithm = algorithm or self.jwt_algorithm
        records = self.records(algorithm)
        if not records:
            return self.rotate(now=now, algorithm=algorithm)
        ready = [r for r in records if r.sign_from <= now]
        if not ready:  # the clock went back past every key's start: the earliest one
            return min(records, key=lambda r: r.sign_from).key
        return ready[-1].key

    def rotate(self, *, now: datetime, algorithm: str = vc.EDDSA) -> vc.SigningKey:
        """A new signing key for ``algorithm``, published at once; it signs only after
        ``jwks_max_age`` seconds, when no verifier can still hold a cached key set without it.
        The old keys stay published. The first key of an algorithm signs at once."""
        first = not self._key_paths(algorithm)
        self._private_dir()
        name = f"{_PREFIXES[algorithm]}{now.strftime('%Y%m%dT%H%M%S%f')}"
        key = vc.generate_key(self.kid(name), algorithm)
        sign_from = now if first else now + timedelta(seconds=self.jwks_max_age)
        meta = {"kid": key.kid, "sign_from": sign_from.isoformat()}
        _write_private(self.keys_dir / f"{name}.json", json.dumps(meta, indent=2) + "\n")
        path = self.keys_dir / f"{name}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(vc.key_to_pem(key))
        return key

    def public_keys(self) -> Callable[[str], Ed25519PublicKey | None]:
        """Every Ed25519 key ever used, by kid (what signed an audit checkpoint, after rotations
        too)."""
        found = {}
        for key in self.keys(vc.EDDSA):
            public = key.private_key.public_key()
            assert isinstance(public, Ed25519PublicKey)
            found[key.kid] = public
        return found.get

    def _private_dir(self) -> None:
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)

    def jwks(self) -> dict[str, Any]:
        """Every public key ever used, each under its recorded kid."""
        return vc.jwks(self.keys())

    def public_jwk(self, name: str) -> dict[str, str] | None:
        """The one public JWK published as ``/keys/<name>``, or None if there is no such key."""
        for path in self._key_paths():
            if path.stem == name:
                return vc.public_jwk(self._record(path).key)
        return None

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
    def not_after(self) -> datetime:
        """When the certificate expires."""
        return x509.load_der_x509_certificate(self.der).not_valid_after_utc

    @property
    def sha256_colons(self) -> str:
        """The fingerprint as pdfsig, certutil and browsers show it (AB:CD:...)."""
        return ":".join(self.sha256[i : i + 2] for i in range(0, 64, 2)).upper()


def _write_private(path: Path, text: str, *, exclusive: bool = True) -> None:
    """Write a file of the keys folder with mode 0600 (``exclusive``: never over another)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def authority_of(*, app: Any) -> Authority:
    """The authority ``init_app`` put on the app: the one way to reach it."""
    found: Authority = app.extensions["elearn.authority"]
    return found


def init_app(app: Any, *, now: datetime) -> None:
    """Put the authority on the app; make the first signing key (named by ``now``) if none and
    record the issuer's base URL. A font in CERTIFICATE_FONTS that cannot be embedded stops the
    start, naming the file; so does, in production, a recorded address that is neither
    PUBLIC_URL nor in PUBLIC_URL_ALIASES (what was signed under it would no longer resolve)."""
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
        **_pdf_settings(app.config, instance),
        aliases=tuple(app.config.get("PUBLIC_URL_ALIASES", ())),
        jwks_max_age=int(app.config.get("JWKS_MAX_AGE", 300)),
        status_list_size=int(app.config.get("STATUS_LIST_SIZE", vc.STATUS_LIST_SIZE)),
        jwt_algorithm=algorithm,
    )
    base = authority.issuer_base()
    # The Ed25519 key signs the Data Integrity proof whatever the JWT's algorithm is.
    for needed in sorted({vc.EDDSA, algorithm}):
        if not authority.keys(needed):
            authority.rotate(now=now, algorithm=needed)
    recorded = {base, *(_base_of(r.key.kid) for r in authority.records())}
    missing = sorted(recorded - set(authority.bases()))
    if missing:
        message = (
            f"identifiers in issued credentials name {', '.join(missing)}, which is neither "
            f"PUBLIC_URL ({authority.public_url}) nor in PUBLIC_URL_ALIASES: add it to "
            "PUBLIC_URL_ALIASES (and keep it pointing here) so that they still resolve; "
            "see docs/deploy.md"
        )
        if app.config.get("PRODUCTION"):
            raise vc.UnrecordedAddress(message)
        if hasattr(app, "logger"):
            app.logger.warning(message)
    authority.pdf_signer(now=now)  # a PDF_SIGNING_PKCS12 or TSA setting that fails stops here
    app.extensions["elearn.authority"] = authority


def _base_of(url: str) -> str:
    """The base URL in front of one of our paths (a kid's /keys/ or /.well-known/, a list's
    /status/)."""
    for marker in ("/.well-known/", "/keys/", "/status/", "/issuer"):
        if marker in url:
            return url[: url.index(marker)]
    return url


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


def _status_list(
    *, session: Session, authority: Authority, number: int, now: datetime
) -> StatusList:
    """List ``number``, opened (its URL recorded at today's address) if it is not yet."""
    row = session.get(StatusList, number)
    if row is not None:
        return row
    try:
        with session.begin_nested():  # another server may open the same list at this moment
            session.add(
                StatusList(
                    id=number,
                    url=authority.url(f"/status/{number}"),
                    size=authority.status_list_size,
                    opened_at=now,
                )
            )
    except IntegrityError:
        pass  # theirs holds: the same number, the URL recorded by whoever came first
    found = session.get(StatusList, number)
    assert found is not None
    return found


def _free_slot(*, session: Session, authority: Authority, now: datetime) -> tuple[int, int]:
    """A list and a random unused bit in it: the newest list, or a new one when it is full.
    Random places keep holders from being told apart by order."""
    newest = session.exec(select(func.max(StatusList.id))).one()
    number = newest or 1
    while True:
        row = _status_list(session=session, authority=authority, number=number, now=now)
        used = set(
            session.exec(select(Certificate.status_index).where(Certificate.status_list == number))
        )
        if len(used) < row.size:
            break
        number += 1
    while True:
        index = secrets.randbelow(row.size)
        if index not in used:
            return number, index


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
    return authority.id_url(f"/achievements/{exam_id}")


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
    notices.certificate_issued(session=session, certificate=certificate, attempt=attempt, now=now)
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
    list_number, index = _free_slot(session=session, authority=authority, now=now)
    status_list = session.get(StatusList, list_number)
    assert status_list is not None
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
        status_list_url=status_list.url,
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
        status_list=list_number,
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
    if approve:  # the certificate's message says it was approved
        return issue(session=session, authority=authority, attempt=attempt, now=now)
    notices.sign_off_rejected(session=session, attempt=attempt, now=now)
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

    state: str  # valid | revoked | expired | not yet valid | invalid | status unknown
    certificate: Certificate
    payload: dict[str, Any] | None
    reason: str | None = None
    # The dates as signed into the credential (what a verifier can prove), None when invalid.
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def verify(*, certificate: Certificate, authority: Authority, now: datetime) -> Verification:
    """Check the stored credential's signature with the published keys, then its standing.

    Fails closed: when the revocation status cannot be established from the list the credential
    names (no such list, another URL, an index outside it, a stored list that does not verify)
    the state is "status unknown", never "valid".
    """
    try:
        payload = vc.verify_credential(certificate.credential, authority.jwks())
    except vc.CredentialInvalid as exc:
        return Verification("invalid", certificate, None, exc.reason)
    try:
        listed = _listed_as_revoked(certificate=certificate, payload=payload, authority=authority)
    except vc.StatusUnknown as exc:
        revoked_anyway = certificate.revoked_at is not None
        if not revoked_anyway:
            return Verification("status unknown", certificate, payload, str(exc))
        listed = True
    standing = vc.standing(payload, listed or certificate.revoked_at is not None, now)
    return Verification(
        standing.state, certificate, payload, None, standing.valid_from, standing.valid_until
    )


def _listed_as_revoked(
    *, certificate: Certificate, payload: dict[str, Any], authority: Authority
) -> bool:
    """Whether the signed revocation list the credential names has its bit set; vc.StatusUnknown
    when that list cannot be read as the credential names it."""
    session = object_session(certificate)
    entry = payload.get("credentialStatus")
    if session is None or not isinstance(entry, dict):
        raise vc.StatusUnknown("the credential names no revocation list")
    row = session.get(StatusList, certificate.status_list)
    if row is None:
        raise vc.StatusUnknown("the revocation list is missing")
    try:
        index = int(entry["statusListIndex"])
    except (KeyError, TypeError, ValueError):
        raise vc.StatusUnknown("the credential's status index is unreadable") from None
    if entry.get("statusListCredential") != row.url or index != certificate.status_index:
        raise vc.StatusUnknown("the credential names another revocation list")
    if not 0 <= index < row.size:
        raise vc.StatusUnknown("the status index is outside the revocation list")
    if row.token is None:
        return False  # never signed yet: nothing was revoked since it was opened
    try:
        listing = vc.verify_credential(row.token, authority.jwks())
        if listing.get("id") != row.url:
            raise ValueError("another list")
        return vc.status_bit(listing["credentialSubject"]["encodedList"], index)
    except (vc.CredentialInvalid, ValueError, KeyError, TypeError):
        raise vc.StatusUnknown("the revocation list does not verify") from None


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
    _bit_changed(session=session, status_list=certificate.status_list)
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


def _bit_changed(*, session: Session, status_list: int) -> None:
    """A bit of the list changed: the signed copy is stale (in one statement, so that two
    servers revoking at once both count)."""
    session.execute(
        update(StatusList)
        .where(col(StatusList.id) == status_list)
        .values(version=col(StatusList.version) + 1)
    )


def signed_status_list(
    *, session: Session, authority: Authority, number: int, now: datetime
) -> StatusList | None:
    """Revocation list ``number`` with its signed copy, or None if there is no such list.

    The copy is signed again only when a bit changed since, or when the key that signed it is
    no longer the one that signs: otherwise every server serves the stored copy (and its ETag).
    """
    row = session.get(StatusList, number)
    if row is None:
        return None
    key = authority.current_key(now=now)
    if row.token is not None and row.signed_version == row.version and row.signed_kid == key.kid:
        return row
    version = row.version  # read before the bits: a revocation after this is signed next time
    revoked = session.exec(
        select(Certificate.status_index).where(
            Certificate.status_list == number, col(Certificate.revoked_at).is_not(None)
        )
    ).all()
    encoded = vc.encode_status_list(revoked, size=row.size, minimum=1)
    credential = vc.build_status_list_credential(row.url, authority.issuer, encoded, now)
    row.token = vc.sign_credential(credential, key)
    row.signed_version, row.signed_kid, row.signed_at = version, key.kid, now
    session.add(row)
    session.flush()
    return row


def status_etag(*, row: StatusList) -> str:
    """A strong validator of the signed copy: the same on every server that serves it."""
    assert row.token is not None
    return hashlib.sha256(row.token.encode("ascii")).hexdigest()[:32]


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
