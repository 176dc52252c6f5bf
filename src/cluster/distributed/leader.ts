/**
 * Leader election on the store's lease (DESIGN.md "Master high availability"): every master runs one
 * LeaderElection; the one whose acquireLease succeeds leads with the lease's epoch (one higher than
 * any epoch before) and renews every heartbeat. A master whose renewal fails, or whose last successful
 * renewal is older than the lease (a pause, SIGSTOP, a store it cannot reach), steps down at once:
 * another master may lead by then. Its writes go through putFenced with its epoch, so even a write
 * started before it noticed cannot land once a newer epoch exists.
 */
import { EventEmitter } from 'node:events';
import type { Store } from '../store/store.js';

export interface ElectionOptions {
  /** the lease's time to live, ms: a dead leader is replaced about this long after its last renewal */
  leaseMs: number;
  /** how often the holder renews and a candidate tries, ms (well below leaseMs) */
  heartbeatMs: number;
}

export interface ElectionEvents {
  /** this process now leads with `epoch` */
  elected: [epoch: number];
  /** this process stopped leading (renewal failed, lease outlived, or stop()) */
  lost: [epoch: number, reason: string];
  /** the store's epoch counter was below an epoch seen before (FLUSHDB, a restore without its AOF):
   *  the new epoch was put above it, so no fencing token repeats */
  historyLost: [counter: number, seen: number, epoch: number];
  /** a store call failed for another reason than being unreachable (a key of the wrong type) */
  storeError: [message: string];
}

export class LeaderElection extends EventEmitter<ElectionEvents> {
  private current: number | undefined;
  /** Date.now() until which our lease is certainly still ours (start of the last renewal + leaseMs) */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  /** the highest leader epoch this process has seen (its own, or another holder's): the floor of the next */
  private maxSeen = 0;

  constructor(
    private readonly store: Store,
    /** unique name of this master process, e.g. "host:pid:random" */
    readonly owner: string,
    private readonly o: ElectionOptions,
    private readonly lease = 'leader',
  ) {
    super();
    if (!(o.heartbeatMs > 0 && o.leaseMs > o.heartbeatMs))
      throw new Error(`heartbeat ${o.heartbeatMs} ms must be > 0 and below the lease ${o.leaseMs} ms`);
  }

  /** Starts competing; 'elected' fires when this process leads. */
  start(): void {
    this.stopped = false;
    this.tick();
    // a renewal stuck on an unreachable store must not let us believe we still lead
    this.watchdog = setInterval(() => this.checkValid(), this.o.heartbeatMs);
  }

  /** The epoch we lead with, or undefined. True only while our lease cannot have been taken. */
  get epoch(): number | undefined {
    this.checkValid();
    return this.current;
  }

  /** Writes (and deletes) fenced by our epoch; false (nothing written, leadership dropped) when stale. */
  async write(entries: { key: string; value: Buffer }[], deletes: string[] = []): Promise<boolean> {
    const epoch = this.epoch;
    if (epoch === undefined) return false;
    const ok = await this.store.putFenced(this.lease, epoch, entries, deletes);
    if (!ok) this.lose(epoch, `a write was fenced: epoch ${epoch} is no longer the latest`);
    return ok;
  }

  /** Stops competing; a held lease is released so a standby takes over without waiting for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    const epoch = this.current;
    if (epoch !== undefined) {
      this.lose(epoch, 'stopped');
      await this.store.releaseLease(this.lease, this.owner, epoch).catch(() => undefined);
    }
  }

  private checkValid(): void {
    if (this.current !== undefined && Date.now() >= this.validUntil) {
      this.lose(this.current, `no renewal for ${this.o.leaseMs} ms (paused, or the store is unreachable)`);
    }
  }

  private lose(epoch: number, reason: string): void {
    if (this.current !== epoch) return;
    this.current = undefined;
    this.emit('lost', epoch, reason);
  }

  private tick(): void {
    if (this.stopped) return;
    const t0 = Date.now();
    const held = this.current;
    const attempt: Promise<unknown> =
      held === undefined
        ? this.store.acquireLease(this.lease, this.owner, this.o.leaseMs, this.maxSeen).then(async (r) => {
            if (!r) {
              // someone else leads: remember its epoch, the floor should the store lose its counter
              const held = await this.store.readLease(this.lease);
              if (held) this.maxSeen = Math.max(this.maxSeen, held.epoch);
              return;
            }
            if (r.raisedFrom !== undefined) this.emit('historyLost', r.raisedFrom, this.maxSeen, r.epoch);
            this.maxSeen = Math.max(this.maxSeen, r.epoch);
            if (this.stopped) return;
            this.current = r.epoch;
            this.validUntil = t0 + this.o.leaseMs;
            this.emit('elected', r.epoch);
          })
        : this.store.renewLease(this.lease, this.owner, held, this.o.leaseMs).then((ok) => {
            if (ok && this.current === held) this.validUntil = t0 + this.o.leaseMs;
            else this.lose(held, 'the lease was taken by another master');
          });
    attempt
      // the store is unreachable: the watchdog steps down when the lease runs out; any other error
      // (a key of the wrong type) is told, or the master would stand by forever without a word
      .catch((e: Error) => {
        if (!/cannot reach|ECONNREFUSED|ECONNRESET|ETIMEDOUT|closed|EPIPE|ENOTFOUND/.test(e.message))
          this.emit('storeError', e.message);
      })
      .finally(() => {
        this.checkValid();
        if (!this.stopped)
          this.timer = setTimeout(() => this.tick(), Math.max(0, this.o.heartbeatMs - (Date.now() - t0)));
      });
  }
}
