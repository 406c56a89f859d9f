"""Curated data files: aspect lexicons (``aspects_<lang>.yaml``), the jieba e-commerce user
dictionary (``userdict_zh.txt``), the language profiles (``language_profiles.json``) and the
valence lexicons of the English and Portuguese sentiment stacks (``valence_<lang>.txt``, from
VADER and LeIA, MIT; see ``valence_NOTICE.md``), and the dictionary of the Chinese word
segmentation (``segment_zh.npz``, from jieba's, MIT; see ``segment_NOTICE.md``)."""

from __future__ import annotations
