"""manyi (满意): after-sales service, customer satisfaction and what it is worth in sales."""

from __future__ import annotations

__version__ = "0.1.0"
