"""Clock replies stored in one statement (meetings.services.record_clock_probes), the rule per socket:
a reply whose round trip is at most 1.5x the best so far replaces the estimate; the best round trip
is kept; of one socket's replies in a batch the lowest round trip counts; garbage is ignored."""

from __future__ import annotations

import pytest

from meetings import services
from meetings.models import Presence, SessionRole
from meetings.services import ClockProbe

pytestmark = pytest.mark.django_db


def probe(channel: str, *, rtt: float, client: float, at: float) -> ClockProbe:
    return ClockProbe(channel_name=channel, server_sent=at, client_time=client, server_received=at + rtt)


def test_clock_replies_keep_the_best_estimate_per_socket(demo) -> None:
    room = demo.rooms["single"]
    names = ("host", "participant", "moderator")
    people = [(demo.users[name], SessionRole.PARTICIPANT, f"chan-{name}") for name in names]
    services.join_session_many(room=room, joins=people)
    now = services.time_now()
    services.record_clock_probes(
        [
            probe("chan-host", rtt=0.2, client=now - 100, at=now),  # first: offset 100.1, rtt 0.2
            probe("chan-participant", rtt=0.05, client=now + 7, at=now),
            probe("chan-participant", rtt=0.01, client=now + 5, at=now),  # the better one of the two counts
            probe("chan-moderator", rtt=12.0, client=now, at=now),  # too slow to mean anything
            probe("chan-nobody", rtt=0.01, client=now, at=now),  # no such socket
        ]
    )
    clocks = {p.channel_name: (p.clock_offset, p.clock_rtt) for p in Presence.objects.all()}
    assert clocks["chan-host"] == pytest.approx((100.1, 0.2))
    assert clocks["chan-participant"] == pytest.approx((-4.995, 0.01))
    assert clocks["chan-moderator"] == (None, None)

    services.record_clock_probes(
        [
            probe("chan-host", rtt=0.5, client=now, at=now),  # 0.5 > 1.5 x 0.2: kept out
            probe("chan-participant", rtt=0.014, client=now + 1, at=now),  # within 1.5x: taken, best rtt kept
        ]
    )
    clocks = {p.channel_name: (p.clock_offset, p.clock_rtt) for p in Presence.objects.all()}
    assert clocks["chan-host"] == pytest.approx((100.1, 0.2))
    assert clocks["chan-participant"] == pytest.approx((-0.993, 0.01))
