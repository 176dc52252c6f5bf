/**
 * The embedded cluster of `tessds run --workers N`: this process is the master; it partitions the
 * network and starts N worker processes on this machine. It is the local host of the coordinator
 * (coordinator.ts), which does the master's work: here are the processes (worker 0 in this one, the
 * others children), SIGKILL as the fence of a worker whose lease ran out, and the status file. The
 * master is off the data path: workers exchange border messages among themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioSpec } from '../io/spec.js';
import { InputError, UsageError } from '../errors.js';
import { Network } from '../sim/network.js';
import { scenarioDemand, type Demand } from '../sim/demand.js';
import type { StateDump } from '../sim/dump.js';
import type { ResolvedCommand } from '../sim/commands.js';
import { makePartition, type PartitionOptions, type PartitionPlan } from '../partition/plan.js';
import { FrameKind, listen, rejectLogger, type FramedSocket } from './frames.js';
import { readWorkerMessage, WireError } from './validate.js';
import {
  decodeDump,
  type FrameSampler,
  type LogConfig,
  type MasterMessage,
  type NetFault,
  type WorkerLogFactory,
  type WorkerMessage,
} from './protocol.js';
import { StatusWriter, type RunStatus } from './status.js';
import type { DeskAnswer, DeskCommand, ScriptedCommand } from './command-desk.js';
import { CheckCollector } from './check.js';
import { StoreOutages, type StoreReport } from './store-outages.js';
import { Coordinator, type CoordinatorHost } from './coordinator.js';
import { runWorker } from './worker.js';
import { workerArgs, type EmbeddedLinks, type WorkerPool } from './prestart.js';
import { randomSecret, workerEnv } from './secret.js';
import type { LinkAuth } from './link-auth.js';
import { sinceStart, timing } from '../timing.js';
import { openStore } from './store/store.js';
import { keepPartitioned, partitionedRecord } from './solo.js';

export interface EmbeddedOptions extends PartitionOptions {
  workers: number;
  /** checkpoint every this many steps; 0: never (a lost worker then fails the run) */
  checkpointEvery?: number;
  /** where checkpoints go: file:DIR or redis://… (default: a temporary directory) */
  store?: string;
  /** namespace of this run in the store */
  plan?: string;
  /** simulated seconds per wall second; undefined: as fast as possible */
  realtimeFactor?: number;
  /** ms between worker heartbeats; 0: none (a death is then noticed only by process exit) */
  heartbeatMs?: number;
  /** a worker not heard from for this long is declared lost, killed (the fence) and replaced */
  leaseMs?: number;
  /** network faults to inject (chaos testing) */
  faults?: NetFault[];
  statusFile?: string;
  /** commands scheduled ahead (`--commands FILE`): logged before the plan goes out */
  script?: { file: string; commands: ScriptedCommand[] };
  /** online commands (a control plane): parts advance only as far as the master grants */
  control?: boolean;
  /** JSON logs: the workers log there too (with `makeLog` for the in-process worker 0) */
  log?: LogConfig;
  makeLog?: WorkerLogFactory;
  /** encodes vehicle positions for the viewer, in every worker (see protocol.ts FrameSampler) */
  sampleFrame?: FrameSampler;
  /** receives the partition the run uses, once made and before any worker gets its plan */
  onPartition?: (plan: PartitionPlan, net: Network) => void;
  /** receives the handle through which commands are submitted, once the run is set up */
  onController?: (c: EmbeddedController) => void;
  check?: boolean;
  /** worker processes started while the scenario was read (worker w is taken from here when there) */
  prestarted?: WorkerPool;
  /** the id under which `prestarted` was handed this scenario (WorkerPool.preload): a worker whose
   *  hello names it holds the scenario, and gets its plan without it */
  scenarioId?: string;
  /** called about every 250 ms with the slowest part's step */
  onProgress?: (step: number, running: number, arrived: number) => void;
  /** the plan name and secret of the run's links (default: this run's plan and a random secret);
   *  the pre-started workers were given the same */
  links?: EmbeddedLinks;
  /** carry on a run whose processes all died (`tessds resume`, solo.ts): from its run record in
   *  `store`; every worker restores its parts from the committed checkpoint */
  resume?: { startedAt: number };
}

