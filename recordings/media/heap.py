"""Keep a long-lived media worker's memory flat across many windows.

glibc raises its mmap threshold dynamically after large blocks are freed, so
after the first window the big buffers of x264, the decoders and swscale
come from the heap arenas of whichever thread allocated them, and freed
memory stays there: resident memory grew by ~60-100 MB per composed window
in one process (measured, see bench/README-compose.md). Fixing the threshold
makes every large buffer its own mapping, returned to the system on free, so
each window starts from the same footprint. Process-wide and harmless for
the rest of a worker; a no-op where glibc is not the allocator.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
_MMAP_THRESHOLD_BYTES = 256 * 1024
_done = False
_lock = threading.Lock()


def tune_heap() -> bool:
    """Apply once per process; returns True if glibc accepted the setting."""
    global _done
    with _lock:
        if _done:
            return True
        _done = True
        if not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES))
        except (OSError, AttributeError):
            return False
