"""``flask --app elearn ...`` commands: db, content, demo, users."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from elearn.clock import utcnow
from elearn.content.loader import load_configured
from elearn.db import engine_of
from elearn.domain.content import LANGUAGES
from elearn.jobs import unit_of_work

if TYPE_CHECKING:
    from elearn.services.xapi import XapiSettings

db_cli = AppGroup("db", help="Database schema (alembic migrations).")
content_cli = AppGroup("content", help="Course and question-bank files.")
users_cli = AppGroup("users", help="User accounts.")
exams_cli = AppGroup("exams", help="Exams and attempts.")
keys_cli = AppGroup("keys", help="Credential signing keys in instance/keys/.")
credentials_cli = AppGroup("credentials", help="Signed credentials (Open Badges 3.0).")
certificates_cli = AppGroup("certificates", help="Issued certificates.")
staff_cli = AppGroup("staff", help="Staff and organisation units.")
report_cli = AppGroup("report", help="Reports.")
audit_cli = AppGroup("audit", help="The hash-chained audit log.")
# The names in elearn.content.formats' registries (a test holds them equal), spelled out here so
# that starting the app does not import every parser and writer.
IMPORT_FORMATS = ("gift", "aiken", "moodle-xml")
EXPORT_FORMATS = ("gift", "moodle-xml", "qti3")
bank_cli = AppGroup("bank", help="Question banks: import from and export to other systems.")
xapi_cli = AppGroup("xapi", help="Learning records (xAPI) sent to a Learning Record Store.")


def _alembic_config() -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["engine"] = engine_of(current_app)  # type: ignore[arg-type]
    return cfg


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Bring the schema up to REVISION (default: the newest)."""
    from alembic import command

    command.upgrade(_alembic_config(), revision)  # type: ignore[arg-type]
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Take the schema back to REVISION."""
    from alembic import command

    command.downgrade(_alembic_config(), revision)  # type: ignore[arg-type]


@db_cli.command("current")
def db_current() -> None:
    from alembic import command

    command.current(_alembic_config())  # type: ignore[arg-type]


@db_cli.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(target: Path) -> None:
    """Copy the database while the app serves: SQLite's online backup, or pg_dump (custom format).

    Back up instance/keys/ and instance/pdf-signing/ with it: certificates verify only with their
    keys.
    """
    import shutil
    import sqlite3
    import subprocess

    from sqlalchemy.engine import make_url

    url = make_url(current_app.config["DATABASE_URL"])
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(str(url.database))
        copy = sqlite3.connect(str(target))
        with copy:
            source.backup(copy)  # consistent even while others write (WAL)
        copy.close()
        source.close()
    elif url.get_backend_name() == "postgresql":
        if shutil.which("pg_dump") is None:
            raise click.ClickException("pg_dump is not installed (Debian: postgresql-client)")
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_dump", "--format=custom", "--file", str(target), plain], check=True)
    else:
        raise click.ClickException(f"no backup for {url.get_backend_name()}")
    click.echo(f"backed up to {target} ({target.stat().st_size} bytes)")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from alembic import command

    command.revision(_alembic_config(), message=message, autogenerate=True)  # type: ignore[arg-type]


@content_cli.command("check")
def content_check() -> None:
    """Validate every course and question bank; print each problem as path:line: message."""
    content = load_configured(current_app.config)
    for problem in content.problems:
        click.echo(str(problem))
    if content.problems:
        click.echo(f"{len(content.problems)} problem(s)", err=True)
        sys.exit(1)
    items = sum(len(b.items) for b in content.banks.values())
    exams = sum(len(b.exams) for b in content.banks.values())
    click.echo(
        f"ok: {len(content.courses)} course(s), {len(content.banks)} bank(s), "
        f"{items} item(s), {exams} exam(s)"
    )


@content_cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable, in a stable shape.")
def content_stats(as_json: bool) -> None:
    """What the content files hold: courses, banks by topic, type and language, exams."""
    import json
    from collections import Counter

    content = load_configured(current_app.config)
    stats: dict[str, Any] = {
        "courses": [
            {"id": c.spec.id, "modules": len(c.modules), "languages": list(c.spec.languages)}
            for c in content.courses.values()
        ],
        "banks": [
            {
                "id": b.spec.id,
                "items": len(b.items),
                "by_topic": dict(sorted(Counter(i.spec.topic for i in b.items).items())),
                "by_type": dict(sorted(Counter(i.spec.type for i in b.items).items())),
                "by_language": dict(
                    sorted(Counter(lang for i in b.items for lang in i.spec.text).items())
                ),
            }
            for b in content.banks.values()
        ],
        "exams": [
            {
                "id": e.spec.id,
                "bank": b.spec.id,
                "items": sum(entry.items for entry in e.spec.blueprint),
                "minutes": e.spec.time_limit_minutes,
                "draw": {entry.topic: entry.items for entry in e.spec.blueprint},
                "certificate": e.spec.certificate.issue,
            }
            for b in content.banks.values()
            for e in b.exams
        ],
    }
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        for course in stats["courses"]:
            click.echo(
                f"course {course['id']}: {course['modules']} modules, "
                f"{'/'.join(course['languages'])}"
            )
        for bank in stats["banks"]:
            click.echo(f"bank {bank['id']}: {bank['items']} items {bank['by_topic']}")
        for exam in stats["exams"]:
            click.echo(f"exam {exam['id']}: {exam['items']} items, {exam['minutes']} min")
    if content.problems:
        click.echo(f"{len(content.problems)} problem(s): run 'content check'", err=True)
        sys.exit(1)


@content_cli.command("sync")
def content_sync() -> None:
    """Load the files into the database; a broken file is refused and its old version stays."""
    from elearn.jobs.content import sync_files

    outcome = sync_files(current_app, now=utcnow())
    content, report = outcome.content, outcome.report
    for problem in content.problems:
        click.echo(str(problem), err=True)
    for line in report.created:
        click.echo(f"created {line}")
    for line in report.updated:
        click.echo(f"updated {line}")
    for line in report.deactivated:
        click.echo(f"deactivated {line}")
    click.echo(
        f"synced: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.deactivated)} deactivated, {report.unchanged} unchanged"
    )
    if content.problems:
        click.echo(f"{len(content.problems)} problem(s): the files named were not loaded", err=True)
        sys.exit(1)


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create the demo municipality and users (password: elearn-demo). Refused in production."""
    from elearn.jobs.demo import RefusedInProduction, create_demo_data
    from elearn.services.demo import DEMO_PASSWORD

    try:
        created = create_demo_data(current_app, now=utcnow())
    except RefusedInProduction as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(1)
    for email in created:
        click.echo(f"created {email}")
    click.echo(f"demo users ready (password: {DEMO_PASSWORD})")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    default=["learner"],
    show_default=True,
    type=click.Choice(["learner", "manager", "certifier", "admin"]),
)
@click.option(
    "--unit", default=None, help="Organisation unit path, e.g. 'Eksempel kommune/Innkjøp'."
)
@click.password_option(help="Prompted for when not given.")
def users_create(
    email: str, name: str, roles: tuple[str, ...], unit: str | None, password: str
) -> None:
    """Create a user account."""
    from elearn.services import accounts

    if len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
        raise click.UsageError(
            f"the password needs at least {current_app.config['PASSWORD_MIN_LENGTH']} characters"
        )
    with unit_of_work(current_app) as session:
        try:
            unit_id = accounts.ensure_unit_path(session, unit).id if unit else None
            user = accounts.create_user(
                session=session,
                email=email,
                name=name,
                password=password,
                now=utcnow(),
                roles=roles,
                org_unit_id=unit_id,
            )
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
        created = user.email
    click.echo(f"created {created} ({', '.join(roles)})")


