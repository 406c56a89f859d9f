"""Files customers upload on the help pages: few, small, and of kinds an agent can open safely.

The browser's content type is not trusted: the type comes from the extension, and the first
bytes must look like that kind of file (a ``.jpg`` that is really an ``.exe`` is refused).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from manyi.desk.cases.notifications import IncomingFile

#: Extension → (content type, accepted leading bytes; empty means any).
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".heic": ("image/heic", ()),  # ISO BMFF: checked by _looks_like_bmff
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".mp4": ("video/mp4", ()),
    ".mov": ("video/quicktime", ()),
    ".txt": ("text/plain", ()),
}
_BMFF = {".heic", ".mp4", ".mov"}


def limits() -> tuple[int, int, int]:
    """(files per message, bytes per file, bytes per message); settings may lower them."""
    return (
        int(getattr(settings, "MANYI_HELP_MAX_FILES", 5)),
        int(getattr(settings, "MANYI_HELP_MAX_FILE_BYTES", 10 * 1024 * 1024)),
        int(getattr(settings, "MANYI_HELP_MAX_TOTAL_BYTES", 25 * 1024 * 1024)),
    )


def accept_attribute() -> str:
    """The ``accept`` attribute of the file input (a hint to the browser, not a check)."""
    return ",".join(sorted(ALLOWED))


def _looks_right(extension: str, head: bytes) -> bool:
    if extension in _BMFF:
        return head[4:8] == b"ftyp"
    if extension == ".webp":
        return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    if extension == ".txt":
        return b"\x00" not in head
    return head.startswith(ALLOWED[extension][1])


def read_uploads(files: Sequence[UploadedFile[bytes]]) -> list[IncomingFile]:
    """Check the uploads against the limits and kinds; raise ``ValidationError`` naming the
    first problem, else return their contents."""
    max_files, max_file, max_total = limits()
    if len(files) > max_files:
        raise ValidationError(
            ngettext(
                "Attach at most %(n)d file.", "Attach at most %(n)d files.", max_files
            ) % {"n": max_files}
        )  # fmt: skip
    total = 0
    result = []
    for f in files:
        name = os.path.basename(f.name or "")
        extension = os.path.splitext(name)[1].lower()
        if extension not in ALLOWED:
            raise ValidationError(
                _("“%(name)s” is not a photo, video, PDF or text file.") % {"name": name}
            )
        size = f.size or 0
        if size > max_file:
            raise ValidationError(
                _("“%(name)s” is larger than %(limit)s.")
                % {"name": name, "limit": filesizeformat(max_file)}
            )
        total += size
        if total > max_total:
            raise ValidationError(
                _("The files are larger than %(limit)s together.")
                % {"limit": filesizeformat(max_total)}
            )
        f.seek(0)
        content = f.read()
        if not _looks_right(extension, content[:16]):
            raise ValidationError(
                _("“%(name)s” does not look like a %(ext)s file.")
                % {"name": name, "ext": extension.lstrip(".").upper()}
            )
        result.append(IncomingFile(name, ALLOWED[extension][0], content))
    return result
