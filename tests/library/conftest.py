"""Fixtures of the media library tests: storage in a temp dir, real small MP4s, a cast for every role."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from django.utils import timezone

from media_library import services
from media_library.models import EntryCollaborator, MediaEntry
from meetings.models import ChannelMembership, ChannelRole, CollaboratorRole, LiveSession, Room, RoomCollaborator, User
from meetings.services import DemoData
from recordings.models import Recording


def write_mp4(path: Path, *, seconds: float = 1.0, width: int = 160, height: int = 90, fps: int = 15) -> Path:
    """A real H.264 + AAC MP4 (moov first), made with PyAV."""
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
        for i in range(int(seconds * fps)):
            img = np.zeros((height, width, 3), np.uint8)
            img[:, : (i * 7) % width] = (30, 120, 220)  # a moving bar, so frames differ
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        pts = 0
        for _ in range(int(seconds * 48000 / 1024)):
            samples = (np.sin(np.arange(pts, pts + 1024) / 20) * 0.2).astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, pts
            pts += 1024
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)
    return path


def pad_mp4(path: Path, extra_bytes: int) -> Path:
    """Append an MP4 `free` box of random bytes: still a valid MP4, now as big as a test needs."""
    payload = os.urandom(extra_bytes)
    with open(path, "ab") as fh:
        fh.write(struct.pack(">I", len(payload) + 8) + b"free" + payload)
    return path


@pytest.fixture(scope="session")
def base_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mp4(tmp_path_factory.mktemp("mp4") / "base.mp4", seconds=1.0)


@pytest.fixture
def mp4_file(base_mp4: Path, tmp_path: Path) -> Callable[..., Path]:
    """A fresh copy of the small MP4 (optionally padded) that a test may publish or delete."""
    counter = iter(range(10_000))

    def make(*, pad: int = 0) -> Path:
        target = tmp_path / f"rec-{next(counter)}.mp4"
        target.write_bytes(base_mp4.read_bytes())
        return pad_mp4(target, pad) if pad else target

    return make


@pytest.fixture(autouse=True)
def library_settings(settings, tmp_path: Path) -> Path:
    """Storage in a temp dir, no sleeping between storage retries, an in-memory channel layer."""
    media = tmp_path / "media"
    settings.STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media), "base_url": "/media-files/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = str(media)
    settings.MEDIA_PUBLISH_BACKOFF_SECONDS = 0
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return media


def make_recording(
    room: Room,
    starter: User,
    *,
    state: str = Recording.State.PROCESSING,
    started_at: datetime | None = None,
    progress: int = 0,
) -> Recording:
    now = timezone.now()
    session = LiveSession.objects.filter(room=room).exclude(state=LiveSession.State.ENDED).first()
    if session is None:
        session = LiveSession.objects.create(room=room, started_at=now, max_end_at=now + timedelta(hours=24))
    return Recording.objects.create(
        room=room,
        session=session,
        started_by=starter,
        state=state,
        progress=progress,
        started_at=started_at or now,
        cap_deadline=now + timedelta(hours=24),
        first_media_deadline=now + timedelta(seconds=60),
        duration=1.0,
    )


@dataclass
class Cast:
    """Demo data plus one person per role the access matrix needs."""

    demo: DemoData
    users: dict[str, User] = field(default_factory=dict)

    def room(self, kind: str) -> Room:
        return self.demo.rooms[kind]


@pytest.fixture
def cast(demo: DemoData) -> Cast:
    u = dict(demo.users)
    for name in ("starter", "copublisher", "coviewer", "member", "linkholder", "staffer"):
        u[name], _ = User.objects.get_or_create(username=name, defaults={"display_name": name.title()})
    u["staffer"].is_staff = True
    u["staffer"].save()
    rooms = demo.rooms
    for kind in ("single", "channel", "integration"):
        room = rooms[kind]
        room.moderators.add(u["starter"])  # the starter is a room moderator who started the recording
        RoomCollaborator.objects.update_or_create(
            room=room, user=u["coeditor"], defaults={"role": CollaboratorRole.CO_EDITOR}
        )
        RoomCollaborator.objects.update_or_create(
            room=room, user=u["copublisher"], defaults={"role": CollaboratorRole.CO_PUBLISHER}
        )
    # Channel room: "participant" joins as an invitee, "member" is a plain channel member.
    ChannelMembership.objects.filter(channel=demo.channel, user=u["participant"]).delete()
    rooms["channel"].invitees.add(u["participant"])
    ChannelMembership.objects.update_or_create(
        channel=demo.channel, user=u["member"], defaults={"role": ChannelRole.MEMBER}
    )
    return Cast(demo=demo, users=u)


@pytest.fixture
def publish(cast: Cast, mp4_file: Callable[..., Path], django_capture_on_commit_callbacks) -> Callable[..., MediaEntry]:
    """Publish a fresh recording of a room, started by `starter`; on-commit callbacks run."""

    def run(
        kind: str = "single", *, starter: str = "starter", pad: int = 0, started_at: datetime | None = None
    ) -> MediaEntry:
        recording = make_recording(cast.room(kind), cast.users[starter], started_at=started_at)
        with django_capture_on_commit_callbacks(execute=True):
            return services.publish_recording(recording=recording, mp4_path=str(mp4_file(pad=pad)))

    return run


def add_coviewer(entry: MediaEntry, user: User) -> None:
    EntryCollaborator.objects.get_or_create(entry=entry, user=user, defaults={"role": CollaboratorRole.CO_VIEWER})


UTC = UTC
