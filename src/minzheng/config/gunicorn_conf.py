"""gunicorn's settings for ``minzheng serve`` (``-c python:minzheng.config.gunicorn_conf``).

The application is not preloaded in the master: Polars starts runtime threads when the
application loads, and a forked worker then hangs at exit waiting for a thread it does not
have (measured: workers left running after the master stopped, holding the port). Each
worker loads it instead, and says so once it can serve, so that an operator (or the
device benchmark) can wait for all of them."""

from __future__ import annotations

from typing import Any

READY = "Worker ready"


def post_worker_init(worker: Any) -> None:
    worker.log.info("%s (pid: %s)", READY, worker.pid)
