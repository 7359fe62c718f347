"""Database rows (SQLModel ``table=True`` only). Times are aware UTC (see ``elearn.clock``)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from elearn.clock import utcnow

ROLES = (
    "learner",
    "manager",
    "certifier",
    "panellist",
    "organiser",
    "adviser",
    "editor",
    "admin",
)


# --- people and organisation ------------------------------------------------------------------


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    # On a top-level unit only: municipality, county, state, public, private (audience rules).
    org_type: str | None = Field(default=None, max_length=16)


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    locale: str | None = Field(default=None, max_length=8)
    active: bool = True
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # Random, made at the first certificate: links a holder's credentials, reveals nothing.
    credential_subject_id: str | None = Field(default=None, max_length=45, unique=True, index=True)
    # Set when the person's data was erased: the row stays, holding no identity, so that what
    # must stay (a certificate until it expires, sealed audit entries) keeps its references.
    erased_at: datetime | None = None


class LoginSession(SQLModel, table=True):
    """One signed-in browser. Its cookies carry a random token; only the token's SHA-256 is kept.
    Signing out deletes the row, so a copied session or remember cookie stops working."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    remember: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime

    @staticmethod
    def digest(token: str) -> str:
        """What is stored for a token (a stolen database holds no usable cookie)."""
        return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    role: str = Field(max_length=20, primary_key=True)


class ManagerUnit(SQLModel, table=True):
    """A manager is assigned to units and sees those and every unit below them."""

    __tablename__ = "manager_unit"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)


class Assignment(SQLModel, table=True):
    """A course or an exam that a unit's staff must complete by a date."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("unit_id", "kind", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    kind: str = Field(max_length=8)  # course | exam
    target_id: str = Field(max_length=80)
    due_at: datetime
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class PasswordReset(SQLModel, table=True):
    """A one-time link an admin made; only the token's hash is kept."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class UserIdentity(SQLModel, table=True):
    """An account at an organisation's OpenID provider, linked to a user by the provider's
    stable subject (issuer + sub), never by e-mail alone (docs/decisions/0023)."""

    __tablename__ = "user_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    provider: str = Field(max_length=40)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class SsoGrant(SQLModel, table=True):
    """What a provider's claim rules gave a user (a role, a managed unit, the user's unit): taken
    back at the sign-in where the rule no longer matches. What an admin gave by hand has no row
    here, and is kept."""

    __tablename__ = "sso_grant"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    provider: str = Field(max_length=40, primary_key=True)
    kind: str = Field(max_length=10, primary_key=True)  # role | manages | unit
    value: str = Field(max_length=400, primary_key=True)


class PrivacyRequest(SQLModel, table=True):
    """A person's request to erase their data (GDPR art. 17), and the administrator's decision:
    ``scope`` "default" keeps a valid certificate until it expires; "full" revokes it too."""

    __tablename__ = "privacy_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    kind: str = Field(default="erasure", max_length=16)
    status: str = Field(default="requested", max_length=16)  # requested|rejected|done
    requested_at: datetime
    note: str = Field(default="", max_length=2000)  # the person's words, if any
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    scope: str | None = Field(default=None, max_length=8)  # default | full
    reason: str = Field(default="", max_length=2000)  # the decision's reason, recorded


class SignupRequest(SQLModel, table=True):
    """A sign-up waiting for its owner to confirm the address by the link e-mailed to it: the
    account exists only then, so nobody opens one in someone else's name, and the sign-up page
    answers the same whether or not the address has an account. Only the token's hash is kept."""

    __tablename__ = "signup_request"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    locale: str | None = Field(default=None, max_length=8)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class AppSetting(SQLModel, table=True):
    """Settings an admin changes at run time (config holds their defaults)."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_column=Column(JSON, nullable=False))


# --- content (loaded from files by content sync) ------------------------------------------------


class Course(SQLModel, table=True):
    __tablename__ = "course"

    id: str = Field(primary_key=True, max_length=80)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    active: bool = True
    synced_at: datetime = Field(default_factory=utcnow)


class CourseModule(SQLModel, table=True):
    __tablename__ = "course_module"

    course_id: str = Field(foreign_key="course.id", primary_key=True, max_length=80)
    module_id: str = Field(primary_key=True, max_length=80)
    position: int
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    active: bool = True


class Bank(SQLModel, table=True):
    __tablename__ = "bank"

    id: str = Field(primary_key=True, max_length=80)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    active: bool = True


class Item(SQLModel, table=True):
    """A question's identity; its text lives in versions, which are never changed."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("bank_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    bank_id: str = Field(foreign_key="bank.id", index=True, max_length=80)
    key: str = Field(max_length=80)
    topic: str = Field(max_length=80, index=True)
    # No database foreign key: it would close a cycle with item_version; sync keeps it right.
    current_version_id: int | None = None
    source_path: str = Field(max_length=500)
    active: bool = True  # false when its file no longer holds it
    retired_at: datetime | None = None  # a certifier took it out of the draw
    # Metadata from its file, kept here (not in a version): changing it makes no new version.
    pool: str = Field(default="", max_length=80, index=True)  # "": the bank's main pool
    enemy_group: str | None = Field(default=None, max_length=80)


