"""The mesh's server side in isolation (meetings.signalling): TURN credentials, the rate limit, the roster
in the real Redis with its sender limit."""

from __future__ import annotations

import asyncio
import base64

import pytest

from meetings import signalling
from meetings.signalling import Peer, RateLimiter, Roster


def test_turn_credentials_match_coturns_rest_api_scheme() -> None:
    # Computed independently: printf '1700000000:42' | openssl dgst -sha1 -hmac s3cret -binary | base64
    username, credential = signalling.turn_credentials(secret="s3cret", user_id=42, expires_at=1_700_000_000)
    assert username == "1700000000:42"
    assert credential == "pkGfLzidB0U1T2lLkxNy/vgk7ZE="
    assert len(base64.b64decode(credential)) == 20  # an SHA-1 digest


def test_ice_servers_are_empty_by_default_and_short_lived_with_turn(settings) -> None:
    settings.MESH_STUN_URLS, settings.MESH_TURN_URLS, settings.MESH_TURN_SECRET = [], [], ""
    assert signalling.ice_servers(user_id=7) == []
    settings.MESH_STUN_URLS = ["stun:stun.example.org:3478"]
    settings.MESH_TURN_URLS = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]
    settings.MESH_TURN_SECRET = "s3cret"
    settings.MESH_TURN_TTL_SECONDS = 600
    stun, turn = signalling.ice_servers(user_id=7, now=1_000_000.0)
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    assert turn["urls"] == settings.MESH_TURN_URLS and turn["username"] == "1000600:7"
    assert turn["credential"] == signalling.turn_credentials(secret="s3cret", user_id=7, expires_at=1_000_600)[1]
    settings.MESH_TURN_SECRET = ""  # TURN without a secret is not offered (its credentials would be refused)
    assert signalling.ice_servers(user_id=7) == [stun]


def test_the_rate_limiter_allows_a_burst_then_the_rate() -> None:
    limiter = RateLimiter(rate=10, burst=5)
    limiter.at = 100.0
    limiter.tokens = 5
    assert [limiter.allow(100.0) for _ in range(6)] == [True] * 5 + [False]
    assert limiter.allow(100.15) and not limiter.allow(100.15)  # 0.15 s at 10/s: one more
    assert sum(limiter.allow(200.0) for _ in range(10)) == 5  # never more than the burst


def test_media_state_and_candidates_are_rebuilt_from_known_fields() -> None:
    state = signalling.parse_media_state({"mic": True, "cam": False, "screen": "{0b1-c2}", "x": 1})
    assert state == signalling.MediaState(mic=True, cam=False, screen="{0b1-c2}")
    signal = signalling.parse_signal(
        {"to": "0123456789abcdef", "kind": "candidate", "candidate": {"candidate": "c", "evil": [1]}}
    )
    assert signal.candidate == {"candidate": "c", "sdpMid": None, "sdpMLineIndex": None}
    with pytest.raises(signalling.SignalError):
        signalling.parse_signal({"to": "0123456789ABCDEF", "kind": "offer", "sdp": "v=0"})


def peer(peer_id: str, *, sends: bool = True, role: str = "participant") -> Peer:
    return Peer(peer=peer_id, user_id=1, name=peer_id, role=role, sends=sends, channel=f"chan.{peer_id}")


def test_the_roster_keeps_the_sender_limit_and_forgets_who_left(settings) -> None:
    async def scenario() -> None:
        roster = Roster()
        session = 10**9 + 7  # no real session has this id
        ids = [f"{i:016x}" for i in range(5)]
        try:
            for peer_id in ids[:2]:
                joined, _ = await roster.join(session, peer(peer_id), sender_limit=2, leader=False, max_peers=25)
                assert joined.sends
            third, others = await roster.join(session, peer(ids[2]), sender_limit=2, leader=False, max_peers=25)
            assert not third.sends and sorted(p.peer for p in others) == ids[:2]
            host, _ = await roster.join(session, peer(ids[3], role="host"), sender_limit=2, leader=True, max_peers=25)
            assert host.sends  # a meeting must hear its host
            await roster.leave(session, ids[0])
            assert (await roster.get(session, ids[0])) is None
            fourth, others = await roster.join(session, peer(ids[4]), sender_limit=3, leader=False, max_peers=25)
            assert fourth.sends and sorted(p.peer for p in others) == ids[1:4]
            assert (await roster.get(session, ids[4])) == fourth  # the channel is kept, for the relay
        finally:
            for peer_id in ids:
                await roster.leave(session, peer_id)

    asyncio.run(scenario())


