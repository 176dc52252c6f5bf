/**
 * `tessds master`: one of several master processes sharing a store. All compete for the leader lease
 * (leader.ts); the leader opens a control port, publishes it in the leader record, and coordinates
 * every submitted plan (plan-run.ts) with the workers that connect to it. Leadership lost (a failed
 * renewal, a pause longer than the lease) ends the term at once: its sockets close and its state is
 * dropped; a later term rebuilds everything from the store. Given --http, any master, leading or
 * not, serves the control API on its view (master-view.ts; the server is control/master-http.ts,
 * handed in by the CLI): status, network and timeline from the store, commands and the plan figures
 * of /metrics only on the leader.
 */
import os from 'node:os';
import type { Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { FrameKind, listen, rejectLogger, type FramedSocket } from '../frames.js';
import { readFromAgent } from '../validate.js';
import { IntegrityError } from '../integrity.js';
import type { WorkerMessage } from '../protocol.js';
import { RECONNECT_MAX_MS, type Store } from '../store/store.js';
import { LeaderElection } from './leader.js';
import {
  AGENT_TYPES,
  type AgentMessage,
  type FromAgent,
  type LeaderMessage,
  type SessionInfo,
  type ToAgent,
} from './messages.js';
import {
  CLUSTER_NS,
  LEADER_LEASE,
  json,
  key,
  readJson,
  readPlanRecord,
  type LeaderRecord,
  type PlanRecord,
  type PlanState,
} from './layout.js';
import { PlanRun, type Agent, type LeaderContext } from './plan-run.js';
import type { DeskCommand } from '../command-desk.js';
import { RequestError } from '../../errors.js';
import {
  readStatus,
  type MasterCommandAnswer,
  type MasterView,
  type PlanFigures,
  type ServeMasterHttp,
} from './master-view.js';
import { StoreOutages, type StoreReport } from '../store-outages.js';

export { readStatus };

/** owner of a dead worker's lease once a leader took it */
const FENCED = 'fenced-by-leader-';

export interface MasterOptions {
  cluster: Store;
  /** the store URL, handed to workers for checkpoints */
  storeUrl: string;
  /** address workers reach the control port on */
  listenHost: string;
  /** the control port (default 0: a free port per term; the leader record tells workers) */
  listenPort?: number;
  /** serves the control API on the master's view (the control layer's server; `--http`) */
  serveHttp?: ServeMasterHttp;
  leaseMs: number;
  heartbeatMs: number;
  log: (line: string) => void;
  /** checks a posted command body (the control layer's parser; throws RequestError); without it
   *  POST /api/commands answers 501 */
  parseCommand?: (body: unknown) => DeskCommand;
  /** the cluster secret (secret.ts; PUBLIC_KEY when none is configured): every worker proves it
   *  holds it, for this term's epoch, before anything it sends is read */
  secret: Buffer;
}

/** Starts a master; resolves to a function that stops it (releasing the lease if it leads). */
export async function runMaster(o: MasterOptions): Promise<() => Promise<void>> {
  const owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const election = new LeaderElection(
    o.cluster,
    owner,
    { leaseMs: o.leaseMs, heartbeatMs: o.heartbeatMs },
    LEADER_LEASE,
  );
  // Store outages are kept by the process, not the term: one longer than the lease ends the term
  // that saw it begin, and whichever term leads once the store is back writes it into the timelines.
  const outages = new StoreOutages();
  const storeReport = (r: StoreReport) => {
    const change = outages.report(r);
    const last = outages.last;
    if (change === 'down')
      o.log(
        `master pid ${process.pid}: store ${o.cluster.url} unreachable (${last!.error}${r.by !== undefined ? `, noticed by worker ${r.by}` : ''})`,
      );
    if (change === 'up')
      o.log(`master pid ${process.pid}: store ${o.cluster.url} answers again after ${last!.upAt! - last!.downAt} ms`);
  };
  o.cluster.watch?.((a) => storeReport({ up: a.up, at: Date.now(), error: a.up ? undefined : a.error }));
  const store = { outages, report: storeReport };
  let term: LeaderTerm | undefined;
  election.on('elected', (epoch) => {
    o.log(`master pid ${process.pid}: leading with epoch ${epoch}`);
    term = new LeaderTerm(o, election, epoch, store);
    term
      .start()
      .catch((err: Error) => o.log(`master pid ${process.pid}: term ${epoch} failed to start: ${err.message}`));
  });
  election.on('lost', (epoch, reason) => {
    o.log(`master pid ${process.pid}: lost leadership of epoch ${epoch}: ${reason}`);
    term?.stop();
    term = undefined;
  });
  election.on('historyLost', (counter, seen, epoch) =>
    o.log(
      `master pid ${process.pid}: the store lost its history: its leader epoch counter was at ${counter}, below epoch ${seen} seen before (FLUSHDB, or a restore without its AOF); leading with epoch ${epoch} so that no fencing token repeats`,
    ),
  );
  // one line per distinct problem, not one per heartbeat
  const told = new Set<string>();
  election.on('storeError', (message) => {
    if (told.has(message)) return;
    told.add(message);
    o.log(`master pid ${process.pid}: cannot stand for leader: ${message}`);
  });
  election.start();
  const command = async (plan: string, body: unknown): Promise<MasterCommandAnswer> => {
    if (!o.parseCommand) return { status: 501, body: { error: 'this master takes no commands' } };
    let c: DeskCommand;
    try {
      c = o.parseCommand(body);
    } catch (e) {
      if (e instanceof RequestError) return { status: e.status, body: { error: e.message } };
      throw e;
    }
    if (!term) {
      const leader = await readJson<LeaderRecord>(o.cluster, key.leader).catch(() => undefined);
      const lease = await o.cluster.readLease(LEADER_LEASE).catch(() => undefined);
      const who =
        leader && lease && lease.epoch === leader.epoch
          ? `the leader is pid ${leader.pid} on ${leader.host}`
          : 'no master leads right now (leadership is changing)';
      return {
        status: 409,
        body: {
          error: `this master (pid ${process.pid}) does not lead: ${who}; send commands to the leader's --http port`,
        },
      };
    }
    return term.command(plan, c);
  };
  const view: MasterView = {
    status: (plan) => readStatus(o.cluster, plan),
    plan: (plan) => readPlanRecord(o.cluster, plan),
    command,
    figures: () => term?.figures(),
    store: () => ({ url: o.cluster.url, up: !outages.down }),
  };
  const statusServer = o.serveHttp ? await o.serveHttp(view) : undefined;
  if (statusServer) {
    const a = statusServer.address();
    if (a && typeof a === 'object')
      o.log(
        `master pid ${process.pid}: control API at http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/ (/api/status?plan=NAME, /api/network, /api/timeline, POST /api/commands, /metrics)`,
      );
  }
  o.log(`master pid ${process.pid} standing for leader`);
  return async () => {
    statusServer?.close();
    await election.stop(); // a standby leads at its next attempt instead of after the lease
  };
}

/** Everything a leader holds for one epoch; dropped whole when the epoch ends. */
class LeaderTerm implements LeaderContext {
  readonly agents = new Map<number, Agent>();
  /** workers declared dead by this term (their leases taken) */
  readonly dead = new Set<number>();
  /** workers whose connection to this term closed (a killed process closes it at once) */
  private readonly disconnected = new Set<number>();
  private readonly runs = new Map<string, PlanRun>();
  private readonly over = new Set<string>();
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** no worker is declared dead before this (ms since epoch): a new term, or the store just stalled,
   *  leaves workers one lease, plus the longest Redis reconnect back-off, to renew and reconnect */
  private graceUntil: number;

  constructor(
    readonly o: MasterOptions,
    private readonly election: LeaderElection,
    readonly epoch: number,
    private readonly store: { outages: StoreOutages; report: (r: StoreReport) => void },
  ) {
    this.graceUntil = Date.now() + o.leaseMs + RECONNECT_MAX_MS;
  }

  storeOutages() {
    return this.store.outages.outages;
  }

  storeReport(r: StoreReport): void {
    this.store.report(r);
  }

  get cluster(): Store {
    return this.o.cluster;
  }

  leading(): boolean {
    return !this.stopped && this.election.epoch === this.epoch;
  }

  leaderInfo() {
    return { pid: process.pid, host: os.hostname(), epoch: this.epoch };
  }

  /** A fenced write for this term; false once the term is over. */
  async write(entries: { key: string; value: Buffer }[], deletes: string[] = []): Promise<boolean> {
    if (this.stopped || this.election.epoch !== this.epoch) return false;
    return this.election.write(entries, deletes);
  }

  send(workerId: number, m: ToAgent): void {
    if (this.stopped || this.election.epoch !== this.epoch) return;
    this.agents.get(workerId)?.sock.sendControl({ ...m, epoch: this.epoch });
  }

  idleAgents(): Agent[] {
    const busy = new Set<number>();
    for (const r of this.runs.values()) for (const w of r.workers()) busy.add(w);
    return [...this.agents.values()]
      .filter((a) => !a.session && !busy.has(a.workerId) && !this.dead.has(a.workerId))
      .sort((a, b) => a.workerId - b.workerId);
  }

  async start(): Promise<void> {
    const { server, port } = await listen(
      this.o.listenHost,
      this.o.listenPort ?? 0,
      (sock) => this.onConnection(sock),
      {
        auth: { secret: this.o.secret, plan: CLUSTER_NS.plan, epoch: this.epoch },
        onReject: rejectLogger(`the leader's port (epoch ${this.epoch})`),
      },
    );
    this.server = server;
    if (this.stopped) return void server.close();
    const rec: LeaderRecord = {
      epoch: this.epoch,
      pid: process.pid,
      host: os.hostname(),
      address: { host: this.o.listenHost, port },
    };
    if (!(await this.write([{ key: key.leader, value: json(rec) }]))) return;
    this.loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.server?.close();
    for (const a of this.agents.values()) a.sock.socket.destroy();
    this.agents.clear();
  }

  private loop(): void {
    const t0 = Date.now();
    this.tick()
      .catch((err: Error) => this.o.log(`leader epoch ${this.epoch}: ${err.message}`))
      .finally(() => {
        if (!this.stopped)
          this.timer = setTimeout(() => this.loop(), Math.max(0, this.o.heartbeatMs - (Date.now() - t0)));
      });
  }

  /** The figures of every plan this term coordinates (GET /metrics). */
  figures(): PlanFigures[] {
    if (this.stopped || this.election.epoch !== this.epoch) return [];
    const now = Date.now();
    return [...this.runs.values()].map((r) => r.figures(now));
  }

  /** A command for plan `name` (POST /api/commands?plan=NAME on this leader). */
  async command(name: string, c: DeskCommand): Promise<MasterCommandAnswer> {
    if (this.stopped || this.election.epoch !== this.epoch)
      return { status: 409, body: { error: 'leadership is changing; send the command again to the new leader' } };
    const r = this.runs.get(name);
    if (r) return r.command(c);
    if (this.over.has(name)) return { status: 409, body: { error: `plan ${name} is over; no more commands` } };
    if (!(await this.cluster.get(key.plan(name)))) return { status: 404, body: { error: `no plan ${name}` } };
    return { status: 503, body: { error: `the leader is still taking over plan ${name}; try again in a moment` } };
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const loadStart = Date.now();
    for (const k of await this.cluster.list('plans/')) {
      const name = k.slice('plans/'.length);
      if (!this.runs.has(name) && !this.over.has(name)) await this.load(name);
    }
    // a takeover waits out a store stall: the workers could not renew meanwhile either
    if (Date.now() - loadStart > this.o.heartbeatMs)
      this.graceUntil = Math.max(this.graceUntil, Date.now() + this.o.leaseMs + RECONNECT_MAX_MS);
    // liveness: a worker whose lease expired is dead; taking its lease fences it out. Not in the
    // term's first lease period: after a store outage workers need one heartbeat to renew.
    if (Date.now() < this.graceUntil) return this.tickRuns();
    const ids = new Set<number>(this.agents.keys());
    for (const r of this.runs.values()) for (const w of r.workers()) ids.add(w);
    for (const id of ids) {
      if (this.dead.has(id) || this.stopped) continue;
      const t0 = Date.now();
      const lease = await this.cluster.readLease(key.workerLease(id));
      if (Date.now() - t0 > this.o.heartbeatMs) {
        // the store stalled (an outage): the workers could not renew either; give them a lease
        this.graceUntil = Date.now() + this.o.leaseMs + RECONNECT_MAX_MS;
        return this.tickRuns();
      }
      const fenced = lease?.owner.startsWith(FENCED) === true;
      const agent = this.agents.get(id);
      // a lease that lapsed while the worker still talks to us (its store connection lags), or while
      // it builds or restores parts (CPU-bound, no timers run) and is still connected: it lives
      // (building excuses also a worker not connected yet, unless its connection to us closed: a
      // session given its plan by the previous leader may be too busy to reconnect)
      const building = !this.disconnected.has(id) && [...this.runs.values()].some((r) => r.isBuilding(id));
      const excused = building || (agent !== undefined && Date.now() - agent.lastHeard <= this.o.leaseMs);
      if (fenced || (lease === undefined && !excused)) await this.declareDead(id, fenced);
    }
    await this.sweepRegistry();
    await this.tickRuns();
  }

  /**
   * The registry: a registered worker that is neither connected nor hosting anything and whose lease
   * expired is gone; its lease is taken (were it only paused, it exits when it wakes) and its record
   * removed, so the registry lists the workers that exist.
   */
  private async sweepRegistry(): Promise<void> {
    const busy = new Set<number>();
    for (const r of this.runs.values()) for (const w of r.workers()) busy.add(w);
    const gone: string[] = [];
    for (const k of await this.cluster.list('worker/')) {
      const id = Number(k.slice('worker/'.length));
      if (this.agents.has(id) || busy.has(id) || this.stopped) continue;
      const lease = await this.cluster.readLease(key.workerLease(id));
      if (lease && !lease.owner.startsWith(FENCED)) continue; // alive, not connected yet
      if (this.election.epoch !== this.epoch) return;
      if (!lease && !(await this.cluster.acquireLease(key.workerLease(id), `${FENCED}${this.epoch}`, 24 * 3600_000)))
        continue;
      gone.push(k);
    }
    if (gone.length > 0) await this.write([], gone);
  }

  private async tickRuns(): Promise<void> {
    for (const [name, r] of this.runs) {
      if (this.stopped) return;
      await r.tick();
      if (r.over) {
        this.runs.delete(name);
        this.over.add(name);
      }
    }
  }

  /** plans being loaded: the tick and a worker's session may ask for the same plan at once */
  private readonly loading = new Map<string, Promise<PlanRun | undefined>>();

  /** The plan's run, loaded once (concurrent callers share the load: one PlanRun per plan and term). */
  private load(name: string): Promise<PlanRun | undefined> {
    let p = this.loading.get(name);
    if (!p) {
      p = this.loadOnce(name).finally(() => this.loading.delete(name));
      this.loading.set(name, p);
    }
    return p;
  }

  private async loadOnce(name: string): Promise<PlanRun | undefined> {
    const known = this.runs.get(name);
    if (known) return known;
    let rec: PlanRecord | undefined;
    try {
      rec = await readPlanRecord(this.cluster, name);
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      // a damaged scenario does not heal: the plan fails once, naming it (tessds wait prints it)
      this.over.add(name);
      this.o.log(`leader epoch ${this.epoch}: plan ${name} failed: ${err.message}`);
      const st: PlanState = {
        state: 'failed',
        committed: 0,
        slotWorker: [],
        slotAddress: [],
        startedAt: 0,
        epoch: this.epoch,
        message: err.message,
      };
      await this.write([{ key: key.state(name), value: json(st) }]);
      return undefined;
    }
    if (!rec) return undefined;
    const st = await readJson<PlanState>(this.cluster, key.state(name));
    if (st && (st.state === 'finished' || st.state === 'failed')) {
      this.over.add(name);
      return undefined;
    }
    const r = new PlanRun(this, rec, st);
    this.runs.set(name, r);
    await r.takeOver();
    return r;
  }

  private async declareDead(id: number, fencedBefore: boolean): Promise<void> {
    // taking a worker's lease is not fenced by our epoch: only while we certainly lead
    if (this.stopped || this.election.epoch !== this.epoch) return;
    if (!fencedBefore) {
      // taking the lease bumps its epoch: the worker's next renewal and fenced writes fail
      const took = await this.cluster.acquireLease(key.workerLease(id), `${FENCED}${this.epoch}`, 24 * 3600_000);
      if (!took) return; // renewed just now: alive after all
    }
    this.dead.add(id);
    const a = this.agents.get(id);
    if (a) {
      a.sock.sendControl({ type: 'fenced', epoch: this.epoch, reason: 'lease expired' } satisfies LeaderMessage);
      a.sock.socket.destroy();
      this.agents.delete(id);
    }
    this.o.log(`leader epoch ${this.epoch}: worker ${id} is dead (lease expired)`);
    for (const r of this.runs.values()) r.onWorkerDead(id);
  }

  private onConnection(sock: FramedSocket): void {
    let agent: Agent | undefined;
    sock.on('frame', (kind, payload) => {
      if (agent) agent.lastHeard = Date.now();
      if (kind !== FrameKind.control || this.stopped) return;
      // a message that cannot be read throws: the frame layer closes this connection only
      const m: FromAgent = readFromAgent(payload);
      if (AGENT_TYPES.has(m.type)) {
        const am = m as AgentMessage;
        if (am.type === 'agent') {
          if (this.dead.has(am.workerId)) {
            sock.sendControl({ type: 'fenced', epoch: this.epoch, reason: 'declared dead' } satisfies LeaderMessage);
            return void sock.socket.destroy();
          }
          this.disconnected.delete(am.workerId);
          agent = {
            workerId: am.workerId,
            pid: am.pid,
            host: am.host,
            listenHost: am.listenHost,
            sock,
            lastHeard: Date.now(),
            session: am.session,
          };
          this.agents.get(am.workerId)?.sock.socket.destroy();
          this.agents.set(am.workerId, agent);
          if (am.session) void this.onSession(agent, am.session);
        } else if (am.type === 'idle' && agent) {
          agent.session = undefined;
        }
        return;
      }
      if (!agent?.session) return;
      this.runs.get(agent.session.plan)?.onWorkerMessage(agent, m as WorkerMessage);
    });
    sock.on('close', () => {
      if (agent && this.agents.get(agent.workerId)?.sock === sock) {
        this.agents.delete(agent.workerId);
        this.disconnected.add(agent.workerId);
      }
    });
  }

  private async onSession(agent: Agent, s: SessionInfo): Promise<void> {
    const r = this.runs.get(s.plan) ?? (this.over.has(s.plan) ? undefined : await this.load(s.plan));
    if (!r) {
      // its plan is over: let the session go
      this.send(agent.workerId, { type: 'shutdown' });
      return;
    }
    r.onAgentSession(agent, s);
  }
}
