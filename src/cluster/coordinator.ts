/**
 * The master side of a partitioned run, once for every kind of run (issue 12): the plans the worker
 * processes get, their hellos, ready and start, their progress, the event timeline, checkpoint
 * commits, the command desk, losing and replacing a worker, and merging the final dumps. How messages
 * reach a worker process, what fences a lost one and where the status goes is the host's:
 * - the local host (embedded.ts): child processes on this machine, SIGKILL as the fence, the status file;
 * - the distributed host (distributed/plan-run.ts): a leader term, registered workers, fenced store writes.
 *
 * Slots: a plan numbers its worker processes 0..S-1; a slot hosts the parts `partSlot` gives it, and
 * the sessions name each other by slot (the `workerId` of the worker protocol is the slot). In the
 * local host a slot is one child process for the whole run; in distributed mode the slot is hosted by
 * one registered worker at a time (`workerOf`), and a replacement takes the slot over.
 *
 * Meanings fixed here for both hosts (README "status file"):
 * - `worker-lost`: `step` is the step the lost slot had completed as last reported (its slowest part);
 *   the replacement must catch up with the furthest step any slot had reached then.
 * - `worker-recovered`: the replacement has caught up with that step (detail
 *   `{slot, replayedSteps, lostAt}`).
 * - `recoveries`: lost workers a replacement was started for (counted when it is started, not when it
 *   caught up: the count says how many processes the run lost and replaced).
 */
import type { ScenarioSpec } from '../io/spec.js';
import { Network } from '../sim/network.js';
import { scenarioDemand, type Demand } from '../sim/demand.js';
import { laneOwnersFromJunctions } from '../sim/partition.js';
import { mergeDumps, type StateDump } from '../sim/dump.js';
import { commandParts, resolveSimCommand } from '../sim/commands-resolve.js';
import { applyDemandCommands } from '../sim/commands-apply.js';
import { CommandDesk, type DeskOptions } from './command-desk.js';
import { CheckpointCommits, deleteCheckpointsBefore } from './commits.js';
import { insertByTime, type RunEvent, type WorkerState, type WorkerStatus } from './status.js';
import { outageRecorded, storeDownEvent, storeUpEvent, type Outage } from './store-outages.js';
import type { LogConfig, MasterMessage, NetFault, WorkerMessage } from './protocol.js';
import type { Store } from './store/store.js';

type Hello = Extract<WorkerMessage, { type: 'hello' }>;
type PlanMessage = Extract<MasterMessage, { type: 'plan' }>;

/** events kept in the timeline */
const MAX_EVENTS = 500;
/** how long a viewer's frame waits for slow workers */
const FRAME_WAIT_MS = 300;

export interface CoordinatorHost {
  /** sends `m` to the session hosting `slot`, if one is connected */
  send(slot: number, m: MasterMessage): void;
  /** the worker id events and the status name for `slot` (local: the slot; distributed: the registered worker) */
  workerOf(slot: number): number;
  /** the state changed (urgent: an event, to be written out now) */
  changed(urgent: boolean): void;
  /** makes the coordinator's state durable before the workers act on it (distributed: a fenced
   *  write); false: this master may no longer act (deposed) */
  durable(): Promise<boolean>;
  /** every slot said hello: resolves true when the plans may go out (local: the `--commands` script is logged) */
  beforePlans(): Promise<boolean>;
  /** a plan went out to `slot`: the session builds or restores its parts, without heartbeats */
  planSent?(slot: number): void;
  /** every part ran to the end step ('done' from every slot this term) */
  allDone?(): void;
  /** every session is ready and was told to start */
  started?(): void;
  onStatus?(m: Extract<WorkerMessage, { type: 'status' }>): void;
  fail(slot: number, message: string): void;
  log(line: string): void;
}

