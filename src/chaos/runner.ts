/**
 * `tessds chaos`: a fault-free reference run, then the same scenario on an embedded cluster under a
 * seeded schedule of faults, then a comparison of the two (state hash, vehicle counts) and a report
 * of every fault (time to detect, time to recover, steps replayed, outcome).
 *
 * Both runs are child processes of `tessds run` (real processes, real signals). Faults:
 * - kill-workers / stop-worker: SIGKILL / SIGSTOP…SIGCONT of the pids in the status file;
 * - restart-store: only with a Redis of our own (no --store given, redis-server installed): SIGKILL
 *   it and start it again on the same port and AOF directory;
 * - net-delay / net-drop / net-cut: written before the start to the run's `--inject-faults` file, at
 *   the step the wall-clock offset corresponds to (the run is paced, so offset ↔ step is known);
 * - kill-leader: needs distributed mode (`tessds master` standby masters); in the embedded cluster the
 *   master is the run itself, so it is never scheduled there. Design for distributed mode: start two
 *   or more `tessds master --store URL`, read the leader's pid from `tessds status --json`, SIGKILL
 *   it, start a fresh standby; detection = the `leader` event with a higher epoch, recovery = the
 *   run's step moving again; the same hash comparison at the end.
 *
 * Pacing: unless `realtimeFactor` is given, the run is paced so that its simulated span lasts as
 * long as the schedule: factor = (end − begin) / (time of the last fault's end + one spacing + 2 s).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError, assertNever } from '../errors.js';
import { loadScenario } from '../io/scenario.js';
import type { Summary } from '../sim/summary.js';
import {
  collectEvents,
  judgeFaults,
  type Injection,
  type ObservedStatus,
  type Snapshot,
  type StatusEvent,
} from './observe.js';
import { RedisServer, redisServerAvailable } from '../cluster/store/redis-server.js';
import { assembleReport, counts, writeReport, type ChaosReport, type Counts } from './report.js';
import { abortOnInterrupt, lastLine, restartStore, signal, signalTargets } from './inject.js';
import {
  FaultKinds,
  defaultWeights,
  makeSchedule,
  scheduleDefaults,
  scheduleSpanMs,
  type Fault,
  type FaultKind,
} from './schedule.js';

export interface ChaosOptions {
  scenario: string;
  /** worker processes of the run under faults (≥ 2: worker 0 lives in the master's process) */
  workers: number;
  /** number of faults K */
  faults: number;
  seed: number;
  /** store URL; without it: a Redis of our own if redis-server exists (Redis faults on), else a file store */
  store?: string;
  checkpointEvery: number;
  /** directory for chaos-report.json and chaos-report.md */
  reportDir: string;
  end?: number;
  realtimeFactor?: number;
  /** least quiet time between faults, ms */
  spacingMs: number;
  /** only these kinds (default: every kind available) */
  kinds?: FaultKind[];
  /** most workers SIGKILLed at once (default min(2, workers − 1)) */
  maxSimultaneousKills?: number;
  /** worker heartbeat interval and lease passed to `tessds run` (when it has the flags) */
  heartbeatMs?: number;
  leaseMs?: number;
  /** the fault-free reference, if already known (the endurance matrix runs it once for all cells) */
  reference?: Counts;
  /** path of the tessds CLI script (dist/src/cli/main.js) */
  cli: string;
  /** progress lines */
  log: (line: string) => void;
}

export interface ChaosResult {
  report: ChaosReport;
  files: { json: string; md: string };
}

