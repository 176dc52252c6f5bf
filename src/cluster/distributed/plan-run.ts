/**
 * The leader's side of one submitted plan in distributed mode. Everything a later leader needs is in
 * the store (layout.ts): the plan record (scenario, partition, slot of each part), the plan state
 * (which registered worker hosts each slot and where, the committed checkpoint) and the checkpoints
 * themselves (which parts wrote which step). What lives only here is rebuilt from the workers' hellos.
 * This is the distributed host of the coordinator (coordinator.ts), which does the master's work:
 * here are the leader term, the registered workers hosting the slots, and the fenced store writes.
 *
 * Slots: parts are dealt to slots 0..S-1 at submit; each slot is hosted by one registered worker.
 * The plan sessions on the workers name each other by slot, so a replacement worker takes over a
 * slot exactly as a restarted process does in the embedded cluster (restore from the committed
 * checkpoint, replay from the neighbours' logs, neighbours told by `peer-restart`).
 */
import type { FramedSocket } from '../frames.js';
import { decodeDump, type LoggedCommand, type WorkerMessage } from '../protocol.js';
import { IntegrityError, unseal } from '../integrity.js';
import { openStore, type Store } from '../store/store.js';
import { assertNever } from '../../errors.js';
import { parseCheckpointKey } from '../commits.js';
import type { StateDump } from '../../sim/dump.js';
import { summarizeDump } from '../../sim/summary.js';
import type { RunEvent } from '../status.js';
import type { Outage, StoreReport } from '../store-outages.js';
import type { DeskAnswer, DeskCommand } from '../command-desk.js';
import { Coordinator, type CoordinatorHost } from '../coordinator.js';
import type { SessionInfo, ToAgent } from './messages.js';
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

export class PlanRun {
  /** finished or failed: the leader forgets the run */
  over = false;
  private readonly st: PlanState;
  private readonly name: string;
  private readonly c: Coordinator;
  private finishing = false;
  /** the merged final state and its summary, once made (a fenced write of them may have to be retried) */
  private final: { summary: ReturnType<typeof summarizeDump> } | undefined;
  private dirty = true;
  private waitingLogged = false;
  private planStore: Store | undefined;
  /** desk state writes, one at a time (each writes the latest state) */
  private deskWrites: Promise<unknown> = Promise.resolve();
  /** the plan's step in the status mirror last written (or found at takeover): during an outage
   *  nothing is written, so this is the step the run had when the store went down */
  private mirroredStep = 0;
  private tookOverResolve!: () => void;
  /** resolves when takeOver opened the desk: messages that come before wait for it */
  private readonly tookOver = new Promise<void>((r) => (this.tookOverResolve = r));

  constructor(
    private readonly ctx: LeaderContext,
    private readonly rec: PlanRecord,
    st: PlanState | undefined,
  ) {
    this.name = rec.name;
    this.st = st ?? {
      state: 'submitted',
      committed: 0,
      slotWorker: Array<number>(rec.slots).fill(-1),
      slotAddress: Array<null>(rec.slots).fill(null),
      startedAt: 0,
      epoch: ctx.epoch,
    };
    const host: CoordinatorHost = {
      send: (slot, m) => {
        const w = this.st.slotWorker[slot] ?? -1;
        // the agent puts the scenario into the plan, from the store (R5)
        if (w >= 0) this.ctx.send(w, m as ToAgent);
      },
      workerOf: (slot) => this.st.slotWorker[slot] ?? -1,
      changed: () => {}, // the status mirror is written every tick
      durable: () => {
        this.dirty = true;
        return this.writeState();
      },
      beforePlans: () => Promise.resolve(true),
      planSent: (slot) => {
        (this.st.slotPlannedAt ??= Array<number>(rec.slots).fill(0))[slot] = Date.now();
        this.dirty = true;
      },
      started: () => this.log(`running on workers ${this.st.slotWorker.join(', ')}`),
      fail: (slot, message) => void this.fail(`slot ${slot} (worker ${this.st.slotWorker[slot]}): ${message}`),
      log: (line) => this.log(line),
    };
    this.c = new Coordinator(
      {
        spec: rec.spec,
        parts: rec.parts,
        junctionPart: rec.junctionPart,
        partSlot: rec.partSlot,
        scenario: 'store',
        checkpointEvery: rec.checkpointEvery,
        store: { url: ctx.o.storeUrl, project: PROJECT, plan: this.name },
        realtimeFactor: rec.realtimeFactor,
        heartbeatMs: ctx.o.heartbeatMs,
        leaseMs: ctx.o.leaseMs,
        control: true, // every distributed plan is controlled
        committed: this.st.committed,
        startedAt: this.st.startedAt,
      },
      host,
    );
    // sessions a previous leader sent their plans to may still be building (and unable to reconnect)
    this.st.slotPlannedAt?.forEach((at, slot) => {
      if (at > 0) this.c.slots[slot]!.buildingUntil = at + this.c.buildingMs();
    });
  }

