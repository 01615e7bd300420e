"""Every notice text of every app in one table, for the pages and the room's JavaScript.

Each text is written once, in the notices module of the app whose events say it; the edges
(templates through `{% notice_text %}`, the room page's `room_config.texts`) read them here.
"""

from __future__ import annotations

from core.events import NoticeTexts
from media_library import notices as library_notices
from meetings import notices as meeting_notices
from recordings import notices as recording_notices

ALL = NoticeTexts({**meeting_notices.TEXTS, **recording_notices.TEXTS, **library_notices.TEXTS})
