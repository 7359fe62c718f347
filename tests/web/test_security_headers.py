"""Every kind of response carries the security headers, in production as served; cookies too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from elearn.db import engine_of
from elearn.models import Certificate
from tests.conftest import (
    DEMO_PASSWORD,
    Template,
    copy_instance,
    csrf_token,
    english_client,
    login,
    make_app,
    release_app,
)

EVERYWHERE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
CSP_MUST = ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'")
PRODUCTION_ONLY = ("Strict-Transport-Security",)


@pytest.fixture
def production(template_db: Template, tmp_path: Path) -> Iterator[Flask]:
    instance = tmp_path / "production"
    instance.mkdir()
    app = make_app(
        instance,
        **copy_instance(template_db, instance),
        PRODUCTION=True,
        PUBLIC_URL="https://kurs.example.no",
        PUBLIC_URL_ALIASES=["http://127.0.0.1:5000"],
    )

    def boom() -> str:
        raise RuntimeError("an unexpected failure")

    boom.access = ("public",)  # type: ignore[attr-defined]
    app.add_url_rule("/boom", view_func=boom)
    yield app
    release_app(app)


def https_client(app: Flask) -> FlaskClient:
    """A browser on the production site (HTTPS, as nginx passes it on)."""
    client = english_client(app)
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


def certificate_code(app: Flask) -> str:
    with Session(engine_of(app)) as s:
        return s.exec(select(Certificate.code).order_by(Certificate.id)).first() or ""


def check_headers(name: str, response: object, production: bool = True) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for header, value in EVERYWHERE.items():
        assert headers.get(header) == value, (name, header, headers.get(header))
    csp = headers.get("Content-Security-Policy", "")
    assert all(part in csp for part in CSP_MUST), (name, csp)
    policy = headers.get("Permissions-Policy", "")
    assert "camera=()" in policy and "geolocation=()" in policy, (name, policy)
    hsts = headers.get("Strict-Transport-Security", "")
    if production:
        assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 31536000
        assert len(headers.getlist("Strict-Transport-Security")) == 1, name
    else:
        assert not hsts, (name, hsts)


def test_every_kind_of_response_carries_the_security_headers_in_production(
    production: Flask,
) -> None:
    code = certificate_code(production)
    assert code, "the demo data has certificates"
    visitor = https_client(production)
    learner = https_client(production)
    assert login(learner, "learner@example.org").status_code == 302
    throttled = https_client(production)
    for _ in range(11):
        last = login(throttled, "nobody@example.org", "wrong-guess")
    responses = {
        "HTML page": (visitor.get("/login"), 200, "text/html"),
        "redirect": (visitor.get("/courses"), 302, None),
        "404 page": (visitor.get("/no/such/page"), 404, "text/html"),
        "403 page": (learner.get("/admin/"), 403, "text/html"),
        "400 page (no CSRF token)": (visitor.post("/login", data={}), 400, "text/html"),
        "405 page": (visitor.get("/logout"), 405, "text/html"),
        "429 page": (last, 429, "text/html"),
        "500 page": (visitor.get("/boom"), 500, "text/html"),
        "JSON credential": (visitor.get(f"/api/v1/credentials/{code}"), 200, "application/"),
        "JSON keys": (visitor.get("/.well-known/jwks.json"), 200, "application/json"),
        "JSON health": (visitor.get("/healthz"), 200, "application/json"),
        "static file": (visitor.get("/static/elearn.css"), 200, "text/css"),
        "item type script": (visitor.get("/itemtypes/ordering.js"), 200, "text/javascript"),
        "PDF download": (visitor.get(f"/verify/{code}/pdf"), 200, "application/pdf"),
        "signed-in page": (learner.get("/account"), 200, "text/html"),
    }
    for name, (response, status, kind) in responses.items():
        assert response.status_code == status, (name, response.status_code)
        if kind:
            assert response.mimetype.startswith(kind), (name, response.mimetype)
        check_headers(name, response)
    assert responses["signed-in page"][0].headers["Cache-Control"] == "no-store"
    assert "an unexpected failure" not in responses["500 page"][0].get_data(as_text=True)


def test_development_sends_no_hsts(client: FlaskClient) -> None:
    for path in ("/login", "/static/elearn.css", "/no/such/page"):
        check_headers(path, client.get(path), production=False)


def remember_cookie(client: FlaskClient) -> str:
    response = client.post(
        "/login",
        data={
            "email": "learner@example.org",
            "password": DEMO_PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 302
    (header,) = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")
    ]
    return header


def test_the_remember_cookie_is_same_site_lax_http_only_and_secure_in_production(
    app: Flask, production: Flask
) -> None:
    header = remember_cookie(english_client(app))
    assert "SameSite=Lax" in header and "HttpOnly" in header
    assert "Secure" not in header  # development runs on plain HTTP
    header = remember_cookie(https_client(production))
    assert "SameSite=Lax" in header and "HttpOnly" in header and "Secure" in header
    session_header = next(
        h
        for h in https_client(production).get("/login").headers.getlist("Set-Cookie")
        if h.startswith("session=")
    )
    assert "SameSite=Lax" in session_header and "Secure" in session_header
    assert "HttpOnly" in session_header
