"""The manyi desk: the Django web application (one app per domain noun)."""
