/**
 * `tessds run`: simulate a scenario in this process, or split into parts on an embedded cluster of
 * worker processes (`--workers`, `--parts`); either way the same summary, outputs and state hash.
 */
import os from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadScenario } from '../io/scenario.js';
import { writeTripinfo } from '../io/tripinfo.js';
import { InputError, UsageError, isUserError } from '../errors.js';
import { readTextFile } from '../io/files.js';
import type { NetFault } from '../cluster/protocol.js';
import { Engine } from '../sim/engine.js';
import { dumpState } from '../sim/dump.js';
import { restore, snapshot } from '../sim/snapshot.js';
import { summarizeDump, type Summary } from '../sim/summary.js';
import { runEmbedded } from '../cluster/embedded.js';
import { StatusWriter } from '../cluster/status.js';
import { loadPartitionMap } from '../partition/plan.js';
import { applyRegion, parseRegion } from '../partition/region.js';
import { Progress } from './progress.js';

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
  region?: string;
  checkpointEvery?: number;
  store?: string;
  plan?: string;
  realtimeFactor?: number;
  heartbeatMs?: number;
  leaseMs?: number;
  /** chaos testing: a JSON file of network faults */
  injectFaults?: string;
  statusFile?: string;
  check?: boolean;
  progress: boolean;
}

export async function runCommand(scenarioPath: string, o: RunOptions): Promise<Summary> {
  const t0 = performance.now();
  let spec = loadScenario(scenarioPath);
  if (o.begin !== undefined) spec.begin = o.begin;
  if (o.end !== undefined) spec.end = o.end;
  if (o.step !== undefined) spec.stepLength = o.step;
  if (o.seed !== undefined) spec.seed = o.seed;
  if (o.timeToTeleport !== undefined) spec.timeToTeleport = o.timeToTeleport;
  if (spec.end !== undefined && spec.end < spec.begin) {
    throw new InputError(scenarioPath, `end time ${spec.end} is before begin time ${spec.begin}`);
  }
  if (o.region !== undefined) spec = applyRegion(spec, parseRegion(o.region));
  const partitioned = (o.workers ?? 1) > 1 || (o.parts ?? 1) > 1 || o.partitionMap !== undefined || o.minParts !== undefined || o.maxParts !== undefined;
  if (partitioned) {
    if (o.saveState || o.loadState) throw new UsageError('--save-state and --load-state work only in one process (no --workers, --parts)');
    const progress = new Progress(undefined, o.progress && process.stderr.isTTY === true);
    const r = await runEmbedded(spec, {
      workers: o.workers ?? 1,
      parts: o.parts,
      minParts: o.minParts,
      maxParts: o.maxParts,
      map: o.partitionMap ? loadPartitionMap(o.partitionMap) : undefined,
      statusFile: o.statusFile,
      check: o.check,
      checkpointEvery: o.checkpointEvery,
      store: o.store,
      plan: o.plan,
      realtimeFactor: o.realtimeFactor,
      heartbeatMs: o.heartbeatMs,
      leaseMs: o.leaseMs,
      faults: o.injectFaults ? loadFaults(o.injectFaults) : undefined,
      onProgress: (step, running, arrived) => progress.update(step, spec.begin + step * spec.stepLength, running, arrived),
    });
    progress.done();
    reportWarnings(r.demand.warnings);
    if (o.tripinfo) await writeTripinfo({ trips: r.dump.trips, demand: r.demand, net: r.net, begin: spec.begin, stepLength: spec.stepLength }, o.tripinfo);
    const summary = summarizeDump(r.dump, r.demand, spec.stepLength, (performance.now() - t0) / 1000, r.stepSeconds);
    if (o.summary && o.summary !== '-') writeFileSync(o.summary, JSON.stringify(summary, null, 2) + '\n');
    return summary;
  }

  const engine = new Engine(spec);
  reportWarnings(engine.demand.warnings);
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
  const worker = { id: 0, pid: process.pid, host: os.hostname(), parts: [0], step: engine.step, state: 'running' as const };
  status.update({ state: 'running', step: engine.step, workers: [worker], leader: { pid: process.pid, host: os.hostname(), epoch: 1 } });

  const progress = new Progress(engine.endStep, o.progress && process.stderr.isTTY === true);
  const tStep = performance.now();
  const paceStart = Date.now();
  engine.run((e) => {
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
  const stepSeconds = (performance.now() - tStep) / 1000;
  progress.done();
  status.update({ state: 'finished', step: engine.step, workers: [{ ...worker, step: engine.step, state: 'finished' }] });
  status.close();

  if (o.saveState) writeFileSync(o.saveState, snapshot(engine));
  const dump = dumpState(engine);
  if (o.tripinfo) await writeTripinfo({ trips: dump.trips, demand: engine.demand, net: engine.net, begin: spec.begin, stepLength: spec.stepLength }, o.tripinfo);
  const summary = summarizeDump(dump, engine.demand, spec.stepLength, (performance.now() - t0) / 1000, stepSeconds);
  if (o.summary && o.summary !== '-') writeFileSync(o.summary, JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

/** Reads a --inject-faults file: a JSON list of {step, worker, kind, ms?}. */
function loadFaults(file: string): NetFault[] {
  let list: unknown;
  try {
    list = JSON.parse(readTextFile(file, 'fault list'));
  } catch (e) {
    if (isUserError(e)) throw e;
    throw new InputError(file, `not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(list)) throw new InputError(file, 'expected a JSON list of faults');
  return list.map((f: Partial<NetFault>, i) => {
    if (!Number.isInteger(f.step) || !Number.isInteger(f.worker) || !['cut', 'delay', 'drop'].includes(f.kind as string)) {
      throw new InputError(file, `fault ${i}: expected {step: integer, worker: integer, kind: "cut"|"delay"|"drop", ms?: number}`);
    }
    return { step: f.step!, worker: f.worker!, kind: f.kind!, ms: f.ms };
  });
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
    `  vehicles: ${s.loaded} loaded, ${s.inserted} inserted, ${s.arrived} arrived, ${s.running} running, ${s.waiting} waiting, ${s.teleports} teleports`,
    `  mean over arrived: duration ${f1(s.meanDuration)} s, route length ${f1(s.meanRouteLength)} m, speed ${s.meanSpeed.toFixed(2)} m/s, time loss ${f1(s.meanTimeLoss)} s, waiting ${f1(s.meanWaitingTime)} s`,
    `  state hash ${s.stateHash}`,
  ].join('\n');
}
