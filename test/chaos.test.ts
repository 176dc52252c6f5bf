/**
 * `tessds chaos` end to end: real processes, real SIGKILL/SIGSTOP, the chaos runner's own
 * redis-server when installed. The reference is a 1-process run; the run under faults is a 3-worker
 * embedded cluster; they must agree bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChaosReport } from '../src/chaos/report.js';
import { redisMissing } from '../src/cluster/store/redis-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');

function chaos(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'chaos', cfg, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The faulty run ended where the one-process reference did: same hash, every vehicle once, no figure apart. */
function assertSameEndState(report: ChaosReport): void {
  assert.equal(report.hashEqual, true);
  assert.equal(report.run?.stateHash, report.reference.stateHash);
  assert.match(report.reference.stateHash, /^[0-9a-f]{16,}$/);
  assert.equal(report.vehiclesLost, 0);
  assert.equal(report.vehiclesDuplicated, 0);
  assert.deepEqual(report.differences, {});
}

test('SIGKILL and SIGSTOP faults: equal hashes, no vehicle lost or duplicated, a well-formed report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-chaos-test-'));
  const r = await chaos([
    '--workers',
    '3',
    '--faults',
    '4',
    '--seed',
    '3',
    '--spacing-ms',
    '2000',
    '--kinds',
    'kill-workers,stop-worker',
    '--report',
    dir,
  ]);
  assert.equal(r.code, 0, `chaos failed:\n${r.stdout}\n${r.stderr}`);
  const report = JSON.parse(readFileSync(join(dir, 'chaos-report.json'), 'utf8')) as ChaosReport;
  assert.equal(report.verdict, 'pass');
  assertSameEndState(report);
  assert.equal(report.faultsPlanned, 4);
  assert.equal(report.faults.length, 4);
  // a fault waits for its target to be back; on a very busy machine one may be left over at the end
  const injected = report.faults.filter((f) => f.outcome !== 'skipped');
  assert.equal(report.faultsInjected, injected.length);
  for (const f of report.faults) if (f.outcome === 'skipped') assert.ok(f.note, `skipped fault ${f.index} says why`);
  const kinds = new Set(injected.map((f) => f.kind));
  assert.deepEqual(kinds, new Set(['kill-workers', 'stop-worker']), 'seed 3 injects both SIGKILL and SIGSTOP faults');
  for (const f of injected) {
    assert.equal(f.outcome, 'recovered', `fault ${f.index}: ${JSON.stringify(f)}`);
    assert.ok(f.detectMs !== undefined && f.detectMs >= 0, `fault ${f.index} has a detection time`);
    assert.ok(f.recoverMs !== undefined && f.recoverMs >= 0, `fault ${f.index} has a recovery time`);
    assert.ok(f.replayedSteps !== undefined && f.replayedSteps >= 0);
  }
  assert.equal(report.timing, 'events');
  assert.ok(report.medianDetectMs !== undefined && report.medianRecoverMs !== undefined);
  // the markdown table has one row per fault, and the verdict
  const md = readFileSync(join(dir, 'chaos-report.md'), 'utf8');
  assert.equal(md.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length, 4);
  assert.match(md, /\*\*Verdict: PASS\*\*/);
  assert.match(
    r.stdout,
    new RegExp(`^PASS: ${injected.length}/4 faults, hashes equal, 0 vehicles lost, 0 duplicated`, 'm'),
  );
});

test('without recovery (--checkpoint-every 0) a kill fails the run and chaos says FAIL, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-chaos-test-'));
  const r = await chaos([
    '--workers',
    '2',
    '--faults',
    '1',
    '--spacing-ms',
    '1000',
    '--kinds',
    'kill-workers',
    '--checkpoint-every',
    '0',
    '--report',
    dir,
    '-q',
  ]);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const report = JSON.parse(readFileSync(join(dir, 'chaos-report.json'), 'utf8')) as ChaosReport;
  assert.equal(report.verdict, 'fail');
  assert.notEqual(report.runExitCode, 0);
  assert.equal(report.faults[0]!.outcome, 'run-failed');
  assert.match(r.stdout, /^FAIL: /m);
});

