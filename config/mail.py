"""Mail the product composes: in each reader's language, linking to its record by full address.

A mail is composed by a worker, after and far from the request that caused it: no cookie or
header says how its reader reads. Their language is the one kept on their account (set when
they pick one on the site), and links are absolute, under SITE_URL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from config.text import one_line


def language_of(reader: Any) -> str:
    """The language a person's mail is written in: their pick, or the site's when they made
    none (or picked one the site no longer offers)."""
    chosen = getattr(reader, "language", "") or ""
    offered = {code for code, _name in settings.LANGUAGES}
    return chosen if chosen in offered else settings.LANGUAGE_CODE


def link(viewname: str, *args: Any) -> str:
    """The full address of a page of the site, for a mail read outside it."""
    return settings.SITE_URL + reverse(viewname, args=args)


def compose(
    template_name: str,
    context: Mapping[str, Any],
    *,
    language: str,
    subject: Callable[[], str],
) -> tuple[str, str]:
    """A mail's subject and body, written in `language`: whatever the subject and the template
    translate, and every date they format. The subject is a callable, so that it is translated
    here, not where it was written; context values to translate are lazy for the same reason.
    The subject comes on one line: a line break in a header is refused outright."""
    with translation.override(language):
        return one_line(str(subject())), render_to_string(template_name, dict(context))


def by_language(readers: Iterable[Any]) -> dict[str, list[str]]:
    """Readers' addresses by the language their mail is written in, one mail per language:
    each list sorted, each address once (in its first reader's language), no empty one."""
    grouped: dict[str, set[str]] = defaultdict(set)
    seen: set[str] = set()
    for reader in readers:
        address = reader.email
        if address and address not in seen:
            seen.add(address)
            grouped[language_of(reader)].add(address)
    return {language: sorted(grouped[language]) for language in sorted(grouped)}
