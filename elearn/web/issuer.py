"""What a credential's URLs resolve to, in public: the issuer Profile, the Achievement, each key
(kid), the JSON-LD credential for wallets, the PDF signing certificate; and CORS for every public
read-only endpoint, so that a verifier running in a browser can fetch them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    current_app,
    json,
    jsonify,
    render_template,
    request,
)

from elearn.auth import public
from elearn.clock import utcnow
from elearn.db import get_session
from elearn.domain import credentials as vc
from elearn.i18n import current_language
from elearn.services import certificates, issuer
from elearn.services.privacy import no_longer_held
from elearn.web import authority

bp = Blueprint("issuer", __name__)

F = TypeVar("F", bound=Callable[..., Any])

JSON_LD = "application/ld+json"
_OFFERED = [JSON_LD, "application/json", "text/html"]
_CORS_ALLOW_HEADERS = "Accept, Accept-Language, If-None-Match, If-Modified-Since"


def cors(view: F) -> F:
    """Marks a public, read-only view as readable from any origin (CORS ``*``)."""
    view.cors = True  # type: ignore[attr-defined]
    return view


@bp.after_app_request
def _cors_headers(response: Response) -> Response:
    """``Access-Control-Allow-Origin: *`` on the views marked ``cors``, preflight included.

    These answers carry no cookie-dependent data, so any origin may read them."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not getattr(view, "cors", False):
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Content-Disposition"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = _CORS_ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _wants_html() -> bool:
    """Content negotiation: a browser (text/html first) gets the page; anything else JSON-LD."""
    return request.accept_mimetypes.best_match(_OFFERED) == "text/html"


def _json_ld(document: dict[str, Any]) -> Response:
    """A JSON-LD answer, typed as the client asked (application/ld+json unless plain JSON)."""
    asked = request.accept_mimetypes.best_match([JSON_LD, "application/json"])
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype=asked if asked == "application/json" else JSON_LD,
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _negotiated(response: Response) -> Response:
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


@bp.get("/issuer")
@public
@cors
def profile() -> Any:
    now = utcnow()
    document = issuer.issuer_profile(authority=authority(), now=now)
    if _wants_html():
        pdf = authority().pdf_signing_certificate(now=now)
        keys = authority().jwks()["keys"]
        page = render_template("issuer/profile.html", profile=document, pdf=pdf, keys=keys)
        return _negotiated(Response(page, mimetype="text/html"))
    return _negotiated(_json_ld(document))


@bp.get("/achievements/<exam_id>")
@public
@cors
def achievement(exam_id: str) -> Any:
    found = issuer.achievement(
        session=get_session(), authority=authority(), exam_id=exam_id, lang=current_language()
    )
    if _wants_html():
        page = render_template("issuer/achievement.html", a=found)
        return _negotiated(Response(page, mimetype="text/html"))
    return _negotiated(_json_ld(found.json_ld))


@bp.get("/keys/<name>")
@public
@cors
def key(name: str) -> Any:
    """The one public JWK a ``kid`` names (OB 3.0: the kid dereferences to a JWK)."""
    jwk = authority().public_jwk(name)
    if jwk is None:
        return jsonify(error="not found"), 404
    response = Response(json.dumps(jwk), mimetype="application/jwk+json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/certificates/<code>/credential.jsonld")
@public
@cors
def credential_jsonld(code: str) -> Any:
    """The credential as JSON-LD with an embedded eddsa-rdfc-2022 proof, for wallets."""
    certificate = certificates.find(session=get_session(), code=code)
    if certificate is None:
        return jsonify(error="not found"), 404
    if no_longer_held(certificate=certificate):
        return jsonify(error="no longer held"), 410
    try:
        document = certificates.jsonld_credential(
            certificate=certificate, authority=authority(), now=utcnow()
        )
    except vc.CredentialInvalid as exc:
        return jsonify(error=f"the stored credential does not verify: {exc.reason}"), 409
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype=JSON_LD,
        headers={
            "Content-Disposition": f'attachment; filename="credential-{certificate.code}.jsonld"'
        },
    )
