"""The access log of ``govstd serve``: one line per request, in place of uvicorn's.

    INFO govstd.access: 127.0.0.1:50412 "GET /api/applications/{id}" 200 1.4 ms 9f1c…

The client, the method and the route's template (not the path, which may hold personal
data such as an ID number; ``-`` when no route matched), the status, the time to the
end of the answer and the request id (``X-Request-ID``: the key to the error log and
the audit log). uvicorn's access log wrote the path with its query string, and its
formatter copied and coloured every record: ~50 µs a request, 8 % of a worker's time
under load (issue 13); this line costs a fifth of that. ``govstd serve`` turns
uvicorn's off and sends this one to standard output (:func:`log_config`, in every
worker); the logger is ``govstd.access``, so a deployment's logging configuration can
route or silence it like any other.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

from starlette.types import Scope
from uvicorn.config import LOGGING_CONFIG

LOGGER = logging.getLogger("govstd.access")


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with ``govstd.access`` on standard output."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["govstd_access"] = {"format": "%(levelname)s %(name)s: %(message)s"}
    config["handlers"]["govstd_access"] = {
        "formatter": "govstd_access",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["govstd.access"] = {
        "handlers": ["govstd_access"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def record(scope: Scope, status: int, request_id: str, started: float) -> None:
    """Log one request that began at ``started`` (``time.perf_counter()``)."""
    if not LOGGER.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    LOGGER.info(
        '%s "%s %s" %d %.1f ms %s',
        f"{client[0]}:{client[1]}" if client else "-",
        scope.get("method", "-"),
        getattr(scope.get("route"), "path", "-"),
        status,
        (time.perf_counter() - started) * 1000,
        request_id,
    )
