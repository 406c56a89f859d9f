"""Text normalisation shared by training and inference.

The same function runs when a model is trained and when it predicts, so a change here
changes the features: bump :data:`NORMALIZER_VERSION` and retrain.
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZER_VERSION = 1

# Zero-width characters and the byte-order mark: the Chinese corpus starts some reviews
# with U+FEFF, and copy-paste from apps leaves U+200B-U+200D behind.
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")
_SPACES = re.compile(r"\s+")
# A run of the same punctuation mark ("!!!!!", "。。。。", "????") carries emphasis, not
# content: keep two so "!!" still differs from "!".
_REPEATED_PUNCT = re.compile(r"([!?.,~。，！？、…～\-*])\1{2,}")
# "soooo good", "ótimoooo": letters repeated three or more times become two.
_REPEATED_LETTER = re.compile(r"([a-zà-ÿ])\1{2,}")
_EMOJI = re.compile(
    "["
    "\U0001f300-\U0001faff"  # symbols, pictographs, emoticons, transport, supplemental
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats (☺ ✔ ❤)
    "\U0001f1e6-\U0001f1ff"  # regional indicators (flags)
    "]"
)
_EMOJI_TRAIL = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]")  # variation selector, skin tones
_REPEATED_EMOJI = re.compile("([\U0001f300-\U0001faff\u2600-\u27bf])\\1+")


def normalize_text(text: object, *, emoji: str = "keep") -> str:
    """Normalise one review for the models and the lexicons.

    Removes a leading byte-order mark and zero-width characters, folds full-width forms to
    half-width (Unicode NFKC: ``ＡＢＣ！１２`` → ``ABC!12``, ``，`` → ``,``), lower-cases,
    collapses whitespace, shortens runs of the same punctuation mark or letter to two, and
    collapses repeated emoji to one.

    Parameters
    ----------
    text : object
        The review. ``None``, NaN and other non-strings give ``""``.
    emoji : {"keep", "remove"}
        Keep emoji (they carry sentiment: 😊 vs 😡) or drop them.

    Returns
    -------
    str
        The normalised text; ``""`` for missing input.

    Examples
    --------
    >>> normalize_text("\\ufeffＴｈｅ　ｂｅｓｔ！！！！ 😊😊😊")
    'the best!! 😊'
    >>> normalize_text(None)
    ''
    """
    if not isinstance(text, str):
        return ""
    if emoji not in {"keep", "remove"}:
        raise ValueError(f"emoji must be 'keep' or 'remove', not {emoji!r}")
    if text.isascii():
        # NFKC leaves ASCII as it is, and the invisible characters and emoji are not ASCII
        out = text.lower()
    else:
        out = _INVISIBLE.sub("", text)
        out = unicodedata.normalize("NFKC", out).lower()
        out = _EMOJI_TRAIL.sub("", out)
        out = _EMOJI.sub("", out) if emoji == "remove" else _REPEATED_EMOJI.sub(r"\1", out)
    out = _REPEATED_PUNCT.sub(r"\1\1", out)
    out = _REPEATED_LETTER.sub(r"\1\1", out)
    return _SPACES.sub(" ", out).strip()
