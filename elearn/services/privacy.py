"""A person's data: everything held about them (export), erasure that keeps what must stay true,
and retention (docs/privacy.md, decision 0024). Flushes; the request or the command commits.

The tables that hold a person's data are found from the schema (every column that points at a
user), so that a table added later is exported and erased without being listed here; the few
that need more than "export it, delete it" are handled by name below."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Table, cast, delete, func, or_, update
from sqlalchemy import String as SAString
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from elearn.domain.errors import N_, NotFound
from elearn.domain.privacy import (
    ErasureRefused,
    check_erasure,
    cutoff,
)
from elearn.models import (
    AttemptEvent,
    AttemptSlot,
    AuditEntry,
    AuditSubject,
    Certificate,
    ExamAttempt,
    ExamVersion,
    PrivacyRequest,
    User,
    XapiStatement,
)
from elearn.services import accounts, audit, events

ANONYMOUS_EMAIL = "anonymous@erased.invalid"
ASKED_ALREADY = N_("You have asked for erasure already; an administrator will decide.")
# Rows that stay when their person is erased, pointing at the erased (identity-less) user row:
# the decision itself, and standard-setting ratings (a study's cut score must not change).
KEPT = frozenset({"privacy_request", "study_panellist", "study_rating"})
# Handled by name (see erase): attempts go to the anonymous user, certificates by scope,
# the audit pseudonym's link is deleted.
SPECIAL = frozenset({"exam_attempt", "certificate", "audit_subject"})


def _owner_columns() -> list[tuple[Table, Column[Any]]]:
    """Every table with a ``user_id`` that points at a user: the person's own rows."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        column = table.columns.get("user_id")
        if column is None or table.name == "user_account":
            continue
        if any(fk.column.table.name == "user_account" for fk in column.foreign_keys):
            found.append((table, column))
    return found


ADDRESS_COLUMNS = ("email", "to_address")


def _address_columns() -> list[tuple[Table, Column[Any]]]:
    """Every table that holds an e-mail address in a column of its own, but the users'."""
    return [
        (table, table.columns[name])
        for table in SQLModel.metadata.sorted_tables
        if table.name != "user_account"
        for name in ADDRESS_COLUMNS
        if name in table.columns
    ]


def _delete_rows(session: Session, table: Table, where: Any) -> int:
    """Delete rows, first letting go of rows elsewhere that point at them: a nullable reference
    is cleared (an event evaluation stays, without its registration), others are deleted (a
    queued message's attachments)."""
    ids = (
        [row[0] for row in session.execute(sa_select(table.c.id).where(where))]
        if ("id" in table.columns)
        else []
    )
    if ids:
        for child in SQLModel.metadata.sorted_tables:
            for fk_column in child.columns:
                if not any(fk.column.table is table for fk in fk_column.foreign_keys):
                    continue
                if fk_column.nullable:
                    session.execute(
                        update(child).where(fk_column.in_(ids)).values({fk_column.name: None})
                    )
                else:
                    session.execute(delete(child).where(fk_column.in_(ids)))
    gone = session.execute(delete(table).where(where))
    return int(getattr(gone, "rowcount", 0) or 0)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _rows(session: Session, table: Table, where: Any) -> list[dict[str, Any]]:
    return [
        {k: _plain(v) for k, v in row._mapping.items()}
        for row in session.execute(sa_select(table).where(where))
    ]


