"""The shipped sentiment models: ``<lang>.npz`` (arrays) and ``<lang>.json`` (metadata).

Rebuild them with ``manyi train-sentiment --lang all --data-dir ../shared/data``.
"""

from __future__ import annotations
