/**
 * `tessds run`: simulate a scenario in this process, or split into parts on an embedded cluster of
 * worker processes (`--workers`, `--parts`); either way the same summary, outputs and state hash.
 */
import os from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeTripinfo } from '../io/tripinfo.js';
import { CommandError, InputError, UsageError } from '../errors.js';
import { checkOutputPath, readJsonList } from '../io/files.js';
import type { NetFault } from '../cluster/protocol.js';
import { Engine } from '../sim/engine.js';
import { dumpState } from '../sim/dump.js';
import { restore, snapshot } from '../sim/snapshot.js';
import { summarizeDump, type Summary } from '../sim/summary.js';
import { WorkerPool, type EmbeddedLinks } from '../cluster/prestart.js';
import { configuredSecret, randomSecret } from '../cluster/secret.js';
import { checkBind, controlToken } from '../control/auth.js';
import { sinceStart, timing } from '../timing.js';
import { StatusWriter } from '../cluster/status.js';
import { loadPartitionMap, savePartitionMap } from '../partition/mapfile.js';
import { prepareScenario } from './prepare.js';
import { Progress } from './progress.js';
import { createLogger, workerLogFactory, type Logger } from '../control/log.js';
import { createMetrics } from '../control/metrics.js';
import { LocalRun, type LocalSimCommands } from '../control/local.js';
import type { ControlServer } from '../control/http.js';
import { EmbeddedBackend } from '../control/embedded-backend.js';
import { makeFrameSampler } from '../control/positions.js';
import { localSimCommands } from '../control/sim-commands.js';
import { loadCommandScript } from './command-script.js';
import type { ResolvedCommand } from '../sim/commands.js';
import { resolveSimCommand } from '../sim/commands-resolve.js';
import { applyCommand } from '../sim/commands-apply.js';
import type { ScenarioSpec } from '../io/spec.js';
import { openStore, redactUrl, type Store } from '../cluster/store/store.js';
import { StoreError } from '../cluster/store/store-error.js';
import {
  readRunRecord,
  restoreSolo,
  runSolo,
  writeRunRecord,
  type PartitionedRecord,
  type RunRecord,
  type SoloRecord,
} from '../cluster/solo.js';
import { Network } from '../sim/network.js';

// Loaded on first call: a one-process run without --http needs neither the embedded cluster (workers,
// partitioning, store) nor the control server, and every run pays for what this file imports.
const runEmbedded: typeof import('../cluster/embedded.js').runEmbedded = async (...args) =>
  (await import('../cluster/embedded.js')).runEmbedded(...args);
const startControlServer: typeof import('../control/http.js').startControlServer = async (...args) =>
  (await import('../control/http.js')).startControlServer(...args);

export interface RunOptions {
  begin?: number;
  end?: number;
  step?: number;
  seed?: number;
  timeToTeleport?: number;
  summary?: string;
  tripinfo?: string;
  saveState?: string;
  loadState?: string;
  workers?: number;
  parts?: number;
  minParts?: number;
  maxParts?: number;
  partitionMap?: string;
  /** write the junction → part map the run uses (JSON, the --partition-map format) to this file */
  savePartition?: string;
  region?: string;
  checkpointEvery?: number;
  store?: string;
  plan?: string;
  realtimeFactor?: number;
  heartbeatMs?: number;
  leaseMs?: number;
  /** commands scheduled ahead: a JSON list of commands with "time" or "step" */
  commands?: string;
  /** chaos testing: a JSON file of network faults */
  injectFaults?: string;
  statusFile?: string;
  check?: boolean;
  progress: boolean;
  /** the cluster secret (else TESSDS_CLUSTER_SECRET, else one drawn for the run) */
  secretFile?: string;
  /** the control API's bearer token (else TESSDS_TOKEN, else none: loopback only) */
  tokenFile?: string;
  /** the token read from tokenFile or TESSDS_TOKEN (set by runCommand) */
  token?: string;
  /** serve the control API and viewer on this port (0: any free port) */
  http?: number;
  /** address to listen on (default 127.0.0.1) */
  httpHost?: string;
  /** keep serving after the run until SIGINT/SIGTERM */
  httpLinger?: boolean;
  /** validates and applies simulation commands posted to the API (src/sim/commands.ts) */
  simCommands?: LocalSimCommands;
  /** JSON log lines to this file */
  logFile?: string;
  /** JSON log lines to stderr */
  logJson?: boolean;
  logLevel?: string;
  /** called with the control server's address once it listens */
  onListening?: (url: string) => void;
  /** called with the summary once outputs are written (before --http-linger waits) */
  onSummary?: (summary: Summary) => void;
}

