/**
 * Online commands are part of a run's inputs (DESIGN.md): the same commands at the same steps give
 * the same state hash whatever the number of workers and parts, and whatever workers die on the way.
 * Commands come from a file (--commands) or from the HTTP API of a partitioned run; the API's
 * answers (effectiveStep) let a second run replay exactly the same inputs from a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, waitFor } from '../src/control/testing.js';
import { watch } from './watch.js';

const cli = join(repoRoot, 'dist/src/cli/main.js');
const cfg = join(repoRoot, 'test/fixtures/grid4/scenario.sumocfg');
const END = '300';

const script = [
  { time: 30, type: 'setSpeedLimit', edge: 'A0B0', speed: 5 },
  { time: 60, type: 'closeLane', lane: 'B0C0_0' },
  { step: 90, type: 'addVehicle', id: 'extra1', from: 'A0B0', to: 'C0D0' },
  { time: 150, type: 'openLane', lane: 'B0C0_0' },
  { time: 200, type: 'closeLane', lane: 'B1B2_0' },
];

function commandFile(list: object[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tessds-cmds-')), 'commands.json');
  writeFileSync(file, JSON.stringify(list));
  return file;
}

function run(...args: string[]): { stateHash: string; loaded: number; steps: number; simSeconds: number } {
  const r = spawnSync(process.execPath, [cli, 'run', cfg, '--end', END, '--summary', '-', '--no-progress', ...args], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('--commands: one process, 2 and 3 workers and 5 parts end in the same hash; the commands change it', () => {
  const file = commandFile(script);
  const plain = run();
  const one = run('--commands', file);
  assert.notEqual(one.stateHash, plain.stateHash, 'the commands must change the run');
  assert.equal(one.loaded, plain.loaded + 1, 'addVehicle adds one vehicle');
  for (const args of [
    ['--workers', '2'],
    ['--workers', '3'],
    ['--workers', '2', '--parts', '5'],
  ]) {
    assert.equal(run('--commands', file, ...args).stateHash, one.stateHash, args.join(' '));
  }
});

test('--commands: a stop ends the run at its step, like --end there', () => {
  const stop = commandFile([...script.slice(0, 3), { time: 120, type: 'stop' }]);
  const upTo = commandFile(script.slice(0, 3));
  const stopped = run('--commands', stop, '--workers', '2');
  assert.equal(stopped.simSeconds, 120);
  const ended = spawnSync(process.execPath, [cli, 'run', cfg, '--end', '120', '--commands', upTo, '--summary', '-'], {
    encoding: 'utf8',
  });
  assert.equal(ended.status, 0, ended.stderr);
  assert.equal(stopped.stateHash, JSON.parse(ended.stdout).stateHash);
});

test('--commands: a bad command is one line naming the file and the command, exit 2', () => {
  const bad = commandFile([{ time: 10, type: 'closeLane', lane: 'nowhere_0' }]);
  for (const extra of [[], ['--workers', '2']]) {
    const r = spawnSync(process.execPath, [cli, 'run', cfg, '--end', END, '--commands', bad, ...extra], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /commands\.json.*command 0.*unknown lane "nowhere_0"/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('commands and worker kills: SIGKILL a worker after commands applied; the hash of the run without kills', async () => {
  const file = commandFile(script);
  const expected = run('--commands', file).stateHash;
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cmd-kill-'));
  const statusFile = join(dir, 'status.json');
  const child = spawn(process.execPath, [
    cli,
    'run',
    cfg,
    '--end',
    END,
    '--commands',
    file,
    '--workers',
    '3',
    '--checkpoint-every',
    '40',
    '--realtime-factor',
    '30',
    '--store',
    `file:${join(dir, 'store')}`,
    '--status-file',
    statusFile,
    '--summary',
    '-',
    '--no-progress',
  ]);
  const { stdout, stderr, exited, status } = watch<{ step: number; workers: { id: number; pid: number }[] }>(
    child,
    statusFile,
  );
  // past the closeLane at step 60 and the addVehicle at 90, before the openLane at 150
  await waitFor(() => (status()?.step ?? 0) >= 110, 'step 110');
  process.kill(status()!.workers.find((w) => w.id === 1)!.pid, 'SIGKILL');
  await sleep(1500);
  process.kill(status()!.workers.find((w) => w.id === 2)!.pid, 'SIGKILL');
  assert.equal(await exited, 0, stderr());
  assert.equal(JSON.parse(stdout()).stateHash, expected);
});

test('run --workers 3 --http: commands through the API, pause/resume, a 4xx for a bad target, kills; the same hash as the same commands from a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cmd-http-'));
  const statusFile = join(dir, 'status.json');
  const child = spawn(process.execPath, [
    cli,
    'run',
    cfg,
    '--end',
    END,
    '--workers',
    '3',
    '--checkpoint-every',
    '40',
    '--realtime-factor',
    '15',
    '--http',
    '0',
    '--store',
    `file:${join(dir, 'store')}`,
    '--status-file',
    statusFile,
    '--summary',
    '-',
    '--no-progress',
  ]);
  const { stdout, stderr, exited } = watch(child);
  try {
    await waitFor(() => /control API and viewer at (http:\S+)/.test(stderr()), 'the server address');
    const base = stderr()
      .match(/control API and viewer at (http:\S+)/)![1]!
      .replace(/\/$/, '');
    const api = async (body: object) => {
      const r = await fetch(`${base}/api/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as { effectiveStep: number; error?: string } };
    };
    const step = async () => ((await (await fetch(`${base}/api/status`)).json()) as { step: number }).step;
    await waitFor(async () => (await step()) >= 30, 'step 30');

    const bad = await api({ type: 'closeLane', lane: 'nowhere_0' });
    assert.equal(bad.status, 404);
    assert.match(bad.body.error!, /nowhere_0/);
    // an unknown type: the answer names every command this API takes, the run's and the simulation's
    for (const body of [{ type: 'warp' }, { type1: 'down', type2: 'warp', param: [{}] }]) {
      const unknown = await api(body);
      assert.equal(unknown.status, 400);
      assert.match(
        unknown.body.error!,
        /^type2?: unknown command "warp" \(expected one of pause, resume, stop, setRealtimeFactor, checkpoint, closeLane, openLane, setSpeedLimit, setSignalProgram, setPhase, addVehicle, setFlow, removeVehicle, setRoute, setSignalLogic, setSignalState\)$/,
      );
    }

    const replay: Record<string, unknown>[] = [];
    const sent = async (body: Record<string, unknown>) => {
      const a = await api(body);
      assert.equal(a.status, 202, JSON.stringify(a.body));
      assert.ok(a.body.effectiveStep >= 30);
      replay.push({ step: a.body.effectiveStep, ...body });
    };
    await sent({ type: 'closeLane', lane: 'B0C0_0' });
    await sent({ type1: 'down', type2: 'setSpeedLimit', param: [{ edge: 'A0B0', speed: '6' }] });

    // pause: the step count stops; resume: it goes on
    const p = await api({ type: 'pause' });
    assert.equal(p.status, 200);
    // the parts finish the steps already granted (up to the answer's effectiveStep), then stop there
    await waitFor(async () => (await step()) >= p.body.effectiveStep, 'the run to reach the pause step');
    const s1 = await step();
    assert.equal(s1, p.body.effectiveStep, 'the run pauses at the step the answer named');
    await sleep(800);
    assert.equal(await step(), s1, 'paused runs do not step');
    assert.equal((await api({ type: 'resume' })).status, 200);
    await waitFor(async () => (await step()) > s1 + 20, 'steps after resume');

    const pid = (
      (await (await fetch(`${base}/api/status`)).json()) as { workers: { id: number; pid: number }[] }
    ).workers.find((w) => w.id === 2)!.pid;
    process.kill(pid, 'SIGKILL');
    await sent({ type: 'addVehicle', id: 'late1', from: 'A0B0', to: 'C0D0' }); // during the recovery
    await sent({ type: 'openLane', lane: 'B0C0_0' });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^tessds_step \d+/m);
    assert.match(metrics, /^tessds_border_messages_total\{part="\d+"\} [1-9]\d*/m, 'border traffic from the workers');
    assert.match(metrics, /^tessds_checkpoint_seconds_count [1-9]\d*/m, 'checkpoint times from the workers');
    assert.match(metrics, /^tessds_recoveries_total [1-9]/m, 'the kill was counted');
    assert.equal(await exited, 0, stderr());
    const hash = JSON.parse(stdout()).stateHash as string;
    // the envelope's numbers may be strings; in the replay file they are numbers
    const file = commandFile(
      replay.map((c) => ('type2' in c ? { step: c.step, type: 'setSpeedLimit', edge: 'A0B0', speed: 6 } : c)),
    );
    assert.equal(run('--commands', file).stateHash, hash, 'one process, the same commands from a file, no kills');
  } finally {
    child.kill('SIGKILL');
  }
});
