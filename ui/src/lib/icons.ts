// Line icons (20x20, drawn with the current text colour by CSS).

export const ICONS = {
  mic: [
    "M10 2.5a2.5 2.5 0 0 1 2.5 2.5v5a2.5 2.5 0 0 1-5 0V5A2.5 2.5 0 0 1 10 2.5Z",
    "M5 9.5a5 5 0 0 0 10 0",
    "M10 14.5v3",
    "M7 17.5h6",
  ],
  stop: ["M6 6h8v8H6Z"],
  batch: ["M7 3h5.5L16 6.5V15H7Z", "M12.5 3v3.5H16", "M4 6.5V18h9"],
  lists: ["M7.5 5.5H16", "M7.5 10H16", "M7.5 14.5H16", "M4 5.5h.01", "M4 10h.01", "M4 14.5h.01"],
  history: ["M10 3a7 7 0 1 1 0 14a7 7 0 0 1 0-14Z", "M10 6.5V10l2.5 2"],
  settings: ["M3.5 6h13", "M3.5 14h13", "M7.5 3.5v5", "M12.5 11.5v5"],
  play: ["M7 5l8 5l-8 5Z"],
  copy: ["M7 7h9v9H7Z", "M4 13V4h9"],
  trash: ["M4 6h12", "M8 6V4h4v2", "M6 6l.8 10h6.4L14 6"],
  refresh: ["M15.5 8A6 6 0 1 0 16 11", "M16 4v4h-4"],
  folder: ["M3 5.5h5l1.5 1.5H17v8.5H3Z"],
  file: ["M6 3h5.5L15 6.5V17H6Z", "M11.5 3v3.5H15"],
  plus: ["M10 4v12", "M4 10h12"],
} as const;