export async function runCommand(scenarioPath: string, o: RunOptions): Promise<Summary> {
  const t0 = performance.now();
  for (const [option, path] of [
    ['--summary', o.summary],
    ['--tripinfo', o.tripinfo],
    ['--save-state', o.saveState],
    ['--status-file', o.statusFile],
    ['--log-file', o.logFile],
    ['--save-partition', o.savePartition],
  ] as const) {
    if (path !== undefined && path !== '-') checkOutputPath(path, option);
  }
  // the control API's token, and where it may listen: bad ones are bad flags, before anything starts
  const token = o.http !== undefined ? controlToken(o.tokenFile) : undefined;
  if (o.http !== undefined) checkBind(o.httpHost ?? '127.0.0.1', token);
  o = { ...o, token };
  const workers = o.workers ?? 1;
  // the links of a partitioned run are authenticated: with the configured secret, else one drawn for this run
  const links = isPartitioned(o)
    ? { plan: o.plan ?? `run-${process.pid}`, secret: configuredSecret(o.secretFile) ?? randomSecret() }
    : undefined;
  // partitioned: the worker processes boot while this process reads the scenario
  const pool = links && Number.isInteger(workers) && workers > 1 ? new WorkerPool(workers, links) : undefined;
  try {
    return await runScenario(scenarioPath, o, t0, pool, links);
  } finally {
    pool?.dispose();
  }
}

function isPartitioned(o: RunOptions): boolean {
  return (
    (o.workers ?? 1) > 1 ||
    (o.parts ?? 1) > 1 ||
    o.partitionMap !== undefined ||
    o.minParts !== undefined ||
    o.maxParts !== undefined
  );
}