class ItemVersion(SQLModel, table=True):
    __tablename__ = "item_version"
    __table_args__ = (
        UniqueConstraint("item_id", "version"),
        UniqueConstraint("item_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    version: int
    content_hash: str = Field(max_length=64)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Exam(SQLModel, table=True):
    __tablename__ = "exam"

    id: str = Field(primary_key=True, max_length=80)
    bank_id: str = Field(foreign_key="bank.id", index=True, max_length=80)
    current_version_id: int | None = None  # see Item.current_version_id
    active: bool = True


class ExamVersion(SQLModel, table=True):
    __tablename__ = "exam_version"
    __table_args__ = (
        UniqueConstraint("exam_id", "version"),
        UniqueConstraint("exam_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exam_id: str = Field(foreign_key="exam.id", index=True, max_length=80)
    version: int
    content_hash: str = Field(max_length=64)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


# --- learning -----------------------------------------------------------------------------------


class CourseProgress(SQLModel, table=True):
    __tablename__ = "course_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    course_id: str = Field(foreign_key="course.id", max_length=80)
    last_module_id: str | None = Field(default=None, max_length=80)
    started_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


class ModuleProgress(SQLModel, table=True):
    __tablename__ = "module_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "module_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    course_id: str = Field(foreign_key="course.id", max_length=80)
    module_id: str = Field(max_length=80)
    first_opened_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


class Reflection(SQLModel, table=True):
    """A learner's private answer to one reflection prompt of a module."""

    __tablename__ = "reflection"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "module_id", "prompt_index"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    course_id: str = Field(foreign_key="course.id", max_length=80)
    module_id: str = Field(max_length=80)
    prompt_index: int
    prompt: str = Field(sa_column=Column(Text, nullable=False))  # as the learner read it
    answer: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class CourseEvaluation(SQLModel, table=True):
    __tablename__ = "course_evaluation"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    course_id: str = Field(foreign_key="course.id", index=True, max_length=80)
    relevance: int
    clarity: int
    usefulness: int
    gained: str = Field(default="", sa_column=Column(Text, nullable=False))
    improve: str = Field(default="", sa_column=Column(Text, nullable=False))
    submitted_at: datetime = Field(default_factory=utcnow)


# --- exams ---------------------------------------------------------------------------------------


class ExamAttempt(SQLModel, table=True):
    """One sitting of an exam. The form is fixed at start and can be replayed from its slots."""

    __tablename__ = "exam_attempt"
    __table_args__ = (
        # At most one attempt in progress per learner and exam, even with two tabs racing.
        Index(
            "uq_attempt_in_progress",
            "user_id",
            "exam_id",
            unique=True,
            sqlite_where=text("submitted_at IS NULL"),
            postgresql_where=text("submitted_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    exam_id: str = Field(foreign_key="exam.id", index=True, max_length=80)
    exam_version_id: int = Field(foreign_key="exam_version.id")
    language: str = Field(max_length=8)
    seed: str = Field(max_length=32)
    fingerprint: str = Field(max_length=64)
    expected_score: float | None = None  # mean Angoff rating of the form
    started_at: datetime
    deadline_at: datetime
    submitted_at: datetime | None = Field(default=None, index=True)
    closed_by: str | None = Field(default=None, max_length=16)  # learner | deadline
    score_percent: float | None = None
    passed: bool | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Sign-off, where the exam asks a certifier to approve a pass before the certificate.
    review_decision: str | None = Field(default=None, max_length=16)  # approved | rejected
    reviewed_at: datetime | None = None
    reviewed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    review_comment: str | None = Field(default=None, max_length=2000)
    # Drawn ahead for a scheduled sitting and not started yet: nothing may be seen or saved.
    waiting: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})


class AttemptSlot(SQLModel, table=True):
    """One served item: the version, the served order of its options, the learner's answer."""

    __tablename__ = "attempt_slot"
    __table_args__ = (UniqueConstraint("attempt_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="exam_attempt.id", index=True)
    number: int
    item_version_id: int = Field(foreign_key="item_version.id", index=True)
    topic: str = Field(max_length=80)
    options: list[str] = Field(sa_column=Column(JSON, nullable=False))
    prompts: list[str] = Field(sa_column=Column(JSON, nullable=False))
    response: Any = Field(default=None, sa_column=Column(JSON))
    flagged: bool = False
    answered_at: datetime | None = None
    mark: float | None = None


class AttemptEvent(SQLModel, table=True):
    """The trail of an attempt: started, saves, submitted, scored; from where and which browser."""

    __tablename__ = "attempt_event"

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="exam_attempt.id", index=True)
    at: datetime
    kind: str = Field(max_length=20)
    slot: int | None = None
    address: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=300)


class ItemExposure(SQLModel, table=True):
    """How often each item version has been served: the draw prefers the least exposed."""

    __tablename__ = "item_exposure"

    item_version_id: int = Field(foreign_key="item_version.id", primary_key=True)
    served: int = 0


class ExtraTime(SQLModel, table=True):
    """Extra time for one learner on one exam (an accommodation), granted by a certifier."""

    __tablename__ = "extra_time"
    __table_args__ = (UniqueConstraint("user_id", "exam_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    exam_id: str = Field(foreign_key="exam.id", max_length=80)
    minutes: int = 0
    percent: int = 0
    reason: str = Field(default="", max_length=500)
    granted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    granted_at: datetime


# --- standard setting (modified Angoff) ---------------------------------------------------------


class ItemPanelRating(SQLModel, table=True):
    """The panel's rating of an item, from a ratings file of its bank (``content sync``).

    Metadata beside the item, not in a version: a new rating makes no new version. The draw uses
    it instead of the author's estimate (the ``angoff`` of the item's file).
    """

    __tablename__ = "item_panel_rating"

    item_id: int = Field(foreign_key="item.id", primary_key=True)
    rating: float
    # Provenance, as the ratings file names it.
    study: str = Field(max_length=80)
    exam_id: str = Field(max_length=80)  # no foreign key: an exam may go, its ratings stay true
    closed_on: date
    panellists: int
    rounds: int
    source_path: str = Field(max_length=500)


class Study(SQLModel, table=True):
    """A standard-setting study of one exam: invited panellists rate its pool in one or two
    rounds; whoever opened it runs it (and does not rate in it)."""

    __tablename__ = "study"

    id: int | None = Field(default=None, primary_key=True)
    exam_id: str = Field(foreign_key="exam.id", index=True, max_length=80)
    # The blueprint and pass rules it was opened for: the cut is computed over these.
    exam_version_id: int = Field(foreign_key="exam_version.id")
    round: int = 1  # the round open now; once closed, the last one held
    opened_by_id: int = Field(foreign_key="user_account.id")
    opened_at: datetime
    round_two_at: datetime | None = None
    closed_at: datetime | None = None
    note: str = Field(default="", max_length=500)


class StudyPanellist(SQLModel, table=True):
    __tablename__ = "study_panellist"

    study_id: int = Field(foreign_key="study.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)
    invited_at: datetime


class StudyItem(SQLModel, table=True):
    """An item of the exam's pool when the study opened, with the version the panel rates."""

    __tablename__ = "study_item"

    study_id: int = Field(foreign_key="study.id", primary_key=True)
    item_id: int = Field(foreign_key="item.id", primary_key=True)
    item_version_id: int = Field(foreign_key="item_version.id")
    topic: str = Field(max_length=80)
    position: int


class StudyRating(SQLModel, table=True):
    """One panellist's rating of one item in one round (0..1 in steps of 0.05)."""

    __tablename__ = "study_rating"

    study_id: int = Field(foreign_key="study.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    round: int = Field(primary_key=True)
    item_id: int = Field(foreign_key="item.id", primary_key=True)
    rating: float
    rated_at: datetime


# --- certificates ---------------------------------------------------------------------------------


class Certificate(SQLModel, table=True):
    """A signed certificate for a pass. Its bit in the status list says whether it is revoked."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("status_list", "status_index"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    exam_id: str = Field(foreign_key="exam.id", index=True, max_length=80)
    attempt_id: int | None = Field(default=None, foreign_key="exam_attempt.id", unique=True)
    holder_name: str = Field(max_length=200)
    language: str = Field(max_length=8)
    form_fingerprint: str | None = Field(default=None, max_length=64)
    issued_at: datetime
    valid_until: datetime | None = None
    status_list: int = 1
    status_index: int
    credential: str = Field(sa_column=Column(Text, nullable=False))  # the signed VC-JWT
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary))  # signed, made once
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, max_length=500)
    revoked_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class StatusList(SQLModel, table=True):
    """A revocation list: its URL, recorded when it was opened and never rebuilt from today's
    address, its size, and the signed copy every app server serves until a bit changes."""

    __tablename__ = "status_list"

    # The list's number, as in /status/<n> and Certificate.status_list.
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    url: str = Field(max_length=500)
    size: int
    opened_at: datetime
    version: int = 1  # one more whenever a bit changes (a revocation)
    token: str | None = Field(default=None, sa_column=Column(Text))  # the signed list served
    signed_version: int | None = None  # the version that token holds
    signed_kid: str | None = Field(default=None, max_length=500)
    signed_at: datetime | None = None


# --- audit --------------------------------------------------------------------------------------


class AuditEntry(SQLModel, table=True):
    """One entry of the audit log, written without a hash; the sealer later gives it its place
    (``seq``) and hash in the chain (see ``elearn.domain.audit``). People appear only as
    pseudonyms (``actor``, and ``person:<pseudonym>`` subjects); see ``AuditSubject``."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=64, index=True)
    subject: str = Field(max_length=200, index=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Set once, by the sealer; unique, so two sealers cannot both claim a place (no fork).
    seq: int | None = Field(default=None, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditSubject(SQLModel, table=True):
    """The link from a pseudonym in the audit log to a person, kept outside the hashed entries:
    deleting it (erasure) leaves the chain intact and the entries naming no one."""

    __tablename__ = "audit_subject"

    pseudonym: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user_account.id", unique=True)


class AuditCheckpoint(SQLModel, table=True):
    """A signed head of the sealed chain (or, with ``pruned``, a signed prune record)."""

    __tablename__ = "audit_checkpoint"
    __table_args__ = (UniqueConstraint("seq", "pruned"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int
    head: str = Field(max_length=64)
    at: datetime
    kid: str = Field(max_length=300)
    signature: str = Field(max_length=200)
    pruned: bool = False


# --- learning records (xAPI) ---------------------------------------------------------------


class OutboxFields(SQLModel):
    """What every outbox row carries (xAPI statements, e-mail): written with its cause, claimed
    by one sender, marked sent after the far side took it, or kept as refused with the reason.
    The sending rules that use these columns are in ``elearn.services.outbox``."""

    created_at: datetime
    tries: int = 0
    next_try_at: datetime = Field(index=True)
    claimed_until: datetime | None = None  # a sender is sending it; another leaves it alone
    sent_at: datetime | None = Field(default=None, index=True)
    rejected_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)


class XapiStatement(OutboxFields, table=True):
    """One statement on its way to the LRS: written with the event, sent later, never changed.

    A row is only marked sent after the LRS has stored it; a statement the LRS refuses as
    malformed is kept with the reason (``rejected_at``), never dropped.
    """

    __tablename__ = "xapi_statement"

    id: int | None = Field(default=None, primary_key=True)
    statement_id: str = Field(max_length=36, unique=True)
    statement: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


# --- e-mail ---------------------------------------------------------------------------------------


class MailMessage(OutboxFields, table=True):
    """One e-mail on its way out, rendered when queued (in the recipient's language) and never
    changed; sent by ``flask --app elearn mail send`` (docs/decisions/0018)."""

    __tablename__ = "mail_message"

    id: int | None = Field(default=None, primary_key=True)
    # Its cause, e.g. "assignment-overdue:12:34": the same cause never queues a second message.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    message_id: str = Field(max_length=200, unique=True)  # the Message-ID header, kept on retries
    to_address: str = Field(max_length=254, index=True)
    template: str = Field(max_length=80)
    lang: str = Field(max_length=8)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    reply_to: str | None = Field(default=None, max_length=254)
    unsubscribe_url: str | None = Field(default=None, max_length=500)


class MailAttachment(SQLModel, table=True):
    """A file sent with a message (an .ics invitation, a certificate)."""

    __tablename__ = "mail_attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="mail_message.id", index=True)
    position: int
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# --- scheduled sittings -------------------------------------------------------------------------


class Sitting(SQLModel, table=True):
    """An exam taken together at a set time: forms are drawn ahead, the start is one write."""

    __tablename__ = "sitting"

    id: int | None = Field(default=None, primary_key=True)
    exam_id: str = Field(foreign_key="exam.id", index=True, max_length=80)
    starts_at: datetime = Field(index=True)
    late_minutes: int = 0  # late arrivals may start this long after the start
    place: str = Field(max_length=200)  # a room, or "online"
    invigilator_id: int = Field(foreign_key="user_account.id")
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime


class SittingCandidate(SQLModel, table=True):
    """One booked candidate, with the attempt drawn for them (or why none could be)."""

    __tablename__ = "sitting_candidate"
    __table_args__ = (UniqueConstraint("sitting_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sitting_id: int = Field(foreign_key="sitting.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    attempt_id: int | None = Field(default=None, foreign_key="exam_attempt.id")
    problem: str | None = Field(default=None, max_length=200)  # why no form could be drawn


# --- the case bank (docs/decisions/0020) ---------------------------------------------------------


# The full-text index of case_text, made by migration 0015: on SQLite an FTS5 table (and its
# shadow tables) kept by triggers, on PostgreSQL a GIN expression index. No model describes
# them, so autogenerate and the model check leave them alone.
SEARCH_TABLES = ("case_fts",)
SEARCH_INDEXES = ("ix_case_text_search",)


def modelled(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic's ``include_name``: False for what no model describes (the search index)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_TABLES)
    return not (type_ == "index" and name in SEARCH_INDEXES)


class CaseStudy(SQLModel, table=True):
    """A good example of a purchase, written by a participant and published after an editor's
    review. Its texts (one per language) are ``CaseText`` rows; its history ``CaseStep`` rows."""

    __tablename__ = "case_study"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user_account.id", index=True)
    state: str = Field(default="draft", max_length=20, index=True)
    organisation: str = Field(max_length=200)
    country: str = Field(max_length=2, index=True)
    year: int
    category: str = Field(max_length=40, index=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Where the case came from: a programme or an event, by name or id (optional text).
    programme: str = Field(default="", max_length=200, index=True)
    event: str = Field(default="", max_length=200)
    contact: str = Field(default="", max_length=300)
    source: str = Field(default="", max_length=500)
    # Shown as "illustrative example": its figures are not any organisation's reported result.
    illustrative: bool = False
    demo_key: str | None = Field(default=None, max_length=60, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None


class CaseText(SQLModel, table=True):
    """A case in one language; ``body`` is every text field joined, for full-text search."""

    __tablename__ = "case_text"
    __table_args__ = (UniqueConstraint("case_id", "lang"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_study.id", index=True)
    lang: str = Field(max_length=8)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    purchase: str = Field(default="", sa_column=Column(Text, nullable=False))
    criteria: str = Field(default="", sa_column=Column(Text, nullable=False))
    lcc_tco: str = Field(default="", sa_column=Column(Text, nullable=False))
    co2e: str = Field(default="", sa_column=Column(Text, nullable=False))
    co2e_basis: str = Field(default="", sa_column=Column(Text, nullable=False))
    life_cycle_cost: str = Field(default="", sa_column=Column(Text, nullable=False))
    life_cycle_cost_basis: str = Field(default="", sa_column=Column(Text, nullable=False))
    other_results: str = Field(default="", sa_column=Column(Text, nullable=False))
    other_results_basis: str = Field(default="", sa_column=Column(Text, nullable=False))
    lessons: str = Field(default="", sa_column=Column(Text, nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False))


class CaseSdg(SQLModel, table=True):
    """A sustainable development goal (1-17) a case serves."""

    __tablename__ = "case_sdg"

    case_id: int = Field(foreign_key="case_study.id", primary_key=True)
    sdg: int = Field(primary_key=True, index=True)


class CaseStep(SQLModel, table=True):
    """One step of a case's review: who moved it from which state to which, when, and why."""

    __tablename__ = "case_step"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_study.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    source: str = Field(max_length=20)
    target: str = Field(max_length=20)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: datetime = Field(default_factory=utcnow)


class CaseAttachment(SQLModel, table=True):
    """A PDF or an image of a case; its bytes are a ``StoredFile`` in the one file store."""

    __tablename__ = "case_attachment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_study.id", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=8)
    size: int
    file_id: int = Field(foreign_key="stored_file.id", unique=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)


# --- team reflection: what a unit agreed to do after a course (issue 20) -----------------------


class UnitNextStep(SQLModel, table=True):
    """A next step a unit agreed after a course (at its team reflection): what, who, by when."""

    __tablename__ = "unit_next_step"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    course_id: str = Field(default="", max_length=80)  # the course it follows, if any
    action: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(max_length=200)
    due: date
    done_at: datetime | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    # The team reflection session where it was agreed, if any (team_reflection.id; added by
    # migration 0019, after that table).
    reflection_id: int | None = None


# --- events (information meetings, webinars, workshops, network meetings) -----------------------


class Event(SQLModel, table=True):
    """An event people register for. Texts are {language: text}; shown with fallback."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)  # see elearn.domain.events.KINDS
    language: str = Field(max_length=8)  # the language it is held in
    title: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    description: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    place: str = Field(default="", max_length=500)  # an address; "" when only online
    online_url: str = Field(default="", max_length=500)  # shown only to registered people
    capacity_in_person: int = 0
    capacity_online: int = 0
    registration_deadline: datetime
    starts_at: datetime = Field(index=True)  # the first session's start (listing, deadlines)
    ends_at: datetime  # the last session's end
    # Open to all when both are empty; otherwise organisation types or unit ids (with subunits).
    audience_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    audience_units: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The event's own questions: [{"id": "diet", "label": {lang: text}}].
    questions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    contact_name: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=254)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime
    cancelled_at: datetime | None = None
    reminded_day_at: datetime | None = None  # the day-before reminders were queued
    reminded_link_at: datetime | None = None  # the online link was sent (an hour before)


class EventOrganiser(SQLModel, table=True):
    __tablename__ = "event_organiser"

    event_id: int = Field(foreign_key="event.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)


class EventSession(SQLModel, table=True):
    """One meeting of an event: stored in UTC with the time zone it is held in."""

    __tablename__ = "event_session"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    starts_at: datetime
    ends_at: datetime
    tz: str = Field(max_length=40)  # Europe/Oslo | Europe/Copenhagen


class EventRegistration(SQLModel, table=True):
    """A person's place (or place in the queue). ``nonce`` keys the personal link, whose
    secret half is an HMAC under the app's key: the database alone gives no usable link."""

    __tablename__ = "event_registration"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    nonce: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, index=True)
    organisation: str = Field(default="", max_length=200)
    org_type: str | None = Field(default=None, max_length=16)
    mode: str = Field(max_length=10)  # in_person | online
    answers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    language: str = Field(max_length=8)
    # pending (a guest who has not confirmed; the place is held) | confirmed | waiting | cancelled
    status: str = Field(max_length=10, index=True)
    held_until: datetime | None = None
    created_at: datetime
    confirmed_at: datetime | None = None  # the address was confirmed (guests) or signed in
    promoted_at: datetime | None = None
    cancelled_at: datetime | None = None
    checked_in_at: datetime | None = None
    guest: bool = False


class StoredFile(SQLModel, table=True):
    """A file kept under instance/files/ (elearn.services.files); the row says what it is."""

    __tablename__ = "stored_file"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)  # random; the file's name on disk
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    created_at: datetime


class EventMaterial(SQLModel, table=True):
    __tablename__ = "event_material"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    file_id: int = Field(foreign_key="stored_file.id")
    title: str = Field(max_length=200)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime


class EventEvaluation(SQLModel, table=True):
    """A participant's evaluation of an event, once per registration."""

    __tablename__ = "event_evaluation"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int | None = Field(
        default=None, foreign_key="event_registration.id", unique=True
    )
    event_id: int = Field(foreign_key="event.id", index=True)
    rating: int
    useful: str = Field(default="", sa_column=Column(Text, nullable=False))
    improve: str = Field(default="", sa_column=Column(Text, nullable=False))
    submitted_at: datetime


# --- programmes (advisory programmes, networks, competence programmes) ---------------------------


class Programme(SQLModel, table=True):
    __tablename__ = "programme"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    kind: str = Field(max_length=16)  # see elearn.domain.programmes.KINDS
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime


class ProgrammeStaff(SQLModel, table=True):
    """An adviser who runs the programme (sees and changes every organisation in it)."""

    __tablename__ = "programme_staff"

    programme_id: int = Field(foreign_key="programme.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)


class ProgrammePhase(SQLModel, table=True):
    __tablename__ = "programme_phase"
    __table_args__ = (UniqueConstraint("programme_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    position: int
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    requires_agreement: bool = False  # the phase ends only with an approved agreement


class ProgrammePhaseLink(SQLModel, table=True):
    """What a phase consists of: an event (by id), a course, an exam or a task (its text)."""

    __tablename__ = "programme_phase_link"

    id: int | None = Field(default=None, primary_key=True)
    phase_id: int = Field(foreign_key="programme_phase.id", index=True)
    kind: str = Field(max_length=8)  # event | course | exam | task
    ref: str = Field(max_length=200)


class ProgrammeRequirement(SQLModel, table=True):
    """A contact role that must take part in a phase's events (the head of procurement)."""

    __tablename__ = "programme_requirement"

    id: int | None = Field(default=None, primary_key=True)
    phase_id: int = Field(foreign_key="programme_phase.id", index=True)
    role: str = Field(max_length=100)


class Participation(SQLModel, table=True):
    """A top-level unit (an organisation) taking part in a programme."""

    __tablename__ = "participation"
    __table_args__ = (UniqueConstraint("programme_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    status: str = Field(max_length=10)  # applied | invited | accepted | declined
    phases_done: int = 0
    created_at: datetime
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class ParticipationContact(SQLModel, table=True):
    __tablename__ = "participation_contact"
    __table_args__ = (UniqueConstraint("participation_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    participation_id: int = Field(foreign_key="participation.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=100)


class ProgrammeActivity(SQLModel, table=True):
    """One line of an organisation's activity plan."""

    __tablename__ = "programme_activity"

    id: int | None = Field(default=None, primary_key=True)
    participation_id: int = Field(foreign_key="participation.id", index=True)
    title: str = Field(max_length=200)
    owner: str = Field(default="", max_length=200)
    due_on: date | None = None
    status: str = Field(default="planned", max_length=12)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime


class AgreementVersion(SQLModel, table=True):
    """One version of an organisation's collaboration agreement: never changed once written;
    a change is a new version that needs approval again."""

    __tablename__ = "agreement_version"
    __table_args__ = (UniqueConstraint("participation_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    participation_id: int = Field(foreign_key="participation.id", index=True)
    version: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    file_id: int | None = Field(default=None, foreign_key="stored_file.id")
    drafted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    drafted_at: datetime
    approved_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    approved_at: datetime | None = None


# --- team reflection after a course -------------------------------------------------------------


class TeamReflection(SQLModel, table=True):
    """A unit's reflection session after a course: an event of the unit, the three KS
    questions and the course's own prompts (as they read when it was scheduled)."""

    __tablename__ = "team_reflection"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    course_id: str = Field(max_length=80)
    event_id: int = Field(foreign_key="event.id")
    prompts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime


class TeamReflectionAnswer(SQLModel, table=True):
    """A participant's answer to one question; private unless ``shared``."""

    __tablename__ = "team_reflection_answer"
    __table_args__ = (UniqueConstraint("reflection_id", "user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    reflection_id: int = Field(foreign_key="team_reflection.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    key: str = Field(max_length=20)  # read | liked | daily | p1, p2... (the course's prompts)
    answer: str = Field(sa_column=Column(Text, nullable=False))
    shared: bool = False
    updated_at: datetime


class ProgrammeEvaluation(SQLModel, table=True):
    """A participant's closing evaluation of a programme, once per organisation and person."""

    __tablename__ = "programme_evaluation"
    __table_args__ = (UniqueConstraint("participation_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    participation_id: int = Field(foreign_key="participation.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    ratings: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    gained: str = Field(default="", sa_column=Column(Text, nullable=False))
    improve: str = Field(default="", sa_column=Column(Text, nullable=False))
    submitted_at: datetime
