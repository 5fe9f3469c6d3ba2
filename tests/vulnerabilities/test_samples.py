"""The samples are the real files PROVENANCE.md describes, unchanged (sha256 prefix per file)."""

from __future__ import annotations

import hashlib
import re

from tests.vulnerabilities.samples import SAMPLES

ROW = re.compile(r"^\| (?P<file>[\w./-]+) \| (?P<bytes>\d+) \|.*\| (?P<sha>[0-9a-f]{16}) \|$")


def test_every_sample_matches_its_provenance_row() -> None:
    rows = [
        m for line in (SAMPLES / "PROVENANCE.md").read_text().splitlines() if (m := ROW.match(line))
    ]
    assert len(rows) >= 40
    for row in rows:
        data = (SAMPLES / row["file"]).read_bytes()
        assert len(data) == int(row["bytes"]), row["file"]
        assert hashlib.sha256(data).hexdigest()[:16] == row["sha"], row["file"]
