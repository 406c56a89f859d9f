"""Errors raised by :mod:`manyi.insight`."""

from __future__ import annotations


class InsightError(Exception):
    """Base class of every error raised by the analysis code."""


class SourceError(InsightError):
    """A source spec, file or engine cannot be used."""


class ScaleError(InsightError, ValueError):
    """Values outside the scale a metric accepts (e.g. a rating of 6 on a 1-5 scale)."""
