/**
 * How each fault of a DISTRIBUTED chaos run is judged from the plan's status mirror (the JSON that
 * `tessds status --json` prints, polled from the store every ~50 ms). Pure functions.
 *
 * Differences from the embedded cluster (observe.ts):
 * - a fault's `worker` numbers are plan SLOTS (0..N−1): registry worker ids change when a spare takes
 *   a lost slot over. `worker-lost` names the dead worker (id, pid, detail "slot S: …"),
 *   `worker-recovered` names the replacement (detail JSON {slot, replayedSteps, lostAt});
 *   they are matched by the signalled pid and the slot.
 * - kill-leader: detection = the first `leader` event with a higher epoch − kill time; recovery = the
 *   first poll written by the new leader showing the plan's step past the step at the kill − that
 *   `leader` event (so, like the worker faults, recovery counts from detection).
 * - restart-store: the leader writes the outage's `store-down` and `store-up` (the times its own
 *   connection, or a worker, lost and reached Redis again) once Redis is back; detection =
 *   store-down − kill time, recovery = store-up − store-down, as in the embedded cluster. Without
 *   them (a master from before those events): no detection time; recovery = the first poll showing
 *   the step past the step at the kill − the moment Redis was started again; outcome `absorbed`.
 */
import { assertNever } from '../errors.js';
import { faultTarget } from './schedule.js';
import { storeFromEvents, type FaultResult, type Injection, type Snapshot, type StatusEvent } from './observe.js';

export interface DistributedInjection extends Injection {
  /** kill-leader: the epoch of the leader that was killed */
  oldEpoch?: number;
  /** restart-store: ms since epoch when Redis listened again */
  storeBackAt?: number;
  /** stop-worker: the exit code of the woken worker (3: fenced), null: still running after the wait */
  wokenExit?: number | null;
}

export interface DistributedJudgeInput {
  injections: DistributedInjection[];
  snapshots: Snapshot[];
  events: StatusEvent[];
  startedAt: number;
  /** did the plan finish (tessds wait exit 0)? */
  completed: boolean;
}

/** The slot a worker-lost ("slot S: …") or worker-recovered ({"slot": S, …}) event is about. */
export function eventSlot(e: StatusEvent): number | undefined {
  if (!e.detail) return undefined;
  const m = /^slot (\d+)/.exec(e.detail);
  if (m) return Number(m[1]);
  try {
    const d = JSON.parse(e.detail) as { slot?: unknown };
    return typeof d.slot === 'number' ? d.slot : undefined;
  } catch {
    return undefined;
  }
}

