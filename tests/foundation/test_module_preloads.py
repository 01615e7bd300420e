"""The room page preloads every module its script imports (rooms/templatetags/modules.py): without
the preloads the browser discovers them one level at a time, a waterfall that took 0.56 s of a
2 s join (bench/meeting_bench.py)."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from django.conf import settings

STATIC = Path(settings.BASE_DIR) / "static"
PRELOAD = re.compile(r'<link rel="modulepreload" href="/static/([^"]+)">')
RELATIVE_IMPORT = re.compile(r'from\s+"(\.[^"]+)"')


def test_the_room_page_preloads_every_module_main_imports(client, demo) -> None:
    client.force_login(demo.users["participant"])
    page = client.get(f"/rooms/{demo.rooms['single'].pk}/").content.decode()
    preloaded = PRELOAD.findall(page)
    assert preloaded[0] == "js/room/main.js" and len(preloaded) == len(set(preloaded))
    # Closed under import: each preloaded module's relative imports are preloaded too.
    for path in preloaded:
        source = (STATIC / path).read_text(encoding="utf-8")
        for target in RELATIVE_IMPORT.findall(source):
            assert posixpath.normpath(posixpath.join(posixpath.dirname(path), target)) in preloaded, (path, target)
    assert {"js/room/mesh.js", "js/room/ui/labels.js", "js/room/notice-rules.js"} <= set(preloaded)  # deep ones
    assert page.index("modulepreload") < page.index('<script type="module"')  # in the head, before the script
