/**
 * The leader's side of one submitted plan in distributed mode. Everything a later leader needs is in
 * the store (layout.ts): the plan record (scenario, partition, slot of each part), the plan state
 * (which registered worker hosts each slot and where, the committed checkpoint) and the checkpoints
 * themselves (which parts wrote which step). What lives only here is rebuilt from the workers' hellos.
 *
 * Slots: parts are dealt to slots 0..S-1 at submit; each slot is hosted by one registered worker.
 * The plan sessions on the workers name each other by slot, so a replacement worker takes over a
 * slot exactly as a restarted process does in the embedded cluster (restore from the committed
 * checkpoint, replay from the neighbours' logs, neighbours told by `peer-restart`).
 */
import type { FramedSocket } from '../frames.js';
import type { WorkerMessage } from '../protocol.js';
import { decodeDump } from '../protocol.js';
import { IntegrityError, unseal } from '../integrity.js';
import type { Store } from '../store/store.js';
import { openStore } from '../store/store.js';
import { assertNever } from '../../errors.js';
import { CheckpointCommits, deleteCheckpointsBefore, parseCheckpointKey } from '../commits.js';
import { Network } from '../../sim/network.js';
import { scenarioDemand } from '../../sim/demand.js';
import { mergeDumps, type StateDump } from '../../sim/dump.js';
import { summarizeDump } from '../../sim/summary.js';
import { insertByTime, type RunEvent, type WorkerState } from '../status.js';
import { outageRecorded, storeDownEvent, storeUpEvent, type Outage, type StoreReport } from '../store-outages.js';
import type { LoggedCommand, MasterMessage } from '../protocol.js';
import { CommandDesk, type DeskAnswer, type DeskCommand } from '../command-desk.js';
import { resolveSimCommand } from '../../sim/commands-resolve.js';
import { commandParts } from '../../sim/commands-resolve.js';
import { applyDemandCommands } from '../../sim/commands-apply.js';
import { laneOwnersFromJunctions } from '../../sim/partition.js';
import type { PlanWithoutSpec, SessionInfo, ToAgent } from './messages.js';
import type { PlanFigures } from './master-view.js';
import {
  PROJECT,
  commandValue,
  json,
  key,
  readCommand,
  readJson,
  type DeskState,
  type PlanRecord,
  type PlanState,
} from './layout.js';

export interface Agent {
  workerId: number;
  pid: number;
  host: string;
  listenHost: string;
  sock: FramedSocket;
  /** Date.now() of its last message */
  lastHeard: number;
  /** the plan slot it hosts, as far as this leader knows */
  session?: SessionInfo;
}

/** What a plan run needs from the leader's term. */
export interface LeaderContext {
  readonly epoch: number;
  readonly cluster: Store;
  readonly o: { storeUrl: string; heartbeatMs: number; leaseMs: number; log: (line: string) => void };
  readonly agents: Map<number, Agent>;
  readonly dead: Set<number>;
  write(entries: { key: string; value: Buffer }[], deletes?: string[]): Promise<boolean>;
  send(workerId: number, m: ToAgent): void;
  idleAgents(): Agent[];
  leaderInfo(): { pid: number; host: string; epoch: number };
  /** whether this term still leads */
  leading(): boolean;
  /** the store's outages as this master process saw them (its own connection, workers' reports),
   *  oldest first; they outlive terms: an outage longer than the lease ends the term that saw it */
  storeOutages(): readonly Outage[];
  /** a worker's news of the store (its connection, its checkpoint writes) */
  storeReport(r: StoreReport): void;
}

type Hello = Extract<WorkerMessage, { type: 'hello' }>;

/** events kept in the status mirror */
const MAX_EVENTS = 500;