/** What a control plane (HTTP API) needs of a running embedded cluster. */
export interface EmbeddedController {
  spec: ScenarioSpec;
  net: Network;
  demand: Demand;
  /** part of each lane */
  laneOwner: Int32Array;
  parts: number;
  status(): RunStatus;
  submit(c: DeskCommand): Promise<DeskAnswer>;
  /** logs a command at a chosen step (before the run starts: `--commands FILE`) */
  schedule(c: DeskCommand, step: number): Promise<DeskAnswer>;
  /** the simulation commands accepted so far */
  simLog(): readonly ResolvedCommand[];
  /** called with every status report of a worker (for metrics) */
  onWorkerStatus?: (m: Extract<WorkerMessage, { type: 'status' }>) => void;
  /** every worker's encoded vehicle positions (those that answer within a moment) */
  frames(viewport?: [number, number, number, number]): Promise<Buffer[]>;
  /** the checkpoint store (as shown: no password) and whether it answers, as far as anyone noticed;
   *  undefined: the run has no store */
  store(): { url: string; up: boolean } | undefined;
}

export interface EmbeddedResult {
  dump: StateDump;
  net: Network;
  demand: Demand;
  parts: number;
  /** seconds the busiest worker spent stepping */
  stepSeconds: number;
  /** lost workers replaced during the run */
  recoveries: number;
}

