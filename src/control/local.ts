/**
 * A run in this process under control of the HTTP server (`tessds run --http`): the step loop becomes
 * asynchronous — it steps for about SLICE_MS, then yields to the event loop so requests and the
 * WebSocket stream are served — and it obeys pause, resume, stop, the realtime factor and checkpoints.
 * Simulation commands are validated on arrival and applied at a step boundary, in arrival order:
 * a command answered with `effectiveStep: k` is applied when k steps are complete, before step k+1 is
 * computed (for this process: before the very next step).
 */
import os from 'node:os';
import { renameSync, writeFileSync } from 'node:fs';
import type { Engine } from '../sim/engine.js';
import { snapshot } from '../sim/snapshot.js';
import type { RunStatus, StatusWriter, WorkerStatus } from '../cluster/status.js';
import { RequestError, assertNever } from '../errors.js';
import type { CommandAnswer, ControlBackend, NetworkView, RunEvent, VehicleFrame, Viewport } from './backend.js';
import { PositionSampler, networkView } from './positions.js';
import { parseCommand, type RunCommand, type SimCommand, type SimCommandParser } from './run-control.js';
import type { Metrics } from './metrics.js';
import type { Logger } from './log.js';

/** Wall ms of stepping between yields to the event loop. */
export const SLICE_MS = 15;
/** Events kept for the timeline (oldest dropped first). */
const MAX_EVENTS = 1000;

/** Validates and applies simulation commands on a whole-network engine (src/sim/commands.ts). */
export interface LocalSimCommands<C extends SimCommand = SimCommand> extends SimCommandParser<C> {
  apply(engine: Engine, command: C): void;
}

export interface LocalRunOptions {
  engine: Engine;
  /** simulated seconds per wall second; undefined: as fast as possible */
  realtimeFactor?: number;
  /** where `checkpoint` writes the engine snapshot; undefined: the command is refused (409) */
  checkpointFile?: string;
  sim?: LocalSimCommands;
  /** simulation commands scheduled ahead (`--commands FILE`), each with its `effectiveStep`, in step order */
  script?: (SimCommand & { effectiveStep: number })[];
  status?: StatusWriter;
  metrics?: Metrics;
  log?: Logger;
  /** called after every step (progress line) */
  onStep?: (e: Engine) => void;
}

/** A command accepted and not yet applied, or applied (the command log). */
export interface LoggedCommand {
  id: number;
  effectiveStep: number;
  command: RunCommand | SimCommand;
  /** ms since the epoch */
  at: number;
}

export class LocalRun implements ControlBackend {
  readonly engine: Engine;
  private paused = false;
  private stopped = false;
  private factor: number | undefined;
  /** pacing anchor: the wall time (ms) at which step `anchorStep` was due */
  private anchorWall = Date.now();
  private anchorStep: number;
  private wake: (() => void) | undefined;
  private readonly queue: LoggedCommand[] = [];
  /** every accepted command, in order (what a replay needs besides the inputs) */
  readonly commandLog: LoggedCommand[] = [];
  private nextId = 1;
  private readonly events: RunEvent[] = [];
  /** lanes closed by applied commands, for the viewer */
  private readonly closedLanes = new Set<string>();
  private readonly sampler: PositionSampler;
  private netView: NetworkView | undefined;
  private readonly worker: WorkerStatus;
  private state: RunStatus['state'] = 'starting';
  /** seconds spent in doStep, and the vehicle updates at the last UPS sample */
  private stepSeconds = 0;
  private upsSample = { at: 0, stepSeconds: 0, updates: 0, ups: 0 };

  constructor(private readonly o: LocalRunOptions) {
    this.engine = o.engine;
    this.factor = o.realtimeFactor;
    this.anchorStep = o.engine.step;
    this.sampler = new PositionSampler(o.engine.net);
    this.worker = { id: 0, pid: process.pid, host: os.hostname(), parts: [0], step: o.engine.step, state: 'starting' };
    for (const command of o.script ?? []) {
      const c: LoggedCommand = { id: this.nextId++, effectiveStep: command.effectiveStep, command, at: Date.now() };
      this.queue.push(c);
      this.commandLog.push(c);
    }
  }

  // ---- ControlBackend ----

