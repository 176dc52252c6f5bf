/**
 * The master's side of online commands in a partitioned run (issue 5; DESIGN.md: "a command is part of
 * a run's inputs"). Parts run ahead of each other without a barrier, so a command can only take effect
 * at a step no part has computed yet: the desk grants parts a *horizon* (they may complete steps up to
 * it, about half a second of progress ahead) and schedules every command at the horizon, before it
 * grants further. Messages on one connection arrive in order, so every part holds the command before
 * it may pass its step. Every accepted command is appended to the durable command log first; a
 * replacement part re-applies the entries at or after its checkpoint, so a run with commands and
 * failures ends where the same run without failures does.
 */
import { CommandError } from '../errors.js';
import type { ResolvedCommand, SimCommand } from '../sim/commands.js';
import type { LoggedCommand, MasterMessage, Pace } from './protocol.js';
import type { Store } from './store/store.js';
import { sealJson } from './integrity.js';

/** A command as the API hands it over (parsed; simulation commands are resolved here, at their step). */
export type DeskCommand =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'checkpoint' }
  | { type: 'setRealtimeFactor'; factor: number | null }
  | { type: 'sim'; command: SimCommand };

/** A command scheduled ahead at a chosen step (`tessds run --commands FILE`). */
export interface ScriptedCommand {
  step: number;
  command: DeskCommand;
}

export interface DeskAnswer {
  status: number;
  body: { id?: number; type?: string; effectiveStep?: number; error?: string; warning?: string; state?: string };
}

export interface DeskOptions {
  stepLength: number;
  /** pacing at the start (--realtime-factor) */
  realtimeFactor?: number;
  /** where the command log is kept durably (undefined: memory only, no recovery anyway) */
  store?: Store;
  /** whether checkpoints can be written (the checkpoint command needs a store) */
  canCheckpoint: boolean;
  /** checks a simulation command for step `effectiveStep` after the earlier ones (throws CommandError)
   *  and names the parts it must reach */
  resolveSim: (
    c: SimCommand,
    effectiveStep: number,
    prior: readonly ResolvedCommand[],
  ) => { resolved: ResolvedCommand; parts: number[] | 'all' };
  /** sends a message to every connected worker */
  broadcast: (m: MasterMessage) => void;
  /** a command was accepted (for the timeline) */
  onCommand?: (entry: LoggedCommand, name: string) => void;
  onPause?: (paused: boolean, step: number) => void;
  /**
   * Distributed mode: writes a log entry durably (instead of `store.append`), retrying while the store
   * is unreachable; rejects only when this master may no longer write (deposed). The command is then
   * neither sent nor acknowledged (409).
   */
  writeLog?: (entry: LoggedCommand) => Promise<void>;
  /**
   * Distributed mode: writes the desk's state (`horizon`, `paused`, `pace`) durably, so that a new
   * leader never grants less than was granted before; a grant goes out only after it resolved true.
   */
  persist?: () => Promise<boolean>;
  /** a new leader carries on from what the previous one stored */
  restore?: { horizon: number; paused: boolean; pace?: Pace; log: LoggedCommand[] };
}

/** Least steps granted ahead of the fastest part, and the wall time of progress a grant aims to cover. */
const MIN_LEAD = 10;
const LEAD_SECONDS = 0.5;

export class CommandDesk {
  horizon = MIN_LEAD;
  paused = false;
  readonly log: LoggedCommand[] = [];
  /** the simulation commands of the log, resolved */
  readonly simLog: ResolvedCommand[] = [];
  pace: Pace | undefined;
  private rate = 0;
  private lastProgress?: { at: number; step: number };
  /** ordering of log appends (the store appends one at a time, in seq order) */
  private appending: Promise<unknown> = Promise.resolve();
  /** commands logged but not yet sent: no grant may pass their step until they are out */
  private unsent = 0;

  /** the largest horizon sent to the parts (`horizon` may be ahead while its persist is in flight) */
  private sent = 0;
  private granting = false;
  /** entries of `log` written durably (a prefix: appends are serialized) */
  private durable = 0;

  /** The largest horizon sent to the parts (with `persist`: durable). */
  get sentHorizon(): number {
    return this.sent;
  }

  /** A horizon made durable by the caller (the plans carry it) counts as sent. */
  markSent(h: number): void {
    if (h > this.sent) this.sent = h;
  }

  /** The log entries that are durable: what a new session's plan may carry. */
  durableLog(): LoggedCommand[] {
    return this.log.slice(0, this.durable);
  }