async function runScenario(
  scenarioPath: string,
  o: RunOptions,
  t0: number,
  prestarted: WorkerPool | undefined,
  links: EmbeddedLinks | undefined,
): Promise<Summary> {
  const spec = prepareScenario(scenarioPath, o);
  timing(() => `scenario read at ${sinceStart()}`);
  // the pre-started workers parse and build it while this process partitions
  const scenarioId = prestarted?.preload(spec);
  if (prestarted) timing(() => `scenario handed to the workers at ${sinceStart()}`);
  const partitioned = isPartitioned(o);
  let currentStep = 0;
  // one process: worker 0 simulating part 0; partitioned: this is the master (its workers log their own)
  const log = createLogger({
    file: o.logFile,
    json: o.logJson,
    level: o.logLevel,
    plan: o.plan ?? `run-${process.pid}`,
    ...(partitioned ? {} : { worker: 0, part: 0 }),
    step: () => currentStep,
  });
  log.info(
    {
      scenario: scenarioPath,
      begin: spec.begin,
      end: spec.end,
      stepLength: spec.stepLength,
      seed: spec.seed,
      partitioned,
    },
    'run',
  );
  if (partitioned) {
    if (o.saveState || o.loadState)
      throw new UsageError('--save-state and --load-state work only in one process (no --workers, --parts)');
    const progress = new Progress(undefined, o.progress && process.stderr.isTTY === true);
    const script = o.commands
      ? { file: o.commands, commands: loadCommandScript(o.commands, spec.begin, spec.stepLength) }
      : undefined;
    const metrics = o.http !== undefined ? createMetrics({ processMetrics: true }) : undefined;
    const backend = new EmbeddedBackend(metrics);
    // listening first: a port in use or a bad host is a clear error before anything starts
    const server =
      o.http !== undefined
        ? await startControlServer({ port: o.http, host: o.httpHost, backend, metrics, log, token: o.token })
        : undefined;
    if (server)
      o.onListening?.(`http://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}/`);
    const kept: { url?: string; made?: string } = o.checkpointEvery ? keptIn(o) : { url: o.store };
    const store = kept.url;
    const r = await runEmbedded(spec, {
      scenarioId,
      links,
      script,
      log:
        o.logFile !== undefined || o.logJson
          ? { file: o.logFile, json: o.logJson, level: o.logLevel, plan: o.plan ?? `run-${process.pid}` }
          : undefined,
      makeLog: workerLogFactory(),
      control: o.http !== undefined,
      sampleFrame: o.http !== undefined ? makeFrameSampler() : undefined,
      onPartition: (plan, net) => {
        if (o.savePartition) savePartitionMap(o.savePartition, net.junctionIds, plan.junctionPart);
      },
      onController: (c) => backend.attach(c),
      prestarted,
      workers: o.workers ?? 1,
      parts: o.parts,
      minParts: o.minParts,
      maxParts: o.maxParts,
      map: o.partitionMap ? loadPartitionMap(o.partitionMap) : undefined,
      statusFile: o.statusFile,
      check: o.check,
      checkpointEvery: o.checkpointEvery,
      store,
      plan: o.plan,
      realtimeFactor: o.realtimeFactor,
      heartbeatMs: o.heartbeatMs,
      leaseMs: o.leaseMs,
      faults: o.injectFaults ? loadFaults(o.injectFaults) : undefined,
      onProgress: (step, running, arrived) => {
        currentStep = step;
        progress.update(step, spec.begin + step * spec.stepLength, running, arrived);
      },
    }).catch(async (e: unknown) => {
      await server?.close();
      throw e;
    });
    progress.done();
    forgetRunDir(kept.made);
    reportWarnings(r.demand.warnings);
    if (o.tripinfo)
      await writeTripinfo(
        { trips: r.dump.trips, demand: r.demand, net: r.net, begin: spec.begin, stepLength: spec.stepLength },
        o.tripinfo,
      );
    currentStep = r.dump.step;
    const summary = summarizeDump(r.dump, r.demand, spec.stepLength, (performance.now() - t0) / 1000, r.stepSeconds);
    if (o.summary && o.summary !== '-') writeFileSync(o.summary, JSON.stringify(summary, null, 2) + '\n');
    log.info({ summary }, 'run finished');
    o.onSummary?.(summary);
    if (server) await lingerThenClose(server, o, log);
    return summary;
  }

  // commands scheduled ahead: a stop is an earlier end; the rest is checked now, against the scenario
  const script = o.commands ? loadCommandScript(o.commands, spec.begin, spec.stepLength) : [];
  for (const [i, sc] of script.entries()) {
    if (sc.command.type === 'stop') spec.end = Math.min(spec.end ?? Infinity, spec.begin + sc.step * spec.stepLength);
    else if (sc.command.type !== 'sim')
      throw new InputError(
        o.commands!,
        `command ${i}: "${sc.command.type}" in a command list needs a partitioned run with --checkpoint-every`,
      );
  }
  const engine = new Engine(spec);
  const scripted: ResolvedCommand[] = [];
  for (const [i, sc] of script.entries()) {
    if (sc.command.type !== 'sim') continue;
    try {
      scripted.push(
        resolveSimCommand(engine.net, engine.demand, sc.command.command, { effectiveStep: sc.step, prior: scripted }),
      );
    } catch (e) {
      if (e instanceof CommandError) throw new InputError(o.commands!, `command ${i}: ${e.message}`);
      throw e;
    }
  }
  reportWarnings(engine.demand.warnings);
  // one process simulates one part: every junction in part 0
  if (o.savePartition)
    savePartitionMap(o.savePartition, engine.net.junctionIds, new Int32Array(engine.net.junctionIds.length));
  if (o.loadState) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(o.loadState);
    } catch {
      throw new InputError(o.loadState, 'file not found');
    }
    restore(engine, bytes, o.loadState);
  }
  const status = new StatusWriter(o.statusFile);
  const worker = {
    id: 0,
    pid: process.pid,
    host: os.hostname(),
    parts: [0],
    step: engine.step,
    state: 'running' as const,
  };
  status.update({
    state: 'running',
    step: engine.step,
    workers: [worker],
    leader: { pid: process.pid, host: os.hostname(), epoch: 1 },
  });

  const progress = new Progress(engine.endStep, o.progress && process.stderr.isTTY === true);
  const tStep = performance.now();
  const paceStart = Date.now();
  let http: { steppingSeconds: number; close: () => Promise<void> } | undefined;
  // scripted commands at or after the step we start from (a loaded state holds the earlier ones)
  let next = 0;
  while (next < scripted.length && scripted[next]!.effectiveStep < engine.step) next++;
  const applyScripted = (e: Engine) => {
    while (next < scripted.length && scripted[next]!.effectiveStep === e.step) applyCommand(e, scripted[next++]!);
  };
  if (o.http !== undefined) {
    http = await runWithHttp(engine, o, status, log, scripted, next, (e) => {
      currentStep = e.step;
      progress.update(e.step, e.time(), e.running, e.arrived);
    });
  } else if (o.checkpointEvery) {
    // a run kept as a plan in a store: `tessds resume` carries it on after this process died
    const kept = await keepOneProcessRun(spec, scripted, o);
    try {
      await runSolo(engine, kept, kept.store, (e) => {
        progress.update(e.step, e.time(), e.running, e.arrived);
        if ((e.step & 63) === 0) status.update({ step: e.step, workers: [{ ...worker, step: e.step }] });
      });
    } finally {
      await kept.store.close();
    }
    forgetRunDir(kept.made);
  } else {
    applyScripted(engine);
    engine.run((e) => {
      applyScripted(e);
      if (o.realtimeFactor) {
        // a busy wait per step would burn a core: sleep in one go until the step is due
        const due = paceStart + ((e.step * spec.stepLength) / o.realtimeFactor) * 1000;
        const ms = due - Date.now();
        if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      }
      progress.update(e.step, e.time(), e.running, e.arrived);
      if ((e.step & 63) === 0) {
        worker.step = e.step;
        status.update({ step: e.step, workers: [worker] });
      }
    });
  }
  const stepSeconds = http ? http.steppingSeconds : (performance.now() - tStep) / 1000;
  timing(() => `one process: stepping ${(stepSeconds * 1000).toFixed(0)} ms`);
  currentStep = engine.step;
  progress.done();
  status.update({
    state: 'finished',
    step: engine.step,
    workers: [{ ...worker, step: engine.step, state: 'finished' }],
  });
  status.close();

  if (o.saveState) writeFileSync(o.saveState, snapshot(engine));
  const dump = dumpState(engine);
  if (o.tripinfo)
    await writeTripinfo(
      { trips: dump.trips, demand: engine.demand, net: engine.net, begin: spec.begin, stepLength: spec.stepLength },
      o.tripinfo,
    );
  const summary = summarizeDump(dump, engine.demand, spec.stepLength, (performance.now() - t0) / 1000, stepSeconds);
  if (o.summary && o.summary !== '-') writeFileSync(o.summary, JSON.stringify(summary, null, 2) + '\n');
  log.info({ summary }, 'run finished');
  o.onSummary?.(summary);
  if (http) await http.close();
  return summary;
}

