/** Plane geometry for deriving lane and junction shapes. y points north; angles are radians. */
import type { Shape } from '../spec.js';

export interface Pt {
  x: number;
  y: number;
}

export const sub = (a: Pt, b: Pt): Pt => ({ x: a.x - b.x, y: a.y - b.y });
export const add = (a: Pt, b: Pt): Pt => ({ x: a.x + b.x, y: a.y + b.y });
export const scale = (a: Pt, k: number): Pt => ({ x: a.x * k, y: a.y * k });
export const dot = (a: Pt, b: Pt): number => a.x * b.x + a.y * b.y;
export const cross = (a: Pt, b: Pt): number => a.x * b.y - a.y * b.x;
export const dist = (a: Pt, b: Pt): number => Math.hypot(a.x - b.x, a.y - b.y);

export function unit(a: Pt): Pt {
  const l = Math.hypot(a.x, a.y);
  return l > 0 ? { x: a.x / l, y: a.y / l } : { x: 1, y: 0 };
}

/** The unit normal pointing to the right of direction d (driving on the right). */
export const rightOf = (d: Pt): Pt => ({ x: d.y, y: -d.x });

/** Normalises an angle to (-π, π]. */
export function normAngle(a: number): number {
  while (a <= -Math.PI) a += 2 * Math.PI;
  while (a > Math.PI) a -= 2 * Math.PI;
  return a;
}

/** Signed turn from heading d0 to heading d1: positive = left (counter-clockwise). */
export const turnAngle = (d0: Pt, d1: Pt): number => normAngle(Math.atan2(d1.y, d1.x) - Math.atan2(d0.y, d0.x));

/** Compass bearing of d, clockwise from north, in [0, 2π). */
export function bearing(d: Pt): number {
  const b = Math.atan2(d.x, d.y);
  return b < 0 ? b + 2 * Math.PI : b;
}

export function polylineLength(pts: readonly Pt[]): number {
  let l = 0;
  for (let i = 1; i < pts.length; i++) l += dist(pts[i - 1]!, pts[i]!);
  return l;
}

/** Direction of the first / last segment. */
export const startDir = (pts: readonly Pt[]): Pt => unit(sub(pts[1]!, pts[0]!));
export const endDir = (pts: readonly Pt[]): Pt => unit(sub(pts[pts.length - 1]!, pts[pts.length - 2]!));

/** The part of a polyline between arc lengths `from` and `to` (0 <= from < to <= length). */
export function cutPolyline(pts: readonly Pt[], from: number, to: number): Pt[] {
  const out: Pt[] = [];
  let s = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const l = dist(a, b);
    const at = (t: number): Pt => add(a, scale(sub(b, a), l > 0 ? (t - s) / l : 0));
    if (out.length === 0 && from <= s + l) out.push(at(from));
    if (out.length > 0) {
      if (to <= s + l) {
        out.push(at(to));
        return out;
      }
      out.push(b);
    }
    s += l;
  }
  return out;
}

/**
 * The polyline moved `d` metres to its right. Interior vertices use the mitre point so that segments
 * stay parallel to the axis; very sharp bends are capped at 3 × d so lanes do not shoot off.
 */
export function offsetPolyline(pts: readonly Pt[], d: number): Pt[] {
  return pts.map((p, i) => {
    const before = i > 0 ? rightOf(unit(sub(p, pts[i - 1]!))) : undefined;
    const after = i < pts.length - 1 ? rightOf(unit(sub(pts[i + 1]!, p))) : undefined;
    if (!before || !after) return add(p, scale((before ?? after)!, d));
    const mitre = unit(add(before, after));
    const cos = dot(mitre, before);
    return add(p, scale(mitre, cos > 1 / 3 ? d / cos : 3 * d));
  });
}

/**
 * A cubic Bézier from p0 (heading d0) to p3 (heading d3), sampled into a polyline. The handle length
 * makes it a circular arc when the two ends are symmetric: k = chord × (2/3)·tan(α/4)/sin(α/2), α being
 * the change of heading (1/3 of the chord for a straight line, 2/3 for a U-turn's half circle).
 */
export function smoothConnection(p0: Pt, d0: Pt, p3: Pt, d3: Pt, segments = 8): Pt[] {
  const chord = dist(p0, p3);
  if (chord < 1e-9) return [p0, p3];
  const c = unit(sub(p3, p0));
  // Straight ahead with no bend: a single segment is exact.
  if (Math.abs(cross(d0, c)) < 1e-9 && Math.abs(cross(d3, c)) < 1e-9 && dot(d0, c) > 0 && dot(d3, c) > 0)
    return [p0, p3];
  const alpha = Math.acos(Math.max(-1, Math.min(1, dot(d0, d3))));
  const k = chord * (alpha < 1e-6 ? 1 / 3 : ((2 / 3) * Math.tan(alpha / 4)) / Math.sin(alpha / 2));
  const p1 = add(p0, scale(d0, k));
  const p2 = sub(p3, scale(d3, k));
  const out: Pt[] = [];
  for (let i = 0; i <= segments; i++) {
    const t = i / segments;
    const u = 1 - t;
    const w = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t] as const;
    out.push({
      x: w[0] * p0.x + w[1] * p1.x + w[2] * p2.x + w[3] * p3.x,
      y: w[0] * p0.y + w[1] * p1.y + w[2] * p2.y + w[3] * p3.y,
    });
  }
  return out;
}

/** True if segments ab and cd cross at a point interior to both (touching ends do not count). */
export function segmentsCross(a: Pt, b: Pt, c: Pt, d: Pt): boolean {
  const eps = 1e-9;
  const d1 = cross(sub(b, a), sub(c, a));
  const d2 = cross(sub(b, a), sub(d, a));
  const d3 = cross(sub(d, c), sub(a, c));
  const d4 = cross(sub(d, c), sub(b, c));
  return ((d1 > eps && d2 < -eps) || (d1 < -eps && d2 > eps)) && ((d3 > eps && d4 < -eps) || (d3 < -eps && d4 > eps));
}

export function polylinesCross(p: readonly Pt[], q: readonly Pt[]): boolean {
  for (let i = 1; i < p.length; i++) {
    for (let j = 1; j < q.length; j++) {
      if (segmentsCross(p[i - 1]!, p[i]!, q[j - 1]!, q[j]!)) return true;
    }
  }
  return false;
}

/** Convex hull, counter-clockwise (Andrew's monotone chain); fewer than 3 distinct points are returned as they are. */
export function convexHull(points: readonly Pt[]): Pt[] {
  const pts = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (pts.length < 3) return pts;
  const half = (list: Pt[]): Pt[] => {
    const h: Pt[] = [];
    for (const p of list) {
      while (h.length >= 2 && cross(sub(h[h.length - 1]!, h[h.length - 2]!), sub(p, h[h.length - 2]!)) <= 0) h.pop();
      h.push(p);
    }
    h.pop();
    return h;
  };
  return [...half(pts), ...half(pts.reverse())];
}

/** [{x, y}, ...] → [x0, y0, x1, y1, ...], rounded to the centimetre so files and hashes stay tidy. */
export function flatten(pts: readonly Pt[]): Shape {
  const r = (v: number): number => Math.round(v * 100) / 100 + 0; // + 0 turns -0 into 0
  return pts.flatMap((p) => [r(p.x), r(p.y)]);
}
