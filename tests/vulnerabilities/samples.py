"""The real third-party files the vulnerability tests read, kept byte for byte in the repository."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "vulnerabilities"


def sample(relative: str) -> Path:
    """A sample by its path under tests/samples/vulnerabilities (e.g. "osv/…json")."""
    path = SAMPLES / relative
    assert path.is_file(), f"no sample {relative}"
    return path
