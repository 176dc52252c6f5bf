/**
 * Where vehicles are on the map: a vehicle is (lane, position along the lane); its lane's shape
 * (SUMO's polyline) turns that into x, y and a heading. Lane lengths and shape lengths may differ
 * (SUMO's `length` is authoritative), so the position is scaled onto the shape.
 *
 * `PositionSampler` precomputes per lane the cumulative segment lengths once and then writes every
 * frame into typed arrays it reuses: no allocation per vehicle, none per frame once the arrays are big
 * enough.
 */
import type { Engine } from '../sim/engine.js';
import type { Network } from '../sim/network.js';
import { encodeFrame, type LaneView, type NetworkView, type VehicleFrame, type Viewport } from './backend.js';

/** SUMO's default lane width, m (our lane specs carry no width). */
export const DEFAULT_LANE_WIDTH = 3.2;

/**
 * The polyline of every lane (normal lanes, then one internal lane per link), with a straight line
 * from the end of the incoming lane to the start of the outgoing one where a link has no shape.
 */
export function laneShapes(net: Network): Float64Array[] {
  const shapes: Float64Array[] = new Array(net.laneCount);
  for (let lane = 0; lane < net.laneCount; lane++) {
    const s = net.laneShape[lane];
    if (s && s.length >= 4) {
      shapes[lane] = s;
      continue;
    }
    const link = net.laneLink[lane]!;
    if (link >= 0) {
      const from = net.laneShape[net.linkFrom[link]!]!;
      const to = net.laneShape[net.linkTo[link]!]!;
      if (from.length >= 2 && to.length >= 2) {
        shapes[lane] = Float64Array.of(from[from.length - 2]!, from[from.length - 1]!, to[0]!, to[1]!);
        continue;
      }
    }
    // a point or nothing: a degenerate segment where the lane starts, or the origin
    const x = s?.[0] ?? 0;
    const y = s?.[1] ?? 0;
    shapes[lane] = Float64Array.of(x, y, x, y);
  }
  return shapes;
}

/** The static drawing of the network: every lane's shape, width, id and part, and the bounds. */
export function networkView(net: Network, laneOwner?: ArrayLike<number>): NetworkView {
  const shapes = laneShapes(net);
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  let parts = 1;
  const lanes: LaneView[] = [];
  for (let lane = 0; lane < net.laneCount; lane++) {
    const s = shapes[lane]!;
    for (let k = 0; k + 1 < s.length; k += 2) {
      const x = s[k]!,
        y = s[k + 1]!;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    const part = laneOwner?.[lane] ?? 0;
    if (part + 1 > parts) parts = part + 1;
    lanes.push({
      id: net.laneIds[lane]!,
      internal: net.laneLink[lane]! >= 0,
      part,
      width: DEFAULT_LANE_WIDTH,
      shape: Array.from(s, (v) => Math.round(v * 100) / 100),
    });
  }
  if (!(x0 <= x1)) [x0, y0, x1, y1] = [0, 0, 1, 1];
  return { lanes, bounds: [x0, y0, x1, y1], parts };
}

/**
 * x, y and direction of a position along a lane: its polyline, scaled (lane lengths and shape lengths
 * may differ; the lane's `length` is authoritative, as in SUMO). The viewer's sampler and TraCI's
 * getPosition/getAngle and the FCD output read positions here.
 */
export class LaneGeometry {
  readonly shapes: Float64Array[];
  /** per lane: cumulative length at each shape point (first 0) */
  private readonly cum: Float64Array[] = [];
  /** per lane: shape length / lane length */
  private readonly scale: Float64Array;
  /** the last `locate`: the point, and the direction of its shape segment (not normalized) */
  x = 0;
  y = 0;
  dx = 0;
  dy = 0;

  constructor(net: Network) {
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

  /** Sets x, y, dx, dy for position `pos` (m) on `lane`; allocates nothing. */
  locate(lane: number, pos: number): void {
    const shape = this.shapes[lane]!;
    const cum = this.cum[lane]!;
    const d = pos * this.scale[lane]!;
    // the last shape point at or before the position
    let lo = 0;
    let hi = cum.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! <= d) lo = mid;
      else hi = mid;
    }
    const ax = shape[2 * lo]!;
    const ay = shape[2 * lo + 1]!;
    this.dx = shape[2 * hi]! - ax;
    this.dy = shape[2 * hi + 1]! - ay;
    const seg = cum[hi]! - cum[lo]!;
    const t = seg > 0 ? Math.min(1, Math.max(0, (d - cum[lo]!) / seg)) : 0;
    this.x = ax + t * this.dx;
    this.y = ay + t * this.dy;
  }

  /** [x, y, angle]: angle in SUMO's degrees (0 north, clockwise). */
  at(lane: number, pos: number): [number, number, number] {
    this.locate(lane, pos);
    let angle = 90 - (Math.atan2(this.dy, this.dx) * 180) / Math.PI;
    if (angle < 0) angle += 360;
    return [this.x, this.y, angle];
  }
}

