/**
 * x, y and heading of a position along a lane (its SUMO polyline, scaled: lane lengths and shape
 * lengths may differ, SUMO's `length` is authoritative), for vehicle.getPosition and getAngle.
 */
import type { Network } from '../../sim/network.js';
import { laneShapes } from '../positions.js';

export class LaneGeometry {
  readonly shapes: Float64Array[];
  private readonly cum: Float64Array[] = [];
  private readonly scale: Float64Array;

  constructor(private readonly net: Network) {
    this.shapes = laneShapes(net);
    this.scale = new Float64Array(net.laneCount);
    for (let lane = 0; lane < net.laneCount; lane++) {
      const s = this.shapes[lane]!;
      const n = s.length >> 1;
      const c = new Float64Array(n);
      for (let k = 1; k < n; k++)
        c[k] = c[k - 1]! + Math.hypot(s[2 * k]! - s[2 * k - 2]!, s[2 * k + 1]! - s[2 * k - 1]!);
      this.cum[lane] = c;
      const len = net.laneLength[lane]!;
      this.scale[lane] = len > 0 ? c[n - 1]! / len : 0;
    }
  }

  /** [x, y, angle]: angle in SUMO's degrees (0 north, clockwise). */
  at(lane: number, pos: number): [number, number, number] {
    const shape = this.shapes[lane]!;
    const cum = this.cum[lane]!;
    const d = pos * this.scale[lane]!;
    let lo = 0;
    let hi = cum.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! <= d) lo = mid;
      else hi = mid;
    }
    const ax = shape[2 * lo]!;
    const ay = shape[2 * lo + 1]!;
    const dx = shape[2 * hi]! - ax;
    const dy = shape[2 * hi + 1]! - ay;
    const seg = cum[hi]! - cum[lo]!;
    const t = seg > 0 ? Math.min(1, Math.max(0, (d - cum[lo]!) / seg)) : 0;
    let angle = 90 - (Math.atan2(dy, dx) * 180) / Math.PI;
    if (angle < 0) angle += 360;
    return [ax + t * dx, ay + t * dy, angle];
  }
}