  status(): RunStatus {
    const e = this.engine;
    const s = this.o.status?.status;
    return {
      step: e.step,
      state: this.state,
      workers: [{ ...this.worker, step: e.step, state: this.state, heartbeatAgeMs: 0 } as WorkerStatus],
      leader: s?.leader ?? { pid: process.pid, host: os.hostname(), epoch: 1 },
      paused: this.paused,
      realtimeFactor: this.factor ?? null,
      time: e.time(),
      running: e.running,
      arrived: e.arrived,
      endStep: e.endStep ?? null,
      closedLanes: [...this.closedLanes],
      events: this.events,
    } as RunStatus;
  }

  network(): NetworkView {
    this.netView ??= networkView(this.engine.net);
    return this.netView;
  }

  timeline(): RunEvent[] {
    return this.events;
  }

  frame(viewport?: Viewport): VehicleFrame {
    const f = this.sampler.sample(this.engine, viewport);
    const now = Date.now();
    const u = this.upsSample;
    if (now - u.at >= 500) {
      const ds = this.stepSeconds - u.stepSeconds;
      const du = this.engine.vehicleUpdates - u.updates;
      u.ups = ds > 0 ? du / ds : this.paused ? 0 : u.ups;
      u.at = now;
      u.stepSeconds = this.stepSeconds;
      u.updates = this.engine.vehicleUpdates;
    }
    f.ups = u.ups;
    return f;
  }

  async command(body: unknown): Promise<CommandAnswer> {
    let parsed;
    try {
      parsed = parseCommand(body, this.o.sim);
    } catch (e) {
      if (e instanceof RequestError) return { status: e.status, body: { error: e.message } };
      throw e;
    }
    if (this.state === 'finished' || this.state === 'failed')
      return { status: 409, body: { error: `the run has ${this.state}; no more commands` } };
    const step = this.engine.step;
    if (parsed.kind === 'sim') {
      // a resolved command carries its own step (later than now when commands are scheduled ahead)
      const at = (parsed.command as { effectiveStep?: number }).effectiveStep ?? step;
      const c: LoggedCommand = { id: this.nextId++, effectiveStep: at, command: parsed.command, at: Date.now() };
      this.queue.push(c);
      this.commandLog.push(c);
      this.event({ type: 'command', step: at, detail: JSON.stringify(parsed.command) });
      return { status: 202, body: { id: c.id, type: parsed.command.type, effectiveStep: at } };
    }
    const cmd = parsed.command;
    const answer = (): CommandAnswer => {
      const c: LoggedCommand = { id: this.nextId++, effectiveStep: step, command: cmd, at: Date.now() };
      this.commandLog.push(c);
      return { status: 200, body: { id: c.id, type: cmd.type, effectiveStep: step } };
    };
    switch (cmd.type) {
      case 'pause':
        if (!this.paused) {
          this.paused = true;
          this.o.metrics?.paused.set(1);
          this.event({ type: 'paused', step });
        }
        return answer();
      case 'resume':
        if (this.paused) {
          this.paused = false;
          this.o.metrics?.paused.set(0);
          this.reanchor();
          this.event({ type: 'resumed', step });
          this.wake?.();
        }
        return answer();
      case 'stop':
        this.stopped = true;
        this.event({ type: 'stopped', step });
        this.wake?.();
        return answer();
      case 'setRealtimeFactor':
        this.factor = cmd.factor ?? undefined;
        this.reanchor();
        this.event({ type: 'command', step, detail: `realtime factor ${cmd.factor ?? 'max'}` });
        return answer();
      case 'checkpoint': {
        const file = this.o.checkpointFile;
        if (!file)
          return { status: 409, body: { error: 'checkpoint needs a file: start the run with --save-state FILE' } };
        const t0 = performance.now();
        const tmp = `${file}.tmp`;
        writeFileSync(tmp, snapshot(this.engine));
        renameSync(tmp, file);
        this.o.metrics?.checkpointSeconds.observe((performance.now() - t0) / 1000);
        this.event({ type: 'checkpoint', step, detail: file });
        return answer();
      }
      default:
        return assertNever(cmd, 'run command');
    }
  }

  // ---- the loop ----

