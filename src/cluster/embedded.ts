/**
 * The embedded cluster of `tessds run --workers N`: this process is the master; it partitions the
 * network, starts N worker processes on this machine, hands each its parts and the scenario, watches
 * their progress (status file, progress line), and merges their final state dumps. The master is off
 * the data path: workers exchange border messages among themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { ScenarioSpec } from '../io/spec.js';
import { UsageError } from '../errors.js';
import { Network } from '../sim/network.js';
import { scenarioDemand, type Demand } from '../sim/demand.js';
import { mergeDumps, type StateDump } from '../sim/dump.js';
import { makePartition, type PartitionOptions, type PartitionPlan } from '../partition/plan.js';
import { FrameKind, listen, rejectLogger, type FramedSocket } from './frames.js';
import { readWorkerMessage, WireError } from './validate.js';
import {
  assertNever,
  decodeDump,
  type FrameSampler,
  type LogConfig,
  type MasterMessage,
  type NetFault,
  type WorkerLogFactory,
  type WorkerMessage,
} from './protocol.js';
import { StatusWriter, type RunStatus, type WorkerStatus } from './status.js';
import { CommandDesk, type DeskAnswer, type DeskCommand, type ScriptedCommand } from './command-desk.js';
import type { ResolvedCommand } from '../sim/commands.js';
import { resolveSimCommand } from '../sim/commands-resolve.js';
import { commandParts } from '../sim/commands-resolve.js';
import { applyDemandCommands } from '../sim/commands-apply.js';
import { InputError } from '../errors.js';
import { CheckCollector } from './check.js';
import { CheckpointCommits, deleteCheckpointsBefore } from './commits.js';
import { StoreOutages, storeDownEvent, storeUpEvent, type StoreReport } from './store-outages.js';
import { runWorker } from './worker.js';
import { workerArgs, type EmbeddedLinks, type WorkerPool } from './prestart.js';
import { randomSecret, workerEnv } from './secret.js';
import type { LinkAuth } from './link-auth.js';
import { sinceStart, timing } from '../timing.js';
import { openStore } from './store/store.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** how long a viewer's frame waits for slow workers */
const FRAME_WAIT_MS = 300;