  private log(line: string): void {
    this.ctx.o.log(`leader epoch ${this.ctx.epoch}: plan ${this.name} ${line}`);
  }

  /** Registry ids of the workers hosting this plan's slots. */
  workers(): number[] {
    return this.st.slotWorker.filter((w) => w >= 0);
  }

  /** Whether worker `id` is building or restoring parts of this plan, which may keep it from renewing. */
  isBuilding(id: number): boolean {
    return this.st.slotWorker.some((w, s) => w === id && this.c.isBuilding(s));
  }

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
        this.log(`(taking over): ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.tookOverResolve();
  }

  private async takeOverInner(): Promise<void> {
    this.planStore ??= await openStore(this.ctx.o.storeUrl, { project: PROJECT, plan: this.name });
    this.c.s.planStore = this.planStore;
    if (!this.c.deskOpen) {
      const previous = await this.ctx.cluster.get(key.status(this.name));
      if (previous) {
        const p = JSON.parse(previous.toString()) as { events?: RunEvent[]; recoveries?: number; step?: number };
        this.c.events = p.events ?? [];
        this.c.recoveries = p.recoveries ?? 0;
        this.mirroredStep = p.step ?? 0;
      }
      await this.openDesk();
      this.c.event({ type: 'leader', detail: JSON.stringify(this.ctx.leaderInfo()) });
    }
    if (this.st.state === 'running' || this.st.state === 'interrupted') {
      for (const k of await this.planStore.list('checkpoint/')) {
        const c = parseCheckpointKey(k);
        if (c) this.c.checkpoint(c.part, c.step);
      }
      this.log(`carried on (${this.st.state}, committed step ${this.c.committed})`);
    }
  }

  /**
   * The command desk, carried on from the store: the log (fenced keys plan/<name>/command/<seq>) and
   * the largest horizon any leader granted, its pause and pacing (plan/<name>/desk). Both are written
   * before anyone acts on them, so no part can have passed the step a command is scheduled at here.
   */
  private async openDesk(): Promise<void> {
    const saved = await readJson<DeskState>(this.ctx.cluster, key.desk(this.name));
    const log: LoggedCommand[] = [];
    for (const k of await this.ctx.cluster.list(key.commands(this.name))) {
      const e = await readCommand(this.ctx.cluster, k);
      if (e) log.push(e);
    }
    log.sort((a, b) => a.seq - b.seq);
    if (log.some((e, i) => e.seq !== i))
      throw new Error(`the command log of plan ${this.name} has a gap: ${log.map((e) => e.seq).join(',')}`);
    const desk = this.c.openDesk({
      writeLog: (entry) => this.writeLogEntry(entry),
      persist: () => this.persistDesk(),
      restore: saved ? { ...saved, log } : undefined,
    });
    if (!saved && this.c.startedAt > 0) this.log(`has no stored horizon; granting from step ${desk.horizon}`);
  }

  /** Writes the desk's state (fenced, one write at a time, each the latest state); false when deposed. */
  private persistDesk(): Promise<boolean> {
    const w = this.deskWrites.then(() => {
      const d = this.c.desk;
      const state: DeskState = { horizon: d.horizon, paused: d.paused, ...(d.pace ? { pace: d.pace } : {}) };
      return this.ctx.write([{ key: key.desk(this.name), value: json(state) }]);
    });
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
    if (this.over || this.st.state === 'finished' || this.st.state === 'failed') {
      const what = this.st.state === 'failed' ? 'failed' : 'finished';
      return { status: 409, body: { error: `plan ${this.name} has ${what}; no more commands` } };
    }
    const later = `the leader is still taking over plan ${this.name}; try again in a moment`;
    if (!this.c.deskOpen) return { status: 503, body: { error: later } };
    return this.c.desk.submit(c);
  }

  /** An agent told this leader about its session of this plan (after a leader change). */
  onAgentSession(a: Agent, s: SessionInfo): void {
    if (!this.c.deskOpen) return void this.tookOver.then(() => this.onAgentSession(a, s));
    if (this.st.slotWorker[s.slot] !== a.workerId) {
      this.ctx.send(a.workerId, { type: 'shutdown' }); // a slot it no longer hosts
      return;
    }
    const x = Object.assign(this.c.slots[s.slot]!, { pid: a.pid, host: a.host });
    if (s.ready) x.ready = true;
    if (s.started) x.started = true;
    if (!s.hello) return; // still starting: its hello comes through the relay
    // a session holding its plan gets the durable log again (it drops entries it has), then the grant
    if (s.planned && this.c.startedAt > 0) this.c.rejoined(s.slot, s.hello, a.listenHost);
    else this.onHello(s.slot, a, s.hello);
    this.c.maybeStart();
  }

  onWorkerMessage(a: Agent, m: WorkerMessage): void {
    if (!this.c.deskOpen) return void this.tookOver.then(() => this.onWorkerMessage(a, m));
    const slot = a.session?.slot;
    if (slot === undefined || this.st.slotWorker[slot] !== a.workerId || this.over) return;
    this.c.heard(slot);
    if (m.type === 'hello') this.onHello(slot, a, m);
    // the time is ours: the worker's clock is another machine's
    else if (m.type === 'store') this.ctx.storeReport({ up: m.up, at: Date.now(), error: m.error, by: a.workerId });
    else this.c.onMessage(slot, m);
  }

  private onHello(slot: number, a: Agent, h: Hello): void {
    this.st.slotAddress[slot] = { host: a.listenHost, port: h.port };
    this.dirty = true;
    this.c.hello(slot, h, a.listenHost);
  }

  onWorkerDead(id: number): void {
    this.st.slotWorker.forEach((w, s) => {
      if (w === id) this.c.lost(s, 'lease expired');
    });
  }

  async tick(): Promise<void> {
    if (this.over || !this.c.deskOpen) return; // (still taking over)
    switch (this.st.state) {
      case 'submitted':
        await this.assignAll();
        break;
      case 'running':
      case 'interrupted':
        await this.recover();
        this.c.maybePlan();
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

  // ---- workers for the slots ----

  private enoughIdle(needed: number, what: string): Agent[] | undefined {
    const idle = this.ctx.idleAgents();
    if (idle.length >= needed) {
      this.waitingLogged = false;
      return idle;
    }
    if (!this.waitingLogged) this.log(`waits for ${needed} idle worker(s) ${what} (${idle.length} now)`);
    this.waitingLogged = true;
    return undefined;
  }

  private async assignAll(): Promise<void> {
    const idle = this.enoughIdle(this.rec.slots, 'to start');
    if (!idle) return;
    this.st.slotWorker = idle.slice(0, this.rec.slots).map((a) => a.workerId);
    this.st.state = 'running';
    this.dirty = true;
    if (!(await this.writeState())) return;
    this.st.slotWorker.forEach((w, s) => this.assign(s, this.ctx.agents.get(w)!));
  }

  private assign(slot: number, a: Agent): void {
    this.c.slots[slot]!.synced = false; // a new session: its plan brings the log
    a.session = { plan: this.name, slot, planned: false, ready: false, started: false, done: false };
    this.ctx.send(a.workerId, { type: 'assign', epoch: this.ctx.epoch, plan: this.name, slot });
  }

  private async recover(): Promise<void> {
    const lost = this.st.slotWorker.flatMap((w, s) => (w < 0 || this.ctx.dead.has(w) ? [s] : []));
    if (lost.length === 0) {
      // an assignment this leader never saw acknowledged (a leader change in between): say it again
      this.st.slotWorker.forEach((w, s) => {
        const a = this.ctx.agents.get(w);
        if (a && !a.session) this.assign(s, a);
      });
      return;
    }
    // (before the plans went out, a lost slot is simply given to another worker: nothing to restore)
    if (this.c.startedAt > 0 && lost.length === this.rec.slots && this.st.state === 'running') {
      this.st.state = 'interrupted';
      this.dirty = true;
      this.log(`lost every worker; run "tessds resume --plan ${this.name}"`);
      return;
    }
    // a total crash is noticed one worker at a time (the term reads their leases one by one, and a
    // slow read ends its pass): replace only while every other slot's worker is connected
    const unsure = this.st.slotWorker.some((w, s) => !lost.includes(s) && !this.ctx.agents.has(w));
    if (this.c.startedAt > 0 && this.st.state === 'running' && unsure) return;
    const deletes: string[] = [];
    if (this.st.state === 'interrupted') {
      if (!(await this.ctx.cluster.get(key.resume(this.name)))) return;
      deletes.push(key.resume(this.name));
    }
    const idle = this.enoughIdle(lost.length, 'to replace lost ones');
    if (!idle) return;
    lost.forEach((s, i) => {
      this.st.slotWorker[s] = idle[i]!.workerId;
      this.st.slotAddress[s] = null;
      Object.assign(this.c.slots[s]!, { hello: undefined, pid: idle[i]!.pid, host: idle[i]!.host });
      this.c.replacing(s);
    });
    this.st.state = 'running';
    this.dirty = true;
    if (!(await this.writeState(deletes))) return;
    lost.forEach((s, i) => this.assign(s, idle[i]!));
  }

  // ---- the end ----

  private async finish(): Promise<void> {
    this.finishing = true;
    if (!this.final) {
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
      const dump = this.c.finish(dumps);
      const wall = this.c.startedAt > 0 ? (Date.now() - this.c.startedAt) / 1000 : 0;
      this.final = {
        summary: summarizeDump(dump, this.c.demand, this.rec.spec.stepLength, wall, this.c.stepSeconds),
      };
    }
    const { summary } = this.final;
    this.st.state = 'finished';
    this.dirty = true;
    if (!(await this.writeState([], [{ key: key.summary(this.name), value: json(summary) }]))) {
      this.finishing = false;
      return;
    }
    this.log(`finished, state hash ${summary.stateHash}`);
    this.end();
  }

  private async fail(message: string): Promise<void> {
    this.st.state = 'failed';
    this.st.message = message;
    this.dirty = true;
    this.log(`failed: ${message}`);
    if (await this.writeState()) this.end();
  }

  private end(): void {
    this.over = true;
    this.c.broadcast({ type: 'shutdown' });
    for (const w of this.st.slotWorker) {
      const a = this.ctx.agents.get(w);
      if (a?.session?.plan === this.name) a.session = undefined;
    }
    void this.planStore?.close();
  }

  // ---- the store ----

  /** Writes the status mirror, and the plan state when it changed; false when fenced. */
  private async writeState(deletes: string[] = [], extra: { key: string; value: Buffer }[] = []): Promise<boolean> {
    // the status mirror lives in the store: an outage is written once the store answers again
    this.c.noteOutages(this.ctx.storeOutages(), this.ctx.cluster.url, this.mirroredStep, this.rec.submittedAt);
    const status = this.status();
    const entries = [{ key: key.status(this.name), value: json(status) }, ...extra];
    const dirty = this.dirty;
    if (dirty) {
      const st = { ...this.st, committed: this.c.committed, startedAt: this.c.startedAt, epoch: this.ctx.epoch };
      entries.push({ key: key.state(this.name), value: json(st) });
    }
    const ok = await this.ctx.write(entries, deletes);
    if (ok && dirty) this.dirty = false;
    if (ok) this.mirroredStep = status.step;
    return ok;
  }

  /** The figures `GET /metrics` shows for this plan (control/master-metrics.ts). */
  figures(now = Date.now()): PlanFigures {
    const lastHeardSeconds = new Map<number, number>();
    for (const w of this.workers()) {
      const a = this.ctx.agents.get(w);
      if (a) lastHeardSeconds.set(w, Math.max(0, now - a.lastHeard) / 1000);
    }
    const paused = this.c.deskOpen && this.c.desk.paused;
    return { plan: this.name, step: this.c.step(), recoveries: this.c.recoveries, paused, lastHeardSeconds };
  }

  private status() {
    const c = this.c;
    const desk = c.deskOpen ? c.desk : undefined;
    return {
      plan: this.name,
      step: c.step(),
      state: this.st.state,
      workers: c.workerStatus(),
      leader: this.ctx.leaderInfo(),
      recoveries: c.recoveries,
      committedCheckpoint: c.committed,
      paused: desk?.paused ?? false,
      realtimeFactor: desk?.pace?.factor ?? null,
      horizon: desk?.horizon,
      events: c.events,
      error: this.st.message,
    };
  }
}
