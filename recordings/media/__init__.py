"""Media core of the recording product: pure functions over PyAV and numpy.

No Django here, so it can be tested and benchmarked alone. The Django side
builds ``TrackInput``/``SegmentRef`` from its rows and calls:

* ``compose_window`` (``compositor.py``): one window of the timeline -> an
  H.264 MP4 fragment;
* ``mix_audio`` (``audio.py``): every track's audio -> one AAC .m4a;
* ``assemble`` / ``probe`` (``assemble.py``): fragments + audio -> the final
  faststart MP4, verified.
"""