export class PlanRun {
  /** finished or failed: the leader forgets the run */
  over = false;
  private readonly st: PlanState;
  private readonly name: string;
  private readonly slots: number;
  /** this term's knowledge of each slot's session: its hello, with the host peers reach it on */
  private readonly hello: ((Hello & { reach: string }) | undefined)[];
  private readonly ready = new Set<number>();
  /** slots whose session was told to start (or started by itself) */
  private readonly started = new Set<number>();
  private readonly commits: CheckpointCommits;
  private readonly slotStep: number[];
  private stepSeconds = 0;
  private finishing = false;
  private dirty = true;
  private waitingLogged = false;
  private planStore: Store | undefined;
  private readonly endStep: number;
  /** slots building or restoring their parts (CPU-bound: their process sends no heartbeats) → until when
   *  that excuses a lapsed lease, ms since epoch */
  private readonly building = new Map<number, number>();
  /** the run's timeline, carried over from the previous leader's status mirror */
  private events: RunEvent[] = [];
  private recoveries = 0;
  /** lost slots not yet caught up: when lost, the step the run had reached then, the restart step */
  private readonly lostInfo = new Map<number, { at: number; catchUp: number; from: number }>();
  /** online commands and step grants (every distributed plan is controlled); built by takeOver */
  private desk: CommandDesk | undefined;
  /** the furthest part of each slot (completed steps) */
  private readonly slotMaxStep: number[];
  /**
   * Slots whose session holds this term's log: sent its plan by this term, or sent the whole log again
   * when it rejoined. Commands and grants go only to these, so a session never takes a live entry (or
   * a grant past an entry's step) before the older entries a previous leader may not have sent.
   */
  private readonly synced = new Set<number>();
  /** desk state writes, one at a time (each writes the latest state) */
  private deskWrites: Promise<unknown> = Promise.resolve();
  /** store outages put in this run's timeline: 'down' while only its store-down is */
  private readonly outagesNoted = new Map<Outage, 'down' | 'both'>();
  /** the plan's step in the status mirror last written (or found at takeover): during an outage
   *  nothing is written, so this is the step the run had when the store went down */
  private mirroredStep = 0;

  constructor(
    private readonly ctx: LeaderContext,
    private readonly rec: PlanRecord,
    st: PlanState | undefined,
  ) {
    this.name = rec.name;
    this.slots = rec.slots;
    this.st = st ?? {
      state: 'submitted',
      committed: 0,
      slotWorker: Array<number>(rec.slots).fill(-1),
      slotAddress: Array<null>(rec.slots).fill(null),
      startedAt: 0,
      epoch: ctx.epoch,
    };
    this.hello = Array(rec.slots).fill(undefined);
    let resolve!: () => void;
    this.tookOver = new Promise<void>((r) => (resolve = r));
    this.tookOverResolve = resolve;
    this.slotStep = Array<number>(rec.slots).fill(this.st.committed);
    this.slotMaxStep = Array<number>(rec.slots).fill(this.st.committed);
    this.endStep = Math.ceil((rec.spec.end! - rec.spec.begin) / rec.spec.stepLength - 1e-9);
    this.commits = new CheckpointCommits(rec.parts, this.st.committed);
    // sessions a previous leader sent their plans to may still be building (and unable to reconnect)
    this.st.slotPlannedAt?.forEach((at, slot) => {
      if (at > 0 && at + this.buildingMs() > Date.now()) this.building.set(slot, at + this.buildingMs());
    });
  }

  /** Registry ids of the workers hosting this plan's slots. */
  workers(): number[] {
    return this.st.slotWorker.filter((w) => w >= 0);
  }

  /** Whether worker `id` is building or restoring parts of this plan, which may keep it from renewing. */
  isBuilding(id: number): boolean {
    const now = Date.now();
    for (const [s, until] of this.building) if (this.st.slotWorker[s] === id && now < until) return true;
    return false;
  }

  private planSent(slot: number): void {
    const now = Date.now();
    this.building.set(slot, now + this.buildingMs());
    (this.st.slotPlannedAt ??= Array<number>(this.slots).fill(0))[slot] = now;
    this.dirty = true;
  }

  /** how long a session building or restoring its parts may miss heartbeats, ms */
  private buildingMs(): number {
    return Math.max(10 * this.ctx.o.leaseMs, 10_000);
  }

