"""The ``manyi`` command groups; :mod:`manyi.cli` assembles them."""