@exams_cli.command("close-overdue")
def exams_close_overdue() -> None:
    """Submit and score every attempt whose time has run out (run it from cron)."""
    from elearn.jobs.exams import close_and_issue

    done = close_and_issue(current_app, now=utcnow())
    click.echo(f"closed {done.closed} overdue attempt(s); issued {done.issued} certificate(s)")


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key; earlier keys stay published so old certificates still verify."""
    key = current_app.extensions["elearn.authority"].rotate(utcnow())
    click.echo(f"new signing key {key.kid}")


@credentials_cli.command("verify")
@click.argument("credential_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jwks", "jwks_source", required=True, help="A JWKS file, or its https/http URL.")
@click.option(
    "--status/--no-status",
    "check_status",
    default=True,
    show_default=True,
    help="Also check the revocation list named in the credential.",
)
@click.option(
    "--status-list",
    "status_source",
    default=None,
    help="The revocation list as a file (or URL), for checking fully offline.",
)
def credentials_verify(
    credential_file: Path, jwks_source: str, check_status: bool, status_source: str | None
) -> None:
    """Verify a credential offline with the published keys; print holder, achievement, validity."""
    import json
    import urllib.request

    from elearn.domain import credentials as vc

    def read(source: str) -> str:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=10) as response:
                return str(response.read().decode("utf-8"))
        return Path(source).read_text(encoding="utf-8")

    token = credential_file.read_text(encoding="utf-8").strip()
    try:
        key_set = json.loads(read(jwks_source))
        payload = vc.verify_credential(token, key_set)
    except vc.CredentialInvalid as exc:
        click.echo(f"NOT VALID: {exc.reason}")
        sys.exit(1)
    except (OSError, ValueError) as exc:
        click.echo(f"cannot read the keys: {exc}", err=True)
        sys.exit(2)
    revoked = False
    status = payload.get("credentialStatus") or {}
    if check_status and status.get("statusListCredential"):
        try:
            source = status_source or status["statusListCredential"]
            list_payload = vc.verify_credential(read(source).strip(), key_set)
            if list_payload.get("id") != status["statusListCredential"]:
                raise ValueError("that is not the credential's status list")
            revoked = vc.status_bit(
                list_payload["credentialSubject"]["encodedList"], int(status["statusListIndex"])
            )
        except (OSError, ValueError, KeyError, vc.CredentialInvalid) as exc:
            click.echo(f"status unknown: {exc}", err=True)
    standing = vc.standing(payload, revoked, utcnow())
    subject = payload["credentialSubject"]
    click.echo(f"signature: valid ({jwt_kid(token)})")
    click.echo(f"holder: {subject.get('name')}")
    click.echo(f"achievement: {subject['achievement']['name']}")
    click.echo(f"issuer: {payload['issuer']['name']}")
    click.echo(f"valid from: {payload.get('validFrom')}")
    click.echo(f"valid until: {payload.get('validUntil') or 'does not expire'}")
    click.echo(f"status: {standing.state}")
    sys.exit(0 if standing.state == "valid" else 1)


def jwt_kid(token: str) -> str:
    import jwt

    return str(jwt.get_unverified_header(token).get("kid"))


@certificates_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of every certificate.")
def certificates_list(as_json: bool) -> None:
    """Every certificate: code, holder, exam, status, issued and valid until."""
    import json

    from elearn.domain.credentials import certificate_state
    from elearn.services.certificates import all_certificates

    now = utcnow()
    with unit_of_work(current_app) as session:
        rows: list[dict[str, Any]] = []
        for cert, email in all_certificates(session):
            status = certificate_state(
                revoked=cert.revoked_at is not None,
                valid_from=cert.issued_at,
                valid_until=cert.valid_until,
                now=now,
            )
            rows.append(
                {
                    "code": cert.code,
                    "holder": cert.holder_name,
                    "email": email,
                    "exam": cert.exam_id,
                    "status": status,
                    "issued": cert.issued_at.isoformat(),
                    "valid_until": cert.valid_until.isoformat() if cert.valid_until else None,
                    "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None,
                }
            )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['code']}  {row['status']:<8} {row['exam']:<20} {row['holder']} "
            f"<{row['email']}>  issued {row['issued'][:10]}  until "
            f"{(row['valid_until'] or '-')[:10]}"
        )


@staff_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
def staff_import(csv_file: Path, dry_run: bool) -> None:
    """Import staff from CSV (name,email,unit,roles); all rows or none, twice changes nothing."""
    from elearn.domain.staff import decode_staff_file
    from elearn.jobs.staff import import_staff

    try:
        text = decode_staff_file(csv_file.read_bytes())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    plan = import_staff(current_app, text=text, dry_run=dry_run, now=utcnow())
    for error in plan.errors:
        click.echo(f"{csv_file}:{error.line}: {error.message}")
    for change in plan.changes:
        if change.action != "unchanged":
            details = "; ".join(change.details)
            click.echo(
                f"line {change.row.line}: {change.action} {change.row.email}"
                + (f" ({details})" if details else "")
            )
    for unit in plan.units_to_create:
        click.echo(f"new unit: {unit}")
    counts = plan.counts
    summary = (
        f"{counts['create']} to create, {counts['update']} to update, "
        f"{counts['unchanged']} unchanged, {counts['errors']} error(s)"
    )
    if plan.errors:
        click.echo(f"{summary}: nothing imported", err=True)
        sys.exit(1)
    click.echo(f"dry run: {summary}" if dry_run else f"imported: {summary}")


@report_cli.command("item-stats")
@click.option(
    "--marks",
    "marks_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: attempt,<item id>,... one row per attempt, marks 0..1.",
)
@click.option(
    "--summary",
    "summary_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the test's statistics here as JSON.",
)
def report_item_stats(marks_file: Path, summary_file: Path | None) -> None:
    """Item analysis as Moodle's quiz statistics define it; per-item CSV to standard output."""
    import json

    from elearn.domain.statistics import MarksFileError, analyse, items_csv, read_marks_csv

    try:
        items, _attempts, marks = read_marks_csv(marks_file.read_text(encoding="utf-8-sig"))
    except MarksFileError as exc:
        click.echo(f"{marks_file}:{exc.line}: {exc.message}", err=True)
        sys.exit(1)
    except UnicodeDecodeError:
        raise click.ClickException(f"{marks_file}: not UTF-8 text") from None
    item_stats, test_stats = analyse(items, marks)
    click.echo(items_csv(item_stats), nl=False)
    if summary_file is not None:
        from elearn.domain.statistics import summary_dict

        summary_file.write_text(
            json.dumps(summary_dict(test_stats), indent=2) + "\n", encoding="utf-8"
        )