test(
  '--distributed: 2 masters, 2 + 1 workers on our own Redis; a leader kill, worker kills, a stop past the lease (fenced), a Redis restart: equal hashes',
  { skip: redisMissing() ?? false, timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessds-chaos-test-'));
    // seed 1 draws: stop-worker, restart-store, kill-workers [1], kill-leader, kill-workers [0]
    const r = await chaos([
      '--distributed',
      '--workers',
      '2',
      '--faults',
      '5',
      '--seed',
      '1',
      '--spacing-ms',
      '3000',
      '--report',
      dir,
    ]);
    assert.equal(r.code, 0, `chaos failed:\n${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(readFileSync(join(dir, 'chaos-report.json'), 'utf8')) as ChaosReport;
    assert.equal(report.mode, 'distributed');
    assert.equal(report.verdict, 'pass');
    // the golden value is the one-process reference run
    assertSameEndState(report);
    assert.deepEqual(
      report.faults.map((f) => f.kind),
      ['stop-worker', 'restart-store', 'kill-workers', 'kill-leader', 'kill-workers'],
    );
    for (const f of report.faults) {
      if (f.outcome === 'skipped') {
        assert.ok(f.note, `skipped fault ${f.index} says why`);
        continue;
      }
      // (a Redis restart too: the leader writes its store-down and store-up once Redis is back)
      assert.equal(f.outcome, 'recovered', `fault ${f.index}: ${JSON.stringify(f)}`);
      assert.ok(f.detectMs !== undefined && f.detectMs >= 0, `fault ${f.index} has a detection time`);
      assert.ok(f.recoverMs !== undefined && f.recoverMs >= 0, `fault ${f.index} has a recovery time`);
      assert.doesNotMatch(f.note ?? '', /not fenced/);
    }
    const leaderKill = report.faults.find((f) => f.kind === 'kill-leader')!;
    assert.equal(leaderKill.outcome, 'recovered', 'the leader kill was carried out and a standby took over');
    assert.ok(report.byKind['kill-leader']?.medianDetectMs !== undefined);
    assert.match(report.notes.join('\n'), /[2-9] leader term\(s\)/);
    const md = readFileSync(join(dir, 'chaos-report.md'), 'utf8');
    assert.match(md, /Distributed mode/);
    assert.match(md, /\| kill-leader \| leader \|/);
    assert.match(r.stdout, /^PASS: \d\/5 faults, hashes equal, 0 vehicles lost, 0 duplicated/m);
  },
);

/** Pids of the `tessds <command>` processes whose parent is `parent` (from /proc). */
function childrenOf(parent: number, command: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (ppid === parent && args[2] === command) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

test(
  '--distributed: every worker SIGKILLed at once (a total crash) ends the chaos run with FAIL and says why, not a hang',
  { skip: redisMissing() ?? false, timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessds-chaos-test-'));
    const child = spawn(
      process.execPath,
      [
        cli,
        'chaos',
        cfg,
        '--distributed',
        '--workers',
        '2',
        '--faults',
        '0',
        '--realtime-factor',
        '10',
        '--report',
        dir,
        '-q',
      ],
      { cwd: root },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    // the plan runs once chaos has started `tessds wait`; then all 3 workers (2 slots + the spare) die
    while (childrenOf(child.pid!, 'wait').length === 0) await sleep(100);
    const workers = childrenOf(child.pid!, 'worker');
    assert.equal(workers.length, 3, 'chaos started 2 + 1 workers');
    for (const pid of workers) process.kill(pid, 'SIGKILL');
    assert.equal(await exited, 1, stdout);
    const report = JSON.parse(readFileSync(join(dir, 'chaos-report.json'), 'utf8')) as ChaosReport;
    assert.equal(report.verdict, 'fail');
    assert.equal(report.run, undefined);
    assert.match(report.notes.join('\n'), /the plan was interrupted/);
    assert.match(stdout, /^FAIL: /m);
  },
);

test('bad flags: one line, exit 2', () => {
  for (const [args, pattern] of [
    [['--workers', '1'], /--workers/],
    [['--kinds', 'kill-everything'], /kill-everything/],
    [['--faults', 'x'], /--faults/],
    [['--store', 'file:/tmp/x', '--kinds', 'restart-store'], /restart-store/],
    [['--distributed', '--kinds', 'net-cut'], /net-cut is not available with --distributed/],
    [['--distributed', '--checkpoint-every', '0'], /--checkpoint-every/],
    [['--distributed', '--workers', '2', '--max-kill', '2'], /--max-kill 2: with --distributed at most/],
    [['--distributed', '--lease-ms', '100', '--heartbeat-ms', '200'], /--heartbeat-ms 200/],
  ] as const) {
    const r = spawnSync(process.execPath, [cli, 'chaos', cfg, ...args], { encoding: 'utf8', cwd: root });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, pattern);
  }
  const missing = spawnSync(process.execPath, [cli, 'chaos', 'nope.sumocfg'], { encoding: 'utf8', cwd: root });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope.sumocfg: file not found/);
});

test('--help documents every chaos option', () => {
  const r = spawnSync(process.execPath, [cli, 'chaos', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const flag of [
    '--workers',
    '--faults',
    '--seed',
    '--store',
    '--checkpoint-every',
    '--report',
    '--end',
    '--realtime-factor',
    '--spacing-ms',
    '--kinds',
    '--max-kill',
    '--heartbeat-ms',
    '--lease-ms',
    '--distributed',
    '--quiet',
  ]) {
    assert.ok(r.stdout.includes(flag), `${flag} in --help`);
  }
});
