/**
 * The fault schedule of a chaos run: K faults at wall-clock offsets from the start of the run, drawn
 * from a seed and nothing else (a pure function: the same options give the same schedule, so a failed
 * chaos run can be repeated exactly). No I/O here; `runner.ts` carries the faults out.
 *
 * Rules:
 * - consecutive faults are at least `spacingMs` apart, counted from the END of the previous fault
 *   (a SIGSTOP hold or a Redis outage lasts a while), so a recovery can finish before the next fault;
 *   a random extra of up to `jitter × spacingMs` spreads them;
 * - SIGKILL hits one or several workers at once, at most `maxSimultaneousKills` and never more than
 *   there are killable workers (in the embedded cluster worker 0 lives in the master's process and is
 *   not killable as a worker: killing it is the leader-kill fault);
 * - at most one Redis restart in any `storeRestartEvery` consecutive faults;
 * - a kind with weight 0 (or not available: no Redis of our own, no leader fail-over) never appears.
 */
import { assertNever } from '../errors.js';

/** Fault kinds, as the report names them. */
export const FaultKinds = [
  'kill-workers',
  'stop-worker',
  'kill-leader',
  'restart-store',
  'net-delay',
  'net-drop',
  'net-cut',
] as const;
export type FaultKind = (typeof FaultKinds)[number];

/** One scheduled fault; `atMs` is milliseconds after the (paced) run started. */
export type Fault =
  /** SIGKILL these worker processes at once */
  | { type: 'kill-workers'; atMs: number; workers: number[] }
  /** SIGSTOP one worker, SIGCONT it `holdMs` later (past the lease: the master fences and replaces it) */
  | { type: 'stop-worker'; atMs: number; worker: number; holdMs: number }
  /** SIGKILL the leading master (distributed mode only) */
  | { type: 'kill-leader'; atMs: number }
  /** SIGKILL the Redis server and start it again on the same port and data directory `downMs` later */
  | { type: 'restart-store'; atMs: number; downMs: number }
  /** the worker delays its outgoing border messages by `ms` */
  | { type: 'net-delay'; atMs: number; worker: number; ms: number }
  /** the worker drops its next border message to each peer, then cuts the connection */
  | { type: 'net-drop'; atMs: number; worker: number }
  /** the worker cuts all its peer connections */
  | { type: 'net-cut'; atMs: number; worker: number };

export interface ScheduleOptions {
  seed: number;
  /** number of faults K */
  faults: number;
  /** worker ids a fault may hit with signals (SIGKILL, SIGSTOP) */
  killable: number[];
  /** worker ids a network fault may hit */
  networked: number[];
  /** relative weight of each kind; missing or 0: never drawn */
  weights: Partial<Record<FaultKind, number>>;
  /** first fault at this offset, ms (lets the run get going and commit a checkpoint) */
  leadMs: number;
  /** least quiet time between the end of one fault and the next, ms */
  spacingMs: number;
  /** random extra gap, as a fraction of spacingMs (0: exactly spacingMs) */
  jitter: number;
  /** most workers killed at once (≥ 1) */
  maxSimultaneousKills: number;
  /** a SIGSTOP lasts this long, ms */
  stopHoldMs: number;
  /** Redis stays down this long, ms */
  storeDownMs: number;
  /** at most one Redis restart among any this many consecutive faults */
  storeRestartEvery: number;
  /** delay of a net-delay fault, ms */
  netDelayMs: number;
}

/** Defaults for everything but seed, faults, killable, networked and weights. */
export const scheduleDefaults = {
  leadMs: 2000,
  spacingMs: 4000,
  jitter: 0.5,
  maxSimultaneousKills: 2,
  stopHoldMs: 1500,
  storeDownMs: 500,
  storeRestartEvery: 10,
  netDelayMs: 50,
} as const;

/** Default weights: kills dominate (they are what recovery is for), then stops, then the rest. */
export const defaultWeights: Record<FaultKind, number> = {
  'kill-workers': 5,
  'stop-worker': 2,
  'kill-leader': 1,
  'restart-store': 1,
  'net-delay': 1,
  'net-drop': 1,
  'net-cut': 1,
};

/** A small seeded generator (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How long a fault keeps going after it starts, ms (the next one waits for its end plus spacing). */
export function faultDurationMs(f: Fault): number {
  switch (f.type) {
    case 'stop-worker':
      return f.holdMs;
    case 'restart-store':
      return f.downMs;
    case 'kill-workers':
    case 'kill-leader':
    case 'net-delay':
    case 'net-drop':
    case 'net-cut':
      return 0;
    default:
      return assertNever(f, 'fault');
  }
}

