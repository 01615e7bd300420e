// The room's own chrome labels (button captions, status words). Notice texts are not here: the
// server sends them, or they come from the apps' notices.py through config.texts[code].

export const LABELS = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  notAllowed: "Not allowed",
  sessionEnded: "Session ended",
  recording: "Recording",
  startingRecording: "Starting recording…",
  paused: "Paused",
  pauseRecording: "Pause recording",
  resumeRecording: "Resume recording",
  processing: (percent) => `Processing recording… ${percent}%`,
  live: "Live",
  preview: "Preview",
  shareScreen: "Share screen",
  stopSharing: "Stop sharing",
  open: "Open",
  panelFailed: "Media and Files could not be opened.",
  dismiss: "Dismiss",
  dismissNotice: "Dismiss notice",
};
