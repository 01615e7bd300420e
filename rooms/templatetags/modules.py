"""`{% module_preloads "js/room/main.js" %}`: a <link rel="modulepreload"> for every module the entry imports.

Without them a browser finds a module's imports only once it has fetched and parsed it, so the
room page's two dozen modules load as a waterfall of round trips (0.56 s of a 2 s join on one
machine, bench/meeting_bench.py). With them it asks for all at once, in parallel with the page.
"""

from __future__ import annotations

import posixpath
import re
from functools import cache

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()

# Static imports only (`import ... from "./x.js"`, `import "./x.js"`): a dynamic import() is left
# to load when it is needed.
IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']""", re.M)


def _graph(entry: str) -> list[str]:
    """The static paths of `entry` and everything it imports, in the order first met."""
    seen: list[str] = []
    pending = [entry]
    while pending:
        path = pending.pop(0)
        if path in seen:
            continue
        found = finders.find(path)
        if not found:
            continue
        seen.append(path)
        with open(found, encoding="utf-8") as source:
            for match in IMPORT.finditer(source.read()):
                target = match.group(1) or match.group(2)
                if target.startswith("."):
                    pending.append(posixpath.normpath(posixpath.join(posixpath.dirname(path), target)))
    return seen


_cached_graph = cache(_graph)


@register.simple_tag
def module_preloads(entry: str) -> SafeString:
    # Read once per process in production; again on every page while developing (files change).
    paths = _graph(entry) if settings.DEBUG else _cached_graph(entry)
    return format_html_join("\n", '<link rel="modulepreload" href="{}">', ((static(p),) for p in paths))