export interface CoordinatorSetup {
  spec: ScenarioSpec;
  /** the scenario's network and demand, where the host has them already (else built here) */
  net?: Network;
  demand?: Demand;
  parts: number;
  junctionPart: number[];
  /** part of each lane (default: from junctionPart) */
  laneOwner?: Int32Array;
  /** slot of each part */
  partSlot: number[];
  /**
   * How the workers get the scenario: 'store', from the plan record in the store (distributed mode:
   * the agent puts it into the plan, R5); otherwise in the plan message, unless a worker's hello says
   * it holds the scenario under this id already (pre-started workers, the in-process worker 0).
   */
  scenario: 'store' | { id: string };
  checkpointEvery: number;
  /** where checkpoints go (the workers' plans name it) */
  store?: { url: string; project: string; plan: string };
  /** the store this process opened on the same namespace (old checkpoints are deleted through it) */
  planStore?: Store;
  realtimeFactor?: number;
  heartbeatMs: number;
  leaseMs: number;
  /** the parts advance only as far as the desk grants (online commands) */
  control: boolean;
  check?: boolean;
  log?: LogConfig;
  /** network faults to inject (chaos testing): for the original processes only */
  faults?: NetFault[];
  /** carried over from a previous master (distributed mode) */
  committed?: number;
  startedAt?: number;
  recoveries?: number;
  events?: RunEvent[];
}

/** One slot as this master knows it. */
interface Slot {
  hello?: Hello & { reach: string };
  /** the last session's process, kept when it is lost */
  pid?: number;
  host?: string;
  ready: boolean;
  /** told to start, or started by itself (a restored session) */
  started: boolean;
  /** holds this master's command log (its plan, or the log sent again): commands and grants go to it */
  synced: boolean;
  done: boolean;
  /** it sent a status since its plan */
  reported: boolean;
  /** the slowest and the furthest hosted part (completed steps) */
  step: number;
  maxStep: number;
  running: number;
  arrived: number;
  /** when its session was last heard from, ms since epoch */
  heardAt?: number;
  /** building or restoring its parts (CPU-bound: no heartbeats) until then, ms since epoch */
  buildingUntil: number;
  /** lost and not caught up yet: when, the step to catch up with, the restart step */
  lost?: { at: number; catchUp: number; from: number };
  /** lost and no replacement said hello yet */
  gone: boolean;
}

export class Coordinator {
  readonly net: Network;
  /** the master's demand: commands are resolved against it, and the summary counts it */
  readonly demand: Demand;
  readonly laneOwner: Int32Array;
  readonly slots: Slot[];
  readonly commits: CheckpointCommits;
  readonly endStep: number;
  /** ms since epoch when the parts start (pacing origin); 0: the plans have not gone out */
  startedAt: number;
  recoveries: number;
  events: RunEvent[];
  stepSeconds = 0;
  /** every session was told to start */
  running = false;
  finished = false;
  private desk_: CommandDesk | undefined;
  private planning = false;
  /** store outages put in the timeline: 'down' while only its store-down is */
  private readonly outagesNoted = new Map<Outage, 'down' | 'both'>();
  private frameRequests = 0;
  private readonly frameWaiters = new Map<number, (b: Buffer) => void>();

  constructor(
    readonly s: CoordinatorSetup,
    private readonly host: CoordinatorHost,
  ) {
    this.net = s.net ?? new Network(s.spec.net);
    this.demand = s.demand ?? scenarioDemand(s.spec, this.net);
    this.laneOwner = s.laneOwner ?? laneOwnersFromJunctions(this.net, Int32Array.from(s.junctionPart));
    const committed = s.committed ?? 0;
    const count = Math.max(...s.partSlot) + 1;
    this.slots = Array.from({ length: count }, () => ({
      ready: false,
      started: false,
      synced: false,
      done: false,
      reported: false,
      step: committed,
      maxStep: committed,
      running: 0,
      arrived: 0,
      buildingUntil: 0,
      gone: false,
    }));
    this.commits = new CheckpointCommits(s.parts, committed);
    this.endStep = Math.ceil((s.spec.end! - s.spec.begin) / s.spec.stepLength - 1e-9);
    this.startedAt = s.startedAt ?? 0;
    this.recoveries = s.recoveries ?? 0;
    this.events = s.events ?? [];
  }

  get committed(): number {
    return this.commits.committed;
  }