@audit_cli.command("verify")
def audit_verify() -> None:
    """Walk the chain; name the first entry that was changed, removed or inserted (exit 1)."""
    from elearn.services.audit import verify_chain

    with unit_of_work(current_app) as session:
        result = verify_chain(session)
    if result.broken_at is not None:
        click.echo(f"BROKEN at entry {result.broken_at}: {result.reason}")
        sys.exit(1)
    click.echo(f"ok: {result.count} entries, head {result.head}")


@audit_cli.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file to write; standard output when left out.",
)
def audit_export(out: Path | None) -> None:
    """Every entry as JSON Lines, in order, with its hashes."""
    from elearn.services.audit import export_lines

    with unit_of_work(current_app) as session:
        lines = export_lines(session)
    text = "".join(line + "\n" for line in lines)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@bank_cli.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(IMPORT_FORMATS))
@click.option("--bank", "bank_id", required=True, help="The bank folder in question_banks/.")
@click.option("--language", "lang", required=True, type=click.Choice(LANGUAGES))
@click.option("--dry-run", is_flag=True, help="Report what would be imported; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
def bank_import(
    source: Path, fmt: str, bank_id: str, lang: str, dry_run: bool, as_json: bool
) -> None:
    """Import items into a reviewable file question_banks/BANK/items/imported-<name>.yaml."""
    import json

    # Loads every parser (some 25 ms): only this command needs them, not every app start.
    from elearn.content.bank_import import import_into_bank

    report = import_into_bank(
        content=load_configured(current_app.config),
        banks_dir=Path(current_app.config["QUESTION_BANKS_DIR"]),
        bank_id=bank_id,
        source=source,
        fmt=fmt,
        lang=lang,
        dry_run=dry_run,
        today=utcnow().date(),
    )
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for note in report.notes:
            click.echo(note)
    sys.exit(0 if report.ok else 1)


@bank_cli.command("export")
@click.argument("bank_id", metavar="BANK")
@click.option("--format", "fmt", required=True, type=click.Choice(EXPORT_FORMATS))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write (a .zip for qti3).",
)
@click.option(
    "--language",
    "lang",
    type=click.Choice(LANGUAGES),
    help="The language to write (default: the bank's first).",
)
def bank_export(bank_id: str, fmt: str, out: Path, lang: str | None) -> None:
    """Export a bank's items (and, for qti3, its exams) in one language."""
    # Loads every writer (some 25 ms): only this command needs them, not every app start.
    from elearn.content.bank_export import BankExportError, export_bank

    try:
        done = export_bank(
            content=load_configured(current_app.config),
            bank_id=bank_id,
            fmt=fmt,
            lang=lang,
            out=out,
        )
    except BankExportError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(exc.message) from None
    exams = f" and {done.exams} exam(s)" if done.exams is not None else ""
    click.echo(
        f"exported {done.items} item(s){exams} of bank {bank_id} ({done.lang}, {fmt}) to {out}"
    )


