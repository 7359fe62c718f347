"""elearn: sustainability courses and certification exams for public buyers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Flask is imported here so that ``import elearn.domain`` stays pure."""
    from elearn import auth, cli, db, i18n, limits
    from elearn.clock import utcnow
    from elearn.config import instance_path_of, load_config
    from elearn.services.certificates import init_app as init_certificates
    from elearn.services.events import init_app as init_events
    from elearn.services.mail import init_app as init_mail
    from elearn.services.xapi import init_app as init_xapi
    from elearn.web import init_app as init_web

    instance_path = instance_path_of(test_config)
    instance_path.mkdir(parents=True, exist_ok=True)
    app = db.App(__name__, instance_path=str(instance_path))
    load_config(app.config, instance_path, test_config)

    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx: take the client's address and scheme from the proxies' headers, so that
        # sign-in limits and the attempt trail see the learner, not the proxy.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    prefixes = {
        urlsplit(base).path.rstrip("/")
        for base in (app.config["PUBLIC_URL"], *app.config["PUBLIC_URL_ALIASES"])
    } - {""}
    if prefixes:
        # A base URL with a path (https://kommune.no/kurs): its requests are served here too, so
        # that what was signed under an earlier address keeps answering (docs/decisions/0014).
        from werkzeug.middleware.dispatcher import DispatcherMiddleware

        app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, {prefix: app.wsgi_app for prefix in sorted(prefixes)}
        )
    db.init_app(app)
    init_certificates(app, now=utcnow())
    init_xapi(app)
    init_mail(app)
    import elearn.services.reminders  # noqa: F401  (registers the assignment reminders)

    init_events(app)
    auth.init_app(app)
    i18n.init_app(app)
    init_web(app)
    limits.init_app(app)
    cli.init_app(app)
    return app