def test_the_mesh_admits_at_most_its_cap_even_in_a_storm_and_frees_places(settings) -> None:
    """Decision 0032: 40 joins at once into a mesh of 10 admit exactly 10; one already in is let back
    when it is full; a place frees when someone leaves or their key expires (a dead server)."""

    async def scenario() -> None:
        roster = Roster()
        session = 10**9 + 11  # no real session has this id
        ids = [f"{i:016x}" for i in range(40)]
        try:
            results = await asyncio.gather(
                *(roster.join(session, peer(i, sends=False), sender_limit=8, leader=False, max_peers=10) for i in ids)
            )
            admitted = [joined.peer for joined, _ in results if joined is not None]
            assert len(admitted) == 10
            assert sorted(p.peer for p in await roster.peers(session)) == sorted(admitted)
            outside = next(i for i in ids if i not in admitted)
            again, others = await roster.join(session, peer(admitted[0], sends=False), sender_limit=8, leader=False,
                                              max_peers=10)  # fmt: skip
            assert again is not None and len(others) == 9  # a re-registration is let back
            refused, _ = await roster.join(session, peer(outside), sender_limit=8, leader=False, max_peers=10)
            assert refused is None and await roster.get(session, outside) is None

            await roster.leave(session, admitted[1])
            taken, _ = await roster.join(session, peer(outside), sender_limit=8, leader=False, max_peers=10)
            assert taken is not None and taken.peer == outside
            # A peer whose key expired (its server died) no longer holds a place.
            await roster._redis().delete(roster._peer_key(session, admitted[2]))
            late = next(i for i in ids if i not in admitted and i != outside)
            latecomer, others = await roster.join(session, peer(late), sender_limit=8, leader=False, max_peers=10)
            assert latecomer is not None and admitted[2] not in {p.peer for p in others}
            assert len(await roster.peers(session)) == 10
        finally:
            for peer_id in ids:
                await roster.leave(session, peer_id)

    asyncio.run(scenario())


def test_a_full_answer_is_remembered_a_moment_for_newcomers_and_forgotten_when_a_place_frees(monkeypatch) -> None:
    """Roster.known_full: a join storm's sockets past the cap need not each ask Redis (bench/fanout_bench.py)."""
    monkeypatch.setattr(signalling, "FULL_HINT_SECONDS", 0.3)

    async def scenario() -> None:
        roster = Roster()
        session = 10**9 + 12  # no real session has this id
        ids = [f"{i:016x}" for i in range(3)]
        try:
            assert not roster.known_full(session)
            for peer_id in ids[:2]:
                joined, _ = await roster.join(session, peer(peer_id), sender_limit=8, leader=False, max_peers=2)
                assert joined is not None
            assert not roster.known_full(session)  # admitted, never refused: nothing to remember
            refused, _ = await roster.join(session, peer(ids[2]), sender_limit=8, leader=False, max_peers=2)
            assert refused is None and roster.known_full(session)
            await asyncio.sleep(0.4)
            assert not roster.known_full(session)  # only a moment: the next one waiting asks Redis again
            await roster.join(session, peer(ids[2]), sender_limit=8, leader=False, max_peers=2)
            assert roster.known_full(session)
            await roster.leave(session, ids[0])
            assert not roster.known_full(session)  # a place freed here: the next newcomer asks
            taken, _ = await roster.join(session, peer(ids[2]), sender_limit=8, leader=False, max_peers=2)
            assert taken is not None
        finally:
            for peer_id in ids:
                await roster.leave(session, peer_id)

    asyncio.run(scenario())