export class PositionSampler {
  private readonly geometry: LaneGeometry;
  private cap = 0;
  private readonly frame: VehicleFrame = {
    step: 0,
    time: 0,
    running: 0,
    meanSpeed: 0,
    ups: 0,
    count: 0,
    x: new Float32Array(0),
    y: new Float32Array(0),
    angle: new Float32Array(0),
    speed: new Float32Array(0),
    part: new Uint16Array(0),
  };

  /** `laneOwner`: part per lane; default: each engine's layout, else 0. */
  constructor(
    private readonly net: Network,
    private readonly laneOwner?: ArrayLike<number>,
  ) {
    this.geometry = new LaneGeometry(net);
  }

  /**
   * Positions of the vehicles on the lanes the engines own (ghost copies of other parts' lanes are
   * skipped), in the viewport if one is given. Returns the sampler's own frame object: valid until
   * the next call. Step and time are the first engine's.
   */
  sample(engines: Engine | readonly Engine[], viewport?: Viewport): VehicleFrame {
    const list = Array.isArray(engines) ? (engines as readonly Engine[]) : [engines as Engine];
    const f = this.frame;
    let count = 0,
      running = 0,
      speedSum = 0;
    const [vx0, vy0, vx1, vy1] = viewport ?? [-Infinity, -Infinity, Infinity, Infinity];
    for (const e of list) {
      const v = e.v;
      const owner = this.laneOwner ?? e.layout?.laneOwner;
      for (let lane = 0; lane < this.net.laneCount; lane++) {
        if (e.laneVehicles[lane] === 0 || e.ownedLane[lane] === 0) continue;
        const part = owner?.[lane] ?? 0;
        for (let s = e.laneFront[lane]!; s >= 0; s = v.behind[s]!) {
          const speed = v.speed[s]!;
          running++;
          speedSum += speed;
          const g = this.geometry;
          g.locate(lane, v.pos[s]!);
          const x = g.x,
            y = g.y;
          if (x < vx0 || x > vx1 || y < vy0 || y > vy1) continue;
          if (count === this.cap) this.grow();
          f.x[count] = x;
          f.y[count] = y;
          f.angle[count] = Math.atan2(g.dy, g.dx);
          f.speed[count] = speed;
          f.part[count] = part;
          count++;
        }
      }
    }
    const first = list[0];
    f.step = first?.step ?? 0;
    f.time = first ? first.time() : 0;
    f.running = running;
    f.meanSpeed = running > 0 ? speedSum / running : 0;
    f.count = count;
    return f;
  }

  private grow(): void {
    const cap = Math.max(256, this.cap * 2);
    const f = this.frame;
    const g32 = (a: Float32Array) => {
      const b = new Float32Array(cap);
      b.set(a);
      return b;
    };
    f.x = g32(f.x);
    f.y = g32(f.y);
    f.angle = g32(f.angle);
    f.speed = g32(f.speed);
    const p = new Uint16Array(cap);
    p.set(f.part);
    f.part = p;
    this.cap = cap;
  }
}

/**
 * The sampler a partitioned run's workers use to answer the viewer (cluster/protocol.ts FrameSampler):
 * each worker encodes the vehicles of its parts; the master merges the frames (backend.ts mergeFrames).
 */
export function makeFrameSampler(): (engines: Engine[], viewport?: Viewport) => Buffer {
  let sampler: PositionSampler | undefined;
  return (engines, viewport) => {
    const first = engines[0];
    if (!first) throw new Error('a worker without parts has no vehicles to sample');
    sampler ??= new PositionSampler(first.net);
    return encodeFrame(sampler.sample(engines, viewport));
  };
}
