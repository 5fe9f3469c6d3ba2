"""The real third-party files the vulnerability tests read, kept byte for byte in the repository."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "vulnerabilities"


def sample(relative: str) -> Path:
    """A sample by its path under tests/samples/vulnerabilities (e.g. "osv/…json")."""
    path = SAMPLES / relative
    assert path.is_file(), f"no sample {relative}"
    return path


def nmap_run_at(data: bytes, when: datetime) -> bytes:
    """An nmap report as if run at `when`: its start and finish moved there (as a later run of
    the same scan writes them), nothing else changed."""
    stamp = str(int(when.timestamp())).encode()
    data = re.sub(rb'(<nmaprun [^>]*\bstart=")\d+', rb"\g<1>" + stamp, data, count=1)
    return re.sub(rb'(<finished [^>]*\btime=")\d+', rb"\g<1>" + stamp, data, count=1)
