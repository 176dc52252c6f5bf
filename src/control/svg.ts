/**
 * Small inline-SVG plots for the static run report (no scripts, no external resources): a line chart,
 * a histogram and a network map. Text is escaped; numbers are rounded to keep files small.
 */
import type { NetworkView } from './backend.js';

export const PART_COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#d62728',
  '#8c564b',
  '#17becf',
  '#e377c2',
  '#bcbd22',
  '#7f7f7f',
];

const W = 640;
const H = 300;
const M = { left: 64, right: 16, top: 28, bottom: 44 };

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** About `n` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 ? `${r2(v / 1e3)}k` : `${r2(v)}`);

function frame(
  id: string,
  title: string,
  xLabel: string,
  yLabel: string,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
  body: (sx: (x: number) => number, sy: (y: number) => number) => string,
): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => r2(M.left + ((x - x0) / (x1 - x0 || 1)) * pw);
  const sy = (y: number) => r2(M.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph);
  const parts: string[] = [];
  parts.push(
    `<svg id="${esc(id)}" class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
  );
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`);
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of ticks(x0, x1, 8)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#333"/>`);
    parts.push(`<text x="${sx(t)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
  );
  parts.push(body(sx, sy));
  parts.push('</svg>');
  return parts.join('\n');
}

export interface Series {
  label: string;
  color: string;
  /** x values ascending */
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
}

/** Line chart of one or more series; step = true draws a step function (counts over time). */
export function lineChart(o: {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  step?: boolean;
}): string {
  let x0 = Infinity,
    x1 = -Infinity,
    y1 = 0;
  for (const s of o.series) {
    for (let i = 0; i < s.xs.length; i++) {
      x0 = Math.min(x0, s.xs[i]!);
      x1 = Math.max(x1, s.xs[i]!);
      y1 = Math.max(y1, s.ys[i]!);
    }
  }
  if (!(x0 <= x1)) [x0, x1] = [0, 1];
  if (y1 === 0) y1 = 1;
  y1 = ticks(0, y1).at(-1)! < y1 ? y1 * 1.05 : ticks(0, y1).at(-1)!;
  return frame(o.id, o.title, o.xLabel, o.yLabel, x0, x1, 0, y1, (sx, sy) => {
    const out: string[] = [];
    o.series.forEach((s, k) => {
      let d = '';
      for (let i = 0; i < s.xs.length; i++) {
        const x = sx(s.xs[i]!),
          y = sy(s.ys[i]!);
        if (i === 0) d += `M${x} ${y}`;
        else if (o.step) d += `H${x}V${y}`;
        else d += `L${x} ${y}`;
      }
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
      out.push(
        `<rect x="${W - M.right - 190}" y="${M.top + 4 + k * 16}" width="10" height="10" fill="${s.color}"/><text x="${W - M.right - 176}" y="${M.top + 13 + k * 16}" font-size="11">${esc(s.label)}</text>`,
      );
    });
    return out.join('\n');
  });
}

export interface Histogram {
  /** bin edges, length bins + 1 */
  edges: number[];
  counts: number[];
}

/** Counts of `values` in `bins` equal bins from the minimum to the maximum. */
export function histogram(values: ArrayLike<number>, bins = 30): Histogram {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  if (values.length === 0) return { edges: [0, 1], counts: [0] };
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i]! - lo) / width))]!++;
  return { edges: Array.from({ length: bins + 1 }, (_, k) => lo + k * width), counts };
}

export function histogramChart(o: {
  id: string;
  title: string;
  xLabel: string;
  yLabel?: string;
  h: Histogram;
  color: string;
}): string {
  const { edges, counts } = o.h;
  const max = Math.max(1, ...counts);
  const top = ticks(0, max).at(-1)! < max ? max * 1.05 : ticks(0, max).at(-1)!;
  return frame(o.id, o.title, o.xLabel, o.yLabel ?? 'vehicles', edges[0]!, edges.at(-1)!, 0, top, (sx, sy) =>
    counts
      .map((c, i) => {
        const x = sx(edges[i]!),
          w = Math.max(0.5, sx(edges[i + 1]!) - x - 1);
        return `<rect class="bar" x="${x}" y="${sy(c)}" width="${r2(w)}" height="${r2(sy(0) - sy(c))}" fill="${o.color}" data-count="${c}"><title>${fmt(edges[i]!)}–${fmt(edges[i + 1]!)}: ${c}</title></rect>`;
      })
      .join('\n'),
  );
}

/** The network drawn from lane shapes, lanes coloured by part (internal lanes left out). */
export function networkMap(o: { id: string; title: string; net: NetworkView }): string {
  const [x0, y0, x1, y1] = o.net.bounds;
  const size = 600;
  const pad = 20;
  const scale = Math.min((size - 2 * pad) / Math.max(x1 - x0, 1), (size - 2 * pad) / Math.max(y1 - y0, 1));
  const sx = (x: number) => r2(pad + (x - x0) * scale);
  const sy = (y: number) => r2(size - pad - (y - y0) * scale);
  const width = Math.max(1, 3.2 * scale);
  const paths = o.net.lanes
    .filter((l) => !l.internal)
    .map((l) => {
      let d = '';
      for (let k = 0; k + 1 < l.shape.length; k += 2)
        d += `${k === 0 ? 'M' : 'L'}${sx(l.shape[k]!)} ${sy(l.shape[k + 1]!)}`;
      return `<path d="${d}" stroke="${PART_COLORS[l.part % PART_COLORS.length]}" data-part="${l.part}"/>`;
    });
  const legend = Array.from(
    { length: o.net.parts },
    (_, p) =>
      `<rect x="${pad + p * 70}" y="${size + 6}" width="10" height="10" fill="${PART_COLORS[p % PART_COLORS.length]}"/><text x="${pad + p * 70 + 14}" y="${size + 15}" font-size="11">part ${p}</text>`,
  );
  return [
    `<svg id="${esc(o.id)}" class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size + 24}" width="${size}" height="${size + 24}" role="img" aria-label="${esc(o.title)}">`,
    `<rect x="0" y="0" width="${size}" height="${size + 24}" fill="#fff"/>`,
    `<g fill="none" stroke-width="${r2(width)}" stroke-linecap="butt">`,
    ...paths,
    '</g>',
    ...legend,
    '</svg>',
  ].join('\n');
}
