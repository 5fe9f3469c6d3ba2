"""Advisory feed readers (OSV, NVD CVE JSON 2.0, CISA KEV): parse and check, write nothing."""

from __future__ import annotations

from typing import BinaryIO

from django.utils.translation import gettext as _

from vulnerabilities.feeds.kev import read_kev
from vulnerabilities.feeds.nvd import read_nvd
from vulnerabilities.feeds.osv import read_osv
from vulnerabilities.records import FeedError, ReadReport

READERS = {"osv": read_osv, "nvd": read_nvd, "kev": read_kev}

__all__ = ["READERS", "read_feed", "read_kev", "read_nvd", "read_osv"]


def read_feed(kind: str, stream: BinaryIO, *, name: str = "") -> ReadReport:
    """The feed of `kind` ("osv", "nvd" or "kev") read from `stream`."""
    reader = READERS.get(kind)
    if reader is None:
        raise FeedError(_("Unknown feed kind “%(kind)s”.") % {"kind": kind}, where=name)
    return reader(stream, name=name)