def _user_or_404(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.email == ANONYMOUS_EMAIL:
        raise NotFound(N_("There is no such person."))
    return user


# --- see and export (arts. 15 and 20) -------------------------------------------------------------


def export_person(*, session: Session, user_id: int) -> dict[str, Any]:
    """Everything held about one person, as plain data (JSON): their account, their own rows in
    every table, their attempts with answers and results, certificates, learning records and
    the audit entries about them. Nothing of another person: other people are left out or named
    only as "someone else"."""
    user = _user_or_404(session, user_id)
    out: dict[str, Any] = {
        "format": "elearn personal data export, version 1",
        "profile": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "language": user.locale,
            "active": user.active,
            "created_at": _plain(user.created_at),
            "last_login_at": _plain(user.last_login_at),
            "unit": accounts.unit_path(session=session, unit_id=user.org_unit_id) or None,
            "erased_at": _plain(user.erased_at),
        },
        "roles": sorted(accounts.user_roles(session=session, user_id=user_id)),
        "managed_units": sorted(
            accounts.unit_path(session=session, unit_id=u)
            for u in accounts.managed_units(session=session, user_id=user_id)
        ),
    }
    for table, column in _owner_columns():
        if table.name in SPECIAL or table.name in ("user_role", "manager_unit"):
            continue
        rows = _rows(session, table, column == user_id)
        for row in rows:
            for secret in ("token_hash", "password_hash", "nonce"):
                if secret in row:
                    row[secret] = "<kept secret>"
            for other in ("decided_by_id", "granted_by_id", "created_by_id", "reviewed_by_id"):
                if other in row and row[other] not in (None, user_id):
                    row[other] = "someone else"
        out[table.name] = rows
    for table, column in _address_columns():
        rows = _rows(session, table, func.lower(column) == user.email.lower())
        for row in rows:
            for secret in ("body_text", "body_html", "token_hash", "password_hash", "nonce"):
                if secret in row:
                    row[secret] = "<kept secret>"  # a message may hold a live one-time link
        if rows:
            out.setdefault(table.name, [])
            known = {r.get("id") for r in out[table.name]}
            out[table.name] += [r for r in rows if r.get("id") not in known]
    out["exam_attempts"] = list(_attempts(session, user_id))
    out["certificates"] = [
        {
            "code": c.code,
            "exam": c.exam_id,
            "holder_name": c.holder_name,
            "issued_at": _plain(c.issued_at),
            "valid_until": _plain(c.valid_until),
            "revoked_at": _plain(c.revoked_at),
            "revoked_reason": c.revoked_reason,
            "credential": c.credential,
        }
        for c in session.exec(select(Certificate).where(Certificate.user_id == user_id))
    ]
    out["learning_records"] = [s.statement for s in _statements(session, user)]
    out["audit_entries"] = _audit_about(session, user_id)
    return out


def _attempts(session: Session, user_id: int) -> Iterator[dict[str, Any]]:
    attempts = session.exec(
        select(ExamAttempt).where(ExamAttempt.user_id == user_id).order_by(col(ExamAttempt.id))
    ).all()
    for attempt in attempts:
        done = attempt.submitted_at is not None
        slots = session.exec(
            select(AttemptSlot)
            .where(AttemptSlot.attempt_id == attempt.id)
            .order_by(col(AttemptSlot.number))
        ).all()
        events = session.exec(
            select(AttemptEvent)
            .where(AttemptEvent.attempt_id == attempt.id)
            .order_by(col(AttemptEvent.id))
        ).all()
        yield {
            "id": attempt.id,
            "exam": attempt.exam_id,
            "language": attempt.language,
            "started_at": _plain(attempt.started_at),
            "deadline_at": _plain(attempt.deadline_at),
            "submitted_at": _plain(attempt.submitted_at),
            "closed_by": attempt.closed_by,
            "score_percent": attempt.score_percent,
            "passed": attempt.passed,
            "result": attempt.result,
            "review_decision": attempt.review_decision,
            "review_comment": attempt.review_comment,
            # The answers given; marks only once the attempt is submitted (no key leaks early).
            "answers": [
                {
                    "number": s.number,
                    "item_version": s.item_version_id,
                    "topic": s.topic,
                    "options_served": s.options,
                    "response": s.response,
                    "flagged": s.flagged,
                    "answered_at": _plain(s.answered_at),
                    "mark": s.mark if done else None,
                }
                for s in slots
            ],
            "trail": [
                {
                    "at": _plain(e.at),
                    "kind": e.kind,
                    "slot": e.slot,
                    "address": e.address,
                    "browser": e.agent,
                }
                for e in events
            ],
        }


