"""Software identities: a Package URL or a CPE 2.3 name read into the key matching compares.

A component of a system and an advisory's affected package meet on a *package key*: the
Package URL without version, qualifiers or subpath (`pkg:maven/org.apache.logging.log4j/
log4j-core`), or for a CPE its part, vendor and product (`cpe:a:apache:log4j`). The key is
normalised the way each ecosystem compares names (PyPI folds case and `-_.`), so that the
same package written two ways is one package.

The *scheme* says whose rules compare its versions: univers' version-range schemes (`pypi`,
`maven`, `npm`, `deb` with epochs, `apk`, `rpm`, `golang`, ...); CPE versions are `generic`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cpe import CPE
from django.utils.translation import gettext as _
from packageurl import PackageURL
from univers.version_range import RANGE_CLASS_BY_SCHEMES
from univers.versions import InvalidVersion

# Package URL type -> univers scheme. A type not here is an unknown ecosystem: kept in the
# inventory, counted and reported, never matched (no rule to compare its versions).
SCHEME_OF_PURL_TYPE = {
    "pypi": "pypi",
    "maven": "maven",
    "npm": "npm",
    "deb": "deb",
    "apk": "apk",
    "alpine": "apk",
    "rpm": "rpm",
    "golang": "golang",
    "cargo": "cargo",
    "gem": "gem",
    "nuget": "nuget",
    "composer": "composer",
    "hex": "hex",
    "conan": "conan",
    "github": "github",
    "alpm": "alpm",
    "generic": "generic",
}

# OSV ecosystem (before any ":release") -> (Package URL type, namespace).
PURL_OF_OSV_ECOSYSTEM = {
    "PyPI": ("pypi", ""),
    "Maven": ("maven", ""),
    "npm": ("npm", ""),
    "Go": ("golang", ""),
    "crates.io": ("cargo", ""),
    "RubyGems": ("gem", ""),
    "NuGet": ("nuget", ""),
    "Packagist": ("composer", ""),
    "Hex": ("hex", ""),
    "Debian": ("deb", "debian"),
    "Ubuntu": ("deb", "ubuntu"),
    "Alpine": ("apk", "alpine"),
    "Rocky Linux": ("rpm", "rocky-linux"),
    "AlmaLinux": ("rpm", "almalinux"),
    "Red Hat": ("rpm", "redhat"),
    "openSUSE": ("rpm", "opensuse"),
    "SUSE": ("rpm", "suse"),
    "GitHub Actions": ("github", ""),
}

KINDS = ("purl", "cpe")


class PackageError(ValueError):
    """An identity that is not a valid Package URL or CPE 2.3 name, or a version that the
    package's ecosystem cannot read; the message says which."""


@dataclass(frozen=True)
class Identity:
    """What a component is: its kind, package key, scheme, version and the name as written."""

    kind: str  # "purl" or "cpe"
    package: str  # the key matching compares (no version)
    scheme: str  # univers scheme; "" for an ecosystem we cannot compare
    version: str
    written: str  # the full Package URL or CPE name, normalised
    name: str  # the short name people say ("log4j-core")


def _pypi_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def purl_key(purl_type: str, namespace: str | None, name: str) -> str:
    """The package key of a Package URL's type, namespace and name."""
    purl_type = purl_type.lower()
    if purl_type == "alpine":
        purl_type = "apk"
    if purl_type == "pypi":
        name = _pypi_name(name)
    if purl_type in {"pypi", "npm", "deb", "apk", "rpm", "gem", "nuget", "composer", "cargo"}:
        name = name.lower()
        namespace = (namespace or "").lower()
    parts = [part for part in (namespace, name) if part]
    return f"pkg:{purl_type}/" + "/".join(parts)


def cpe_key(part: str, vendor: str, product: str) -> str:
    """The package key of a CPE's part, vendor and product (compared exactly, lower case)."""
    return f"cpe:{part.lower()}:{vendor.lower()}:{product.lower()}"