  /** The log a plan carries: distributed mode (writeLog) only the durable entries, which a new leader
   *  knows too; otherwise all of it (an entry whose append failed is live in every part anyway). */
  planLog(): LoggedCommand[] {
    return this.o.writeLog ? this.durableLog() : [...this.log];
  }

  /** Writes the desk's state durably (distributed mode); true without `persist` or once written. */
  persistState(): Promise<boolean> {
    return this.o.persist ? this.o.persist().catch(() => false) : Promise.resolve(true);
  }

  constructor(private readonly o: DeskOptions) {
    const r = o.restore;
    if (r) {
      // every step up to the stored horizon may have been computed: commands go at or after it
      this.horizon = Math.max(MIN_LEAD, r.horizon);
      this.sent = r.horizon;
      this.paused = r.paused;
      this.pace = r.pace;
      this.durable = r.log.length;
      for (const e of r.log) {
        this.log.push(e);
        if (e.command.type === 'sim') this.simLog.push(e.command.resolved as ResolvedCommand);
      }
    }
  }

  /** Raises the horizon to `h` (at least) and sends it once it is durable (persist). */
  private grant(h: number): void {
    if (h > this.horizon) this.horizon = h;
    this.flushGrant();
  }

  private flushGrant(): void {
    if (this.granting || this.sent >= this.horizon) return;
    const h = this.horizon;
    if (!this.o.persist) {
      this.sent = h;
      this.o.broadcast({ type: 'grant', horizon: h });
      return;
    }
    this.granting = true;
    this.o.persist().then(
      (ok) => {
        this.granting = false;
        if (!ok) return; // deposed: the next leader grants
        if (h > this.sent) {
          this.sent = h;
          this.o.broadcast({ type: 'grant', horizon: h });
        }
        this.flushGrant();
      },
      () => {
        this.granting = false; // the store is unreachable: retried at the next progress report
      },
    );
  }

  /** Called when the plan goes out: pacing starts at `startedAt`. */
  start(startedAt: number): void {
    this.pace = this.o.realtimeFactor
      ? { factor: this.o.realtimeFactor, anchorStep: 0, anchorAt: startedAt }
      : undefined;
  }

  /** The parts' progress: the slowest and the fastest part's completed steps. Grants more if due. */
  progress(minStep: number, maxStep: number): void {
    const now = Date.now();
    if (this.lastProgress && now > this.lastProgress.at + 100) {
      const r = ((minStep - this.lastProgress.step) * 1000) / (now - this.lastProgress.at);
      this.rate = this.rate === 0 ? r : 0.7 * this.rate + 0.3 * r;
      this.lastProgress = { at: now, step: minStep };
    } else if (!this.lastProgress) this.lastProgress = { at: now, step: minStep };
    this.flushGrant(); // a grant whose persist failed is retried
    if (this.paused || this.unsent > 0) return;
    const lead = Math.max(MIN_LEAD, Math.ceil(this.rate * LEAD_SECONDS));
    // grant when the fastest part has used half of its lead
    if (maxStep + lead / 2 >= this.horizon) this.grant(maxStep + lead);
  }

  /** Sends the grant and pacing a session needs after it (re)connected to a new leader. */
  resendGrant(send: (m: MasterMessage) => void): void {
    if (this.sent > 0) send({ type: 'grant', horizon: this.sent });
    if (this.pace) send({ type: 'pace', pace: this.pace });
  }