export async function runEmbedded(spec: ScenarioSpec, o: EmbeddedOptions): Promise<EmbeddedResult> {
  if (spec.end === undefined)
    throw new UsageError('--workers and --parts need an end time: give --end (or <end> in the scenario)');
  if (!Number.isInteger(o.workers) || o.workers < 1)
    throw new UsageError(`--workers must be a whole number ≥ 1, got ${o.workers}`);
  const heartbeatMs = o.heartbeatMs ?? 250;
  const leaseMs = o.leaseMs ?? 1000;
  if (heartbeatMs > 0 && leaseMs <= heartbeatMs)
    throw new UsageError(`--lease-ms (${leaseMs}) must be longer than --heartbeat-ms (${heartbeatMs})`);
  const net = new Network(spec.net);
  const demand = scenarioDemand(spec, net);
  const plan = makePartition(net, demand, o);
  o.onPartition?.(plan, net);
  const workers = Math.min(o.workers, plan.parts);
  const checkpointEvery = o.checkpointEvery ?? 0;
  const storeUrl =
    checkpointEvery > 0 ? (o.store ?? `file:${mkdtempSync(join(tmpdir(), 'tessds-store-'))}`) : undefined;
  const storeNs = { project: 'tessds', plan: o.plan ?? `run-${process.pid}` };
  // every link of the run (master and peers) proves it holds the run's secret (link-auth.ts)
  const links = o.links ?? { plan: storeNs.plan, secret: randomSecret() };
  const auth: LinkAuth = { secret: links.secret, plan: links.plan, epoch: 1 };
  const store = storeUrl ? await openStore(storeUrl, storeNs) : undefined;
  // the run is a plan in its store: all a `tessds resume` needs once every process of it died
  const record = partitionedRecord(spec, plan.junctionPart, { ...o, workers, checkpointEvery });
  const kept = store && (await keepPartitioned(store, record, plan.parts, o.resume));

  const status = new StatusWriter(o.statusFile);
  const sockets = new Map<number, FramedSocket>();
  const childOf = new Map<number, ChildProcess>();
  /** workers the watchdog killed (already marked lost) */
  const fenced = new Set<number>();
  const dumps: StateDump[] = [];
  const checks = o.check ? new CheckCollector(plan.parts) : undefined;
  /** the store's outages as the workers (and this process's own connection) notice them */
  const outages = new StoreOutages();
  /** worker 0's message handler, called directly (it runs in this process) */
  let toWorker0: ((m: MasterMessage) => void) | undefined;
  let settled = false;
  let tRun = performance.now();
  let finish = () => {};
  let fail = (message: string, error?: Error) => void [message, error];

  const host: CoordinatorHost = {
    send: (w, m) => {
      // worker 0, in this process, builds its parts after the others have their plans on the way
      const local = toWorker0;
      if (m.type === 'plan' && w === 0 && local) setImmediate(() => local(m));
      else sockets.get(w)?.sendControl(m);
    },
    workerOf: (w) => w,
    changed: (urgent) => publish(urgent),
    durable: async () => (await kept?.started(c.startedAt)) ?? true,
    beforePlans: async () => {
      o.prestarted?.dispose(); // every worker has read the scenario it was handed
      timing(() => `plans sent at ${sinceStart()}`);
      return scriptLogged.then(
        () => true,
        () => false,
      );
    },
    started: () => {
      timing(() => `all ready at ${sinceStart()}`);
      tRun = performance.now();
    },
    allDone: () => finish(),
    onStatus: (m) => {
      controller.onWorkerStatus?.(m);
      const v = c.vehicles();
      o.onProgress?.(c.step(), v.running, v.arrived);
    },
    fail: (w, message) => fail(`worker ${w}: ${message}`),
    log: (line) => timing(() => `[recovery] ${line}`),
  };
  const c = new Coordinator(
    {
      spec,
      net,
      demand,
      parts: plan.parts,
      junctionPart: Array.from(plan.junctionPart),
      laneOwner: plan.laneOwner,
      partSlot: Array.from({ length: plan.parts }, (_, p) => p % workers),
      // names this scenario to the workers; not handed to pre-started workers, only worker 0 holds it
      scenario: { id: o.scenarioId ?? `in-process:${process.pid}` },
      checkpointEvery,
      store: storeUrl ? { url: storeUrl, ...storeNs } : undefined,
      planStore: store,
      realtimeFactor: o.realtimeFactor,
      heartbeatMs,
      leaseMs,
      control: !!o.control,
      check: !!o.check,
      log: o.log,
      faults: o.faults,
      committed: kept?.committed,
      startedAt: o.resume?.startedAt,
    },
    host,
  );
  const desk = c.openDesk({ store, restore: kept?.restore });
  const leader = { pid: process.pid, host: os.hostname(), epoch: 1 };

  /** The status file's object (DESIGN.md), from the coordinator's state. */
  function publish(urgent: boolean, state?: RunStatus['state']): void {
    if (settled && !state) return;
    const now = Date.now();
    status.update({
      state: state ?? (!c.running ? 'starting' : desk.paused ? 'paused' : 'running'),
      step: c.step(),
      workers: c.startedAt === 0 ? [] : c.workerStatus(now).map(({ slot: _, ...w }) => w),
      leader,
      recoveries: c.recoveries,
      ...(c.committed > 0 ? { committedCheckpoint: c.committed } : {}),
      events: c.events,
    });
    if (urgent) status.flush();
  }
  const controller: EmbeddedController = {
    spec,
    net,
    demand,
    laneOwner: plan.laneOwner,
    parts: plan.parts,
    status: () => status.status,
    submit: (cmd) => desk.submit(cmd),
    schedule: (cmd, step) => desk.schedule(cmd, step),
    simLog: () => desk.simLog,
    store: () => (store ? { url: store.url, up: !outages.down } : undefined),
    frames: (viewport) => c.frames(viewport),
  };
  o.onController?.(controller);

  // the script is part of the run's inputs: every command in it is checked and logged first
  const scriptLogged = (async () => {
    for (const [i, sc] of (o.script?.commands ?? []).entries()) {
      const a = await desk.schedule(sc.command, sc.step);
      if (a.status >= 400) throw new InputError(o.script!.file, `command ${i}: ${a.body.error}`);
    }
  })();

  /** One store outage, however many noticed it: one store-down, one store-up (store-outages.ts). */
  const onStoreReport = (r: StoreReport) => {
    if (outages.report(r) && store) c.noteOutages(outages.outages, store.url, c.step());
  };
  store?.watch?.((a) => onStoreReport({ up: a.up, at: Date.now(), error: a.up ? undefined : a.error }));

  return await new Promise<EmbeddedResult>((resolve, reject) => {
    fail = (message: string, error: Error = new Error(message)) => {
      if (settled) return;
      publish(true, 'failed');
      settled = true;
      status.update({ error: message });
      status.close();
      clearInterval(watchdog);
      for (const child of childOf.values()) child.kill('SIGKILL');
      server?.close();
      reject(error);
    };
    scriptLogged.catch((e: Error) => fail(e.message, e));

    const onConnection = (sock: FramedSocket) => {
      let workerId = -1;
      sock.on('frame', (kind, payload) => {
        // what cannot be read (a frame cut short, a message of the wrong shape) throws here, before
        // anything is done with it: the frame layer closes this connection only (frames.ts)
        if (kind !== FrameKind.control && workerId < 0) throw new WireError('a data frame before hello');
        if (kind === FrameKind.dump) return void dumps.push(decodeDump(payload).dump);
        if (kind === FrameKind.frame) return c.onFrame(payload);
        if (kind === FrameKind.check) {
          const err = checks?.add(payload);
          if (err) fail(`consistency check failed: ${err}`);
          return;
        }
        if (kind !== FrameKind.control) throw new WireError(`a frame of kind ${kind} on the master port`);
        const m = readWorkerMessage(payload);
        if (m.type === 'hello') {
          if (m.workerId >= workers) throw new WireError(`hello from worker ${m.workerId}; this run has ${workers}`);
          if (workerId >= 0 && m.workerId !== workerId)
            throw new WireError(`hello from worker ${m.workerId} on worker ${workerId}'s connection`);
        } else if (m.workerId !== workerId) {
          throw new WireError(
            workerId < 0
              ? `"${m.type}" before hello`
              : `"${m.type}" of worker ${m.workerId} on worker ${workerId}'s connection`,
          );
        }
        try {
          if (sockets.get(m.workerId) === sock || m.type === 'hello') c.heard(m.workerId);
          if (m.type === 'hello') {
            workerId = m.workerId;
            sockets.set(m.workerId, sock);
            c.hello(m.workerId, m, '127.0.0.1');
          } else if (m.type === 'store') onStoreReport({ up: m.up, at: m.at, error: m.error, by: m.workerId });
          else c.onMessage(m.workerId, m);
        } catch (err) {
          fail(`bad message from worker ${workerId}: ${(err as Error).message}`);
        }
      });
      sock.on('close', () => {
        if (settled || c.slots[workerId]?.done || sockets.get(workerId) !== sock) return;
        if (!checkpointEvery) fail(`worker ${workerId} disconnected before the run ended`);
      });
    };

    let server: import('node:net').Server | undefined;
    let masterPort = 0;
    listen('127.0.0.1', 0, onConnection, { auth, onReject: rejectLogger('the master port') })
      .then(({ server: s, port }) => {
        server = s;
        masterPort = port;
        publish(false);
        // worker 0 runs in this process: the master is idle most of the time, and one process less
        // leaves the CPUs (and their garbage collector threads) to the simulation
        // it shares this process's network (no run changes one) and builds its own demand
        runWorker({
          masterHost: '127.0.0.1',
          masterPort: port,
          slot: 0,
          listenHost: '127.0.0.1',
          inProcess: true,
          masterAuth: auth,
          peerAuth: auth,
          sampleFrame: o.sampleFrame,
          makeLog: o.makeLog,
          direct: (receive) => (toWorker0 = receive),
          preloaded: { spec, id: o.scenarioId ?? `in-process:${process.pid}`, net },
        }).catch((err: Error) => fail(`worker 0: ${err.message}`));
        for (let w = 1; w < workers; w++) startWorker(w);
        o.prestarted?.release(); // more workers than parts: the rest are not needed
      })
      .catch((err: Error) => fail(err.message));

    function startWorker(w: number) {
      const master = `127.0.0.1:${masterPort}`;
      const child =
        o.prestarted?.take(w, master) ??
        spawn(process.execPath, workerArgs(master, w, links.plan), {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: workerEnv(links.secret),
        });
      child.on('exit', (code, signal) => {
        if (settled || c.slots[w]!.done) return;
        const how = signal ?? `code ${code}`;
        if (!checkpointEvery) return fail(`worker ${w} (pid ${child.pid}) exited (${how}) before the run ended`);
        // (a worker the watchdog fenced was marked lost when its lease ran out)
        if (!fenced.delete(w)) c.lost(w, `exited (${how})`, child.pid);
        // replace it: the new process restores its parts from the last committed checkpoint
        c.replacing(w);
        startWorker(w);
      });
      childOf.set(w, child);
    }

    // Leases: a worker silent for leaseMs (paused, hung, cut off) is declared lost. In the embedded
    // cluster the master owns its processes, so the fence is simple: SIGKILL, then replace as for a crash.
    const watchdog = setInterval(
      () => {
        publish(false); // the heartbeat ages
        for (const { slot: w, silentMs } of settled ? [] : c.expired()) {
          if (w === 0) continue; // in this process: its silence is ours
          c.lost(w, `no heartbeat for ${silentMs} ms`);
          fenced.add(w);
          childOf.get(w)?.kill('SIGKILL');
        }
      },
      Math.max(20, Math.min(100, leaseMs / 5)),
    );

    finish = () => {
      if (settled) return;
      timing(
        () =>
          `run ${(performance.now() - tRun).toFixed(0)} ms, busiest stepping ${(c.stepSeconds * 1000).toFixed(0)} ms`,
      );
      if (dumps.length !== plan.parts) return fail(`expected ${plan.parts} part dumps, got ${dumps.length}`);
      const dump = c.finish(dumps);
      publish(false, 'finished');
      settled = true;
      clearInterval(watchdog);
      status.close();
      for (const s of sockets.values()) s.sendControl({ type: 'shutdown' } satisfies MasterMessage);
      server?.close();
      void store?.close();
      resolve({ dump, net, demand, parts: plan.parts, stepSeconds: c.stepSeconds, recoveries: c.recoveries });
    };
  });
}
