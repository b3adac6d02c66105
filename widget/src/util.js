// Small helpers shared by the widget's parts: icons and number formatting.

const icon = (d, fill) =>
  '<svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" ' +
  (fill
    ? 'fill="currentColor">'
    : 'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" ' +
      'stroke-linejoin="round">') +
  '<path d="' +
  d +
  '"/></svg>';

export const ICONS = {
  refresh: icon("M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7"),
  audio: icon("M4 17v-5a8 8 0 0 1 16 0v5M4 14h3v6H4zM17 14h3v6h-3z"),
  visual: icon("M3 5h18v14H3zM3 16l5-5 4 4 3-3 6 6M15 9h.01"),
  undo: icon("M9 14 4 9l5-5M4 9h11a5 5 0 0 1 0 10h-3"),
  arrow: icon("M5 12h14M13 6l6 6-6 6"),
  turn: icon("M20 12a8 8 0 1 1-2.3-5.7L20 9M20 3v6h-6"),
  play: icon("M7 4v16l13-8z", 1),
  pause: icon("M6 4h4v16H6zM14 4h4v16h-4z", 1),
};

// The kinds a person solves, and what they answer with.

export const r2 = (v) => Math.round(v * 100) / 100;
export const pct = (v) => v * 100 + "%";
export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
