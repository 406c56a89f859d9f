"""The library stays pure: manyi.data, manyi.insight and manyi.text never load Django."""

from __future__ import annotations

import subprocess
import sys


def test_the_library_imports_without_django() -> None:
    code = (
        "import sys, pkgutil, importlib\n"
        "import manyi.data, manyi.insight, manyi.text\n"
        "for pkg in (manyi.data, manyi.insight, manyi.text):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "loaded = sorted(m for m in sys.modules\n"
        "                if m == 'django' or m.startswith(('django.', 'manyi.desk')))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
