/**
 * Messages between the master and the workers of a run, as `type`-tagged unions (nats.js style),
 * and the binary encoding of state dumps.
 */
import type { ScenarioSpec } from '../io/spec.js';
import type { Engine } from '../sim/engine.js';
import { TripRecords } from '../sim/trips.js';
import { VEHICLE_RECORD_BYTES, type StateDump } from '../sim/dump.js';
import type { CommandDump } from '../sim/commands-apply.js';

/** worker → master */
export type WorkerMessage =
  /** `preloaded`: the id of the scenario a pre-started worker was handed before its plan (prestart.ts) */
  | { type: 'hello'; workerId: number; pid: number; host: string; port: number; preloaded?: string }
  | { type: 'ready'; workerId: number }
  | {
      type: 'status';
      workerId: number;
      /** per hosted part: completed steps, and border messages and bytes it sent so far (this process) */
      parts: { part: number; step: number; sentMessages?: number; sentBytes?: number }[];
      running: number;
      arrived: number;
      /** seconds each checkpoint written since the last status took (for metrics) */
      checkpointSeconds?: number[];
    }
  | { type: 'checkpoint'; workerId: number; part: number; step: number }
  /** the worker lost the store (its connection closed, or a checkpoint write failed: `error`), or
   *  reached it again, at `at` (ms since epoch), its slowest part at `step` */
  | { type: 'store'; workerId: number; up: boolean; at: number; step: number; error?: string }
  | { type: 'done'; workerId: number; stepSeconds: number }
  | { type: 'failed'; workerId: number; message: string };

/** master → worker */
export type MasterMessage =
  | {
      type: 'plan';
      /** the scenario; absent when the worker holds it already (its hello's `preloaded` is `scenarioId`) */
      spec?: ScenarioSpec;
      scenarioId?: string;
      parts: number;
      /** part of every junction */
      junctionPart: number[];
      /** parts this worker hosts */
      hosted: number[];
      /** worker hosting each part */
      partWorker: number[];
      /** address of each worker */
      peers: { workerId: number; host: string; port: number }[];
      check: boolean;
      /** checkpoint every this many steps (0: never) into this store */
      checkpointEvery: number;
      store?: { url: string; project: string; plan: string };
      /** a replacement worker: restore the hosted parts from this committed checkpoint and go */
      recoverFrom?: number;
      /** simulated seconds per wall second (undefined: as fast as possible), counted from `startedAt` (ms since epoch) */
      realtimeFactor?: number;
      startedAt?: number;
      /** ms between heartbeats (status messages) to the master; 0: only the default progress reports */
      heartbeatMs?: number;
      /** network faults to inject (chaos testing): at `step`, this worker's peer links misbehave */
      faults?: NetFault[];
      /** with a control plane: no part may complete more than this many steps until a `grant` */
      horizon?: number;
      /** the command log so far (a replacement re-applies those at or after its checkpoint) */
      commands?: LoggedCommand[];
      /** pacing as last set (setRealtimeFactor, resume): overrides realtimeFactor/startedAt */
      pace?: Pace;
      /** JSON logs of the run (absent: the worker logs nothing) */
      log?: LogConfig;
    }
  | { type: 'start' }
  /** parts may now complete steps up to `horizon` */
  | { type: 'grant'; horizon: number }
  /** a new entry of the command log */
  | { type: 'command'; entry: LoggedCommand }
  /** new pacing (setRealtimeFactor, or resume after a pause) */
  | { type: 'pace'; pace: Pace }
  /** the viewer wants vehicle positions: answer with a `frame` frame */
  | { type: 'frame-request'; id: number; viewport?: [number, number, number, number] }
  /** checkpoint `step` was written by every part: older logs and checkpoints can go */
  | { type: 'committed'; step: number }
  /** worker `workerId` was replaced: reconnect, and send its parts what they need from `step` on */
  | { type: 'peer-restart'; workerId: number; host: string; port: number; step: number }
  | { type: 'shutdown' };

/**
 * An entry of a run's command log: an input of the run like the demand, applied by every part it
 * concerns when that part's engine has completed `step` steps, before it computes the next one.
 */
export interface LoggedCommand {
  /** position in the log (0, 1, ...): commands due at the same step apply in this order */
  seq: number;
  step: number;
  /** the parts it must reach ('all': every part) */
  parts: number[] | 'all';
  command: { type: 'stop' } | { type: 'checkpoint' } | { type: 'sim'; resolved: unknown };
}