def _xapi_settings() -> XapiSettings | None:
    from elearn.services import xapi

    settings = xapi.settings_from_config(current_app.config)
    if settings is None:
        click.echo("xAPI is off: set XAPI_ENDPOINT (and XAPI_USERNAME, XAPI_PASSWORD) to send")
    return settings


@xapi_cli.command("flush")
@click.option("--max-batches", default=1000, show_default=True, type=click.IntRange(min=1))
def xapi_flush(max_batches: int) -> None:
    """Send the statements that wait to the LRS; exits 1 when the LRS could not take them."""
    from elearn.jobs import xapi as outbox
    from elearn.services import xapi

    settings = _xapi_settings()
    if settings is None:
        return
    report = outbox.flush(current_app, settings=settings, clock=utcnow, max_batches=max_batches)
    with unit_of_work(current_app) as session:
        state = xapi.status(session)
    click.echo(
        f"sent {report.sent}, rejected {report.rejected}, waiting {state.waiting}"
        + (f" (next try {state.next_try_at:%Y-%m-%d %H:%M:%S} UTC)" if state.waiting else "")
    )
    if report.problem:
        click.echo(f"the LRS at {settings.statements_url} failed: {report.problem}", err=True)
        sys.exit(1)


@xapi_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def xapi_status(as_json: bool) -> None:
    """How many statements wait, went and were refused; the reasons for refusals."""
    import json

    from elearn.services import xapi

    with unit_of_work(current_app) as session:
        state = xapi.status(session)
        refused = [
            {"id": r.statement_id, "verb": r.statement["verb"]["id"], "error": r.last_error}
            for r in xapi.rejected(session)
        ]
    data = {
        "enabled": xapi.settings_from_config(current_app.config) is not None,
        "waiting": state.waiting,
        "sent": state.sent,
        "rejected": state.rejected,
        "oldest_waiting": state.oldest_waiting.isoformat() if state.oldest_waiting else None,
        "next_try_at": state.next_try_at.isoformat() if state.next_try_at else None,
        "last_error": state.last_error,
        "refused": refused,
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(
        f"xAPI {'on' if data['enabled'] else 'off'}: {state.waiting} waiting, {state.sent} sent,"
        f" {state.rejected} refused by the LRS"
    )
    if state.last_error:
        click.echo(f"last error: {state.last_error}")
    for row in refused:
        click.echo(f"refused {row['id']}: {row['error']}")


@xapi_cli.command("requeue-rejected")
def xapi_requeue_rejected() -> None:
    """Offer the statements the LRS refused to it again (after fixing what it refused)."""
    from elearn.jobs import xapi as outbox

    count = outbox.requeue(current_app, now=utcnow())
    click.echo(f"{count} statement(s) will be sent by the next 'xapi flush'")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(exams_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(credentials_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(bank_cli)
    app.cli.add_command(xapi_cli)
    app.cli.add_command(demo)
