/**
 * What a chaos run sees of the cluster, and how each injected fault is judged from it.
 *
 * The master's status file (`--status-file`) is polled every ~50 ms. Two sources of timing:
 * - **events** (preferred): the master logs `worker-lost` when it detects a death and
 *   `worker-recovered` (detail `{"replayedSteps": n}`) when the replacement has caught up with the
 *   step the run had reached at detection; `store-down` when a worker (or the master) loses the
 *   store, `store-up` when one reaches it again (storeFromEvents).
 *   Time to detect = lost.at − kill time; time to recover = recovered.at − lost.at (for a Redis
 *   restart: store-down.at − kill time, and store-up.at − store-down.at).
 * - **status polling** (fallback, when the status file carries no `events`): detection = the first
 *   poll showing the worker with another pid or not running; recovery = the first poll showing its
 *   replacement running at or past the run's step at detection. Coarser (poll and status-write
 *   intervals add up to ~0.3 s) and the replayed steps are estimated as step at detection − last
 *   committed checkpoint (unknown without `committedCheckpoint`).
 * Pure functions: the runner records, `judgeFaults` decides.
 */
import { assertNever } from '../errors.js';
import { faultTarget, type Fault } from './schedule.js';

export interface StatusEvent {
  /** ms since epoch */
  at: number;
  type: string;
  worker?: number;
  pid?: number;
  step?: number;
  detail?: string;
}

/** The parts of the status file a chaos run reads (new fields optional: older masters lack them). */
export interface ObservedStatus {
  step: number;
  state: string;
  /** slot: distributed mode only (the plan slot the worker hosts; its id changes when a spare takes over) */
  workers: { id: number; slot?: number; pid: number; step: number; state: string; heartbeatAgeMs?: number }[];
  leader?: { pid: number; host: string; epoch: number };
  recoveries?: number;
  committedCheckpoint?: number;
  events?: StatusEvent[];
}

/** One poll of the status file. */
export interface Snapshot {
  /** ms since epoch */
  t: number;
  status: ObservedStatus;
}

/** A fault as carried out. */
export interface Injection {
  index: number;
  fault: Fault;
  /** ms since epoch when it was carried out (undefined: not injected) */
  at?: number;
  /** the run's step at that moment */
  step?: number;
  /** pids signalled (kill-workers, stop-worker), in the order of `fault.workers` */
  pids: number[];
  /** why it was not injected, or anything worth saying */
  note?: string;
}

export const Outcomes = ['recovered', 'absorbed', 'undetected', 'not-recovered', 'skipped', 'run-failed'] as const;
/**
 * recovered: detected and caught up (a Redis restart: its store-down and store-up logged); absorbed:
 * the run went on with nothing to recover (a network fault repaired by resend, a Redis restart no
 * event tells of — an older master —, a stop shorter than any lease); undetected: a
 * death the master never noticed; not-recovered: detected, never caught up; skipped: not injected
 * (run over, target gone); run-failed: the run died with this fault in progress.
 */
export type Outcome = (typeof Outcomes)[number];

export interface FaultResult {
  index: number;
  kind: Fault['type'];
  target: string;
  /** seconds after the run started */
  atSeconds?: number;
  step?: number;
  /** time to detect, ms */
  detectMs?: number;
  /** time from detection to caught up, ms */
  recoverMs?: number;
  replayedSteps?: number;
  outcome: Outcome;
  note?: string;
}

export interface JudgeInput {
  injections: Injection[];
  snapshots: Snapshot[];
  /** every distinct event seen over the run (the status file keeps only the last 500) */
  events: StatusEvent[];
  /** ms since epoch when the run started (fault times are relative to it) */
  startedAt: number;
  /** did the faulty run complete (exit 0)? */
  completed: boolean;
  /** a lease is in force: a stopped worker must be detected */
  leaseMs?: number;
}

/** Where the timings come from: events when the master logged any, else status polling. */
export function timingSource(snapshots: Snapshot[]): 'events' | 'status-poll' {
  return snapshots.some((s) => Array.isArray(s.status.events)) ? 'events' : 'status-poll';
}