  /** Accepts a command: logs it durably, then sends it; answers with the step it takes effect. */
  async submit(c: DeskCommand, at?: number): Promise<DeskAnswer> {
    switch (c.type) {
      case 'pause':
        // parts stop at the horizon already granted: that is where the step count stops
        if (!this.paused) {
          this.paused = true;
          this.o.onPause?.(true, this.horizon);
        }
        if (this.o.persist && !(await this.o.persist().catch(() => false))) return this.notDurable('pause');
        return { status: 200, body: { type: 'pause', effectiveStep: this.horizon, state: 'paused' } };
      case 'resume': {
        if (this.paused) {
          this.paused = false;
          // pacing restarts from here: a paced run must not sprint to make up for the pause
          if (this.pace?.factor) this.setPace(this.pace.factor);
          this.o.onPause?.(false, this.horizon);
          this.grant(this.horizon + MIN_LEAD);
        }
        if (this.o.persist && !(await this.o.persist().catch(() => false))) return this.notDurable('resume');
        return { status: 200, body: { type: 'resume', effectiveStep: this.horizon, state: 'running' } };
      }
      case 'setRealtimeFactor':
        if (c.factor !== null && !(c.factor > 0))
          return { status: 400, body: { error: `factor must be a positive number or null, got ${c.factor}` } };
        this.setPace(c.factor ?? undefined);
        if (this.o.persist && !(await this.o.persist().catch(() => false))) return this.notDurable('setRealtimeFactor');
        return { status: 200, body: { type: 'setRealtimeFactor', effectiveStep: this.horizon } };
      case 'checkpoint':
        if (!this.o.canCheckpoint)
          return {
            status: 409,
            body: { error: 'this run has no store for checkpoints: start it with --checkpoint-every N' },
          };
        // a part that is at the horizon has completed it already: the next step it completes is checkpointed
        return this.append({ type: 'checkpoint' }, 'all', at ?? this.nextStep() + 1, 'checkpoint');
      case 'stop':
        return this.append({ type: 'stop' }, 'all', at ?? this.nextStep(), 'stop');
      case 'sim': {
        const step = at ?? this.nextStep();
        let r: ReturnType<DeskOptions['resolveSim']>;
        try {
          r = this.o.resolveSim(c.command, step, this.simLog);
        } catch (e) {
          if (e instanceof CommandError) return { status: e.status, body: { error: e.message } };
          throw e;
        }
        this.simLog.push(r.resolved);
        return this.append({ type: 'sim', resolved: r.resolved }, r.parts, step, c.command.type);
      }
      default: {
        const never: never = c;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * The earliest step a new command can take effect: no part has computed beyond the horizon, and
   * the log stays in step order (commands scheduled ahead, e.g. from --commands, come first).
   */
  private nextStep(): number {
    const last = this.log[this.log.length - 1];
    return Math.max(this.horizon, last ? last.step : 0);
  }

  /**
   * Logs a command at a step the caller chose (a script of commands given before the run starts:
   * every step is still ahead then). Steps must not decrease along the log; `schedule` does not
   * accept pause, resume or setRealtimeFactor (they act on the wall clock, not at a step).
   */
  async schedule(c: DeskCommand, step: number): Promise<DeskAnswer> {
    const last = this.log[this.log.length - 1];
    if (last && step < last.step)
      return { status: 409, body: { error: `step ${step} is before step ${last.step} of the previous command` } };
    // what the parts may have computed is what was sent to them (before the plans go out: nothing,
    // so a script may start at step 0)
    if (step < this.sent)
      return {
        status: 409,
        body: { error: `step ${step} may already have been computed (parts may run to step ${this.sent})` },
      };
    if (c.type !== 'sim' && c.type !== 'stop' && c.type !== 'checkpoint')
      return { status: 400, body: { error: `${c.type} cannot be scheduled at a step` } };
    return this.submit(c, step);
  }

  private notDurable(what: string): DeskAnswer {
    return {
      status: 503,
      body: {
        error: `${what} is in effect but could not be stored (the store is unreachable or leadership is changing): send it again`,
      },
    };
  }

  private setPace(factor: number | undefined): void {
    // from the step the parts may have reached now, at the new rate
    this.pace = { factor, anchorStep: this.horizon, anchorAt: Date.now() };
    this.o.broadcast({ type: 'pace', pace: this.pace });
  }

  private async append(
    command: LoggedCommand['command'],
    parts: LoggedCommand['parts'],
    step: number,
    name: string,
  ): Promise<DeskAnswer> {
    const entry: LoggedCommand = { seq: this.log.length, step, parts, command };
    this.log.push(entry);
    this.unsent++;
    // durable before anyone acts on it: a recovery must find every command a part may have applied.
    // Appends (and so sends) happen one at a time, in log order.
    const store = this.o.store;
    const writeLog = this.o.writeLog;
    const written: Promise<unknown> = this.appending.then((): Promise<unknown> | undefined =>
      writeLog ? writeLog(entry) : store?.append('commands', sealJson(entry)),
    );
    this.appending = written.catch(() => undefined);
    let warning: string | undefined;
    let deposed: string | undefined;
    try {
      await written;
      this.durable = Math.max(this.durable, entry.seq + 1);
    } catch (e) {
      // Once in the log (and maybe in a replacement's plan) an entry cannot be taken back: every live
      // part gets it; only its durability across a total crash is lost, and the answer says so.
      if (writeLog) deposed = (e as Error).message;
      else warning = `the command log could not be written: ${(e as Error).message}`;
    } finally {
      this.unsent--;
    }
    // deposed before the entry was stored: nobody may act on it (a new leader does not know it)
    if (deposed !== undefined)
      return {
        status: 409,
        body: { error: `leadership is changing; the command was not accepted (${deposed}): send it again` },
      };
    this.o.broadcast({ type: 'command', entry });
    this.o.onCommand?.(entry, name);
    return { status: 202, body: { id: entry.seq, type: name, effectiveStep: step, ...(warning ? { warning } : {}) } };
  }
}