/** Flags of `tessds run` this chaos runner uses when the run has them (older builds lack them). */
export function runSupports(cli: string, flag: string): boolean {
  // an unknown option fails in parsing, before the (missing) scenario is even looked at
  const r = spawnSync(process.execPath, [cli, 'run', '/nonexistent/tessds-flag-probe.json', flag, '1'], {
    encoding: 'utf8',
  });
  return !/unknown option/.test(r.stderr);
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  if (!Number.isInteger(o.workers) || o.workers < 2)
    throw new UsageError(`--workers must be at least 2 (worker 0 runs inside the master), got ${o.workers}`);
  const spec = loadScenario(o.scenario);
  const end = o.end ?? spec.end;
  if (end === undefined) throw new UsageError(`${o.scenario}: the scenario has no end time; give --end`);
  if (end <= spec.begin) throw new UsageError(`--end ${end} is not after the scenario's begin time ${spec.begin}`);
  const simSeconds = end - spec.begin;
  const notes: string[] = [];

  // what the installed `tessds run` can do
  const hasLease = runSupports(o.cli, '--lease-ms') && runSupports(o.cli, '--heartbeat-ms');
  const hasInject = runSupports(o.cli, '--inject-faults');
  if ((o.heartbeatMs !== undefined || o.leaseMs !== undefined) && !hasLease)
    throw new UsageError('--heartbeat-ms/--lease-ms: this build of `tessds run` has no heartbeat or lease flags');
  const heartbeatMs = hasLease ? (o.heartbeatMs ?? 250) : undefined;
  const leaseMs = hasLease ? (o.leaseMs ?? 1000) : undefined;
  if (!hasLease) notes.push('`tessds run` has no --lease-ms: a SIGSTOPped worker is resumed, never fenced');
  if (!hasInject) notes.push('`tessds run` has no --inject-faults: no network faults');

  const scratch = mkdtempSync(join(tmpdir(), 'tessds-chaos-'));
  const children = new Set<ChildProcess>();
  let redis: RedisServer | undefined;
  const stopAbort = abortOnInterrupt(
    () => children.forEach((c) => c.kill('SIGKILL')),
    () => redis,
  );
  try {
    let storeUrl = o.store;
    if (storeUrl) notes.push('--store given: Redis is not ours to restart, no restart-store faults');
    if (!storeUrl && o.checkpointEvery > 0) {
      if (redisServerAvailable()) {
        redis = new RedisServer();
        await redis.start();
        storeUrl = redis.url;
      } else {
        storeUrl = `file:${join(scratch, 'store')}`;
        notes.push('redis-server is not installed: file store, no Redis restarts');
      }
    }

    // which kinds can happen here
    const available: Record<FaultKind, string | undefined> = {
      'kill-workers': undefined,
      'stop-worker': undefined,
      'kill-leader': 'needs distributed mode (standby masters); the embedded master is the run itself',
      'restart-store': redis ? undefined : 'needs a Redis of our own (no --store, redis-server installed)',
      'net-delay': hasInject ? undefined : 'needs `tessds run --inject-faults`',
      'net-drop': hasInject ? undefined : 'needs `tessds run --inject-faults`',
      'net-cut': hasInject ? undefined : 'needs `tessds run --inject-faults`',
    };
    const weights: Partial<Record<FaultKind, number>> = {};
    for (const k of o.kinds ?? FaultKinds) {
      const why = available[k];
      if (why === undefined) weights[k] = defaultWeights[k];
      else if (o.kinds) throw new UsageError(`--kinds: ${k} ${why}`);
    }
    const workerIds = Array.from({ length: o.workers }, (_, i) => i);
    const faults = makeSchedule({
      ...scheduleDefaults,
      seed: o.seed,
      faults: o.faults,
      killable: workerIds.slice(1),
      networked: workerIds,
      weights,
      spacingMs: o.spacingMs,
      stopHoldMs: leaseMs !== undefined ? leaseMs + 1000 : 1500,
      maxSimultaneousKills: o.maxSimultaneousKills ?? Math.min(2, o.workers - 1),
    });
    const span = scheduleSpanMs(faults, o.spacingMs) + 2000;
    const realtimeFactor = o.realtimeFactor ?? round3(simSeconds / (span / 1000));
    const stepOf = (atMs: number) => Math.max(1, Math.round(((atMs / 1000) * realtimeFactor) / spec.stepLength));

    // network faults go to the run up front, by step
    const injectFile = join(scratch, 'inject-faults.json');
    const netFaults = faults.flatMap((f) => {
      switch (f.type) {
        case 'net-delay':
          return [{ step: stepOf(f.atMs), worker: f.worker, kind: 'delay', ms: f.ms }];
        case 'net-drop':
          return [{ step: stepOf(f.atMs), worker: f.worker, kind: 'drop' }];
        case 'net-cut':
          return [{ step: stepOf(f.atMs), worker: f.worker, kind: 'cut' }];
        default:
          return [];
      }
    });
    if (netFaults.length > 0) writeFileSync(injectFile, JSON.stringify(netFaults, null, 2));

    // 1. the fault-free reference, in one process
    const reference = o.reference ?? (await referenceRun(children, o.cli, o.scenario, end, scratch, o.log));

    // 2. the run under faults
    const statusFile = join(scratch, 'status.json');
    const summaryFile = join(scratch, 'summary.json');
    const args = [
      'run',
      o.scenario,
      '--end',
      String(end),
      '--workers',
      String(o.workers),
      '--parts',
      String(o.workers),
      '--checkpoint-every',
      String(o.checkpointEvery),
      '--realtime-factor',
      String(realtimeFactor),
      '--status-file',
      statusFile,
      '--summary',
      summaryFile,
      '-q',
      '--no-progress',
      '--plan',
      `chaos-${process.pid}-${o.seed}`,
    ];
    if (storeUrl) args.push('--store', storeUrl);
    if (heartbeatMs !== undefined && leaseMs !== undefined)
      args.push('--heartbeat-ms', String(heartbeatMs), '--lease-ms', String(leaseMs));
    if (netFaults.length > 0) args.push('--inject-faults', injectFile);
    o.log(
      `run under ${faults.length} faults: ${o.workers} workers, realtime factor ${realtimeFactor}, about ${Math.round(span / 1000)} s, store ${storeUrl ?? 'none'}`,
    );
    const child = spawn(process.execPath, [o.cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => (children.delete(child), (exitCode = code), resolve(code))),
    );

    // watch the status file
    const snapshots: Snapshot[] = [];
    const events: StatusEvent[] = [];
    const seen = new Set<string>();
    let latest: ObservedStatus | undefined;
    let lastText = '';
    const poll = () => {
      let text: string;
      try {
        text = readFileSync(statusFile, 'utf8');
      } catch {
        return;
      }
      if (text === lastText) return;
      try {
        const s = JSON.parse(text) as ObservedStatus;
        lastText = text;
        latest = s;
        collectEvents(events, seen, s);
        snapshots.push({ t: Date.now(), status: { ...s, events: s.events ? [] : undefined } });
      } catch {
        // a torn read cannot happen (write + rename), but a bad file must not stop the watch
      }
    };
    const watcher = setInterval(poll, 50);

    const injections: Injection[] = faults.map((fault, index) => ({ index, fault, pids: [] }));
    let startedAt = 0;
    try {
      // wait for the run to start stepping
      const startDeadline = Date.now() + 120_000;
      while (latest?.state !== 'running') {
        if (exitCode !== undefined) break;
        if (Date.now() > startDeadline) throw new Error('the run under faults did not start within 120 s');
        await sleep(20);
      }
      startedAt = Date.now();
      /** pids SIGKILLed so far: the status file may show one until its replacement says hello */
      const killed = new Set<number>();
      for (const inj of injections) {
        const f = inj.fault;
        while (Date.now() < startedAt + f.atMs && exitCode === undefined)
          await sleep(Math.min(20, startedAt + f.atMs - Date.now()));
        poll();
        if (exitCode !== undefined || latest?.state !== 'running') {
          inj.note = 'run already over';
          continue;
        }
        await inject(inj, f);
        if (inj.at !== undefined)
          o.log(`fault ${inj.index + 1}/${faults.length}: ${f.type} ${describeTarget(inj)} at step ${inj.step}`);
      }

      async function inject(inj: Injection, f: Fault): Promise<void> {
        switch (f.type) {
          case 'kill-workers':
          case 'stop-worker': {
            const ids = f.type === 'kill-workers' ? f.workers : [f.worker];
            const pids = await signalTargets(
              inj,
              ids,
              'worker',
              runningPid,
              f.type === 'kill-workers' ? 'SIGKILL' : 'SIGSTOP',
              () => latest?.step,
            );
            if (!pids) return;
            if (f.type === 'kill-workers') for (const pid of pids) killed.add(pid);
            if (f.type === 'stop-worker') {
              await sleep(f.holdMs);
              signal(pids[0]!, 'SIGCONT'); // if the master fenced it meanwhile, it is gone: fine
            }
            return;
          }
          case 'restart-store':
            await restartStore(inj, redis!, f.downMs, () => latest?.step);
            return;
          case 'net-delay':
          case 'net-drop':
          case 'net-cut': {
            // carried out by the run at its step; note when the run got there
            const step = stepOf(f.atMs);
            while ((latest?.step ?? 0) < step && exitCode === undefined && latest?.state === 'running') await sleep(20);
            if ((latest?.step ?? 0) < step) {
              inj.note = 'run over before the step';
              return;
            }
            inj.at = Date.now();
            inj.step = step;
            return;
          }
          case 'kill-leader':
            inj.note = 'not available in the embedded cluster';
            return;
          default:
            return assertNever(f, 'fault');
        }
      }

      /**
       * The pid of worker w once it runs in a process we have not killed yet: a fault waits for its
       * target to be back (at most 2 spacings or 20 s, whichever is longer; then it is skipped).
       */
      async function runningPid(w: number): Promise<number | undefined> {
        const deadline = Date.now() + Math.max(2 * o.spacingMs, 20_000);
        while (Date.now() < deadline && exitCode === undefined) {
          const ws = latest?.workers.find((x) => x.id === w);
          if (ws && ws.state === 'running' && !killed.has(ws.pid) && ws.pid !== process.pid) return ws.pid;
          await sleep(20);
          poll();
        }
        return undefined;
      }

      // let the run finish: at most its remaining paced time, plus a generous margin for recoveries
      const remainingMs = Math.max(0, (simSeconds / realtimeFactor) * 1000 - (Date.now() - startedAt));
      const timeout = sleep(remainingMs + 120_000).then(() => 'timeout' as const);
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        child.kill('SIGKILL');
        notes.push('the run under faults did not finish in time and was killed');
        await exited;
      }
    } finally {
      clearInterval(watcher);
      if (exitCode === undefined) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    poll();

    if (process.env.TESSDS_CHAOS_KEEP) writeFileSync(join(scratch, 'run-stderr.txt'), stderr);
    const run = existsSync(summaryFile) ? counts(JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary) : undefined;
    if (exitCode !== 0) notes.push(`the run under faults failed (exit ${exitCode}): ${lastLine(stderr)}`);
    // with heartbeats off no lease is in force: a paused worker is only resumed
    const results = judgeFaults({
      injections,
      snapshots,
      events,
      startedAt,
      completed: exitCode === 0,
      leaseMs: heartbeatMs ? leaseMs : undefined,
    });
    const report = assembleReport({
      header: {
        scenario: o.scenario,
        seed: o.seed,
        workers: o.workers,
        checkpointEvery: o.checkpointEvery,
        realtimeFactor,
        store: storeUrl ?? 'none',
        heartbeatMs,
        leaseMs,
      },
      snapshots,
      faultsPlanned: faults.length,
      injections,
      reference,
      run,
      runExitCode: exitCode ?? null,
      recoveries: latest?.recoveries,
      faults: results,
      notes,
      completed: exitCode === 0,
    });
    return { report, files: writeReport(o.reportDir, report) };
  } finally {
    stopAbort();
    for (const c of children) c.kill('SIGKILL');
    await redis?.destroy();
    // TESSDS_CHAOS_KEEP=1 keeps the run's status file, summaries and stderr for a post-mortem
    if (process.env.TESSDS_CHAOS_KEEP) o.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

/** The fault-free reference: `tessds run` in one process, unpaced. */
export async function referenceRun(
  children: Set<ChildProcess>,
  cli: string,
  scenario: string,
  end: number,
  scratch: string,
  log: (line: string) => void,
): Promise<Counts> {
  log(`reference run (1 process, --end ${end}) ...`);
  const refFile = join(scratch, 'reference.json');
  const ref = await runToEnd(children, cli, [
    'run',
    scenario,
    '--end',
    String(end),
    '--summary',
    refFile,
    '-q',
    '--no-progress',
  ]);
  if (ref.code !== 0 || !existsSync(refFile))
    throw new Error(`the reference run failed (exit ${ref.code}): ${lastLine(ref.stderr)}`);
  return counts(JSON.parse(readFileSync(refFile, 'utf8')) as Summary);
}

function describeTarget(inj: Injection): string {
  const f = inj.fault;
  if (f.type === 'kill-workers') return f.workers.map((w, k) => `worker ${w} (pid ${inj.pids[k]})`).join(' + ');
  if (f.type === 'stop-worker') return `worker ${f.worker} (pid ${inj.pids[0]}) for ${f.holdMs} ms`;
  if (f.type === 'restart-store') return `redis for ${f.downMs} ms`;
  if (f.type === 'kill-leader') return 'leader';
  return `worker ${f.worker}`;
}

async function runToEnd(
  children: Set<ChildProcess>,
  cli: string,
  args: string[],
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  children.delete(child);
  return { code, stderr };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