  get desk(): CommandDesk {
    if (!this.desk_) throw new Error('the command desk is not open yet');
    return this.desk_;
  }

  get deskOpen(): boolean {
    return this.desk_ !== undefined;
  }

  /** Opens the command desk (the store hooks and a previous master's state are the host's). */
  openDesk(o: Pick<DeskOptions, 'store' | 'writeLog' | 'persist' | 'restore'>): CommandDesk {
    const { net, demand, laneOwner } = this;
    const spec = this.s.spec;
    this.desk_ = new CommandDesk({
      ...o,
      stepLength: spec.stepLength,
      realtimeFactor: this.s.realtimeFactor,
      canCheckpoint: this.s.checkpointEvery > 0,
      resolveSim: (c, effectiveStep, prior) => {
        const resolved = resolveSimCommand(net, demand, c, { effectiveStep, prior });
        return { resolved, parts: commandParts(net, resolved, laneOwner) };
      },
      broadcast: (m) => this.broadcast(m, true),
      onCommand: (entry, name) => this.event({ type: 'command', step: entry.step, detail: name }),
      onPause: (paused, step) => this.event({ type: paused ? 'paused' : 'resumed', step }),
    });
    return this.desk_;
  }

  /** The slowest slot's step: the run's step. */
  step(): number {
    return Math.min(...this.slots.map((x) => x.step));
  }

  hosted(slot: number): number[] {
    return this.s.partSlot.flatMap((s, p) => (s === slot ? [p] : []));
  }

  isBuilding(slot: number, now = Date.now()): boolean {
    return now < this.slots[slot]!.buildingUntil;
  }

  /** How long a session building or restoring its parts may miss heartbeats, ms. */
  buildingMs(): number {
    return Math.max(10 * this.s.leaseMs, 10_000);
  }

  /** Sends `m` to every slot (only those holding this master's log, for commands and grants). */
  broadcast(m: MasterMessage, syncedOnly = false): void {
    this.slots.forEach((x, s) => {
      if (!syncedOnly || x.synced) this.host.send(s, m);
    });
  }

  event(e: Omit<RunEvent, 'at'> & { at?: number }): void {
    const { at, ...rest } = e;
    this.insertEvent({ at: at ?? Date.now(), ...rest });
    this.host.changed(true);
  }

  private insertEvent(e: RunEvent): void {
    insertByTime(this.events, e);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }

  // ---- hellos, plans, start ----

  /** A session of `slot` said hello; `reach`: the host its peers reach it on. */
  hello(slot: number, h: Hello, reach: string): void {
    const x = this.slots[slot]!;
    if (x.hello && x.hello.port === h.port && x.hello.pid === h.pid) return; // the same session, told twice
    x.hello = { ...h, reach };
    x.pid = h.pid;
    x.host = h.host;
    x.gone = false;
    x.reported = false;
    if (this.startedAt > 0) this.replaced(slot);
    else this.maybePlan();
  }

  /** Once every slot said hello, the plans go out (again later, should making them durable fail). */
  maybePlan(): void {
    if (this.startedAt > 0 || this.planning || !this.slots.every((y) => y.hello)) return;
    this.planning = true;
    this.sendPlans().then(
      (sent) => {
        this.planning = false;
        if (!sent) this.startedAt = 0;
      },
      (err: Error) => {
        this.planning = false;
        this.startedAt = 0;
        this.host.log(`the plans could not go out: ${err.message}`);
      },
    );
  }

  /** A session that holds its plan already rejoined this master (a leader change): the log again, then the grant. */
  rejoined(slot: number, h: Hello, reach: string): void {
    const x = this.slots[slot]!;
    x.hello = { ...h, reach };
    x.pid = h.pid;
    x.host = h.host;
    x.step = Math.max(x.step, this.committed);
    x.synced = true;
    for (const entry of this.desk.durableLog()) this.host.send(slot, { type: 'command', entry });
    this.desk.resendGrant((m) => this.host.send(slot, m));
  }