/**
 * Where a run with checkpoints is kept: `--store`, else a new file store in a run directory that
 * outlives a reboot (`$TESSDS_RUN_DIR`, else `$XDG_STATE_HOME/tessds/runs`, else
 * ~/.local/state/tessds/runs), named on stderr with the `tessds resume` line that carries the run on
 * after a crash. `made`: the directory this run made, removed once the run has finished.
 */
function keptIn(o: RunOptions, env: NodeJS.ProcessEnv = process.env): { url: string; made?: string } {
  if (o.store !== undefined) return { url: o.store };
  const root =
    env['TESSDS_RUN_DIR'] || join(env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state'), 'tessds', 'runs');
  let made: string;
  try {
    mkdirSync(root, { recursive: true });
    made = mkdtempSync(join(root, 'run-'));
  } catch (e) {
    throw new UsageError(
      `--checkpoint-every: cannot make a run directory in ${root} (${(e as Error).message}); give --store or TESSDS_RUN_DIR`,
    );
  }
  const url = `file:${made}`;
  const plan = o.plan ?? `run-${process.pid}`;
  process.stderr.write(
    `tessds: run kept in ${url} as plan ${plan} (after a crash: tessds resume --store ${url} --plan ${plan})\n`,
  );
  return { url, made };
}

/** A finished run leaves nothing to resume: the run directory it made goes. */
function forgetRunDir(made: string | undefined): void {
  if (made !== undefined) rmSync(made, { recursive: true, force: true });
}

/** Opens the store of a one-process run with checkpoints and writes its run record; says where it is kept. */
async function keepOneProcessRun(
  spec: ScenarioSpec,
  scripted: ResolvedCommand[],
  o: RunOptions,
): Promise<SoloRecord & { store: Store; made?: string }> {
  if (spec.end === undefined)
    throw new UsageError('--checkpoint-every needs an end time: give --end (or <end> in the scenario)');
  const plan = o.plan ?? `run-${process.pid}`;
  const { url, made } = keptIn(o);
  let store: Store;
  try {
    store = await openStore(url, { project: 'tessds', plan });
  } catch (e) {
    if (e instanceof StoreError) throw new UsageError(`--store ${redactUrl(url)}: ${e.message}`);
    throw e;
  }
  const rec: SoloRecord = {
    kind: 'one-process',
    spec,
    scripted,
    checkpointEvery: o.checkpointEvery!,
    realtimeFactor: o.realtimeFactor,
  };
  await writeRunRecord(store, rec);
  return { ...rec, store, made };
}

/**
 * `tessds resume` of a run of this machine kept in a store (a plan with a run record, solo.ts): one
 * process from its newest checkpoint that reads back, a partitioned one from its committed
 * checkpoint, to the end; prints or writes the summary as `tessds wait` does. False: `plan` is no
 * such run in that store.
 */
export async function resumeRun(url: string, plan: string, summaryFile: string | undefined): Promise<boolean> {
  const store = await openStore(url, { project: 'tessds', plan });
  let rec: RunRecord | undefined;
  try {
    rec = await readRunRecord(store);
  } finally {
    await store.close();
  }
  if (!rec) return false;
  const summary =
    rec.kind === 'one-process' ? await resumeOneProcess(url, plan, rec) : await resumePartitioned(url, plan, rec);
  if (summaryFile === '-') process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else {
    if (summaryFile) writeFileSync(summaryFile, JSON.stringify(summary, null, 2) + '\n');
    process.stdout.write(formatSummary(`plan ${plan}`, summary) + '\n');
  }
  return true;
}

async function resumeOneProcess(url: string, plan: string, rec: SoloRecord): Promise<Summary> {
  const t0 = performance.now();
  const store = await openStore(url, { project: 'tessds', plan });
  try {
    const warn = (line: string) => process.stderr.write(`tessds: ${line}\n`);
    const { engine, from } = await restoreSolo(store, rec, warn);
    warn(`plan ${plan}: resuming at step ${from}`);
    const tStep = performance.now();
    await runSolo(engine, rec, store, () => {});
    const stepSeconds = (performance.now() - tStep) / 1000;
    const wall = (performance.now() - t0) / 1000;
    return summarizeDump(dumpState(engine), engine.demand, rec.spec.stepLength, wall, stepSeconds);
  } finally {
    await store.close();
  }
}

async function resumePartitioned(url: string, plan: string, rec: PartitionedRecord): Promise<Summary> {
  const t0 = performance.now();
  const ids = new Network(rec.spec.net).junctionIds;
  process.stderr.write(`tessds: plan ${plan}: resuming ${rec.workers} workers from the committed checkpoint\n`);
  const r = await runEmbedded(rec.spec, {
    workers: rec.workers,
    map: new Map(ids.map((id, j) => [id, rec.junctionPart[j]!])),
    checkpointEvery: rec.checkpointEvery,
    store: url,
    plan,
    realtimeFactor: rec.realtimeFactor,
    heartbeatMs: rec.heartbeatMs,
    leaseMs: rec.leaseMs,
    resume: { startedAt: rec.startedAt },
  });
  return summarizeDump(r.dump, r.demand, rec.spec.stepLength, (performance.now() - t0) / 1000, r.stepSeconds);
}

/** Reads a --inject-faults file: a JSON list of {step, worker, kind, ms?}. */
function loadFaults(file: string): NetFault[] {
  return readJsonList(file, 'faults').map((item, i) => {
    const f = (typeof item === 'object' && item !== null ? item : {}) as Partial<NetFault>;
    if (
      !Number.isInteger(f.step) ||
      !Number.isInteger(f.worker) ||
      !['cut', 'delay', 'drop'].includes(f.kind as string)
    ) {
      throw new InputError(
        file,
        `fault ${i}: expected {step: integer, worker: integer, kind: "cut"|"delay"|"drop", ms?: number}`,
      );
    }
    return { step: f.step!, worker: f.worker!, kind: f.kind!, ms: f.ms };
  });
}

/**
 * The one-process step loop under the control server: steps asynchronously, serving the API, the
 * stream and the viewer in between, until the run ends or is stopped. Returns the wall seconds spent
 * stepping (for UPS) and `close`, to call once outputs are written: it closes the server (with
 * --http-linger only after SIGINT/SIGTERM).
 */
async function runWithHttp(
  engine: Engine,
  o: RunOptions,
  status: StatusWriter,
  log: Logger,
  scripted: ResolvedCommand[],
  firstDue: number,
  onStep: (e: Engine) => void,
): Promise<{ steppingSeconds: number; close: () => Promise<void> }> {
  const metrics = createMetrics({ processMetrics: true });
  // later commands are resolved after the scripted ones (their seq, their added vehicles' indices)
  const sim = o.simCommands ?? localSimCommands(engine, [...scripted]);
  const run = new LocalRun({
    engine,
    realtimeFactor: o.realtimeFactor,
    checkpointFile: o.saveState,
    sim,
    script: scripted.slice(firstDue),
    status,
    metrics,
    log,
    onStep,
  });
  const server = await startControlServer({
    port: o.http!,
    host: o.httpHost,
    backend: run,
    metrics,
    log,
    token: o.token,
  });
  const url = `http://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}/`;
  if (o.onListening) o.onListening(url);
  try {
    await run.run();
  } catch (e) {
    await server.close();
    throw e;
  }
  return { steppingSeconds: run.steppingSeconds, close: () => lingerThenClose(server, o, log) };
}

/** Closes the control server once the run is over (with --http-linger only after SIGINT/SIGTERM). */
async function lingerThenClose(server: ControlServer, o: RunOptions, log: Logger): Promise<void> {
  if (o.httpLinger) {
    log.info({ port: server.port }, 'run over; serving until SIGINT/SIGTERM (--http-linger)');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  }
  await server.close();
}

function reportWarnings(warnings: string[]): void {
  const shown = 20;
  for (const w of warnings.slice(0, shown)) process.stderr.write(`tessds: warning: ${w}\n`);
  if (warnings.length > shown) process.stderr.write(`tessds: warning: ... and ${warnings.length - shown} more\n`);
}

/** The human-readable end-of-run report. */
export function formatSummary(scenario: string, s: Summary): string {
  const f1 = (x: number) => x.toFixed(1);
  const ups = s.ups >= 1e6 ? `${(s.ups / 1e6).toFixed(2)}M` : `${(s.ups / 1e3).toFixed(1)}k`;
  return [
    `TessDS run: ${scenario}`,
    `  simulated ${f1(s.simSeconds)} s in ${s.steps} steps, ${s.wallSeconds.toFixed(2)} s wall (${ups} vehicle updates/s)`,
    `  vehicles: ${s.loaded} loaded, ${s.inserted} inserted, ${s.arrived} arrived, ${s.running} running, ${s.waiting} waiting, ${s.teleports} teleports${s.droppedBeforeBegin ? `, ${s.droppedBeforeBegin} dropped (depart before begin)` : ''}`,
    `  mean over arrived: duration ${f1(s.meanDuration)} s, route length ${f1(s.meanRouteLength)} m, speed ${s.meanSpeed.toFixed(2)} m/s, time loss ${f1(s.meanTimeLoss)} s, waiting ${f1(s.meanWaitingTime)} s`,
    `  state hash ${s.stateHash}`,
  ].join('\n');
}