export async function runEmbedded(spec: ScenarioSpec, o: EmbeddedOptions): Promise<EmbeddedResult> {
  if (spec.end === undefined) {
    throw new UsageError('--workers and --parts need an end time: give --end (or <end> in the scenario)');
  }
  if (!Number.isInteger(o.workers) || o.workers < 1)
    throw new UsageError(`--workers must be a whole number ≥ 1, got ${o.workers}`);
  const net = new Network(spec.net);
  const demand = scenarioDemand(spec, net);
  const plan = makePartition(net, demand, o);
  /** names this scenario to the workers; not handed to pre-started workers, only worker 0 holds it */
  const scenarioId = o.scenarioId ?? `in-process:${process.pid}`;
  o.onPartition?.(plan, net);
  const workers = Math.min(o.workers, plan.parts);
  const partWorker = Array.from({ length: plan.parts }, (_, p) => p % workers);

  const sockets = new Map<number, FramedSocket>();
  const hellos = new Map<number, Extract<WorkerMessage, { type: 'hello' }>>();
  const dumps: StateDump[] = [];
  const done = new Set<number>();
  const ready = new Set<number>();
  const status = new StatusWriter(o.statusFile);
  const heartbeatMs = o.heartbeatMs ?? 250;
  const leaseMs = o.leaseMs ?? 1000;
  if (heartbeatMs > 0 && leaseMs <= heartbeatMs)
    throw new UsageError(`--lease-ms (${leaseMs}) must be longer than --heartbeat-ms (${heartbeatMs})`);
  /** when each worker was last heard from (ms since epoch) */
  const lastHeard = new Map<number, number>();
  /** a lost worker being replaced: when it was lost, and the step to catch up with to count as recovered */
  const lostInfo = new Map<number, { at: number; catchUp: number; from: number }>();
  const childOf = new Map<number, ChildProcess>();
  /** workers the watchdog killed (already marked lost) */
  const fenced = new Set<number>();
  /** replacements restoring their parts (CPU-bound, no heartbeats yet): no lease until they report, up to this time */
  const restoringUntil = new Map<number, number>();
  const checks = o.check ? new CheckCollector(plan.parts) : undefined;
  let stepSeconds = 0;
  const endStep = Math.ceil((spec.end - spec.begin) / spec.stepLength - 1e-9);
  const children: ChildProcess[] = [];
  const checkpointEvery = o.checkpointEvery ?? 0;
  const storeUrl =
    checkpointEvery > 0 ? (o.store ?? `file:${mkdtempSync(join(tmpdir(), 'tessds-store-'))}`) : undefined;
  const storeNs = { project: 'tessds', plan: o.plan ?? `run-${process.pid}` };
  // every link of the run (master and peers) proves it holds the run's secret (link-auth.ts)
  const links = o.links ?? { plan: storeNs.plan, secret: randomSecret() };
  const auth: LinkAuth = { secret: links.secret, plan: links.plan, epoch: 1 };
  const store = storeUrl ? await openStore(storeUrl, storeNs) : undefined;
  /** the store's outages as the workers (and this process's own connection) notice them */
  const outages = new StoreOutages();
  /** checkpoint step → parts that wrote it */
  const commits = new CheckpointCommits(plan.parts);
  let recoveries = 0;
  const recovering = new Set<number>();
  let frameRequests = 0;
  const frameWaiters = new Map<number, (b: Buffer) => void>();
  const desk = new CommandDesk({
    stepLength: spec.stepLength,
    resolveSim: (c, effectiveStep, prior) => {
      const resolved = resolveSimCommand(net, demand, c, { effectiveStep, prior });
      return { resolved, parts: commandParts(net, resolved, plan.laneOwner) };
    },
    realtimeFactor: o.realtimeFactor,
    store,
    canCheckpoint: store !== undefined,
    broadcast: (m) => {
      for (const sock of sockets.values()) sock.sendControl(m);
    },
    onCommand: (entry, name) => status.event({ type: 'command', step: entry.step, detail: name }),
    onPause: (paused, step) => {
      status.event({ type: paused ? 'paused' : 'resumed', step });
      status.update({ state: paused ? 'paused' : 'running' });
    },
  });
  const controller: EmbeddedController = {
    spec,
    net,
    demand,
    laneOwner: plan.laneOwner,
    parts: plan.parts,
    status: () => status.status,
    submit: (c) => desk.submit(c),
    schedule: (c, step) => desk.schedule(c, step),
    simLog: () => desk.simLog,
    store: () => (store ? { url: store.url, up: !outages.down } : undefined),
    frames: (viewport) =>
      new Promise<Buffer[]>((resolve) => {
        const id = ++frameRequests;
        const got: Buffer[] = [];
        const expected = sockets.size;
        const done = () => {
          frameWaiters.delete(id);
          resolve(got);
        };
        const timer = setTimeout(done, FRAME_WAIT_MS);
        frameWaiters.set(id, (b) => {
          got.push(b);
          if (got.length === expected) {
            clearTimeout(timer);
            done();
          }
        });
        for (const sock of sockets.values())
          sock.sendControl({ type: 'frame-request', id, viewport } satisfies MasterMessage);
      }),
  };
  o.onController?.(controller);
  /** wall-clock origin of --realtime-factor pacing (set when the plan goes out) */
  let startedAt = 0;
  let tRun = performance.now();

  return await new Promise<EmbeddedResult>((resolve, reject) => {
    let settled = false;
    const fail = (message: string, error: Error = new Error(message)) => {
      if (settled) return;
      settled = true;
      status.update({ state: 'failed', error: message });
      status.close();
      clearInterval(watchdog);
      for (const c of children) c.kill('SIGKILL');
      server?.close();
      reject(error);
    };

    // the script is part of the run's inputs: every command in it is checked and logged first
    const scriptLogged = (async () => {
      for (const [i, sc] of (o.script?.commands ?? []).entries()) {
        const a = await desk.schedule(sc.command, sc.step);
        if (a.status >= 400) throw new InputError(o.script!.file, `command ${i}: ${a.body.error}`);
      }
    })();
    scriptLogged.catch((e: Error) => fail(e.message, e));

    let server: import('node:net').Server | undefined;
    listen(
      '127.0.0.1',
      0,
      (sock) => {
        let workerId = -1;
        sock.on('frame', (kind, payload) => {
          // what cannot be read (a frame cut short, a message of the wrong shape) throws here, before
          // anything is done with it: the frame layer closes this connection only (frames.ts)
          if (kind !== FrameKind.control && workerId < 0) throw new WireError('a data frame before hello');
          if (kind === FrameKind.dump) {
            dumps.push(decodeDump(payload).dump);
            return;
          }
          if (kind === FrameKind.frame) {
            frameWaiters.get(payload.readUInt32LE(0))?.(payload.subarray(4));
            return;
          }
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
            if (sockets.get(m.workerId) === sock || m.type === 'hello') lastHeard.set(m.workerId, Date.now());
            switch (m.type) {
              case 'hello':
                workerId = m.workerId;
                sockets.set(m.workerId, sock);
                hellos.set(m.workerId, m);
                if (recovering.has(m.workerId)) replaced(m);
                else if (hellos.size === workers) {
                  o.prestarted?.dispose(); // every worker has read the scenario it was handed
                  scriptLogged.then(sendPlans, () => undefined);
                }
                break;
              case 'ready':
                // replacements start by themselves: 'start' goes out once, at the beginning
                if (ready.size === workers) break;
                ready.add(m.workerId);
                if (ready.size === workers) {
                  timing(() => `all ready at ${sinceStart()}`);
                  tRun = performance.now();
                  status.update({ state: 'running' });
                  for (const s of sockets.values()) s.sendControl({ type: 'start' } satisfies MasterMessage);
                }
                break;
              case 'status':
                onStatus(m);
                break;
              case 'checkpoint':
                onCheckpoint(m.part, m.step);
                break;
              case 'store':
                onStoreReport({ up: m.up, at: m.at, error: m.error, by: m.workerId });
                break;
              case 'done':
                done.add(m.workerId);
                stepSeconds = Math.max(stepSeconds, m.stepSeconds);
                if (done.size === workers) finish();
                break;
              case 'failed':
                fail(`worker ${m.workerId}: ${m.message}`);
                break;
              default:
                assertNever(m);
            }
          } catch (err) {
            fail(`bad message from worker ${workerId}: ${(err as Error).message}`);
          }
        });
        sock.on('close', () => {
          if (settled || done.has(workerId) || sockets.get(workerId) !== sock) return;
          if (!checkpointEvery) fail(`worker ${workerId} disconnected before the run ended`);
        });
      },
      { auth, onReject: rejectLogger('the master port') },
    )
      .then(({ server: s, port }) => {
        server = s;
        status.update({
          state: 'starting',
          step: 0,
          workers: [],
          leader: { pid: process.pid, host: os.hostname(), epoch: 1 },
        });
        // worker 0 runs in this process: the master is idle most of the time, and one process less
        // leaves the CPUs (and their garbage collector threads) to the simulation
        // it shares this process's network (no run changes one) and builds its own demand
        const preloaded = { spec, id: scenarioId, net };
        runWorker({
          masterHost: '127.0.0.1',
          masterPort: port,
          workerId: 0,
          listenHost: '127.0.0.1',
          inProcess: true,
          masterAuth: auth,
          peerAuth: auth,
          sampleFrame: o.sampleFrame,
          makeLog: o.makeLog,
          direct: (receive) => (toWorker0 = receive),
          preloaded,
        }).catch((err: Error) => fail(`worker 0: ${err.message}`));
        masterPort = port;
        for (let w = 1; w < workers; w++) startWorker(w);
        o.prestarted?.release(); // more workers than parts: the rest are not needed
      })
      .catch((err: Error) => fail(err.message));

    let masterPort = 0;
    /** worker 0's message handler, called directly (it runs in this process) */
    let toWorker0: ((m: MasterMessage) => void) | undefined;
    function startWorker(w: number) {
      const master = `127.0.0.1:${masterPort}`;
      const child =
        o.prestarted?.take(w, master) ??
        spawn(process.execPath, workerArgs(master, w, links.plan), {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: workerEnv(links.secret),
        });
      child.on('exit', (code, signal) => {
        if (settled || done.has(w)) return;
        if (!checkpointEvery)
          return fail(`worker ${w} (pid ${child.pid}) exited (${signal ?? `code ${code}`}) before the run ended`);
        // (a worker the watchdog fenced was marked lost when its lease ran out)
        if (!fenced.delete(w)) markLost(w, `exited (${signal ?? `code ${code}`})`);
        // replace it: the new process restores its parts from the last committed checkpoint
        recoveries++;
        status.update({ recoveries });
        recovering.add(w);
        hellos.delete(w);
        if (process.env.TESSDS_TIMING)
          process.stderr.write(
            `[recovery] worker ${w} (pid ${child.pid}) lost (${signal ?? code}); restarting from step ${commits.committed}\n`,
          );
        startWorker(w);
      });
      children.push(child);
      childOf.set(w, child);
    }

    /** Worker `w` is gone (detected now): record it; its parts must catch up with the run's step. */
    function markLost(w: number, why: string) {
      const ws = workerStatus.get(w);
      const reached = Math.max(0, ...[...workerStatus.values()].map((x) => x.step));
      lostInfo.set(w, { at: Date.now(), catchUp: reached, from: commits.committed });
      if (ws) ws.state = 'lost';
      status.event({ type: 'worker-lost', worker: w, pid: ws?.pid, step: reached, detail: why });
      status.update({ workers: [...workerStatus.values()] });
    }

    // Leases: a worker silent for leaseMs (paused, hung, cut off) is declared lost. In the embedded
    // cluster the master owns its processes, so the fence is simple: SIGKILL, then replace as for a crash.
    const watchdog = setInterval(
      () => {
        const now = Date.now();
        for (const ws of workerStatus.values()) {
          const heard = lastHeard.get(ws.id);
          if (heard !== undefined) ws.heartbeatAgeMs = now - heard;
          if (heartbeatMs <= 0 || !checkpointEvery || ws.id === 0 || settled || done.has(ws.id)) continue;
          if (ws.state !== 'running' && ws.state !== 'recovering') continue;
          if ((restoringUntil.get(ws.id) ?? 0) > now) continue; // its process exit still counts
          if (heard !== undefined && now - heard > leaseMs) {
            markLost(ws.id, `no heartbeat for ${now - heard} ms`);
            fenced.add(ws.id);
            childOf.get(ws.id)?.kill('SIGKILL');
          }
        }
      },
      Math.max(20, Math.min(100, leaseMs / 5)),
    );

    function planFor(w: number, recoverFrom?: number): MasterMessage {
      const peers = [...hellos.values()].map((h) => ({ workerId: h.workerId, host: '127.0.0.1', port: h.port }));
      return {
        type: 'plan',
        // a worker handed the scenario before (and worker 0, which has this process's) goes without
        ...(hellos.get(w)?.preloaded === scenarioId ? { scenarioId } : { spec }),
        parts: plan.parts,
        junctionPart: Array.from(plan.junctionPart),
        hosted: partWorker.flatMap((ww, p) => (ww === w ? [p] : [])),
        partWorker,
        peers,
        check: !!o.check,
        checkpointEvery,
        store: storeUrl ? { url: storeUrl, ...storeNs } : undefined,
        recoverFrom,
        realtimeFactor: o.realtimeFactor,
        startedAt,
        heartbeatMs,
        log: o.log,
        horizon: o.control ? desk.horizon : undefined,
        commands: [...desk.log],
        pace: desk.pace,
        // injected faults are for the original processes only: a replacement replays, faults don't repeat
        faults: recoverFrom === undefined ? o.faults : undefined,
      };
    }

    /** A replacement worker said hello: hand it the plan from the last commit, tell the others. */
    function replaced(h: Extract<WorkerMessage, { type: 'hello' }>) {
      recovering.delete(h.workerId);
      const ws = workerStatus.get(h.workerId);
      if (ws) {
        ws.pid = h.pid;
        ws.state = 'recovering';
      }
      restoringUntil.set(h.workerId, Date.now() + Math.max(10 * leaseMs, 10_000));
      sockets.get(h.workerId)!.sendControl(planFor(h.workerId, commits.committed));
      for (const [w, sock] of sockets) {
        if (w !== h.workerId)
          sock.sendControl({
            type: 'peer-restart',
            workerId: h.workerId,
            host: '127.0.0.1',
            port: h.port,
            step: commits.committed,
          } satisfies MasterMessage);
      }
    }

    /** One store outage, however many noticed it: one store-down, one store-up (store-outages.ts). */
    function onStoreReport(r: StoreReport) {
      const change = outages.report(r);
      const outage = outages.last;
      if (!change || !outage || !store) return;
      if (change === 'down') status.event(storeDownEvent(outage, store.url, status.status.step));
      else status.event(storeUpEvent({ ...outage, upAt: outage.upAt! }, store.url, status.status.step));
    }
    store?.watch?.((a) => onStoreReport({ up: a.up, at: Date.now(), error: a.up ? undefined : a.error }));

    function onCheckpoint(part: number, step: number) {
      const old = commits.committed;
      if (!commits.note(part, step)) return;
      status.event({ type: 'checkpoint', step });
      status.update({ committedCheckpoint: step });
      for (const sock of sockets.values()) sock.sendControl({ type: 'committed', step } satisfies MasterMessage);
      // R11: the master deletes checkpoints older than the committed one
      if (old > 0 && store) deleteCheckpointsBefore(store, step);
    }

    const workerStatus = new Map<number, WorkerStatus>();
    function sendPlans() {
      timing(() => `plans sent at ${sinceStart()}`);
      startedAt = Date.now() + 500; // the workers need a moment to build their parts
      desk.start(startedAt);
      for (const [w, sock] of sockets) {
        const hosted = partWorker.flatMap((ww, p) => (ww === w ? [p] : []));
        const h = hellos.get(w)!;
        workerStatus.set(w, { id: w, pid: h.pid, host: h.host, parts: hosted, step: 0, state: 'starting' });
        if (w !== 0 || !toWorker0) sock.sendControl(planFor(w));
      }
      status.update({ workers: [...workerStatus.values()] });
      // worker 0, in this process, builds its parts after the others have their plans on the way
      const local = toWorker0;
      if (local) setImmediate(() => local(planFor(0)));
    }

    const running = new Map<number, number>();
    const maxStep = new Map<number, number>();
    const arrived = new Map<number, number>();
    function onStatus(m: Extract<WorkerMessage, { type: 'status' }>) {
      controller.onWorkerStatus?.(m);
      restoringUntil.delete(m.workerId); // restored and stepping: the lease applies again
      const ws = workerStatus.get(m.workerId);
      if (ws) {
        ws.step = Math.min(...m.parts.map((p) => p.step));
        const lost = lostInfo.get(m.workerId);
        if (lost && !recovering.has(m.workerId)) {
          // a replacement: recovered once its parts caught up with where the run was when it was lost
          if (ws.step >= lost.catchUp) {
            lostInfo.delete(m.workerId);
            status.event({
              type: 'worker-recovered',
              worker: m.workerId,
              pid: ws.pid,
              step: ws.step,
              detail: JSON.stringify({ replayedSteps: Math.max(0, lost.catchUp - lost.from), lostAt: lost.at }),
            });
          } else ws.state = 'recovering';
        }
        if (!lostInfo.has(m.workerId)) ws.state = ws.step >= endStep ? 'finished' : 'running';
      }
      running.set(m.workerId, m.running);
      arrived.set(m.workerId, m.arrived);
      const step = Math.min(...[...workerStatus.values()].map((w) => w.step));
      maxStep.set(m.workerId, Math.max(...m.parts.map((p) => p.step)));
      if (o.control) desk.progress(step, Math.max(...maxStep.values()));
      const totalRunning = [...running.values()].reduce((a, b) => a + b, 0);
      const totalArrived = [...arrived.values()].reduce((a, b) => a + b, 0);
      status.update({ step, workers: [...workerStatus.values()] });
      o.onProgress?.(step, totalRunning, totalArrived);
    }

    function finish() {
      if (settled) return;
      timing(
        () => `run ${(performance.now() - tRun).toFixed(0)} ms, busiest stepping ${(stepSeconds * 1000).toFixed(0)} ms`,
      );
      if (dumps.length !== plan.parts) return fail(`expected ${plan.parts} part dumps, got ${dumps.length}`);
      settled = true;
      clearInterval(watchdog);
      // the master's demand, for tripinfo and the summary, gets the vehicles the commands added
      applyDemandCommands(demand, desk.simLog);
      const dump = mergeDumps(dumps, demand.count);
      for (const ws of workerStatus.values()) ws.state = 'finished';
      status.update({ state: 'finished', step: dump.step, workers: [...workerStatus.values()], recoveries });
      status.close();
      for (const s of sockets.values()) s.sendControl({ type: 'shutdown' } satisfies MasterMessage);
      server?.close();
      void store?.close();
      resolve({ dump, net, demand, parts: plan.parts, stepSeconds, recoveries });
    }
  });
}
