"""The shipped sentiment models: ``<lang>.npz`` (arrays) and ``<lang>.json`` (metadata).

Rebuild them with ``manyi train-sentiment --lang all --data-dir DATA_DIR``, DATA_DIR being the
folder of public data sets described in docs/text-model-card.md.
"""

from __future__ import annotations
