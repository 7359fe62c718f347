"""Certificates in public: verify page, PDF, signed credential, keys, revocation list.

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
from flask_login import current_user

from elearn.auth import public, roles_required
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.services import certificates
from elearn.web import authority
from elearn.web.issuer import cors

bp = Blueprint("certificates", __name__)


@bp.get("/verify")
@public
def verify_form() -> Any:
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("certificates.verify", code=code))
    return render_template("certificates/verify_form.html")


@bp.get("/verify/<code>")
@public
def verify(code: str) -> Any:
    certificate = certificates.find(session=get_session(), code=code)
    if certificate is None:
        return render_template("certificates/unknown.html", code=code), 404
    result = certificates.verify(certificate=certificate, authority=authority(), now=utcnow())
    return render_template("certificates/verify.html", result=result, c=certificate)


@bp.get("/verify/<code>/pdf")
@public
def pdf(code: str) -> Any:
    session = get_session()
    certificate = certificates.find(session=session, code=code)
    if certificate is None:
        return render_template("certificates/unknown.html", code=code), 404
    data = certificates.pdf_of(authority=authority(), certificate=certificate, now=utcnow())
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
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/status/<int:status_list>")
@public
@cors
def status(status_list: int) -> Any:
    if status_list != 1:
        return jsonify(error="not found"), 404
    token = certificates.status_list_token(
        session=get_session(), authority=authority(), status_list=status_list, now=utcnow()
    )
    response = Response(token, mimetype="application/vc+jwt")
    response.headers["Cache-Control"] = "no-cache"  # a revocation must show at once
    return response


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
