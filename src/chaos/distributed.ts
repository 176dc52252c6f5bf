/**
 * `tessds chaos --distributed`: the run under faults in distributed mode. Starts its own redis-server
 * (unless --store is given), 2 `tessds master` processes and N+1 `tessds worker` processes (one idle
 * spare, so a lost slot is taken over at once), submits the scenario as a paced plan
 * (`tessds submit --workers N --parts N --checkpoint-every C --realtime-factor F`), injects a seeded
 * schedule of faults, waits for the plan (`tessds wait --summary`) and compares its state hash with the
 * one-process reference.
 *
 * Faults (a fault's `worker` numbers are plan slots 0..N−1):
 * - kill-workers: SIGKILL the processes hosting these slots (at most N − 1: losing every worker of a
 *   plan at once is a total crash, which waits for `tessds resume`); start as many new workers;
 * - stop-worker: SIGSTOP for max(hold, 3 × lease), then SIGCONT: the woken worker must be fenced out
 *   (exit code 3); a new worker is started to keep a spare;
 * - kill-leader: SIGKILL the master holding the leader lease; start a new master (always 2);
 * - restart-store: SIGKILL redis-server, start it again on the same port and AOF `downMs` later.
 * Detection and recovery come from the plan's status mirror (see observe-distributed.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError, assertNever } from '../errors.js';
import { loadScenario } from '../io/scenario.js';
import type { Summary } from '../sim/summary.js';
import { RedisServer, redisServerAvailable } from '../cluster/store/redis-server.js';
import { key, openCluster, type LeaderRecord } from '../cluster/distributed/layout.js';
import type { Store } from '../cluster/store/store.js';
import { collectEvents, type ObservedStatus, type Snapshot, type StatusEvent } from './observe.js';
import { judgeDistributedFaults, unfencedStops, type DistributedInjection } from './observe-distributed.js';
import { assembleReport, counts, writeReport, type Counts } from './report.js';
import { abortOnInterrupt, lastLine, restartStore, signal, signalTargets } from './inject.js';
import { defaultWeights, makeSchedule, scheduleDefaults, scheduleSpanMs, type FaultKind } from './schedule.js';
import { referenceRun, type ChaosOptions, type ChaosResult } from './runner.js';

/** Fault kinds distributed mode can carry out. */
export const DistributedKinds = [
  'kill-workers',
  'stop-worker',
  'kill-leader',
  'restart-store',
] as const satisfies readonly FaultKind[];

/** Weights in distributed mode: leader kills as often as worker stops (they are what this mode adds). */
const distributedWeights: Partial<Record<FaultKind, number>> = {
  ...defaultWeights,
  'kill-leader': 2,
  'net-delay': 0,
  'net-drop': 0,
  'net-cut': 0,
};

interface Proc {
  role: 'master' | 'worker';
  child: ChildProcess;
  pid: number;
  /** exit code once exited (null: killed by a signal) */
  exit?: number | null;
  exited: Promise<number | null>;
  log: () => string;
}

