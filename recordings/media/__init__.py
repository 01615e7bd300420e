"""Media core of the recording product: pure functions over PyAV and numpy.

No Django here, so it can be tested and benchmarked alone; the product never
runs an ffmpeg binary. The Django side builds ``TrackInput``/``SegmentRef``
from its rows and calls:

* ``compose_window`` (``compositor.py``): one window of the timeline -> an
  H.264 MP4 fragment (1080p30 CFR, IDR first, timestamps from 0);
* ``encode_audio_window`` / ``mix_audio`` (``audio.py``): every track's
  audio in one window (or the whole timeline) -> AAC .m4a, windows joinable;
* ``assemble`` / ``probe`` (``assemble.py``): fragments + audio -> the final
  faststart MP4, verified.

Timeline rules shared by all three live in ``timeline.py``; the layout rules
in ``layout.py``; paused spans cut out in ``cuts.py``. What was presented on
the stage (an image, a PDF page, a library video) is drawn and mixed from the
stored item by ``stage.py`` (``StageItem`` passed as ``stage=`` to both
``compose_window`` and ``encode_audio_window``). Browser-like test media come
from ``loadtest.synthetic``, items to present from ``loadtest.presented``.
"""

from .assemble import AssemblyError, AudioPiece, MediaInfo, assemble, fragments_duration, probe
from .audio import AudioReport, encode_audio_window, mix_audio, on_audio_grid
from .compositor import DEFAULT_CRF, DEFAULT_PRESET, LayoutChange, WindowReport, compose_window
from .layout import Cell, Rect
from .stage import StageItem, StageStep
from .timeline import SegmentProblem, SegmentRef, TrackInput, TrackKind

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "AssemblyError",
    "AudioPiece",
    "AudioReport",
    "Cell",
    "LayoutChange",
    "MediaInfo",
    "Rect",
    "SegmentProblem",
    "SegmentRef",
    "StageItem",
    "StageStep",
    "TrackInput",
    "TrackKind",
    "WindowReport",
    "assemble",
    "compose_window",
    "encode_audio_window",
    "fragments_duration",
    "mix_audio",
    "on_audio_grid",
    "probe",
]
