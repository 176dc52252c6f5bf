/**
 * Fault tolerance of the embedded cluster: worker processes are SIGKILLed mid-run; the master replaces
 * them, the replacements restore their parts from the last committed checkpoint and replay from their
 * neighbours' logs, and the run ends in exactly the fault-free state hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { watch } from './watch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');
const END = '300';

/** SUMO's default vType: Krauss with σ 0.5 dawdling and speed factors drawn per vehicle */
const krauss = join(root, 'test/fixtures/krauss/city.sumocfg');

function faultFreeHash(scenario = cfg): string {
  const r = spawnSync(process.execPath, [cli, 'run', scenario, '--end', END, '--summary', '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).stateHash;
}

interface Status {
  step: number;
  state: string;
  workers: { id: number; pid: number; step: number; state: string }[];
  recoveries?: number;
  events?: { at: number; type: string; worker?: number; detail?: string }[];
}

/** Starts a paced 3-worker run with checkpoints; returns helpers to watch and kill it. */
function startRun(extra: (dir: string) => string[] = () => [], scenario = cfg) {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-recovery-'));
  const statusFile = join(dir, 'status.json');
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      scenario,
      '--end',
      END,
      '--workers',
      '3',
      '--checkpoint-every',
      '40',
      '--realtime-factor',
      '30',
      '--status-file',
      statusFile,
      '--store',
      `file:${join(dir, 'store')}`,
      '--summary',
      '-',
      '--no-progress',
      ...extra(dir),
    ],
    { cwd: root },
  );
  const { stdout, stderr, exited, status } = watch<Status>(child, statusFile);
  /** waits until the run's slowest part passed `step` */
  const waitStep = async (step: number) => {
    for (let i = 0; i < 600; i++) {
      const s = status();
      if (s && s.state === 'running' && s.step >= step) return s;
      await sleep(25);
    }
    throw new Error(`run did not reach step ${step}: ${stderr()}`);
  };
  const pidOf = (s: Status, id: number) => s.workers.find((w) => w.id === id)!.pid;
  const result = async () => {
    const code = await exited;
    assert.equal(code, 0, `run failed: ${stderr()}`);
    return JSON.parse(stdout()).stateHash as string;
  };
  return { waitStep, pidOf, result, status, stderr };
}

test('SIGKILL one worker mid-run: the run completes with the fault-free hash', async () => {
  const expected = faultFreeHash();
  const run = startRun();
  const s = await run.waitStep(150);
  process.kill(run.pidOf(s, 1), 'SIGKILL');
  assert.equal(await run.result(), expected);
});

test('Krauss with σ > 0: SIGKILL one worker mid-run, the run completes with the fault-free hash', async () => {
  const expected = faultFreeHash(krauss);
  const run = startRun(() => [], krauss);
  const s = await run.waitStep(150);
  process.kill(run.pidOf(s, 1), 'SIGKILL');
  assert.equal(await run.result(), expected);
});

test('SIGKILL two workers at once: the run completes with the fault-free hash', async () => {
  const expected = faultFreeHash();
  const run = startRun();
  const s = await run.waitStep(150);
  process.kill(run.pidOf(s, 1), 'SIGKILL');
  process.kill(run.pidOf(s, 2), 'SIGKILL');
  assert.equal(await run.result(), expected);
});

test('SIGKILL the same worker five times in a row: the run completes with the fault-free hash', async () => {
  const expected = faultFreeHash();
  const run = startRun();
  let s = await run.waitStep(100);
  for (let k = 0; k < 5; k++) {
    const pid = run.pidOf(s, 1);
    process.kill(pid, 'SIGKILL');
    // wait for its replacement to be running, past the point where we killed it
    const before = s.step;
    for (;;) {
      s = await run.waitStep(before + 20);
      if (run.pidOf(s, 1) !== pid) break;
    }
  }
  assert.equal(await run.result(), expected);
});

test('SIGSTOP a worker past its lease: it is fenced (killed) and replaced, never resumed; fault-free hash', async () => {
  const expected = faultFreeHash();
  const run = startRun(() => ['--heartbeat-ms', '100', '--lease-ms', '600']);
  const s = await run.waitStep(120);
  const pid = run.pidOf(s, 2);
  process.kill(pid, 'SIGSTOP');
  // the master must declare it lost without any process exit to tell it
  let lost;
  for (let i = 0; i < 400 && !lost; i++) {
    await sleep(25);
    lost = run.status()?.events?.find((e) => e.type === 'worker-lost' && e.worker === 2);
  }
  assert.ok(lost, 'the paused worker was never declared lost');
  assert.match(lost.detail ?? '', /no heartbeat/);
  try {
    process.kill(pid, 'SIGCONT'); // too late: the fence already killed it
  } catch {
    /* gone: that is the fence */
  }
  assert.equal(await run.result(), expected);
  const final = run.status()!;
  assert.equal(final.recoveries, 1);
  const recovered = final.events!.find((e) => e.type === 'worker-recovered' && e.worker === 2);
  assert.ok(recovered, 'no worker-recovered event');
  assert.ok(JSON.parse(recovered.detail!).replayedSteps >= 0);
});

test('injected network faults (cut links, a lost message, delays): the run completes with the fault-free hash', async () => {
  const expected = faultFreeHash();
  const run = startRun((dir) => {
    const file = join(dir, 'faults.json');
    writeFileSync(
      file,
      JSON.stringify([
        { step: 60, worker: 1, kind: 'cut' },
        { step: 100, worker: 2, kind: 'drop' },
        { step: 140, worker: 0, kind: 'delay', ms: 100 },
        { step: 180, worker: 0, kind: 'drop' },
        { step: 220, worker: 2, kind: 'cut' },
      ]),
    );
    return ['--inject-faults', file];
  });
  assert.equal(await run.result(), expected);
  assert.equal((run.stderr().match(/\[fault\]/g) ?? []).length, 5, run.stderr());
  assert.equal(run.status()!.recoveries ?? 0, 0, 'a network fault must not cost a worker');
});
