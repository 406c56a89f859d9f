"""gunicorn settings for the desk: ``gunicorn -c python:manyi.desk.config.gunicorn ...``.

Only a hook, no defaults: the command line (README, "Production") says how many workers.

``post_worker_init``: once a worker has loaded the application, it imports every view
(the URL patterns), collects the garbage of start-up and *freezes* what is left
(:func:`gc.freeze`): the ~200,000 objects of Django, the apps and their modules move to a
generation the cyclic garbage collector no longer walks. Without it, each full collection
in a worker walked all of them, about 100 ms during which that worker answered nothing, so
every request it held waited: a tail of latency that had nothing to do with the request
(measured in ``docs/benchmarks.md``, survey answers under load). Objects made later are
collected as before; a start-up object that later becomes part of a garbage cycle is no
longer collected, which start-up objects (modules, classes, settings, URL patterns) do not
do.
"""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    """Load the URL patterns, then freeze the start-up objects (see the module's docs)."""
    frozen = freeze_startup_objects()
    worker.log.info("worker %s: %d start-up objects frozen (gc.freeze)", worker.pid, frozen)


def freeze_startup_objects() -> int:
    """Import the views, collect, freeze; return how many objects are frozen now."""
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports the URL configuration and every view
    resolver.reverse_dict  # noqa: B018 - builds the lookup that reverse() uses
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
