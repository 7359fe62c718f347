"""gunicorn settings for elearn (see docs/deploy.md). Every value can be set by environment."""

import hashlib
import multiprocessing
import os
import re
from pathlib import Path
from typing import Any

from elearn.config import instance_path_of

# Loopback by default: nginx (TLS) in front. ELEARN_BIND=0.0.0.0:8000 only behind a firewall.
bind = os.environ.get("ELEARN_BIND", "127.0.0.1:8000")
# Sync workers, one per CPU core: measured best for this app on 2 cores (more widened the tail).
workers = int(os.environ.get("ELEARN_WORKERS", multiprocessing.cpu_count()))
worker_class = "sync"
timeout = int(os.environ.get("ELEARN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, jittered so that they do not all restart at once.
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("ELEARN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("ELEARN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def _control_socket() -> str:
    """The master's control socket (for ``gunicornc``), one per instance: gunicorn's default path
    ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl) is one for the whole machine, so a second
    instance took it over from the first, and stopping either removed the other's."""
    if os.environ.get("ELEARN_CONTROL_SOCKET"):
        return os.environ["ELEARN_CONTROL_SOCKET"]
    name = "gunicorn-" + re.sub(r"[^A-Za-z0-9.-]+", "_", bind) + ".ctl"
    path = instance_path_of(None) / name
    if len(os.fsencode(path)) < 100:  # a Unix socket's path holds at most 107 bytes
        return str(path)
    # A deep instance folder: gunicorn's own private folder, under a name this instance alone has.
    digest = hashlib.sha256(os.fsencode(path)).hexdigest()[:16]
    return str(Path.home() / ".gunicorn" / f"elearn-{digest}.ctl")


control_socket = _control_socket()
control_socket_mode = 0o600


def on_starting(server: Any) -> None:
    """Before any worker starts: production must not count sign-ins apart in each worker."""
    from elearn.config import read_settings
    from elearn.limits import check_store

    settings = read_settings()
    warning = check_store(
        production=bool(settings["PRODUCTION"]),
        storage_uri=str(settings["RATELIMIT_STORAGE_URI"]),
        workers=int(server.cfg.workers),
    )  # raises PerProcessStore (a RuntimeError): gunicorn prints it and exits 1
    if warning:
        server.log.warning(warning)
