"""The benchmark data's packages and ranges read as the product reads real ones: Package URLs
back to the same key and version, versions ascending by their ecosystem's rules, and each range
covering exactly the span of versions it was made for."""

from __future__ import annotations

import itertools
import random

from committee.load_data import VERSIONS_PER_PACKAGE, _vers, catalogue
from systems import packages
from vulnerabilities import matching


def test_every_ecosystem_is_generated_and_identifiers_read_back_to_the_same_package():
    found = catalogue(random.Random("test"), 120)
    assert {p.scheme for p in found} == {"npm", "pypi", "maven", "deb"}
    assert any(p.epoch for p in found if p.scheme == "deb")
    assert found[0].key == "pkg:npm/lodash"
    for package in found:
        for version in (package.versions[0], package.versions[-1]):
            read = packages.read_purl(package.identifier(version))
            assert (read.package, read.scheme, read.version) == (
                package.key,
                package.scheme,
                version,
            )


def test_versions_ascend_by_their_ecosystems_rules():
    for package in catalogue(random.Random("test"), 120):
        parsed = [matching._version(package.scheme, v) for v in package.versions]
        assert None not in parsed
        assert all(a < b for a, b in itertools.pairwise(parsed)), package


def test_a_range_covers_exactly_the_span_it_was_made_for():
    rng = random.Random("spans")
    for package in catalogue(random.Random("test"), 60):
        low = rng.randrange(0, 10)
        high = rng.randrange(low + 1, VERSIONS_PER_PACKAGE)
        vers = _vers(package, low, high)
        assert vers.startswith(f"vers:{package.scheme}/")
        inside = [
            i
            for i, version in enumerate(package.versions)
            if matching.affected(package.scheme, version, vers)
        ]
        assert inside == list(range(low, high)), (vers, package.versions)
