"""Imported once by the worker processes' forkserver: parse and enrichment code and models.

Every parse worker is forked from the forkserver, so what this module loads (numpy, the
embedding and language models, English word data) is loaded once, not once per worker,
and a new worker is ready in milliseconds. A model that fails to load is logged by its
module and left off; nothing here may raise, or the forkserver would die with it.
"""

from __future__ import annotations

import logging

from bot.enrich.pipeline import load_models
from bot.feeds import parse, worker  # noqa: F401  (the parsers and the task functions)

try:
    load_models()
except Exception:  # a worker must still start: it loads what it can on first use
    logging.getLogger(__name__).exception("preloading the enrichment models failed")