  /** resolves when takeOver built the desk: messages that come before wait for it */
  private readonly tookOver: Promise<void>;
  private readonly tookOverResolve: () => void;

  /** A new leader carries on: commits any checkpoint every part wrote meanwhile. */
  async takeOver(): Promise<void> {
    // the store may stall (a Redis restart): retry while this term leads; nothing runs without the desk
    for (;;) {
      try {
        await this.takeOverInner();
        break;
      } catch (err) {
        if (!this.ctx.leading()) throw err;
        // a damaged command log does not heal by retrying: the plan fails, naming the entry
        if (err instanceof IntegrityError) return void (await this.fail(err.message));
        this.ctx.o.log(
          `leader epoch ${this.ctx.epoch}: taking over plan ${this.name}: ${(err as Error).message}; retrying`,
        );
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.tookOverResolve();
  }

  private async takeOverInner(): Promise<void> {
    this.planStore ??= await openStore(this.ctx.o.storeUrl, { project: PROJECT, plan: this.name });
    if (!this.desk) {
      const previous = await this.ctx.cluster.get(key.status(this.name));
      if (previous) {
        const p = JSON.parse(previous.toString()) as { events?: RunEvent[]; recoveries?: number; step?: number };
        this.events = p.events ?? [];
        this.recoveries = p.recoveries ?? 0;
        this.mirroredStep = p.step ?? 0;
      }
      await this.openDesk();
      this.event({ type: 'leader', detail: JSON.stringify(this.ctx.leaderInfo()) });
    }
    if (this.st.state === 'running' || this.st.state === 'interrupted') {
      for (const k of await this.planStore.list('checkpoint/')) {
        const c = parseCheckpointKey(k);
        if (c) this.noteCheckpoint(c.part, c.step);
      }
      this.ctx.o.log(
        `leader epoch ${this.ctx.epoch}: carrying on plan ${this.name} (${this.st.state}, committed step ${this.st.committed})`,
      );
    }
  }

  /**
   * The command desk, carried on from the store: the log (fenced keys plan/<name>/command/<seq>) and
   * the largest horizon any leader granted, its pause and pacing (plan/<name>/desk). Both are written
   * before anyone acts on them, so no part can have passed the step a command is scheduled at here.
   */
  private async openDesk(): Promise<void> {
    const spec = this.rec.spec;
    const net = new Network(spec.net);
    const demand = scenarioDemand(spec, net);
    const laneOwner = laneOwnersFromJunctions(net, Int32Array.from(this.rec.junctionPart));
    const saved = await readJson<DeskState>(this.ctx.cluster, key.desk(this.name));
    const log: LoggedCommand[] = [];
    for (const k of await this.ctx.cluster.list(key.commands(this.name))) {
      const e = await readCommand(this.ctx.cluster, k);
      if (e) log.push(e);
    }
    log.sort((a, b) => a.seq - b.seq);
    if (log.some((e, i) => e.seq !== i))
      throw new Error(`the command log of plan ${this.name} has a gap: ${log.map((e) => e.seq).join(',')}`);
    this.desk = new CommandDesk({
      stepLength: spec.stepLength,
      realtimeFactor: this.rec.realtimeFactor,
      canCheckpoint: this.rec.checkpointEvery > 0,
      resolveSim: (c, effectiveStep, prior) => {
        const resolved = resolveSimCommand(net, demand, c, { effectiveStep, prior });
        return { resolved, parts: commandParts(net, resolved, laneOwner) };
      },
      broadcast: (m) => this.forSlots((w, s) => this.synced.has(s) && this.ctx.send(w, m)),
      onCommand: (entry, name) => this.event({ type: 'command', step: entry.step, detail: name }),
      onPause: (paused, step) => this.event({ type: paused ? 'paused' : 'resumed', step }),
      writeLog: (entry) => this.writeLogEntry(entry),
      persist: () => this.persistDesk(),
      restore: saved ? { ...saved, log } : undefined,
    });
    if (!saved && this.st.startedAt > 0)
      this.ctx.o.log(
        `leader epoch ${this.ctx.epoch}: plan ${this.name} has no stored horizon; granting from step ${this.desk.horizon}`,
      );
  }

  private deskState(): DeskState {
    const d = this.desk!;
    return { horizon: d.horizon, paused: d.paused, ...(d.pace ? { pace: d.pace } : {}) };
  }

  /** Writes the desk's state (fenced, one write at a time, each the latest state); false when deposed. */
  private persistDesk(): Promise<boolean> {
    const w = this.deskWrites.then(() => this.ctx.write([{ key: key.desk(this.name), value: json(this.deskState()) }]));
    this.deskWrites = w.catch(() => undefined);
    return w;
  }

  /** Stores a log entry (fenced), retrying while the store is unreachable; rejects once deposed. */
  private async writeLogEntry(entry: LoggedCommand): Promise<void> {
    for (;;) {
      let ok: boolean;
      try {
        ok = await this.ctx.write([{ key: key.command(this.name, entry.seq), value: commandValue(entry) }]);
      } catch {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      if (!ok) throw new Error(`leader epoch ${this.ctx.epoch} no longer leads`);
      return;
    }
  }

  /** A command from the control API (already parsed). */
  async command(c: DeskCommand): Promise<DeskAnswer> {
    if (this.over || this.st.state === 'finished' || this.st.state === 'failed')
      return {
        status: 409,
        body: {
          error: `plan ${this.name} has ${this.st.state === 'failed' ? 'failed' : 'finished'}; no more commands`,
        },
      };
    if (!this.desk)
      return {
        status: 503,
        body: { error: `the leader is still taking over plan ${this.name}; try again in a moment` },
      };
    return this.desk.submit(c);
  }

  /** A session (re)joined this leader: it gets the durable log again (it drops entries it has), then the grant. */
  private resendDesk(workerId: number, slot: number): void {
    const d = this.desk;
    if (!d) return;
    this.synced.add(slot);
    for (const entry of d.durableLog()) this.ctx.send(workerId, { type: 'command', entry });
    d.resendGrant((m: MasterMessage) => this.ctx.send(workerId, m as Exclude<MasterMessage, { type: 'plan' }>));
  }

  /** An agent told this leader about its session of this plan (after a leader change). */
  onAgentSession(a: Agent, s: SessionInfo): void {
    if (!this.desk) return void this.tookOver.then(() => this.onAgentSession(a, s));
    if (this.st.slotWorker[s.slot] !== a.workerId) {
      this.ctx.send(a.workerId, { type: 'shutdown' }); // a slot it no longer hosts
      return;
    }
    if (s.ready) this.ready.add(s.slot);
    if (s.started) this.started.add(s.slot);
    if (!s.hello) return; // still starting: its hello comes through the relay
    if (s.planned && this.st.startedAt > 0) {
      this.resendDesk(a.workerId, s.slot);
      this.hello[s.slot] = { ...s.hello, reach: a.listenHost };
      this.slotStep[s.slot] = Math.max(this.slotStep[s.slot]!, this.st.committed);
    } else {
      this.onHello(s.slot, a, s.hello);
    }
    this.maybeStart();
  }

  /** Once every session is ready, those not started yet are told to start (also after a leader change). */
  private maybeStart(): void {
    if (this.st.startedAt === 0) return;
    for (let s = 0; s < this.slots; s++) if (!this.ready.has(s) && !this.started.has(s)) return;
    let sent = false;
    this.forSlots((w, s) => {
      if (this.started.has(s)) return;
      this.started.add(s);
      this.ctx.send(w, { type: 'start' });
      sent = true;
    });
    if (sent)
      this.ctx.o.log(
        `leader epoch ${this.ctx.epoch}: plan ${this.name} running on workers ${this.st.slotWorker.join(', ')}`,
      );
  }

  onWorkerMessage(a: Agent, m: WorkerMessage): void {
    if (!this.desk) return void this.tookOver.then(() => this.onWorkerMessage(a, m));
    const slot = a.session?.slot;
    if (slot === undefined || this.st.slotWorker[slot] !== a.workerId || this.over) return;
    switch (m.type) {
      case 'hello':
        this.onHello(slot, a, m);
        break;
      case 'ready':
        this.building.delete(slot);
        this.ready.add(slot);
        this.maybeStart();
        break;
      case 'status': {
        this.building.delete(slot);
        const step = Math.min(...m.parts.map((p) => p.step));
        this.slotStep[slot] = step;
        this.slotMaxStep[slot] = Math.max(...m.parts.map((p) => p.step));
        if (this.st.startedAt > 0) this.desk?.progress(Math.min(...this.slotStep), Math.max(...this.slotMaxStep));
        const lost = this.lostInfo.get(slot);
        if (lost && step >= lost.catchUp) {
          // recovered once its parts caught up with where the run was when it was lost
          this.lostInfo.delete(slot);
          this.recoveries++;
          this.event({
            type: 'worker-recovered',
            worker: a.workerId,
            pid: this.hello[slot]?.pid,
            step,
            detail: JSON.stringify({ slot, replayedSteps: Math.max(0, lost.catchUp - lost.from), lostAt: lost.at }),
          });
        }
        break;
      }
      case 'checkpoint':
        this.noteCheckpoint(m.part, m.step);
        break;
      case 'done':
        this.stepSeconds = Math.max(this.stepSeconds, m.stepSeconds);
        this.slotStep[slot] = this.endStep;
        break;
      case 'failed':
        void this.fail(`slot ${slot} (worker ${a.workerId}): ${m.message}`);
        break;
      case 'store':
        // the time is ours: the worker's clock is another machine's
        this.ctx.storeReport({ up: m.up, at: Date.now(), error: m.error, by: a.workerId });
        break;
      default:
        assertNever(m, 'worker message');
    }
  }

  onWorkerDead(id: number): void {
    for (let s = 0; s < this.slots; s++) {
      if (this.st.slotWorker[s] !== id) continue;
      const reached = Math.max(...this.slotStep);
      this.event({
        type: 'worker-lost',
        worker: id,
        pid: this.hello[s]?.pid,
        step: this.slotStep[s],
        detail: `slot ${s}: lease expired`,
      });
      if (this.st.startedAt > 0) this.lostInfo.set(s, { at: Date.now(), catchUp: reached, from: this.st.committed });
      this.hello[s] = undefined;
      this.ready.delete(s);
      this.started.delete(s);
      this.synced.delete(s);
    }
  }

  async tick(): Promise<void> {
    if (this.over || !this.desk) return; // (still taking over)
    switch (this.st.state) {
      case 'submitted':
        await this.assignAll();
        break;
      case 'running':
      case 'interrupted':
        await this.recover();
        if (!this.finishing && (await this.ctx.cluster.list(key.dumps(this.name))).length === this.rec.parts)
          await this.finish();
        break;
      case 'finished':
      case 'failed':
        this.over = true;
        return;
      default:
        assertNever(this.st.state, 'plan state');
    }
    if (!this.over) await this.writeState();
  }

  // ---- starting ----

  private async assignAll(): Promise<void> {
    const idle = this.ctx.idleAgents();
    if (idle.length < this.slots) {
      if (!this.waitingLogged)
        this.ctx.o.log(
          `leader epoch ${this.ctx.epoch}: plan ${this.name} waits for ${this.slots} idle workers (${idle.length} now)`,
        );
      this.waitingLogged = true;
      return;
    }
    this.st.slotWorker = idle.slice(0, this.slots).map((a) => a.workerId);
    this.st.state = 'running';
    this.dirty = true;
    if (!(await this.writeState())) return;
    for (let s = 0; s < this.slots; s++) this.assign(s, this.ctx.agents.get(this.st.slotWorker[s]!)!);
  }

  private assign(slot: number, a: Agent): void {
    this.synced.delete(slot); // a new session: its plan brings the log
    a.session = { plan: this.name, slot, planned: false, ready: false, started: false, done: false };
    this.ctx.send(a.workerId, { type: 'assign', epoch: this.ctx.epoch, plan: this.name, slot });
  }

  private onHello(slot: number, a: Agent, h: Hello): void {
    const known = this.hello[slot];
    if (known && known.port === h.port && known.pid === h.pid) return; // the same session, told twice
    this.hello[slot] = { ...h, reach: a.listenHost };
    this.st.slotAddress[slot] = { host: a.listenHost, port: h.port };
    this.dirty = true;
    if (this.st.startedAt === 0) {
      if (this.hello.every((x) => x)) void this.sendPlans();
    } else {
      this.replaced(slot);
    }
  }

  private async sendPlans(): Promise<void> {
    this.st.startedAt = Date.now() + 500; // the workers need a moment to build their parts
    this.dirty = true;
    const desk = this.desk!;
    desk.start(this.st.startedAt);
    // the first horizon is durable before any part holds it
    const horizon = desk.horizon;
    if (!(await this.persistDesk()) || !(await this.writeState())) return;
    desk.markSent(horizon);
    for (let s = 0; s < this.slots; s++) {
      this.planSent(s);
      this.synced.add(s);
      this.ctx.send(this.st.slotWorker[s]!, this.planFor(s, undefined, horizon));
    }
  }

  /** `horizon`: a durable one (default: the largest horizon sent, which is durable) */
  private planFor(slot: number, recoverFrom?: number, horizon = this.desk!.sentHorizon): PlanWithoutSpec {
    const r = this.rec;
    const desk = this.desk!;
    return {
      type: 'plan',
      parts: r.parts,
      junctionPart: r.junctionPart,
      hosted: r.partSlot.flatMap((s, p) => (s === slot ? [p] : [])),
      partWorker: r.partSlot,
      peers: this.hello.flatMap((h, s) => (h && s !== slot ? [{ workerId: s, host: h.reach, port: h.port }] : [])),
      check: false,
      checkpointEvery: r.checkpointEvery,
      store: { url: this.ctx.o.storeUrl, project: PROJECT, plan: this.name },
      recoverFrom,
      realtimeFactor: r.realtimeFactor,
      startedAt: this.st.startedAt,
      heartbeatMs: this.ctx.o.heartbeatMs,
      horizon,
      // a replacement re-applies the entries at or after its checkpoint; only durable ones (a new
      // leader must know every entry a part may have applied)
      commands: desk.durableLog(),
      pace: desk.pace,
    };
  }

  // ---- recovery ----

  /** A replacement session said hello: its plan from the committed checkpoint; the others reconnect. */
  private replaced(slot: number): void {
    const h = this.hello[slot]!;
    this.ctx.o.log(
      `leader epoch ${this.ctx.epoch}: plan ${this.name} slot ${slot} restarts on worker ${this.st.slotWorker[slot]} from step ${this.st.committed}`,
    );
    this.planSent(slot);
    this.synced.add(slot);
    this.ctx.send(this.st.slotWorker[slot]!, this.planFor(slot, this.st.committed));
    this.started.add(slot); // restored sessions start by themselves
    this.forSlots((w, s) => {
      if (s !== slot && this.hello[s])
        this.ctx.send(w, {
          type: 'peer-restart',
          workerId: slot,
          host: h.reach,
          port: h.port,
          step: this.st.committed,
        });
    });
  }

  private async recover(): Promise<void> {
    const lost = [...Array(this.slots).keys()].filter((s) => {
      const w = this.st.slotWorker[s]!;
      return w < 0 || this.ctx.dead.has(w);
    });
    if (lost.length === 0) {
      // an assignment this leader never saw acknowledged (a leader change in between): say it again
      for (let s = 0; s < this.slots; s++) {
        const a = this.ctx.agents.get(this.st.slotWorker[s]!);
        if (a && !a.session) this.assign(s, a);
      }
      return;
    }
    // (before the plans went out, a lost slot is simply given to another worker: nothing to restore)
    if (this.st.startedAt > 0 && lost.length === this.slots && this.st.state === 'running') {
      this.st.state = 'interrupted';
      this.dirty = true;
      this.ctx.o.log(
        `leader epoch ${this.ctx.epoch}: every worker of plan ${this.name} is gone; run "tessds resume --plan ${this.name}"`,
      );
      return;
    }
    const deletes: string[] = [];
    if (this.st.state === 'interrupted') {
      if (!(await this.ctx.cluster.get(key.resume(this.name)))) return;
      deletes.push(key.resume(this.name));
    }
    const idle = this.ctx.idleAgents();
    if (idle.length < lost.length) {
      if (!this.waitingLogged)
        this.ctx.o.log(
          `leader epoch ${this.ctx.epoch}: plan ${this.name} waits for ${lost.length} idle worker(s) to replace lost ones`,
        );
      this.waitingLogged = true;
      return;
    }
    this.waitingLogged = false;
    lost.forEach((s, i) => {
      this.st.slotWorker[s] = idle[i]!.workerId;
      this.st.slotAddress[s] = null;
      this.hello[s] = undefined;
    });
    this.st.state = 'running';
    this.dirty = true;
    if (!(await this.writeState(deletes))) return;
    lost.forEach((s, i) => this.assign(s, idle[i]!));
  }

  // ---- checkpoints ----

  private noteCheckpoint(part: number, step: number): void {
    const old = this.st.committed;
    if (!this.commits.note(part, step)) return;
    this.st.committed = step;
    this.event({ type: 'checkpoint', step });
    this.dirty = true;
    void this.writeState().then((ok) => {
      if (!ok) return;
      this.forSlots((w) => this.ctx.send(w, { type: 'committed', step }));
      if (old > 0 && this.planStore) deleteCheckpointsBefore(this.planStore, step);
    });
  }

  // ---- the end ----

  private async finish(): Promise<void> {
    this.finishing = true;
    const dumps: StateDump[] = [];
    for (const k of await this.ctx.cluster.list(key.dumps(this.name))) {
      const b = await this.ctx.cluster.get(k);
      if (!b) continue;
      try {
        dumps.push(decodeDump(unseal(b, `final dump ${k} in ${this.ctx.cluster.url}`)).dump);
      } catch (err) {
        if (err instanceof IntegrityError) return void (await this.fail(err.message));
        throw err;
      }
    }
    const spec = this.rec.spec;
    const net = new Network(spec.net);
    const demand = scenarioDemand(spec, net);
    // the leader's demand, for the summary, gets the vehicles the commands added
    applyDemandCommands(demand, (this.desk?.simLog ?? []) as Parameters<typeof applyDemandCommands>[1]);
    const dump = mergeDumps(dumps, demand.count);
    const wall = this.st.startedAt > 0 ? (Date.now() - this.st.startedAt) / 1000 : 0;
    const summary = summarizeDump(dump, demand, spec.stepLength, wall, this.stepSeconds);
    this.st.state = 'finished';
    for (let s = 0; s < this.slots; s++) this.slotStep[s] = dump.step;
    this.dirty = true;
    if (!(await this.writeState([], [{ key: key.summary(this.name), value: json(summary) }]))) {
      this.finishing = false;
      return;
    }
    this.ctx.o.log(`leader epoch ${this.ctx.epoch}: plan ${this.name} finished, state hash ${summary.stateHash}`);
    this.end();
  }

  private async fail(message: string): Promise<void> {
    this.st.state = 'failed';
    this.st.message = message;
    this.dirty = true;
    this.ctx.o.log(`leader epoch ${this.ctx.epoch}: plan ${this.name} failed: ${message}`);
    if (await this.writeState()) this.end();
  }

  private end(): void {
    this.over = true;
    this.forSlots((w) => this.ctx.send(w, { type: 'shutdown' }));
    for (const w of this.st.slotWorker) {
      const a = this.ctx.agents.get(w);
      if (a?.session?.plan === this.name) a.session = undefined;
    }
    void this.planStore?.close();
  }

  // ---- the store ----

  /** Writes the status mirror, and the plan state when it changed; false when fenced. */
  private async writeState(deletes: string[] = [], extra: { key: string; value: Buffer }[] = []): Promise<boolean> {
    this.noteOutages();
    const status = this.status();
    const entries = [{ key: key.status(this.name), value: json(status) }, ...extra];
    const dirty = this.dirty;
    if (dirty) entries.push({ key: key.state(this.name), value: json({ ...this.st, epoch: this.ctx.epoch }) });
    const ok = await this.ctx.write(entries, deletes);
    if (ok && dirty) this.dirty = false;
    if (ok) this.mirroredStep = status.step;
    return ok;
  }

  /**
   * Puts the store's outages in the timeline, with their real times: the status mirror lives in the
   * store, so an outage is written once the store answers again (its store-down and store-up at
   * once). Outages before the plan was submitted are not its own; one a previous leader wrote
   * already (a span of its events overlaps: every observer's times of one outage overlap) is not
   * written again.
   */
  private noteOutages(): void {
    for (const o of this.ctx.storeOutages()) {
      const noted = this.outagesNoted.get(o);
      if (noted === 'both' || (o.upAt ?? Infinity) < this.rec.submittedAt) continue;
      if (noted === undefined) {
        if (outageRecorded(this.events, o)) {
          this.outagesNoted.set(o, 'both');
          continue;
        }
        this.insertEvent(storeDownEvent(o, this.ctx.cluster.url, this.mirroredStep));
        this.outagesNoted.set(o, 'down');
      }
      if (o.upAt === undefined) continue;
      this.insertEvent(storeUpEvent({ ...o, upAt: o.upAt }, this.ctx.cluster.url, Math.min(...this.slotStep)));
      this.outagesNoted.set(o, 'both');
    }
  }

  /** The figures `GET /metrics` shows for this plan (control/master-metrics.ts). */
  figures(now = Date.now()): PlanFigures {
    const lastHeardSeconds = new Map<number, number>();
    for (const w of this.workers()) {
      const a = this.ctx.agents.get(w);
      if (a) lastHeardSeconds.set(w, Math.max(0, now - a.lastHeard) / 1000);
    }
    return {
      plan: this.name,
      step: Math.min(...this.slotStep),
      recoveries: this.recoveries,
      paused: this.desk?.paused ?? false,
      lastHeardSeconds,
    };
  }

  private status() {
    const workers = this.st.slotWorker.map((w, s) => {
      const a = this.ctx.agents.get(w);
      const h = this.hello[s];
      const step = this.slotStep[s]!;
      const state: WorkerState =
        this.st.state === 'finished'
          ? 'finished'
          : this.lostInfo.has(s)
            ? 'recovering'
            : !h
              ? 'starting'
              : step >= this.endStep
                ? 'finished'
                : 'running';
      return {
        id: w,
        slot: s,
        pid: h?.pid ?? a?.pid ?? 0,
        host: a?.host ?? h?.host ?? '',
        parts: this.rec.partSlot.flatMap((x, p) => (x === s ? [p] : [])),
        step,
        state,
      };
    });
    return {
      plan: this.name,
      step: Math.min(...this.slotStep),
      state: this.st.state,
      workers,
      leader: this.ctx.leaderInfo(),
      recoveries: this.recoveries,
      committedCheckpoint: this.st.committed,
      paused: this.desk?.paused ?? false,
      realtimeFactor: this.desk?.pace?.factor ?? null,
      horizon: this.desk?.horizon,
      events: this.events,
      error: this.st.message,
    };
  }

  private event(e: Omit<RunEvent, 'at'>): void {
    this.insertEvent({ at: Date.now(), ...e });
  }

  private insertEvent(e: RunEvent): void {
    insertByTime(this.events, e);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }

  private forSlots(f: (workerId: number, slot: number) => void): void {
    this.st.slotWorker.forEach((w, s) => {
      if (w >= 0) f(w, s);
    });
  }
}
