"""Load and test tooling, kept out of the product apps.

- ``loadtest.synthetic``: browser-like WebM media (VP8+Opus, shaped like Chromium's
  MediaRecorder output) for the tests, the benchmarks in bench/ and the simulator;
- ``loadtest.simulation``: synthetic meeting participants over the real websocket and
  ingest endpoint;
- ``manage.py simulate_meeting``: the command line for the simulator.

It needs the ``loadtest`` extra (websockets, httpx; ``.[test]`` includes it) and is an
installed app only when those import (docs/decisions/0009-loadtest-package.md). It may
import the product; the product never imports it.
"""