def _statements(session: Session, user: User) -> list[XapiStatement]:
    """The learning records about the person: by e-mail (mbox) or by their account id."""
    text = cast(XapiStatement.statement, SAString)  # type: ignore[arg-type]
    return list(
        session.exec(
            select(XapiStatement).where(
                or_(
                    text.contains(f"mailto:{user.email}", autoescape=True),
                    text.contains(f'"name": "{user.id}"', autoescape=True),
                    text.contains(f'"name":"{user.id}"', autoescape=True),
                )
            )
        ).all()
    )


def _audit_about(session: Session, user_id: int) -> list[dict[str, Any]]:
    pseudonym = session.exec(
        select(AuditSubject.pseudonym).where(AuditSubject.user_id == user_id)
    ).first()
    if pseudonym is None:
        return []
    entries = session.exec(
        select(AuditEntry)
        .where(
            or_(
                col(AuditEntry.subject) == audit.PERSON + pseudonym,
                col(AuditEntry.actor) == pseudonym,
            )
        )
        .order_by(col(AuditEntry.id))
    ).all()
    return [
        {
            "at": _plain(e.at),
            "action": e.action,
            "by": "you" if e.actor == pseudonym else ("someone else" if e.actor else "the system"),
            "about": "you" if e.subject == audit.PERSON + pseudonym else e.subject,
            "data": e.data,
        }
        for e in entries
    ]


def log_export(*, session: Session, user_id: int, actor_id: int, now: datetime, form: str) -> None:
    audit.record(
        session=session,
        action="privacy.exported",
        subject=f"user:{user_id}",
        now=now,
        actor_id=actor_id,
        data={"format": form, "by": "self" if actor_id == user_id else "administrator"},
    )


# --- erasure requests (art. 17) -------------------------------------------------------------------


def request_erasure(*, session: Session, user_id: int, note: str, now: datetime) -> PrivacyRequest:
    user = _user_or_404(session, user_id)
    if user.erased_at is not None:
        raise ErasureRefused(N_("This person's data has been erased already."))
    pending = session.exec(
        select(PrivacyRequest).where(
            PrivacyRequest.user_id == user_id, PrivacyRequest.status == "requested"
        )
    ).first()
    if pending is not None:
        raise ErasureRefused(
            N_("You have asked for erasure already; an administrator will decide.")
        )
    request = PrivacyRequest(user_id=user_id, requested_at=now, note=note.strip()[:2000])
    session.add(request)
    session.flush()
    audit.record(
        session=session,
        action="privacy.erasure_requested",
        subject=f"user:{user_id}",
        now=now,
        actor_id=user_id,
        data={"request": request.id},
    )
    return request


def pending_requests(*, session: Session) -> list[tuple[PrivacyRequest, User]]:
    return list(
        session.exec(
            select(PrivacyRequest, User)
            .join(User, col(User.id) == col(PrivacyRequest.user_id))
            .where(PrivacyRequest.status == "requested")
            .order_by(col(PrivacyRequest.requested_at))
        ).all()
    )


def requests_of(*, session: Session, user_id: int) -> list[PrivacyRequest]:
    return list(
        session.exec(
            select(PrivacyRequest)
            .where(PrivacyRequest.user_id == user_id)
            .order_by(col(PrivacyRequest.requested_at).desc())
        ).all()
    )


