"""Cut the bundled review samples from the *held-out* parts of the sentiment corpora.

    .venv/bin/python scripts/cut_review_samples.py --data-dir ../shared/data

writes ``src/manyi/data/samples/reviews_zh.csv.gz`` (2,000 Chinese reviews: 1,000 positive and
1,000 negative, columns ``cat,label,review`` as in the source, BOMs kept) and
``reviews_en.csv.gz`` (2,000 English reviews from all five star ratings in the held-out
part's proportions, the source columns without the unnamed row index). Within each stratum
the rows are taken in the order of ``blake2b("manyi-sample:" + text)`` (Chinese reviews
that start with a byte-order mark first), so the cut is deterministic. Because they come
from the held-out parts, the shipped models never saw them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
from pathlib import Path

import pandas as pd

from manyi.text.corpora import read_corpus

ROOT = Path(__file__).resolve().parents[1]
SALT = "manyi-sample:"


def _order(texts: pd.Series) -> pd.Series:
    return texts.map(
        lambda t: hashlib.blake2b((SALT + str(t)).encode("utf-8"), digest_size=8).hexdigest()
    )


def _take(frame: pd.DataFrame, stratum: str, quota: dict[object, int]) -> pd.DataFrame:
    # Reviews that start with a byte-order mark come first so the sample keeps that quirk
    # of the Chinese corpus for the normalisation tests.
    bom = frame["text"].str.startswith("\ufeff").map({True: "0", False: "1"})
    frame = frame.assign(_key=bom + _order(frame["text"]))
    parts = [
        group.sort_values("_key", kind="stable").head(quota[value])
        for value, group in frame.groupby(stratum, sort=True)
    ]
    return pd.concat(parts).sort_index()


def _write(frame: pd.DataFrame, path: Path) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    # mtime=0: the same rows give byte-identical files.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(buffer.getvalue().encode("utf-8"))


def cut(data_dir: Path, out_dir: Path, size: int = 2000) -> list[Path]:
    """Write both samples into ``out_dir`` and return their paths."""
    zh = read_corpus("zh", data_dir).holdout()
    zh_sample = _take(zh, "label", {0: size // 2, 1: size - size // 2})
    en = read_corpus("en", data_dir).holdout(include_excluded=True)
    shares = en["Rating"].value_counts(normalize=True)
    quota = {rating: round(size * share) for rating, share in shares.items()}
    quota[shares.index[0]] += size - sum(quota.values())  # rounding goes to the largest
    en_sample = _take(en, "Rating", quota)
    en_columns = [
        "Clothing ID", "Age", "Title", "Review Text", "Rating", "Recommended IND",
        "Positive Feedback Count", "Division Name", "Department Name", "Class Name",
    ]  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "reviews_zh.csv.gz", out_dir / "reviews_en.csv.gz"]
    _write(zh_sample[["cat", "label", "review"]], paths[0])
    _write(en_sample[en_columns], paths[1])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "manyi" / "data" / "samples")
    args = parser.parse_args()
    for path in cut(args.data_dir, args.out):
        print(f"{path}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
