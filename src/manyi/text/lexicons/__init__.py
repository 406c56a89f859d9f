"""Curated data files: aspect lexicons (``aspects_<lang>.yaml``), the jieba e-commerce user
dictionary (``userdict_zh.txt``) and the language profiles (``language_profiles.json``)."""

from __future__ import annotations