def decide(
    *,
    session: Session,
    request_id: int,
    approve: bool,
    scope: str,
    reason: str,
    actor_id: int,
    now: datetime,
) -> ErasureReport | None:
    """An administrator's decision on a request: rejected (with the reason), or the erasure
    done now with the scope chosen. Recorded on the request and in the audit log."""
    request = session.get(PrivacyRequest, request_id)
    if request is None:
        raise NotFound(N_("There is no such request."))
    if request.status != "requested":
        raise ErasureRefused(N_("This request has been decided already."))
    if request.user_id == actor_id:
        raise ErasureRefused(N_("You cannot decide on your own erasure request."))
    request.decided_at, request.decided_by_id, request.reason = now, actor_id, reason.strip()
    if not approve:
        if not request.reason:
            raise ErasureRefused(N_("Give the reason for refusing the request."))
        request.status = "rejected"
        audit.record(
            session=session,
            action="privacy.erasure_rejected",
            subject=f"privacy_request:{request.id}",
            now=now,
            actor_id=actor_id,
            data={"reason": request.reason},
        )
        session.flush()
        return None
    return erase(
        session=session,
        user_id=request.user_id,
        scope=scope,
        actor_id=actor_id,
        now=now,
        request=request,
    )


# --- erasure ----------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    user_id: int
    scope: str
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised_attempts: int = 0
    certificates_kept: list[str] = field(default_factory=list)
    certificates_withdrawn: list[str] = field(default_factory=list)


def anonymous_user(*, session: Session) -> User:
    """The one row that holds attempts whose people were erased: response data for item
    statistics, with no identity and no way back to anyone."""
    found = session.exec(select(User).where(User.email == ANONYMOUS_EMAIL)).first()
    if found is None:
        found = User(
            email=ANONYMOUS_EMAIL,
            name="",
            password_hash=accounts.UNUSABLE,
            active=False,
        )
        session.add(found)
        session.flush()
    return found


def erase(
    *,
    session: Session,
    user_id: int,
    scope: str,
    actor_id: int,
    now: datetime,
    request: PrivacyRequest | None = None,
    revoke_reason: str = "Erasure of the holder's data (GDPR art. 17)",
) -> ErasureReport:
    """Remove or pseudonymise the person's data everywhere.

    - ``default``: a valid certificate (not expired, not revoked) and its signed credential stay,
      the certification body's record, until retention deletes them after expiry; an expired or
      revoked one keeps only its status-list bit and code, no name.
    - ``full``: valid certificates are revoked too, and nothing of them but the bit is kept: the
      verify page says "no longer held" without the name.
    Either way: attempts stay for item statistics under the anonymous user, without their
    trail; the audit log keeps its entries, but the link from the pseudonym to the person is
    deleted (the chain still verifies); learning records about the person are deleted; every
    other row of the person is deleted; the user row stays, holding no identity."""
    from elearn.services import certificates as certs

    user = _user_or_404(session, user_id)
    check_erasure(already_erased=user.erased_at is not None, scope=scope)
    if actor_id == user_id:
        raise ErasureRefused(N_("You cannot decide on your own erasure request."))
    report = ErasureReport(user_id=user_id, scope=scope)
    # The decision first, while the person still has their pseudonym: the entry names the
    # pseudonym, which erasure then cuts loose from the person.
    audit.record(
        session=session,
        action="privacy.erased",
        subject=f"user:{user_id}",
        now=now,
        actor_id=actor_id,
        data={"scope": scope, "request": request.id if request else None},
    )

    # Certificates: kept, or withdrawn to a bare status bit.
    for certificate in session.exec(select(Certificate).where(Certificate.user_id == user_id)):
        expired = certificate.valid_until is not None and certificate.valid_until <= now
        valid = certificate.revoked_at is None and not expired
        if valid and scope == "default":
            report.certificates_kept.append(certificate.code)
            continue
        if valid:
            certs.revoke(
                session=session,
                code=certificate.code,
                reason=revoke_reason,
                revoker_id=actor_id,
                now=now,
            )
        _withdraw(certificate)
        report.certificates_withdrawn.append(certificate.code)

    # Learning records that name the person (by e-mail or account id).
    statements = _statements(session, user)
    for statement in statements:
        session.delete(statement)
    report.deleted["xapi_statement"] = len(statements)

    # Attempts: the answers stay for item statistics, under nobody; the trail goes.
    attempt_ids = [
        a for a in session.exec(select(ExamAttempt.id).where(ExamAttempt.user_id == user_id)) if a
    ]
    if attempt_ids:
        gone = session.execute(
            delete(AttemptEvent).where(col(AttemptEvent.attempt_id).in_(attempt_ids))
        )
        report.deleted["attempt_event"] = int(getattr(gone, "rowcount", 0) or 0)
        session.execute(
            update(ExamAttempt)
            .where(col(ExamAttempt.id).in_(attempt_ids))
            .values(user_id=anonymous_user(session=session).id, review_comment=None)
        )
        report.anonymised_attempts = len(attempt_ids)

    # Every other row of the person's own, found from the schema.
    for table, column in reversed(_owner_columns()):
        if table.name in KEPT or table.name in SPECIAL:
            continue
        count = _delete_rows(session, table, column == user_id)
        if count:
            report.deleted[table.name] = count
    # Rows that hold the person's address but no user id: queued e-mail, a sign-up waiting for
    # its confirmation, registrations made as a guest.
    for table, column in _address_columns():
        count = _delete_rows(session, table, func.lower(column) == user.email.lower())
        if count:
            report.deleted[table.name] = report.deleted.get(table.name, 0) + count

    # The audit log: entries stay sealed and verifiable, no longer leading to the person.
    audit.forget_person(session=session, user_id=user_id)

    # The user row stays as a tombstone, so that kept rows keep their references.
    user.email = f"erased-{secrets.token_hex(8)}@erased.invalid"
    user.name = ""
    user.password_hash = accounts.UNUSABLE
    user.locale = None
    user.org_unit_id = None
    user.active = False
    user.last_login_at = None
    if not report.certificates_kept:
        user.credential_subject_id = None
    user.erased_at = now
    if request is not None:
        request.status, request.scope = "done", scope
        request.decided_at, request.decided_by_id = now, actor_id
        request.note = ""  # the person's own words are their data too
    session.flush()
    return report


