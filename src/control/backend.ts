/**
 * What the control server (http.ts) needs from a run: the one interface a single-process run
 * (local.ts) and a multi-worker master both implement. Everything here is plain data; the server owns
 * HTTP, WebSocket, metrics and logs, the backend owns the run.
 *
 * Units: metres, seconds, metres per second; `at` fields are milliseconds since the Unix epoch.
 */
import type { RunStatus } from '../cluster/status.js';

/** World box `[x0, y0, x1, y1]`, m (x0 ≤ x1, y0 ≤ y1). */
export type Viewport = readonly [number, number, number, number];

/** One lane as the viewer draws it. */
export interface LaneView {
  /** lane id (internal lanes: `:junction_fromLane_toLane`) */
  id: string;
  /** true for the path through a junction (not closable) */
  internal: boolean;
  /** part that simulates the lane (0 without partitioning) */
  part: number;
  /** drawing width, m */
  width: number;
  /** flat polyline `[x0, y0, x1, y1, ...]`, m */
  shape: number[];
}

/** The static network drawing: `GET /api/network`. */
export interface NetworkView {
  lanes: LaneView[];
  /** bounding box of every lane shape, m */
  bounds: [number, number, number, number];
  /** number of parts (1 without partitioning) */
  parts: number;
}

/**
 * Vehicle positions at one step boundary. Arrays hold `count` valid entries (they may be longer:
 * producers reuse them). Totals are over the whole network, not just the viewport.
 */
export interface VehicleFrame {
  step: number;
  /** simulation time, s */
  time: number;
  /** vehicles running in the whole network */
  running: number;
  /** mean speed of every running vehicle, m/s (0 when none) */
  meanSpeed: number;
  /** vehicle updates per wall-clock second of stepping, recent average (SUMO's UPS) */
  ups: number;
  /** vehicles in the viewport (entries below) */
  count: number;
  /** front bumper position, m */
  x: Float32Array;
  y: Float32Array;
  /** heading, radians, counter-clockwise from +x */
  angle: Float32Array;
  /** m/s */
  speed: Float32Array;
  /** part simulating the vehicle's lane */
  part: Uint16Array;
}

/**
 * The answer to `POST /api/commands`: 200 (applied now) or 202 (queued for `effectiveStep`) with
 * `{ id, type, effectiveStep }`; 4xx with `{ error }` (one line naming the problem).
 */
export interface CommandAnswer {
  status: number;
  body: { id: number; type: string; effectiveStep: number } | { error: string };
}

/** A line of the run's timeline (`GET /api/timeline`, the viewer's failure/recovery list). */
export interface RunEvent {
  /** ms since the Unix epoch */
  at: number;
  type:
    | 'worker-lost'
    | 'worker-recovered'
    | 'checkpoint'
    | 'command'
    | 'leader'
    | 'store-down'
    | 'store-up'
    | 'paused'
    | 'resumed'
    | 'stopped'
    | 'finished';
  worker?: number;
  pid?: number;
  step?: number;
  detail?: string;
}

/**
 * How a multi-worker master implements this (the single-process one is local.ts):
 * - `status()`: its RunStatus (workers with `heartbeatAgeMs`, `paused`, `realtimeFactor`, `events`;
 *   optionally `closedLanes: string[]` for the viewer).
 * - `network()`: `networkView(net, plan.laneOwner)` from positions.ts (computed once; the server caches it).
 * - `command(body)`: `parseCommand(body, simParser)` from run-control.ts; catch RequestError → `{status, body:
 *   {error}}`; run commands act on the master's stepping (pause: stop granting steps; factor: pacing;
 *   checkpoint: trigger one), simulation commands get an `effectiveStep` beyond every worker's step and go
 *   to the workers owning the target.
 * - `frame(viewport)`: ask each worker for `encodeFrame(new PositionSampler(net, laneOwner).sample(itsEngines,
 *   viewport))`, `decodeFrame` the answers and `mergeFrames` them; or serve the last merged frame.
 *
 * The run behind the control server. `status()` and `network()` are called per request, `frame()`
 * about ten times a second per WebSocket client, so they should be cheap (a frame may reuse its
 * arrays: the server encodes it before the next call).
 */