/** Kinds that can be drawn with these options (weight > 0 and a target to hit). */
export function availableKinds(o: Pick<ScheduleOptions, 'weights' | 'killable' | 'networked'>): FaultKind[] {
  return FaultKinds.filter((k) => {
    if (!((o.weights[k] ?? 0) > 0)) return false;
    if ((k === 'kill-workers' || k === 'stop-worker') && o.killable.length === 0) return false;
    if ((k === 'net-delay' || k === 'net-drop' || k === 'net-cut') && o.networked.length === 0) return false;
    return true;
  });
}

export function makeSchedule(o: ScheduleOptions): Fault[] {
  if (!Number.isInteger(o.faults) || o.faults < 0)
    throw new RangeError(`faults must be a whole number ≥ 0, got ${o.faults}`);
  const kinds = availableKinds(o);
  if (o.faults > 0 && kinds.length === 0)
    throw new RangeError('no fault kind is available (all weights 0 or no targets)');
  const rnd = seededRandom(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(rnd() * xs.length))]!;
  const faults: Fault[] = [];
  let at = o.leadMs;
  let lastStoreRestart = -Infinity;
  for (let i = 0; i < o.faults; i++) {
    // a Redis restart is only drawn if the last one is at least storeRestartEvery faults back
    const allowed = kinds.filter((k) => k !== 'restart-store' || i - lastStoreRestart >= o.storeRestartEvery);
    const kind = allowed.length > 0 ? drawWeighted(allowed, o.weights, rnd()) : pickFallback(kinds);
    const f = makeFault(kind, Math.round(at), o, rnd, pick);
    if (f.type === 'restart-store') lastStoreRestart = i;
    faults.push(f);
    at += faultDurationMs(f) + o.spacingMs + Math.floor(rnd() * o.jitter * o.spacingMs);
  }
  return faults;
}

function pickFallback(kinds: FaultKind[]): FaultKind {
  // only restart-store is available and the rule forbids it now: a schedule cannot be built
  throw new RangeError(
    `cannot place the faults: only ${kinds.join(', ')} is allowed and at most one Redis restart per window`,
  );
}

function drawWeighted(kinds: FaultKind[], weights: Partial<Record<FaultKind, number>>, u: number): FaultKind {
  const total = kinds.reduce((s, k) => s + (weights[k] ?? 0), 0);
  let x = u * total;
  for (const k of kinds) {
    x -= weights[k] ?? 0;
    if (x < 0) return k;
  }
  return kinds[kinds.length - 1]!;
}

function makeFault(
  kind: FaultKind,
  atMs: number,
  o: ScheduleOptions,
  rnd: () => number,
  pick: <T>(xs: readonly T[]) => T,
): Fault {
  switch (kind) {
    case 'kill-workers': {
      const most = Math.max(1, Math.min(o.maxSimultaneousKills, o.killable.length));
      const n = 1 + Math.floor(rnd() * most);
      // a partial Fisher–Yates shuffle of the killable ids: n distinct workers
      const ids = [...o.killable];
      for (let j = 0; j < n; j++) {
        const r = j + Math.floor(rnd() * (ids.length - j));
        [ids[j], ids[r]] = [ids[r]!, ids[j]!];
      }
      return { type: 'kill-workers', atMs, workers: ids.slice(0, n).sort((a, b) => a - b) };
    }
    case 'stop-worker':
      return { type: 'stop-worker', atMs, worker: pick(o.killable), holdMs: o.stopHoldMs };
    case 'kill-leader':
      return { type: 'kill-leader', atMs };
    case 'restart-store':
      return { type: 'restart-store', atMs, downMs: o.storeDownMs };
    case 'net-delay':
      return { type: 'net-delay', atMs, worker: pick(o.networked), ms: o.netDelayMs };
    case 'net-drop':
      return { type: 'net-drop', atMs, worker: pick(o.networked) };
    case 'net-cut':
      return { type: 'net-cut', atMs, worker: pick(o.networked) };
    default:
      return assertNever(kind, 'fault kind');
  }
}

/** The wall time the whole schedule needs, ms: the last fault's end plus one spacing to recover. */
export function scheduleSpanMs(faults: Fault[], spacingMs: number): number {
  const last = faults[faults.length - 1];
  return last ? last.atMs + faultDurationMs(last) + spacingMs : spacingMs;
}

/** A short human description of a fault's target. */
export function faultTarget(f: Fault): string {
  switch (f.type) {
    case 'kill-workers':
      return f.workers.map((w) => `worker ${w}`).join(' + ');
    case 'stop-worker':
    case 'net-delay':
    case 'net-drop':
    case 'net-cut':
      return `worker ${f.worker}`;
    case 'kill-leader':
      return 'leader';
    case 'restart-store':
      return 'redis';
    default:
      return assertNever(f, 'fault');
  }
}
