"""Certificates in public: verify page, PDF, signed credential, keys, revocation list, and the
check of an uploaded certificate PDF against the issuer's key and records.

These pages are open to anyone with a code; an unknown code says nothing about which codes exist,
and failed look-ups are rate-limited against guessing.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FileField

from elearn.auth import public, roles_required
from elearn.clock import utcnow
from elearn.db import get_session, writes_on_get
from elearn.services import certificates
from elearn.services.privacy import no_longer_held
from elearn.web import authority
from elearn.web.issuer import cors

bp = Blueprint("certificates", __name__)


class PdfUploadForm(FlaskForm):
    file = FileField(_l("Certificate PDF"))


def _upload_limit_mb() -> int:
    return int(current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))


@bp.get("/verify")
@public
def verify_form() -> Any:
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("certificates.verify", code=code))
    return render_template(
        "certificates/verify_form.html",
        form=PdfUploadForm(),
        signing=authority().pdf_signing_certificate(now=utcnow()),
        limit_mb=_upload_limit_mb(),
    )


@bp.post("/verify")
@public
def verify_upload() -> Any:
    """Check an uploaded PDF: ours, unchanged, matching the record, and its standing. A file
    over MAX_CONTENT_LENGTH is refused with a 413 page before it reaches this view."""
    form = PdfUploadForm()
    signing = authority().pdf_signing_certificate(now=utcnow())
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        return (
            render_template(
                "certificates/verify_form.html",
                form=form,
                signing=signing,
                limit_mb=_upload_limit_mb(),
                missing_file=True,
            ),
            400,
        )
    result = certificates.verify_pdf(
        session=get_session(), authority=authority(), data=upload.read(), now=utcnow()
    )
    return render_template("certificates/pdf_result.html", result=result, signing=signing)


@bp.get("/pdf-signing-certificate.pem")
@public
@cors
def signing_certificate_pem() -> Any:
    """The PDF signing certificate and the rest of its chain (PEM), to pin or import."""
    signing = authority().pdf_signing_certificate(now=utcnow())
    return Response(
        signing.chain_pem,
        mimetype="application/x-pem-file",
        headers={
            "Content-Disposition": 'attachment; filename="pdf-signing-certificate.pem"',
            "Cache-Control": "public, max-age=3600",
        },
    )


@bp.get("/pdf-signing-certificate.cer")
@public
@cors
def signing_certificate_der() -> Any:
    """The PDF signing certificate alone (DER), as Windows and NSS import it."""
    signing = authority().pdf_signing_certificate(now=utcnow())
    return Response(
        signing.der,
        mimetype="application/pkix-cert",
        headers={
            "Content-Disposition": 'attachment; filename="pdf-signing-certificate.cer"',
            "Cache-Control": "public, max-age=3600",
        },
    )


@bp.get("/verify/<code>")
@public
def verify(code: str) -> Any:
    certificate = certificates.find(session=get_session(), code=code)
    if certificate is None:
        return render_template("certificates/unknown.html", code=code), 404
    if no_longer_held(certificate=certificate):
        return render_template("certificates/no_longer_held.html", c=certificate), 410
    result = certificates.verify(certificate=certificate, authority=authority(), now=utcnow())
    return render_template(
        "certificates/verify.html",
        result=result,
        c=certificate,
        signing=authority().pdf_signing_certificate(now=utcnow()),
    )


@bp.get("/verify/<code>/pdf")
@public
def pdf(code: str) -> Any:
    session = get_session()
    certificate = certificates.find(session=session, code=code)
    if certificate is None:
        return render_template("certificates/unknown.html", code=code), 404
    if no_longer_held(certificate=certificate):
        return render_template("certificates/no_longer_held.html", c=certificate), 410
    result = certificates.verify(certificate=certificate, authority=authority(), now=utcnow())
    # No PDF that could pass for a valid certificate: a page that says why, with the date.
    data = (
        None
        if result.state in ("revoked", "expired")
        else certificates.pdf_of(authority=authority(), certificate=certificate, now=utcnow())
    )
    if data is None:
        return render_template("certificates/withdrawn.html", result=result, c=certificate), 410
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{certificate.code}.pdf"'},
    )


@bp.get("/api/v1/credentials/<code>")
@public
@cors
def credential(code: str) -> Any:
    certificate = certificates.find(session=get_session(), code=code)
    if certificate is None:
        return jsonify(error="not found"), 404
    if no_longer_held(certificate=certificate):
        return jsonify(error="no longer held"), 410
    return Response(
        certificate.credential,
        mimetype="application/vc+jwt",
        headers={"Content-Disposition": f'inline; filename="credential-{certificate.code}.jwt"'},
    )


@bp.get("/.well-known/jwks.json")
@public
@cors
def jwks() -> Any:
    response = jsonify(authority().jwks())
    # A rotated key is published at once and signs only after this has passed (keys rotate).
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['JWKS_MAX_AGE']}"
    return response


@bp.get("/status/<int:status_list>")
@public
@writes_on_get("signs the revocation list again when a bit changed or the key rotated")
@cors
def status(status_list: int) -> Any:
    row = certificates.signed_status_list(
        session=get_session(), authority=authority(), number=status_list, now=utcnow()
    )
    if row is None or row.token is None:
        return jsonify(error="not found"), 404
    # The stored copy, the same on every server until a bit changes: cacheable, as the
    # Bitstring Status List spec advises; a revocation shows within max-age.
    response = Response(row.token, mimetype="application/vc+jwt")
    response.set_etag(certificates.status_etag(row=row))
    response.last_modified = row.signed_at
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config['STATUS_LIST_MAX_AGE']}"
    )
    return response.make_conditional(request)


@bp.get("/me/certificates")
@roles_required("learner")
def mine() -> Any:
    session = get_session()
    rows = [
        (
            c,
            certificates.verify(certificate=c, authority=authority(), now=utcnow()),
            certificates.achievement_name(certificate=c),
        )
        for c in certificates.of_user(session=session, user_id=current_user.id)
    ]
    return render_template(
        "certificates/mine.html",
        rows=rows,
        warn_days=current_app.config["CERTIFICATE_EXPIRY_WARNING_DAYS"],
        now=utcnow(),
    )