/** Pacing: from wall time `anchorAt` (ms since epoch) on, at most `factor` simulated s per wall s
 *  counted from step `anchorStep`; factor undefined: as fast as possible. */
export interface Pace {
  factor?: number;
  anchorStep: number;
  anchorAt: number;
}

/** Encodes the positions of the vehicles on the given engines' own lanes inside `viewport` (the
 *  control layer's sampler, handed down so that this layer does not call upward). */
export type FrameSampler = (engines: Engine[], viewport?: [number, number, number, number]) => Buffer;

/** Where and how the run logs (JSON lines): every worker process logs there too. */
export interface LogConfig {
  file?: string;
  json?: boolean;
  level?: string;
  plan: string;
}

/** The little a worker needs of a logger (pino's shape; the control layer hands one down). */
export interface WorkerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** Makes a worker's logger: base fields plan and worker, and the worker's slowest step on every line. */
export type WorkerLogFactory = (config: LogConfig, worker: number, step: () => number) => WorkerLog;

/** An injected network fault (`tessds run --inject-faults FILE`, used by `tessds chaos`). */
export interface NetFault {
  /** when the slowest hosted part has completed this step */
  step: number;
  worker: number;
  /** cut: close every peer connection; delay: hold outgoing border messages `ms` ms; drop: lose the
   *  next border message to each peer, then cut (a lost message on TCP shows as a broken connection) */
  kind: 'cut' | 'delay' | 'drop';
  ms?: number;
}

/** worker ↔ worker, first frame on a peer connection */
export type PeerMessage = { type: 'peer'; workerId: number };

export function assertNever(x: never): never {
  throw new Error(`unexpected message ${JSON.stringify(x)}`);
}

// ---- state dumps: header JSON + binary sections ----

export function encodeDump(part: number, d: StateDump): Buffer {
  const cols = d.trips.columns();
  const head = Buffer.from(
    JSON.stringify({
      part,
      step: d.step,
      inserted: d.inserted,
      arrived: d.arrived,
      teleports: d.teleports,
      running: d.running,
      vehicleUpdates: d.vehicleUpdates,
      pending: d.pending.length,
      vehicles: d.vehicleIds.length,
      count: d.trips.count,
      // state changed by online commands (sim/commands-apply.ts); JSON keeps its doubles exact
      ...(d.commands ? { commands: d.commands } : {}),
      ...(d.actuated ? { actuated: d.actuated } : {}),
    }),
  );
  const parts: Buffer[] = [
    Buffer.alloc(4),
    head,
    bytes(d.pending),
    bytes(d.vehicleIds),
    d.vehicles,
    ...cols.map(bytes),
  ];
  parts[0]!.writeUInt32LE(head.length, 0);
  return Buffer.concat(parts);
}

export function decodeDump(buf: Buffer): { part: number; dump: StateDump } {
  const headLen = buf.readUInt32LE(0);
  const h = JSON.parse(buf.subarray(4, 4 + headLen).toString()) as {
    part: number;
    step: number;
    inserted: number;
    arrived: number;
    teleports: number;
    running: number;
    vehicleUpdates: number;
    pending: number;
    vehicles: number;
    count: number;
    commands?: CommandDump;
    actuated?: number[][];
  };
  let off = 4 + headLen;
  const take = (n: number) => {
    const b = Buffer.from(buf.subarray(off, off + n)); // copy: aligned for typed arrays
    off += n;
    return b;
  };
  const i32 = (n: number) => {
    const b = take(4 * n);
    return new Int32Array(b.buffer, b.byteOffset, n);
  };
  const pending = i32(h.pending);
  const vehicleIds = i32(h.vehicles);
  const vehicles = take(h.vehicles * VEHICLE_RECORD_BYTES);
  const trips = new TripRecords(h.count);
  for (const col of trips.columns()) {
    const b = take(col.byteLength);
    new Uint8Array(col.buffer, col.byteOffset, col.byteLength).set(b);
  }
  return {
    part: h.part,
    dump: {
      step: h.step,
      inserted: h.inserted,
      arrived: h.arrived,
      teleports: h.teleports,
      running: h.running,
      vehicleUpdates: h.vehicleUpdates,
      pending,
      vehicleIds,
      vehicles,
      trips,
      ...(h.commands ? { commands: h.commands } : {}),
      ...(h.actuated ? { actuated: h.actuated } : {}),
    },
  };
}

function bytes(a: Int32Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