export interface ControlBackend {
  status(): RunStatus;
  network(): NetworkView;
  /**
   * A command body as posted (already JSON-parsed, not yet validated): our form `{type: ...}` or the
   * seeds' envelope `{type1, type2, param}`. Must answer 4xx for anything malformed, never throw for it.
   */
  command(body: unknown): Promise<CommandAnswer>;
  frame(viewport?: Viewport): VehicleFrame | Promise<VehicleFrame>;
  /** newest last; when absent the server serves `status().events` */
  timeline?(): RunEvent[];
}

/** Bytes before the per-vehicle arrays in an encoded frame. */
export const FRAME_HEADER_BYTES = 40;
/** First u32 of every binary frame: "TSF1". */
export const FRAME_MAGIC = 0x31465354;

/**
 * The binary WebSocket frame, little-endian:
 *   u32 magic, u32 step, f64 time, u32 running, u32 count, f32 meanSpeed, f32 ups, u32 reserved (=0), u32 reserved
 *   then count × f32 x, count × f32 y, count × f32 angle, count × f32 speed, count × u16 part.
 * Every array starts at a multiple of 4 bytes, so a browser can view it with typed arrays in place.
 */
export function encodeFrame(f: VehicleFrame): Buffer {
  const n = f.count;
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + n * 16 + n * 2);
  buf.writeUInt32LE(FRAME_MAGIC, 0);
  buf.writeUInt32LE(f.step >>> 0, 4);
  buf.writeDoubleLE(f.time, 8);
  buf.writeUInt32LE(f.running >>> 0, 16);
  buf.writeUInt32LE(n, 20);
  buf.writeFloatLE(f.meanSpeed, 24);
  buf.writeFloatLE(f.ups, 28);
  buf.writeUInt32LE(0, 32);
  buf.writeUInt32LE(0, 36);
  let off = FRAME_HEADER_BYTES;
  for (const a of [f.x, f.y, f.angle, f.speed]) {
    Buffer.from(a.buffer, a.byteOffset, n * 4).copy(buf, off);
    off += n * 4;
  }
  Buffer.from(f.part.buffer, f.part.byteOffset, n * 2).copy(buf, off);
  return buf;
}

/** Inverse of `encodeFrame` (tests, tools); the viewer has its own copy in viewer.js. */
export function decodeFrame(buf: Buffer): VehicleFrame {
  if (buf.length < FRAME_HEADER_BYTES || buf.readUInt32LE(0) !== FRAME_MAGIC) throw new Error('not a TessDS frame');
  const n = buf.readUInt32LE(20);
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  const ab = copy.buffer;
  let off = FRAME_HEADER_BYTES;
  const f32 = () => {
    const a = new Float32Array(ab, off, n);
    off += n * 4;
    return a;
  };
  const x = f32(),
    y = f32(),
    angle = f32(),
    speed = f32();
  return {
    step: buf.readUInt32LE(4),
    time: buf.readDoubleLE(8),
    running: buf.readUInt32LE(16),
    count: n,
    meanSpeed: buf.readFloatLE(24),
    ups: buf.readFloatLE(28),
    x,
    y,
    angle,
    speed,
    part: new Uint16Array(ab, off, n),
  };
}

/**
 * One frame from several (a master merging its workers' frames): arrays concatenated, totals summed,
 * mean speed weighted by running vehicles; step and time are the slowest part's (parts run ahead of
 * each other by a step or so: there is no global barrier).
 */
export function mergeFrames(frames: readonly VehicleFrame[]): VehicleFrame {
  let count = 0,
    running = 0,
    speedSum = 0,
    ups = 0;
  let step = Infinity,
    time = Infinity;
  for (const f of frames) {
    count += f.count;
    running += f.running;
    speedSum += f.meanSpeed * f.running;
    ups += f.ups;
    if (f.step < step) {
      step = f.step;
      time = f.time;
    }
  }
  const out: VehicleFrame = {
    step: frames.length ? step : 0,
    time: frames.length ? time : 0,
    running,
    meanSpeed: running > 0 ? speedSum / running : 0,
    ups,
    count,
    x: new Float32Array(count),
    y: new Float32Array(count),
    angle: new Float32Array(count),
    speed: new Float32Array(count),
    part: new Uint16Array(count),
  };
  let off = 0;
  for (const f of frames) {
    out.x.set(f.x.subarray(0, f.count), off);
    out.y.set(f.y.subarray(0, f.count), off);
    out.angle.set(f.angle.subarray(0, f.count), off);
    out.speed.set(f.speed.subarray(0, f.count), off);
    out.part.set(f.part.subarray(0, f.count), off);
    off += f.count;
  }
  return out;
}
