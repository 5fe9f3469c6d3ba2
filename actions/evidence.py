"""What an evidence file is, read from its bytes: never the type or the name the client declares.

A file with a signature (PDF, PNG, JPEG, the Office Open XML formats, ...) is known by it,
through `filetype`. Plain text and CSV have none: a file is text when all of it decodes as UTF-8
with no control characters but tab, CR and LF, and the name (or the declared type) tells CSV
from plain text. What the client declared must agree with what the bytes are: a PNG sent as
"report.pdf" or an HTML page sent as application/pdf is refused, not stored under a false type.
The stored name keeps the client's words, on one line, with the extension of what the file is
(added where the name had none, lower-cased where it was not), short enough for its column.
"""

from __future__ import annotations

import codecs
import mimetypes
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from config import text

TEXT_TYPES = {"txt": "text/plain", "csv": "text/csv"}

# Declared types that say nothing about the content (what a client sends when it does not know).
_UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}
# Other names clients give the same content. Browsers on Windows with Excel installed declare
# a .csv file as application/vnd.ms-excel.
_SAME_TYPE = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
    "application/csv": "text/csv",
    "application/vnd.ms-excel": "text/csv",
    "text/comma-separated-values": "text/csv",
    "text/x-csv": "text/csv",
}
# Extensions that name the same kind as the one `filetype` gives.
_SAME_EXTENSION = {"jpg": {"jpg", "jpeg", "jpe"}, "tif": {"tif", "tiff"}}
# Extensions that say what a file is: a name ending in one of these claims that type, and a
# file that is something else is refused. Any other ending is just part of the name.
# (A MimeTypes of its own reads Python's built-in table only, the same on every machine.)
_CLAIMING = (
    {ext.lstrip(".").lower() for ext in mimetypes.MimeTypes().types_map[True]}
    | {kind.extension.lower() for kind in filetype.types}
    | set(TEXT_TYPES)
)
# Control characters a text file may not hold: C0 but tab, LF and CR; DEL; C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HEAD = 8192  # as much as `filetype` reads


@dataclass(frozen=True)
class Recognised:
    """An accepted evidence file: what it is, and the name to show and to download it under."""

    content_type: str
    extension: str
    name: str


def _refuse(message: str) -> ValidationError:
    return ValidationError({"files": message})


def _is_text(upload: UploadedFile) -> bool:
    """All of the file decodes as UTF-8 and holds no control character but tab, CR and LF."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in upload.chunks():
            if _CONTROL.search(decoder.decode(chunk)):
                return False
        return not _CONTROL.search(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        return False
    finally:
        upload.seek(0)


def _declared(upload: UploadedFile) -> str:
    return (upload.content_type or "").split(";")[0].strip().lower()


def recognise(upload: UploadedFile, *, accepted: Collection[str], name_length: int) -> Recognised:
    """What `upload` is, or a ValidationError naming the file that says why it is refused."""
    given = text.one_line(upload.name or "")
    shown = given or _("evidence")
    stem, dot_extension = posixpath.splitext(given)
    named = dot_extension[1:].lower()
    sent = _declared(upload)
    declared = _SAME_TYPE.get(sent, sent)

    upload.seek(0)
    kind = filetype.guess(upload.read(_HEAD))
    upload.seek(0)
    if kind is not None and kind.mime in accepted:
        content_type, extension = kind.mime, kind.extension
    elif _is_text(upload):
        # Text says nothing of itself: the name, else the declared type, tells CSV from text.
        extension = named if named in TEXT_TYPES else "txt"
        if named not in TEXT_TYPES and declared == TEXT_TYPES["csv"]:
            extension = "csv"
        content_type = TEXT_TYPES[extension]
    elif kind is not None:
        content_type, extension = kind.mime, kind.extension
    else:
        raise _refuse(
            _("%(file)s: its content is not of an accepted evidence type.") % {"file": shown}
        )
    if content_type not in accepted:
        raise _refuse(
            _("%(file)s: %(content_type)s is not an accepted evidence type.")
            % {"file": shown, "content_type": content_type}
        )

    is_text = content_type in TEXT_TYPES.values()
    agrees = declared in _UNDECLARED or declared == content_type
    if not agrees and not (is_text and declared in TEXT_TYPES.values()):
        raise _refuse(
            _("%(file)s: sent as %(declared)s, but the file is %(content_type)s.")
            % {"file": shown, "declared": sent, "content_type": content_type}
        )
    same = _SAME_EXTENSION.get(extension, {extension})
    if named in same:
        extension = named  # the client's spelling (jpeg or jpg), in lower case
    elif named in _CLAIMING:
        raise _refuse(
            _("%(file)s: named .%(extension)s, but the file is %(content_type)s.")
            % {"file": shown, "extension": named, "content_type": content_type}
        )
    else:  # no extension, or an ending that is only part of the name ("minutes v1.2")
        stem = given
    stem = stem.strip() or _("evidence")
    stem = stem[: name_length - len(extension) - 1].rstrip()
    return Recognised(content_type=content_type, extension=extension, name=f"{stem}.{extension}")