export function judgeFaults(j: JudgeInput): FaultResult[] {
  const source = timingSource(j.snapshots);
  return j.injections.map((inj, i) => {
    const next = j.injections.slice(i + 1).find((x) => x.at !== undefined)?.at ?? Infinity;
    const base: FaultResult = {
      index: inj.index,
      kind: inj.fault.type,
      target: faultTarget(inj.fault),
      atSeconds: inj.at !== undefined ? round3((inj.at - j.startedAt) / 1000) : undefined,
      step: inj.step,
      outcome: 'skipped',
      note: inj.note,
    };
    if (inj.at === undefined) return base;
    const f = inj.fault;
    switch (f.type) {
      case 'kill-workers':
      case 'stop-worker': {
        const workers = f.type === 'kill-workers' ? f.workers : [f.worker];
        const per = workers.map((w, k) =>
          source === 'events'
            ? fromEvents(j.events, w, inj.pids[k], inj.at!)
            : fromPolls(j.snapshots, w, inj.pids[k], inj.at!, next),
        );
        const detected = per.every((p) => p.lostAt !== undefined);
        const recovered = per.every((p) => p.recoveredAt !== undefined);
        if (detected) base.detectMs = Math.max(...per.map((p) => p.lostAt! - inj.at!));
        if (recovered) {
          base.recoverMs = Math.max(...per.map((p) => p.recoveredAt! - p.lostAt!));
          const replayed = per.map((p) => p.replayedSteps).filter((x): x is number => x !== undefined);
          if (replayed.length > 0) base.replayedSteps = Math.max(...replayed);
        }
        if (detected && recovered) base.outcome = 'recovered';
        else if (detected) base.outcome = j.completed ? 'not-recovered' : 'run-failed';
        else if (f.type === 'stop-worker' && j.leaseMs === undefined) {
          base.outcome = j.completed ? 'absorbed' : 'run-failed';
          base.note = base.note ?? 'no lease: the stopped worker was resumed, not replaced';
        } else base.outcome = j.completed ? 'undetected' : 'run-failed';
        return base;
      }
      case 'restart-store': {
        const { downAt, upAt } = storeFromEvents(j.events, inj.at, next);
        if (downAt !== undefined) base.detectMs = Math.max(0, downAt - inj.at);
        if (downAt !== undefined && upAt !== undefined) base.recoverMs = upAt - downAt;
        // (a run may end while the store is still down: the embedded workers hand their dumps over TCP)
        base.outcome = !j.completed
          ? 'run-failed'
          : upAt !== undefined
            ? 'recovered'
            : downAt !== undefined
              ? 'not-recovered'
              : 'absorbed';
        return base;
      }
      case 'net-delay':
      case 'net-drop':
      case 'net-cut':
      case 'kill-leader':
        base.outcome = j.completed ? 'absorbed' : 'run-failed';
        return base;
      default:
        return assertNever(f, 'fault');
    }
  });
}

interface PerWorker {
  lostAt?: number;
  recoveredAt?: number;
  replayedSteps?: number;
}

/** Lost/recovered events of worker `w` after `at` (the pid, where logged, must be the one signalled). */
export function fromEvents(events: StatusEvent[], w: number, pid: number | undefined, at: number): PerWorker {
  const lost = events.find(
    (e) =>
      e.type === 'worker-lost' &&
      e.worker === w &&
      e.at >= at - 50 &&
      (e.pid === undefined || pid === undefined || e.pid === pid),
  );
  if (!lost) return {};
  const rec = events.find((e) => e.type === 'worker-recovered' && e.worker === w && e.at >= lost.at);
  if (!rec) return { lostAt: lost.at };
  let replayedSteps: number | undefined;
  try {
    const d = rec.detail ? (JSON.parse(rec.detail) as { replayedSteps?: unknown }) : {};
    if (typeof d.replayedSteps === 'number') replayedSteps = d.replayedSteps;
  } catch {
    // a detail that is not JSON: no replay count
  }
  return { lostAt: lost.at, recoveredAt: rec.at, replayedSteps };
}

/**
 * The store outage a Redis restart at `at` caused: the first store-down from then (before `until`,
 * the next fault) and the first store-up after it. The master logs one pair per outage however many
 * workers noticed it.
 */
export function storeFromEvents(
  events: StatusEvent[],
  at: number,
  until = Infinity,
): { downAt?: number; upAt?: number } {
  const down = events.find((e) => e.type === 'store-down' && e.at >= at - 50 && e.at < until);
  if (!down) return {};
  const up = events.find((e) => e.type === 'store-up' && e.at >= down.at);
  return { downAt: down.at, upAt: up?.at };
}

/**
 * The fallback: detection and recovery read off successive status polls. Detection must come before
 * `until` (the next fault), so a later fault's effect is never credited to this one; recovery needs a
 * fresh step report from the replacement (its step changed since detection) at or past the run's
 * step at detection.
 */
export function fromPolls(
  snapshots: Snapshot[],
  w: number,
  pid: number | undefined,
  at: number,
  until = Infinity,
): PerWorker {
  let lostAt: number | undefined;
  let stepAtLoss = 0;
  let workerStepAtLoss = 0;
  let committed: number | undefined;
  for (const s of snapshots) {
    if (s.t < at) continue;
    const ws = s.status.workers.find((x) => x.id === w);
    if (!ws) continue;
    if (lostAt === undefined) {
      if (s.t >= until) return {};
      if (ws.pid === pid && (ws.state === 'running' || ws.state === 'finished')) continue;
      lostAt = s.t;
      stepAtLoss = s.status.step;
      workerStepAtLoss = ws.step;
      committed = s.status.committedCheckpoint;
    }
    if (
      ws.pid !== pid &&
      (ws.state === 'running' || ws.state === 'finished') &&
      ws.step !== workerStepAtLoss &&
      ws.step >= stepAtLoss
    ) {
      return {
        lostAt,
        recoveredAt: s.t,
        replayedSteps: committed !== undefined ? Math.max(0, stepAtLoss - committed) : undefined,
      };
    }
  }
  return { lostAt };
}

/** Merges the events of a poll into `into`, skipping ones already seen. */
export function collectEvents(into: StatusEvent[], seen: Set<string>, status: ObservedStatus): void {
  for (const e of status.events ?? []) {
    const key = `${e.at}|${e.type}|${e.worker ?? ''}|${e.pid ?? ''}|${e.step ?? ''}|${e.detail ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    into.push(e);
  }
  into.sort((a, b) => a.at - b.at);
}

export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