  /** Steps to the end (or until stopped), yielding to the event loop between slices. */
  async run(): Promise<void> {
    const e = this.engine;
    const endStep = e.endStep;
    const done = () => (endStep !== undefined ? e.step >= endStep : e.finished && e.step > 0);
    const m = this.o.metrics;
    this.state = 'running';
    this.reanchor();
    this.o.log?.info({ endStep, realtimeFactor: this.factor }, 'run started');
    while (!this.stopped && !done()) {
      if (this.paused) {
        this.publish();
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      // paced: the next step waits until the last one is due (any factor > 0: 0.1 takes 10 wall s
      // per simulated s), woken at least every 250 ms to see commands and a new factor
      if (this.factor !== undefined) {
        const wait =
          this.anchorWall + ((e.step - this.anchorStep) * e.cfg.stepLength * 1000) / this.factor - Date.now();
        if (wait > 0) {
          this.publish();
          await new Promise<void>((resolve) => setTimeout(resolve, Math.min(wait, 250)));
          continue;
        }
      }
      const sliceEnd = performance.now() + SLICE_MS;
      let waitMs = 0;
      do {
        this.applyDue();
        const t0 = performance.now();
        e.doStep();
        const dt = (performance.now() - t0) / 1000;
        this.stepSeconds += dt;
        m?.stepSeconds.observe(dt);
        this.o.onStep?.(e);
        if (this.factor !== undefined) {
          const due = this.anchorWall + ((e.step - this.anchorStep) * e.cfg.stepLength * 1000) / this.factor;
          waitMs = due - Date.now();
          if (waitMs > 0) break;
        }
      } while (performance.now() < sliceEnd && !done() && !this.paused && !this.stopped);
      this.publish();
      await new Promise<void>((resolve) => {
        if (waitMs > 0) setTimeout(resolve, Math.min(waitMs, 250));
        else setImmediate(resolve);
      });
    }
    this.state = 'finished';
    this.publish();
    this.event({ type: 'finished', step: e.step });
    this.o.log?.info({ step: e.step, running: e.running, arrived: e.arrived, stopped: this.stopped }, 'run finished');
  }

  /** wall seconds spent computing steps (not paused, not pacing, not serving) */
  get steppingSeconds(): number {
    return this.stepSeconds;
  }

  /** True when the run ended on a `stop` command before its end. */
  get wasStopped(): boolean {
    return this.stopped;
  }

  private applyDue(): void {
    const e = this.engine;
    while (this.queue.length > 0 && this.queue[0]!.effectiveStep <= e.step) {
      const c = this.queue.shift()!;
      try {
        this.o.sim?.apply(e, c.command as SimCommand);
        this.noteLaneState(c.command as SimCommand);
        this.o.log?.info({ id: c.id, command: c.command }, 'command applied');
      } catch (err) {
        this.event({ type: 'command', step: e.step, detail: `command ${c.id} failed: ${(err as Error).message}` });
        this.o.log?.error({ id: c.id, command: c.command, err }, 'command failed');
      }
    }
  }

  /** Keeps `closedLanes` for the viewer from applied closeLane/openLane commands (field `lane` or `laneId`). */
  private noteLaneState(c: SimCommand): void {
    const cmd = c as SimCommand & { lane?: unknown; laneId?: unknown };
    // resolved commands (src/sim/commands.ts) name the lane by index
    const lane =
      typeof cmd.lane === 'number'
        ? this.engine.net.laneIds[cmd.lane]
        : typeof cmd.lane === 'string'
          ? cmd.lane
          : typeof cmd.laneId === 'string'
            ? cmd.laneId
            : undefined;
    if (lane === undefined) return;
    if (cmd.type === 'closeLane') this.closedLanes.add(lane);
    else if (cmd.type === 'openLane') this.closedLanes.delete(lane);
  }

  private reanchor(): void {
    this.anchorWall = Date.now();
    this.anchorStep = this.engine.step;
  }

  private publish(): void {
    const e = this.engine;
    this.worker.step = e.step;
    this.worker.state = this.state === 'paused' ? 'running' : this.state;
    this.o.status?.update({ step: e.step, state: this.state, workers: [{ ...this.worker }] });
    const m = this.o.metrics;
    if (m) {
      m.step.set(e.step);
      m.running.set(e.running);
      m.arrived.set(e.arrived);
    }
  }

  private event(ev: Omit<RunEvent, 'at'>): void {
    this.events.push({ at: Date.now(), ...ev });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.o.log?.info({ event: ev.type, detail: ev.detail }, ev.type);
  }
}