  private async sendPlans(): Promise<boolean> {
    if (!(await this.host.beforePlans())) return false;
    this.startedAt = Date.now() + 500; // the workers need a moment to build their parts
    const desk = this.desk;
    desk.start(this.startedAt);
    // the first horizon is durable before any part holds it
    const horizon = desk.horizon;
    if (!(await desk.persistState()) || !(await this.host.durable())) return false;
    desk.markSent(horizon);
    this.slots.forEach((x, s) => {
      x.synced = true;
      this.planTo(s);
    });
    this.host.changed(false);
    return true;
  }

  /** Sends `slot` its plan (from checkpoint `recoverFrom`: a replacement). */
  private planTo(slot: number, recoverFrom?: number): void {
    this.slots[slot]!.buildingUntil = Date.now() + this.buildingMs();
    this.host.planSent?.(slot);
    this.host.send(slot, this.planFor(slot, recoverFrom));
  }

  /** The scenario part of `slot`'s plan: the one place the workers are handed the scenario. */
  private scenarioFor(slot: number): Pick<PlanMessage, 'spec' | 'scenarioId'> {
    const how = this.s.scenario;
    if (how === 'store') return {};
    return this.slots[slot]!.hello?.preloaded === how.id ? { scenarioId: how.id } : { spec: this.s.spec };
  }

  private planFor(slot: number, recoverFrom?: number): PlanMessage {
    const s = this.s;
    const desk = this.desk;
    return {
      type: 'plan',
      ...this.scenarioFor(slot),
      parts: s.parts,
      junctionPart: s.junctionPart,
      hosted: this.hosted(slot),
      partWorker: s.partSlot,
      peers: this.slots.flatMap((x, w) =>
        x.hello && w !== slot ? [{ workerId: w, host: x.hello.reach, port: x.hello.port }] : [],
      ),
      check: !!s.check,
      checkpointEvery: s.checkpointEvery,
      store: s.store,
      recoverFrom,
      realtimeFactor: s.realtimeFactor,
      startedAt: this.startedAt,
      heartbeatMs: s.heartbeatMs,
      log: s.log,
      // a durable horizon (a new leader must never grant less than a part holds)
      horizon: s.control ? desk.sentHorizon : undefined,
      // a replacement re-applies the entries at or after its checkpoint
      commands: desk.planLog(),
      pace: desk.pace,
      // injected faults are for the original processes only: a replacement replays, faults don't repeat
      faults: recoverFrom === undefined ? s.faults : undefined,
    };
  }

  /** The session of `slot` is ready (linked to its peers), or was ready/started before a leader change. */
  ready(slot: number, started = false): void {
    const x = this.slots[slot]!;
    x.buildingUntil = 0;
    x.ready = true;
    if (started) x.started = true;
    this.maybeStart();
  }

  /** Once every session is ready, those not started yet are told to start (also after a leader change). */
  maybeStart(): void {
    if (this.startedAt === 0 || !this.slots.every((x) => x.ready || x.started)) return;
    let sent = false;
    this.slots.forEach((x, s) => {
      if (x.started) return;
      x.started = true;
      this.host.send(s, { type: 'start' });
      sent = true;
    });
    if (sent && !this.running) {
      this.running = true;
      this.host.started?.();
      this.host.changed(false);
    }
  }

  // ---- progress ----

  onMessage(slot: number, m: WorkerMessage): void {
    switch (m.type) {
      case 'status':
        return this.progress(slot, m);
      case 'checkpoint':
        return this.checkpoint(m.part, m.step);
      case 'done': {
        const x = this.slots[slot]!;
        x.done = true;
        x.step = this.endStep;
        this.stepSeconds = Math.max(this.stepSeconds, m.stepSeconds);
        if (this.slots.every((y) => y.done)) this.host.allDone?.();
        return;
      }
      case 'failed':
        return this.host.fail(slot, m.message);
      case 'ready':
        return this.ready(slot);
      default:
        throw new Error(`the host handles "${m.type}"`);
    }
  }

