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
  resolveSim: (c: SimCommand, effectiveStep: number, prior: readonly ResolvedCommand[]) => { resolved: ResolvedCommand; parts: number[] | 'all' };
  /** sends a message to every connected worker */
  broadcast: (m: MasterMessage) => void;
  /** a command was accepted (for the timeline) */
  onCommand?: (entry: LoggedCommand, name: string) => void;
  onPause?: (paused: boolean, step: number) => void;
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

  constructor(private readonly o: DeskOptions) {}

  /** Called when the plan goes out: pacing starts at `startedAt`. */
  start(startedAt: number): void {
    this.pace = this.o.realtimeFactor ? { factor: this.o.realtimeFactor, anchorStep: 0, anchorAt: startedAt } : undefined;
  }

  /** The parts' progress: the slowest and the fastest part's completed steps. Grants more if due. */
  progress(minStep: number, maxStep: number): void {
    const now = Date.now();
    if (this.lastProgress && now > this.lastProgress.at + 100) {
      const r = ((minStep - this.lastProgress.step) * 1000) / (now - this.lastProgress.at);
      this.rate = this.rate === 0 ? r : 0.7 * this.rate + 0.3 * r;
      this.lastProgress = { at: now, step: minStep };
    } else if (!this.lastProgress) this.lastProgress = { at: now, step: minStep };
    if (this.paused || this.unsent > 0) return;
    const lead = Math.max(MIN_LEAD, Math.ceil(this.rate * LEAD_SECONDS));
    // grant when the fastest part has used half of its lead
    if (maxStep + lead / 2 >= this.horizon) {
      this.horizon = maxStep + lead;
      this.o.broadcast({ type: 'grant', horizon: this.horizon });
    }
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
        return { status: 200, body: { type: 'pause', effectiveStep: this.horizon, state: 'paused' } };
      case 'resume': {
        if (this.paused) {
          this.paused = false;
          // pacing restarts from here: a paced run must not sprint to make up for the pause
          if (this.pace?.factor) this.setPace(this.pace.factor);
          this.o.onPause?.(false, this.horizon);
          this.horizon += MIN_LEAD;
          this.o.broadcast({ type: 'grant', horizon: this.horizon });
        }
        return { status: 200, body: { type: 'resume', effectiveStep: this.horizon, state: 'running' } };
      }
      case 'setRealtimeFactor':
        if (c.factor !== null && !(c.factor > 0)) return { status: 400, body: { error: `factor must be a positive number or null, got ${c.factor}` } };
        this.setPace(c.factor ?? undefined);
        return { status: 200, body: { type: 'setRealtimeFactor', effectiveStep: this.horizon } };
      case 'checkpoint':
        if (!this.o.canCheckpoint) return { status: 409, body: { error: 'this run has no store for checkpoints: start it with --checkpoint-every N' } };
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
    if (last && step < last.step) return { status: 409, body: { error: `step ${step} is before step ${last.step} of the previous command` } };
    if (step < this.horizon) return { status: 409, body: { error: `step ${step} may already have been computed (parts may run to step ${this.horizon})` } };
    if (c.type !== 'sim' && c.type !== 'stop' && c.type !== 'checkpoint') return { status: 400, body: { error: `${c.type} cannot be scheduled at a step` } };
    return this.submit(c, step);
  }

  private setPace(factor: number | undefined): void {
    // from the step the parts may have reached now, at the new rate
    this.pace = { factor, anchorStep: this.horizon, anchorAt: Date.now() };
    this.o.broadcast({ type: 'pace', pace: this.pace });
  }

  private async append(command: LoggedCommand['command'], parts: LoggedCommand['parts'], step: number, name: string): Promise<DeskAnswer> {
    const entry: LoggedCommand = { seq: this.log.length, step, parts, command };
    this.log.push(entry);
    this.unsent++;
    // durable before anyone acts on it: a recovery must find every command a part may have applied.
    // Appends (and so sends) happen one at a time, in log order.
    const store = this.o.store;
    const written = this.appending.then(() => store?.append('commands', Buffer.from(JSON.stringify(entry))));
    this.appending = written.catch(() => undefined);
    let warning: string | undefined;
    try {
      await written;
    } catch (e) {
      // Once in the log (and maybe in a replacement's plan) an entry cannot be taken back: every live
      // part gets it; only its durability across a total crash is lost, and the answer says so.
      warning = `the command log could not be written: ${(e as Error).message}`;
    } finally {
      this.unsent--;
    }
    this.o.broadcast({ type: 'command', entry });
    this.o.onCommand?.(entry, name);
    return { status: 202, body: { id: entry.seq, type: name, effectiveStep: step, ...(warning ? { warning } : {}) } };
  }
}
