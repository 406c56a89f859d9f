"""Real data samples bundled with manyi, for the demo, the docs and the fast tests.

Each sample was cut from a public data set by ``scripts/cut_samples.py`` (see
``docs/data/samples.md`` for how and for the sources' licences):

``olist``
    3,000 Olist orders (CC BY-NC-SA 4.0) with every row that belongs to them, in Olist's own
    file layout: read it with :class:`manyi.data.olist.OlistReader`.
``cdnow``
    The CDNOW 1/10 sample (6,919 transactions of 2,357 customers), ``cdnow_sample.csv.gz``.
``reviews_zh`` / ``reviews_en``
    Labelled Chinese and English reviews (``reviews_zh.csv.gz``, ``reviews_en.csv.gz``).

>>> sample_path("olist").name
'olist'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLES = {
    "olist": "olist",
    "cdnow": "cdnow/cdnow_sample.csv.gz",
    "reviews_zh": "reviews_zh.csv.gz",
    "reviews_en": "reviews_en.csv.gz",
}


def sample_path(name: str) -> Path:
    """The file or directory of the bundled sample called ``name``.

    The package must be installed as files (a normal or editable install, not a zip).
    """
    try:
        relative = SAMPLES[name]
    except KeyError:
        raise KeyError(f"no bundled sample {name!r}; there are {', '.join(SAMPLES)}") from None
    return Path(str(resources.files(__package__).joinpath(relative)))