def read_purl(text: str, *, version: str = "") -> Identity:
    """A Package URL, with its version from `version` when the URL carries none."""
    try:
        purl = PackageURL.from_string(text.strip())
    except ValueError as exc:
        raise PackageError(_("Not a valid Package URL: %(error)s") % {"error": exc}) from None
    scheme = SCHEME_OF_PURL_TYPE.get(purl.type.lower(), "")
    found = purl.version or version.strip()
    epoch = (purl.qualifiers or {}).get("epoch", "") if isinstance(purl.qualifiers, dict) else ""
    if found and epoch and scheme in {"deb", "rpm"} and ":" not in found:
        found = f"{epoch}:{found}"  # Debian and RPM compare the epoch first
    if purl.version and version.strip() and version.strip() not in {purl.version, found}:
        raise PackageError(
            _("The Package URL says version %(found)s and the version field %(given)s.")
            % {"found": purl.version, "given": version}
        )
    if not found:
        raise PackageError(_("A component needs a version: none in the Package URL or beside it."))
    if scheme:
        check_version(scheme, found)
    whole = PackageURL(
        type=purl.type,
        namespace=purl.namespace,
        name=purl.name,
        version=purl.version or version.strip(),
        qualifiers=purl.qualifiers,
        subpath=purl.subpath,
    ).to_string()
    return Identity(
        kind="purl",
        package=purl_key(purl.type, purl.namespace, purl.name),
        scheme=scheme,
        version=found,
        written=whole,
        name=purl.name,
    )


def parse_cpe(text: str) -> CPE:
    """A CPE 2.3 formatted string, or PackageError."""
    text = text.strip()
    if not text.startswith("cpe:2.3:"):
        raise PackageError(_("Not a CPE 2.3 name: it must begin with “cpe:2.3:”."))
    try:
        return CPE(text, CPE.VERSION_2_3)
    except Exception as exc:  # the cpe library raises NotImplementedError, ValueError, ...
        raise PackageError(_("Not a valid CPE 2.3 name: %(error)s") % {"error": exc}) from None


def cpe_fields(cpe: CPE) -> tuple[str, str, str, str]:
    """Part, vendor, product and version of a parsed CPE ("*" or "-" where it says so)."""

    def first(values: list[str]) -> str:
        return values[0] if values else "*"

    part = first(cpe.get_part())
    return part, first(cpe.get_vendor()), first(cpe.get_product()), first(cpe.get_version())


def read_cpe(text: str, *, version: str = "") -> Identity:
    """A CPE 2.3 name for an operating system, firmware or appliance, with its version."""
    part, vendor, product, found = cpe_fields(parse_cpe(text))
    if vendor in {"*", "-", ""} or product in {"*", "-", ""}:
        raise PackageError(_("A component's CPE must name its vendor and product."))
    if found in {"*", "-", ""}:
        found = version.strip()
    elif version.strip() and version.strip() != found:
        raise PackageError(
            _("The CPE says version %(found)s and the version field %(given)s.")
            % {"found": found, "given": version}
        )
    if not found:
        raise PackageError(_("A component needs a version: none in the CPE name or beside it."))
    return Identity(
        kind="cpe",
        package=cpe_key(part, vendor, product),
        scheme="generic",
        version=found,
        written=text.strip(),
        name=product,
    )


def read_identity(kind: str, text: str, *, version: str = "") -> Identity:
    """A component's identity by its kind ("purl" or "cpe")."""
    if kind == "purl":
        return read_purl(text, version=version)
    if kind == "cpe":
        return read_cpe(text, version=version)
    raise PackageError(_("The kind must be “purl” or “cpe”."))


def check_version(scheme: str, version: str) -> None:
    """Refuse a version the ecosystem's rules cannot read (PackageError names it)."""
    range_class = RANGE_CLASS_BY_SCHEMES.get(scheme)
    version_class = getattr(range_class, "version_class", None)
    if version_class is None:
        return
    try:
        version_class(version)
    except (InvalidVersion, ValueError, TypeError) as exc:
        raise PackageError(
            _("“%(version)s” is not a %(scheme)s version: %(error)s")
            % {"version": version, "scheme": scheme, "error": exc}
        ) from None