def _withdraw(certificate: Certificate) -> None:
    """Nothing of the certificate but its code and status bit (a revoked bit must stay set)."""
    certificate.holder_name = ""
    certificate.credential = ""
    certificate.pdf = None
    certificate.form_fingerprint = None


def no_longer_held(*, certificate: Certificate) -> bool:
    """A certificate withdrawn by erasure or retention: the verify page names no one."""
    return certificate.holder_name == "" and certificate.credential == ""


# --- retention (art. 5(1)(e)) -------------------------------------------------------------------


@dataclass
class RuleResult:
    rule: str
    description: str
    count: int


def retention(
    *, session: Session, now: datetime, days: dict[str, int], dry_run: bool
) -> list[RuleResult]:
    """Apply the retention rules (elearn.domain.privacy): what each would delete, and (unless
    ``dry_run``) delete it. Runs from cron: `flask --app elearn privacy retention`."""
    practice_versions = [
        version_id
        for version_id, spec in session.exec(select(ExamVersion.id, ExamVersion.spec)).all()
        if not (spec or {}).get("certificate", {}).get("issue", True)
    ]
    nobody = session.exec(select(User.id).where(User.email == ANONYMOUS_EMAIL)).first()

    def submitted_before(key: str, practice: bool) -> list[int]:
        versions = col(ExamAttempt.exam_version_id).in_(practice_versions)
        query = select(ExamAttempt.id).where(
            col(ExamAttempt.submitted_at).is_not(None),
            col(ExamAttempt.submitted_at) < cutoff(now, days, key),
            versions if practice else ~versions,
        )
        if nobody is not None and not practice:
            query = query.where(ExamAttempt.user_id != nobody)
        return [a for a in session.exec(query).all() if a is not None]

    # 1. Practice attempts (exams that issue no certificate): deleted with answers and trail.
    practice = submitted_before("practice_attempts", practice=True)
    # 2. The trail (addresses, browsers) of any attempt, after its own period.
    trail_ids = list(
        session.exec(
            select(AttemptEvent.id)
            .join(ExamAttempt, col(ExamAttempt.id) == col(AttemptEvent.attempt_id))
            .where(col(ExamAttempt.submitted_at) < cutoff(now, days, "attempt_trail"))
        ).all()
    )
    # 3. Certificates expired longer ago than the period: withdrawn to their status bit (a
    #    revoked bit must stay set); their attempts go to nobody.
    old_certificates = list(
        session.exec(
            select(Certificate).where(
                col(Certificate.valid_until).is_not(None),
                col(Certificate.valid_until) < cutoff(now, days, "certification_after_expiry"),
                Certificate.credential != "",
            )
        ).all()
    )
    # 4. Certification attempts that gave no certificate, after their period: to nobody.
    with_certificate = set(
        session.exec(select(Certificate.attempt_id).where(col(Certificate.attempt_id).is_not(None)))
    )
    without = [
        a
        for a in submitted_before("certification_without_certificate", practice=False)
        if a not in with_certificate
    ]
    # 5. Learning records sent to the LRS longer ago than the period.
    sent = list(
        session.exec(
            select(XapiStatement.id).where(
                col(XapiStatement.sent_at).is_not(None),
                col(XapiStatement.sent_at) < cutoff(now, days, "sent_learning_records"),
            )
        ).all()
    )
    results = [
        RuleResult(
            "practice_attempts", N_("practice attempts with answers and trail"), len(practice)
        ),
        RuleResult(
            "attempt_trail", N_("trail events of attempts (addresses, browsers)"), len(trail_ids)
        ),
        RuleResult(
            "certification_after_expiry",
            N_("certificates expired longer ago than the period (name and credential)"),
            len(old_certificates),
        ),
        RuleResult(
            "certification_without_certificate",
            N_("certification attempts without a certificate (made anonymous)"),
            len(without),
        ),
        RuleResult("sent_learning_records", N_("learning records sent to the LRS"), len(sent)),
        RuleResult(
            "guest_registrations",
            N_("guests' event registrations after the event"),
            len(
                events.due_guest_registrations(
                    session=session, now=now, days=days["guest_registrations"]
                )
            ),
        ),
    ]
    if dry_run:
        return results
    if practice:
        session.execute(delete(AttemptEvent).where(col(AttemptEvent.attempt_id).in_(practice)))
        session.execute(delete(AttemptSlot).where(col(AttemptSlot.attempt_id).in_(practice)))
        _unlink_attempts(session, practice)
        session.execute(delete(ExamAttempt).where(col(ExamAttempt.id).in_(practice)))
    if trail_ids:
        session.execute(delete(AttemptEvent).where(col(AttemptEvent.id).in_(trail_ids)))
    to_nobody = without + [c.attempt_id for c in old_certificates if c.attempt_id is not None]
    for certificate in old_certificates:
        _withdraw(certificate)
    if to_nobody:
        session.execute(
            update(ExamAttempt)
            .where(col(ExamAttempt.id).in_(to_nobody))
            .values(user_id=anonymous_user(session=session).id, review_comment=None)
        )
    if sent:
        session.execute(delete(XapiStatement).where(col(XapiStatement.id).in_(sent)))
    events.purge_guest_registrations(session, now, days=days["guest_registrations"])
    audit.record(
        session=session,
        action="privacy.retention_applied",
        subject="privacy",
        now=now,
        data={r.rule: r.count for r in results},
    )
    session.flush()
    return results


def _unlink_attempts(session: Session, attempt_ids: list[int]) -> None:
    """Rows that point at attempts about to be deleted (a sitting's booking) let go of them."""
    for table in SQLModel.metadata.sorted_tables:
        column = table.columns.get("attempt_id")
        if column is None or table.name in ("attempt_slot", "attempt_event", "certificate"):
            continue
        if column.nullable:
            session.execute(update(table).where(column.in_(attempt_ids)).values(attempt_id=None))
        else:
            session.execute(delete(table).where(column.in_(attempt_ids)))
