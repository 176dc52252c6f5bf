/**
 * Store outages as a run's timeline shows them (`store-down`, `store-up` events). Several observers
 * may notice one outage — every worker of an embedded run has its own store connection and its own
 * checkpoint writes; a master has its own connection — each on its own: StoreOutages folds their
 * reports into one outage: down from the first observer that loses the store, up at the first one
 * that reaches it again. Pure: the callers turn outages into events (storeDownEvent, storeUpEvent).
 */
import type { RunEvent } from './status.js';

/** One observer's news: it lost the store (with why) or reached it again, at `at` (ms since epoch). */
export interface StoreReport {
  up: boolean;
  at: number;
  error?: string;
  /** the worker that noticed (absent: the master's own connection) */
  by?: number;
}

export interface Outage {
  /** ms since epoch when the first observer lost the store */
  downAt: number;
  error: string;
  by?: number;
  /** ms since epoch when the first observer reached it again (absent: still down) */
  upAt?: number;
  upBy?: number;
}

/** outages a long-lived master remembers */
const MAX_OUTAGES = 100;

export class StoreOutages {
  /** the outages so far, oldest first; the last one has no `upAt` while the store is down */
  readonly outages: Outage[] = [];

  get last(): Outage | undefined {
    return this.outages[this.outages.length - 1];
  }

  get down(): boolean {
    const last = this.last;
    return last !== undefined && last.upAt === undefined;
  }

  /**
   * Takes one observer's report; says whether it began an outage ('down') or ended one ('up').
   * A loss noticed before the last recovery is that outage told late (reports from different
   * observers arrive in any order): it changes nothing; so does a recovery from before the outage.
   */
  report(r: StoreReport): 'down' | 'up' | undefined {
    const last = this.last;
    if (!r.up) {
      if (this.down || (last?.upAt !== undefined && r.at <= last.upAt)) return undefined;
      this.outages.push({ downAt: r.at, error: r.error ?? 'unreachable', ...(r.by !== undefined ? { by: r.by } : {}) });
      if (this.outages.length > MAX_OUTAGES) this.outages.shift();
      return 'down';
    }
    if (!this.down || r.at < last!.downAt) return undefined;
    last!.upAt = r.at;
    if (r.by !== undefined) last!.upBy = r.by;
    return 'up';
  }
}

/** `store-down` at the outage's start; detail JSON {store, error}. */
export function storeDownEvent(o: Outage, store: string, step: number): RunEvent {
  return {
    at: o.downAt,
    type: 'store-down',
    ...(o.by !== undefined ? { worker: o.by } : {}),
    step,
    detail: JSON.stringify({ store, error: o.error }),
  };
}

/** `store-up` at the outage's end; detail JSON {store, downAt, downMs}. */
export function storeUpEvent(o: Outage & { upAt: number }, store: string, step: number): RunEvent {
  return {
    at: o.upAt,
    type: 'store-up',
    ...(o.upBy !== undefined ? { worker: o.upBy } : {}),
    step,
    detail: JSON.stringify({ store, downAt: o.downAt, downMs: o.upAt - o.downAt }),
  };
}

/**
 * Whether `events` already tell of outage `o`: a store-down … store-up span (open-ended without its
 * store-up) that overlaps it. Another observer's times of the same outage differ a little, but
 * always overlap.
 */
export function outageRecorded(events: readonly RunEvent[], o: Outage): boolean {
  const end = o.upAt ?? Infinity;
  for (let i = 0; i < events.length; i++) {
    const d = events[i]!;
    if (d.type !== 'store-down') continue;
    const up = events.slice(i + 1).find((e) => e.type === 'store-up' && e.at >= d.at);
    if (o.downAt <= (up?.at ?? Infinity) && d.at <= end) return true;
  }
  return false;
}