function detailNumber(e: StatusEvent, field: string): number | undefined {
  try {
    const v = (JSON.parse(e.detail ?? '{}') as Record<string, unknown>)[field];
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Lost/recovered times of one slot whose worker (pid) was signalled at `at`. */
export function slotFromEvents(
  events: StatusEvent[],
  slot: number,
  pid: number | undefined,
  at: number,
): { lostAt?: number; recoveredAt?: number; replayedSteps?: number } {
  const lost = events.find(
    (e) =>
      e.type === 'worker-lost' &&
      e.at >= at - 50 &&
      eventSlot(e) === slot &&
      (pid === undefined || e.pid === undefined || e.pid === pid),
  );
  if (!lost) return {};
  const rec = events.find((e) => e.type === 'worker-recovered' && e.at >= lost.at && eventSlot(e) === slot);
  if (!rec) return { lostAt: lost.at };
  return { lostAt: lost.at, recoveredAt: rec.at, replayedSteps: detailNumber(rec, 'replayedSteps') };
}

/** The first poll at or after `from` (and written by a leader of at least `minEpoch`) with the step past `step`. */
function stepPast(snapshots: Snapshot[], from: number, step: number, minEpoch = 0): number | undefined {
  return snapshots.find((s) => s.t >= from && s.status.step > step && (s.status.leader?.epoch ?? 0) >= minEpoch)?.t;
}

export function judgeDistributedFaults(j: DistributedJudgeInput): FaultResult[] {
  return j.injections.map((inj, i) => {
    const next = j.injections.slice(i + 1).find((x) => x.at !== undefined)?.at ?? Infinity;
    const base: FaultResult = {
      index: inj.index,
      kind: inj.fault.type,
      target: faultTarget(inj.fault).replace(/worker/g, 'slot'),
      atSeconds: inj.at !== undefined ? Math.round(inj.at - j.startedAt) / 1000 : undefined,
      step: inj.step,
      outcome: 'skipped',
      note: inj.note,
    };
    if (inj.at === undefined) return base;
    const at = inj.at;
    const f = inj.fault;
    switch (f.type) {
      case 'kill-workers':
      case 'stop-worker': {
        const slots = f.type === 'kill-workers' ? f.workers : [f.worker];
        const per = slots.map((s, k) => slotFromEvents(j.events, s, inj.pids[k], at));
        const detected = per.every((p) => p.lostAt !== undefined);
        const recovered = per.every((p) => p.recoveredAt !== undefined);
        if (detected) base.detectMs = Math.max(...per.map((p) => p.lostAt! - at));
        if (recovered) {
          base.recoverMs = Math.max(...per.map((p) => p.recoveredAt! - p.lostAt!));
          const replayed = per.flatMap((p) => (p.replayedSteps !== undefined ? [p.replayedSteps] : []));
          if (replayed.length > 0) base.replayedSteps = Math.max(...replayed);
        }
        base.outcome =
          detected && recovered ? 'recovered' : !j.completed ? 'run-failed' : detected ? 'not-recovered' : 'undetected';
        if (f.type === 'stop-worker' && inj.wokenExit !== 3) {
          base.note = [
            base.note,
            `woken worker ${inj.wokenExit === null || inj.wokenExit === undefined ? 'still running' : `exited ${inj.wokenExit}`}, not fenced (exit 3)`,
          ]
            .filter(Boolean)
            .join('; ');
        }
        return base;
      }
      case 'kill-leader': {
        const next = j.events.find(
          (e) => e.type === 'leader' && e.at >= at - 50 && (detailNumber(e, 'epoch') ?? 0) > (inj.oldEpoch ?? Infinity),
        );
        if (next) {
          base.detectMs = Math.max(0, next.at - at);
          const moved = stepPast(j.snapshots, next.at, inj.step ?? 0, detailNumber(next, 'epoch'));
          if (moved !== undefined) base.recoverMs = Math.max(0, moved - next.at);
        }
        base.outcome = !j.completed
          ? 'run-failed'
          : next && base.recoverMs !== undefined
            ? 'recovered'
            : next
              ? 'not-recovered'
              : 'undetected';
        return base;
      }
      case 'restart-store': {
        const { downAt, upAt } = storeFromEvents(j.events, at, next);
        if (downAt !== undefined) {
          base.detectMs = Math.max(0, downAt - at);
          if (upAt !== undefined) base.recoverMs = upAt - downAt;
          // (a store-down alone: as far as the timeline tells, the store never came back)
          base.outcome = !j.completed ? 'run-failed' : upAt !== undefined ? 'recovered' : 'not-recovered';
          return base;
        }
        const back = inj.storeBackAt ?? at;
        const moved = stepPast(j.snapshots, back, inj.step ?? 0);
        if (moved !== undefined) base.recoverMs = Math.max(0, moved - back);
        base.outcome = j.completed ? 'absorbed' : 'run-failed';
        return base;
      }
      case 'net-delay':
      case 'net-drop':
      case 'net-cut':
        base.note = base.note ?? 'not available in distributed mode';
        return base;
      default:
        return assertNever(f, 'fault');
    }
  });
}

/** Stopped workers that woke and were not fenced out (exit 3): each one breaks the fencing promise. */
export function unfencedStops(injections: DistributedInjection[]): DistributedInjection[] {
  return injections.filter((i) => i.fault.type === 'stop-worker' && i.at !== undefined && i.wokenExit !== 3);
}