  private progress(slot: number, m: Extract<WorkerMessage, { type: 'status' }>): void {
    const x = this.slots[slot]!;
    x.buildingUntil = 0; // restored and stepping: the lease applies again
    x.reported = true;
    x.step = Math.min(...m.parts.map((p) => p.step));
    x.maxStep = Math.max(...m.parts.map((p) => p.step));
    x.running = m.running;
    x.arrived = m.arrived;
    if (this.startedAt > 0 && this.s.control)
      this.desk.progress(this.step(), Math.max(...this.slots.map((y) => y.maxStep)));
    const lost = x.lost;
    if (lost && x.hello && x.step >= lost.catchUp) {
      x.lost = undefined;
      this.event({
        type: 'worker-recovered',
        worker: this.host.workerOf(slot),
        pid: x.hello.pid,
        step: x.step,
        detail: JSON.stringify({ slot, replayedSteps: Math.max(0, lost.catchUp - lost.from), lostAt: lost.at }),
      });
    }
    this.host.onStatus?.(m);
    this.host.changed(false);
  }

  /** Vehicles running and arrived, over every slot's last report. */
  vehicles(): { running: number; arrived: number } {
    let running = 0;
    let arrived = 0;
    for (const x of this.slots) {
      running += x.running;
      arrived += x.arrived;
    }
    return { running, arrived };
  }

  // ---- checkpoints ----

  /** Part `part` wrote checkpoint `step`; once every part did, it is committed (durably, then told). */
  checkpoint(part: number, step: number): void {
    const old = this.committed;
    if (!this.commits.note(part, step)) return;
    this.event({ type: 'checkpoint', step });
    void this.host.durable().then((ok) => {
      if (!ok) return;
      this.broadcast({ type: 'committed', step });
      // R11: checkpoints older than the one committed before go (two kept: should the store lose
      // its last writes, a resume falls back to the previous one; solo.ts completeCheckpoint)
      if (old > 0 && this.s.planStore) deleteCheckpointsBefore(this.s.planStore, old);
    });
  }

  // ---- losing and replacing ----

  /** The session of `slot` is gone (detected now); `pid`: of the lost process, if the host knows it. */
  lost(slot: number, why: string, pid = this.slots[slot]!.pid): void {
    const x = this.slots[slot]!;
    const reached = Math.max(...this.slots.map((y) => y.step));
    this.event({
      type: 'worker-lost',
      worker: this.host.workerOf(slot),
      pid,
      step: x.step,
      detail: `slot ${slot}: ${why}`,
    });
    if (this.startedAt > 0 && !x.lost) x.lost = { at: Date.now(), catchUp: reached, from: this.committed };
    x.hello = undefined;
    x.gone = true;
    x.ready = false;
    x.started = false;
    x.synced = false;
    x.done = false;
    x.reported = false;
    x.buildingUntil = 0;
  }

  /** A replacement is being started for lost `slot` (it restores from the committed checkpoint). */
  replacing(slot: number): void {
    if (this.startedAt === 0) return; // before the plans went out: nothing to restore
    this.recoveries++;
    this.host.log(`slot ${slot} restarts on worker ${this.host.workerOf(slot)} from step ${this.committed}`);
    this.host.changed(false);
  }

  /** A replacement session said hello: its plan from the committed checkpoint; the others reconnect. */
  private replaced(slot: number): void {
    const x = this.slots[slot]!;
    const h = x.hello!;
    x.synced = true;
    x.started = true; // restored sessions start by themselves
    this.planTo(slot, this.committed);
    this.slots.forEach((y, s) => {
      if (s !== slot && y.hello)
        this.host.send(s, { type: 'peer-restart', workerId: slot, host: h.reach, port: h.port, step: this.committed });
    });
    this.host.changed(false);
  }

  // ---- the store's outages ----