export async function runDistributedChaos(o: ChaosOptions): Promise<ChaosResult> {
  if (!Number.isInteger(o.workers) || o.workers < 2)
    throw new UsageError(
      `--workers must be at least 2 (a kill must leave one worker of the plan alive), got ${o.workers}`,
    );
  if (o.checkpointEvery < 1)
    throw new UsageError('--distributed needs --checkpoint-every ≥ 1 (a plan always checkpoints)');
  const spec = loadScenario(o.scenario);
  const end = o.end ?? spec.end;
  if (end === undefined) throw new UsageError(`${o.scenario}: the scenario has no end time; give --end`);
  if (end <= spec.begin) throw new UsageError(`--end ${end} is not after the scenario's begin time ${spec.begin}`);
  if (!o.store && !redisServerAvailable())
    throw new UsageError('--distributed needs redis-server installed (or --store redis://host:port)');
  for (const k of o.kinds ?? []) {
    if (!(DistributedKinds as readonly string[]).includes(k))
      throw new UsageError(`--kinds: ${k} is not available with --distributed (${DistributedKinds.join(', ')})`);
    if (k === 'restart-store' && o.store)
      throw new UsageError('--kinds: restart-store needs a Redis of our own (no --store)');
  }
  const simSeconds = end - spec.begin;
  const leaseMs = o.leaseMs ?? 1000;
  const heartbeatMs = o.heartbeatMs ?? Math.min(250, Math.floor(leaseMs / 4));
  if (heartbeatMs <= 0 || heartbeatMs >= leaseMs)
    throw new UsageError(`--heartbeat-ms ${heartbeatMs} must be above 0 and below --lease-ms ${leaseMs}`);
  const notes: string[] = [];

  const scratch = mkdtempSync(join(tmpdir(), 'tessds-chaos-dist-'));
  const procs: Proc[] = [];
  const others = new Set<ChildProcess>();
  let redis: RedisServer | undefined;
  let store: Store | undefined;
  const killAll = () => {
    for (const p of procs) if (p.exit === undefined) p.child.kill('SIGKILL');
    for (const c of others) c.kill('SIGKILL');
  };
  const stopAbort = abortOnInterrupt(killAll, () => redis);
  try {
    let storeUrl = o.store;
    if (storeUrl) notes.push('--store given: Redis is not ours to restart, no restart-store faults');
    else {
      redis = new RedisServer();
      await redis.start();
      storeUrl = redis.url;
    }
    const url = storeUrl;

    const weights: Partial<Record<FaultKind, number>> = {};
    for (const k of o.kinds ?? DistributedKinds) if (k !== 'restart-store' || redis) weights[k] = distributedWeights[k];
    const slots = Array.from({ length: o.workers }, (_, i) => i);
    // every worker of a plan lost at once is a total crash: the plan waits for `tessds resume` (a
    // different scenario), so at least one slot always survives a kill
    const maxKill = o.maxSimultaneousKills ?? Math.min(2, o.workers - 1);
    if (maxKill > o.workers - 1)
      throw new UsageError(
        `--max-kill ${maxKill}: with --distributed at most --workers − 1 = ${o.workers - 1} (killing every worker of a plan is a total crash)`,
      );
    const stopHoldMs = Math.max(scheduleDefaults.stopHoldMs, 3 * leaseMs);
    const faults = makeSchedule({
      ...scheduleDefaults,
      seed: o.seed,
      faults: o.faults,
      killable: slots,
      networked: [],
      weights,
      spacingMs: o.spacingMs,
      stopHoldMs,
      maxSimultaneousKills: maxKill,
    });
    const span = scheduleSpanMs(faults, o.spacingMs) + 2000;
    const realtimeFactor = o.realtimeFactor ?? Math.round((simSeconds / (span / 1000)) * 1000) / 1000;

    // 1. the fault-free reference, in one process
    const reference = o.reference ?? (await referenceRun(others, o.cli, o.scenario, end, scratch, o.log));

    // 2. the cluster: 2 masters, N + 1 workers
    const timing = ['--lease-ms', String(leaseMs), '--heartbeat-ms', String(heartbeatMs)];
    const start = (role: 'master' | 'worker'): Proc => {
      const child = spawn(process.execPath, [o.cli, role, '--store', url, ...timing], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-16384)));
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => ((p.exit = code), resolve(code))),
      );
      const p: Proc = { role, child, pid: child.pid!, log: () => log, exited };
      procs.push(p);
      return p;
    };
    store = await openCluster(url, 5000);
    for (let i = 0; i < 2; i++) start('master');
    for (let i = 0; i <= o.workers; i++) start('worker');

    const plan = `chaos-${process.pid}-${o.seed}`;
    const submit = await runCli(others, o.cli, [
      'submit',
      o.scenario,
      '--store',
      url,
      '--plan',
      plan,
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
    ]);
    if (submit.code !== 0) throw new Error(`tessds submit failed (exit ${submit.code}): ${lastLine(submit.stderr)}`);
    o.log(
      `distributed run under ${faults.length} faults: 2 masters, ${o.workers} + 1 workers, realtime factor ${realtimeFactor}, about ${Math.round(span / 1000)} s, store ${url}`,
    );

    // watch the plan's status mirror (what `tessds status --json` prints)
    const snapshots: Snapshot[] = [];
    const events: StatusEvent[] = [];
    const seen = new Set<string>();
    let latest: ObservedStatus | undefined;
    let lastText = '';
    let polling = false;
    const poll = async () => {
      if (polling) return;
      polling = true;
      try {
        const b = await withTimeout(store!.get(key.status(plan)), 1000);
        const text = b?.toString();
        if (text === undefined || text === lastText) return;
        const s = JSON.parse(text) as ObservedStatus;
        lastText = text;
        latest = s;
        collectEvents(events, seen, s);
        snapshots.push({ t: Date.now(), status: { ...s, events: [] } });
      } catch {
        // Redis down (a restart-store fault) or slow: the next poll tries again
      } finally {
        polling = false;
      }
    };
    const watcher = setInterval(() => void poll(), 50);

    const injections: DistributedInjection[] = faults.map((fault, index) => ({ index, fault, pids: [] }));
    let startedAt = 0;
    let waitResult: { code: number | null; stdout: string; stderr: string } | undefined;
    let interruptedPlan = false;
    try {
      const startDeadline = Date.now() + 120_000;
      while (latest?.state !== 'running') {
        if (latest?.state === 'failed' || latest?.state === 'finished') break;
        if (Date.now() > startDeadline)
          throw new Error(
            `the plan did not start within 120 s\n${procs.map((p) => `--- ${p.role} ${p.pid}\n${p.log()}`).join('\n')}`,
          );
        await sleep(20);
      }
      startedAt = Date.now();
      /** pids SIGKILLed or SIGSTOPped so far: the mirror may show one until its replacement says hello */
      const hit = new Set<number>();
      const ourWorker = (pid: number) =>
        procs.some((p) => p.role === 'worker' && p.pid === pid && p.exit === undefined);

      /** The pid hosting `slot` once it runs in a process not hit yet (waits for it; undefined after 20 s). */
      const slotPid = async (slot: number): Promise<number | undefined> => {
        const deadline = Date.now() + Math.max(2 * o.spacingMs, 20_000);
        while (Date.now() < deadline && latest?.state === 'running') {
          const ws = latest.workers.find((w) => w.slot === slot);
          if (ws && ws.state === 'running' && !hit.has(ws.pid) && ourWorker(ws.pid)) return ws.pid;
          await sleep(20);
        }
        return undefined;
      };
      const leaderNow = async (): Promise<LeaderRecord | undefined> => {
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          try {
            const lease = await store!.readLease('leader');
            const b = await store!.get(key.leader);
            const rec = b ? (JSON.parse(b.toString()) as LeaderRecord) : undefined;
            if (
              lease &&
              rec &&
              rec.epoch === lease.epoch &&
              procs.some((p) => p.role === 'master' && p.pid === rec.pid && p.exit === undefined)
            )
              return rec;
          } catch {
            // store unreachable for a moment
          }
          await sleep(20);
        }
        return undefined;
      };

      const inject = async (inj: DistributedInjection): Promise<void> => {
        const f = inj.fault;
        switch (f.type) {
          case 'kill-workers':
          case 'stop-worker': {
            const ids = f.type === 'kill-workers' ? f.workers : [f.worker];
            const pids = await signalTargets(
              inj,
              ids,
              'slot',
              slotPid,
              f.type === 'kill-workers' ? 'SIGKILL' : 'SIGSTOP',
              () => latest?.step,
            );
            if (!pids) return;
            for (const pid of pids) hit.add(pid);
            if (f.type === 'kill-workers') {
              for (let k = 0; k < pids.length; k++) start('worker');
              return;
            }
            await sleep(f.holdMs);
            const victim = procs.find((p) => p.pid === pids[0])!;
            signal(victim.pid, 'SIGCONT');
            inj.wokenExit = await Promise.race([victim.exited, sleep(5000).then(() => null)]);
            start('worker'); // the fenced worker is gone: a spare again
            return;
          }
          case 'kill-leader': {
            const leader = await leaderNow();
            if (!leader) {
              inj.note = 'no leader found';
              return;
            }
            inj.at = Date.now();
            inj.step = latest?.step;
            inj.oldEpoch = leader.epoch;
            inj.pids = [leader.pid];
            signal(leader.pid, 'SIGKILL');
            start('master');
            return;
          }
          case 'restart-store':
            await restartStore(inj, redis!, f.downMs, () => latest?.step);
            inj.storeBackAt = Date.now();
            return;
          case 'net-delay':
          case 'net-drop':
          case 'net-cut':
            inj.note = 'not available in distributed mode';
            return;
          default:
            return assertNever(f, 'fault');
        }
      };

      for (const inj of injections) {
        while (Date.now() < startedAt + inj.fault.atMs)
          await sleep(Math.min(20, startedAt + inj.fault.atMs - Date.now()));
        await poll();
        if (latest?.state !== 'running') {
          inj.note = 'plan already over';
          continue;
        }
        await inject(inj);
        if (inj.at !== undefined)
          o.log(
            `fault ${inj.index + 1}/${faults.length}: ${inj.fault.type} ${inj.pids.length ? `pid ${inj.pids.join(' + ')} ` : ''}at step ${inj.step}`,
          );
        else o.log(`fault ${inj.index + 1}/${faults.length}: ${inj.fault.type} skipped (${inj.note})`);
      }

      // 3. the plan's result
      const remainingMs = Math.max(0, (simSeconds / realtimeFactor) * 1000 - (Date.now() - startedAt));
      // an interrupted plan (every worker lost) waits for `tessds resume`: stop waiting for it
      const interrupted = new AbortController();
      const watchInterrupt = setInterval(() => {
        if (latest?.state === 'interrupted') interrupted.abort();
      }, 200);
      waitResult = await runCli(
        others,
        o.cli,
        ['wait', '--store', url, '--plan', plan, '--summary', '-'],
        remainingMs + 120_000,
        interrupted.signal,
      );
      clearInterval(watchInterrupt);
      interruptedPlan = interrupted.signal.aborted;
      if (interruptedPlan)
        notes.push(
          'the plan was interrupted: every worker of it was lost at once (a total crash; it waits for `tessds resume`)',
        );
      await sleep(300);
      await poll();
    } finally {
      clearInterval(watcher);
    }

    const completed = waitResult?.code === 0;
    let run: Counts | undefined;
    if (completed) {
      try {
        run = counts(JSON.parse(waitResult!.stdout) as Summary);
      } catch {
        notes.push('tessds wait printed no summary');
      }
    } else if (!interruptedPlan)
      notes.push(
        `the plan did not finish (tessds wait exit ${waitResult?.code ?? 'none: killed'}): ${lastLine(waitResult?.stderr ?? '')}`,
      );
    if (process.env.TESSDS_CHAOS_KEEP)
      for (const p of procs) writeFileSync(join(scratch, `${p.role}-${p.pid}.log`), p.log());

    const results = judgeDistributedFaults({ injections, snapshots, events, startedAt, completed });
    const unfenced = unfencedStops(injections);
    if (unfenced.length > 0) notes.push(`${unfenced.length} stopped worker(s) woke and were not fenced out (exit 3)`);
    const leaders = events.filter((e) => e.type === 'leader').length;
    notes.push(`distributed mode: 2 masters, ${o.workers} + 1 workers; ${leaders} leader term(s) over the plan`);
    const report = assembleReport({
      header: {
        scenario: o.scenario,
        mode: 'distributed',
        seed: o.seed,
        workers: o.workers,
        checkpointEvery: o.checkpointEvery,
        realtimeFactor,
        store: url,
        heartbeatMs,
        leaseMs,
      },
      snapshots,
      faultsPlanned: faults.length,
      injections,
      reference,
      run,
      runExitCode: waitResult?.code ?? null,
      recoveries: latest?.recoveries,
      faults: results,
      notes,
      completed: completed && unfenced.length === 0,
    });
    return { report, files: writeReport(o.reportDir, report) };
  } finally {
    stopAbort();
    killAll();
    await Promise.all(procs.map((p) => p.exited));
    await store?.close();
    await redis?.destroy();
    if (process.env.TESSDS_CHAOS_KEEP) o.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs a tessds command to its end (SIGKILLed after `timeoutMs` or when `signal` aborts). */
async function runCli(
  children: Set<ChildProcess>,
  cli: string,
  args: string[],
  timeoutMs = 60_000,
  signal?: AbortSignal,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    signal,
    killSignal: 'SIGKILL',
  });
  child.on('error', () => undefined); // an abort: the exit follows
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  children.delete(child);
  return { code, stdout, stderr };
}

/** `p`, or undefined when it takes longer than `ms` (a rejection of `p` still rejects). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, sleep(ms).then(() => undefined)]);
}
