"""The analysis library stays pure: importing all of it loads neither Django nor the desk."""

from __future__ import annotations

import subprocess
import sys


def test_insight_imports_no_django_and_no_desk() -> None:
    code = (
        "import pkgutil, sys, importlib, manyi.insight as p\n"
        "for m in pkgutil.walk_packages(p.__path__, 'manyi.insight.'):\n"
        "    importlib.import_module(m.name)\n"
        "import manyi.commands.report\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] == 'django' "
        "or n.startswith('manyi.desk') or n.split('.')[0] in ('pyspark', 'plotly'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