  /**
   * Puts the store's outages in the timeline, with their real times (`downStep`: the step the run had
   * when the store went down, as far as the host knows). Outages that ended before `since` are not
   * this run's; one already in the timeline (a previous leader wrote it: the spans of one outage's
   * observers overlap) is not written again.
   */
  noteOutages(outages: readonly Outage[], url: string, downStep: number, since = 0): void {
    let noted = false;
    for (const o of outages) {
      const was = this.outagesNoted.get(o);
      if (was === 'both' || (o.upAt ?? Infinity) < since) continue;
      if (was === undefined) {
        if (outageRecorded(this.events, o)) {
          this.outagesNoted.set(o, 'both');
          continue;
        }
        this.insertEvent(storeDownEvent(o, url, downStep));
        this.outagesNoted.set(o, 'down');
        noted = true;
      }
      if (o.upAt === undefined) continue;
      this.insertEvent(storeUpEvent({ ...o, upAt: o.upAt }, url, this.step()));
      this.outagesNoted.set(o, 'both');
      noted = true;
    }
    if (noted) this.host.changed(true);
  }

  // ---- status ----

  /** The state of `slot` for the status: recovering (from its loss until the replacement caught up),
   *  starting, running or finished. */
  slotState(slot: number): WorkerState {
    const x = this.slots[slot]!;
    if (this.finished) return 'finished';
    if (x.gone || x.lost) return 'recovering';
    if (!x.hello || !x.reported) return 'starting';
    return x.step >= this.endStep ? 'finished' : 'running';
  }

  /** The status's `workers` (DESIGN.md), one a slot. */
  workerStatus(now = Date.now()): (WorkerStatus & { slot: number })[] {
    return this.slots.map((x, s) => ({
      id: this.host.workerOf(s),
      slot: s,
      pid: x.pid ?? 0,
      host: x.host ?? '',
      parts: this.hosted(s),
      step: x.step,
      state: this.slotState(s),
      ...(x.heardAt !== undefined ? { heartbeatAgeMs: now - x.heardAt } : {}),
    }));
  }

  /** The session of `slot` was heard from (any message: they are its heartbeats). */
  heard(slot: number, now = Date.now()): void {
    this.slots[slot]!.heardAt = now;
  }

  /**
   * The fencing decision where the master owns the processes (the local host): the slots running or
   * catching up whose session has been silent for longer than the lease, and not building parts.
   * Without checkpoints a lost worker cannot be replaced, and without heartbeats silence says nothing.
   */
  expired(now = Date.now()): { slot: number; silentMs: number }[] {
    if (this.s.heartbeatMs <= 0 || this.s.checkpointEvery <= 0 || this.finished) return [];
    return this.slots.flatMap((x, slot) => {
      const state = this.slotState(slot);
      if (x.gone || x.heardAt === undefined || this.isBuilding(slot, now)) return [];
      if (state !== 'running' && state !== 'recovering') return [];
      const silentMs = now - x.heardAt;
      return silentMs > this.s.leaseMs ? [{ slot, silentMs }] : [];
    });
  }

  // ---- the viewer ----

  /** Every session's encoded vehicle positions (those that answer within a moment). */
  frames(viewport?: [number, number, number, number]): Promise<Buffer[]> {
    return new Promise<Buffer[]>((resolve) => {
      const id = ++this.frameRequests;
      const got: Buffer[] = [];
      const expected = this.slots.filter((x) => x.hello).length;
      const done = () => {
        this.frameWaiters.delete(id);
        resolve(got);
      };
      const timer = setTimeout(done, FRAME_WAIT_MS);
      this.frameWaiters.set(id, (b) => {
        got.push(b);
        if (got.length === expected) {
          clearTimeout(timer);
          done();
        }
      });
      this.broadcast({ type: 'frame-request', id, viewport });
    });
  }

  /** A `frame` frame: the request id, then the encoded positions. */
  onFrame(payload: Buffer): void {
    this.frameWaiters.get(payload.readUInt32LE(0))?.(payload.subarray(4));
  }

  // ---- the end ----

  /** The run's final state from every part's dump; the master's demand gets the vehicles the commands added. */
  finish(dumps: StateDump[]): StateDump {
    applyDemandCommands(this.demand, this.desk.simLog);
    const dump = mergeDumps(dumps, this.demand.count);
    this.finished = true;
    for (const x of this.slots) x.step = dump.step;
    return dump;
  }
}
