/**
 * Every run of this machine is a plan in a store (issue 12): `tessds run --checkpoint-every N` keeps
 * its scenario and checkpoints in `--store`; with every process SIGKILLed mid-run (one process, or a
 * master and its workers), `tessds resume --store URL --plan NAME` carries it on from the newest
 * checkpoint and ends in the hash of the same run that never stopped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');
const END = '300';

function faultFreeHash(): string {
  const r = spawnSync(process.execPath, [cli, 'run', cfg, '--end', END, '--summary', '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).stateHash;
}

function resume(store: string, plan: string) {
  return spawnSync(process.execPath, [cli, 'resume', '--store', store, '--plan', plan, '--summary', '-'], {
    encoding: 'utf8',
  });
}

/** Starts a paced one-process run with checkpoints (in `store`; undefined: the default one). */
async function runUntilCheckpointed(store: string | undefined, dir: string, plan: string) {
  const statusFile = join(dir, 'status.json');
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      cfg,
      '--end',
      END,
      '--checkpoint-every',
      '40',
      '--realtime-factor',
      '40',
      ...(store ? ['--store', store] : []),
      '--plan',
      plan,
      '--status-file',
      statusFile,
      '--summary',
      '-',
      '--no-progress',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TESSDS_RUN_DIR: join(dir, 'runs') } },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, stderr: () => stderr, statusFile };
}

/** the checkpoint files of a file store (a key is a file named by its URI encoding) and their steps */
const checkpointFiles = (dir: string) =>
  (existsSync(dir) ? readdirSync(dir, { recursive: true }) : [])
    .map(String)
    .flatMap((f) => {
      const m = /^checkpoint\/(\d+)\//.exec(decodeURIComponent(basename(f)));
      return m ? [{ f, step: Number(m[1]) }] : [];
    })
    .sort((a, b) => b.step - a.step);

test('one-process run on a file store SIGKILLed mid-run: tessds resume ends in the fault-free hash', async () => {
  const expected = faultFreeHash();
  const dir = mkdtempSync(join(tmpdir(), 'tessds-solo-'));
  const run = await runUntilCheckpointed(undefined, dir, 'solo');
  // past two checkpoints (steps 40 and 80 of 300), well before the end
  for (let i = 0; i < 800; i++) {
    let step = 0;
    try {
      step = (JSON.parse(readFileSync(run.statusFile, 'utf8')) as { step: number }).step;
    } catch {
      /* not written yet */
    }
    if (step >= 130) break;
    await sleep(25);
  }
  run.child.kill('SIGKILL');
  assert.equal(await run.exited, null, `the run ended before the kill: ${run.stderr()}`);
  // no --store: the run names the file store it made
  const store = /tessds resume --store (file:\S+) --plan solo\)/.exec(run.stderr())?.[1];
  assert.ok(store, `the report names where the run is kept: ${run.stderr()}`);
  assert.ok(store.startsWith(`file:${join(dir, 'runs')}/run-`), `kept in the run directory: ${store}`);
  assert.ok(checkpointFiles(store.slice('file:'.length)).length > 0, 'no checkpoint written');

  const r = resume(store, 'solo');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /resuming at step [1-9]\d*/);
  assert.equal(JSON.parse(r.stdout).stateHash, expected);
});

test('resume of a one-process run whose newest checkpoint is damaged: one line, the one before, fault-free hash', async () => {
  const expected = faultFreeHash();
  const dir = mkdtempSync(join(tmpdir(), 'tessds-solo-'));
  const storeDir = join(dir, 'store');
  const store = `file:${storeDir}`;
  const run = await runUntilCheckpointed(store, dir, 'solo2');
  for (let i = 0; i < 800 && checkpointFiles(storeDir).length < 2; i++) await sleep(25);
  run.child.kill('SIGKILL');
  await run.exited;
  const files = checkpointFiles(storeDir);
  assert.ok(files.length >= 2, `two checkpoints kept: ${files.map((x) => x.f).join(' ')}`);
  const newest = join(storeDir, files[0]!.f);
  const bytes = readFileSync(newest);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10); // a flipped byte
  writeFileSync(newest, bytes);

  const r = resume(store, 'solo2');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /checkpoint.*trying the checkpoint before it/);
  assert.equal(JSON.parse(r.stdout).stateHash, expected);
});

test('a partitioned run (3 workers, file store): master and workers SIGKILLed, tessds resume ends in the fault-free hash', async () => {
  const expected = faultFreeHash();
  const dir = mkdtempSync(join(tmpdir(), 'tessds-solo-'));
  const store = `file:${join(dir, 'store')}`;
  const statusFile = join(dir, 'status.json');
  const args = ['--end', END, '--workers', '3', '--checkpoint-every', '40', '--realtime-factor', '30'];
  const child = spawn(
    process.execPath,
    [cli, 'run', cfg, ...args, '--store', store, '--plan', 'three', '--status-file', statusFile, '--no-progress'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let pids: number[] = [];
  for (let i = 0; i < 800; i++) {
    try {
      const s = JSON.parse(readFileSync(statusFile, 'utf8')) as {
        step: number;
        committedCheckpoint?: number;
        workers: { pid: number }[];
      };
      if (s.step >= 130 && (s.committedCheckpoint ?? 0) >= 80) {
        pids = s.workers.map((w) => w.pid);
        break;
      }
    } catch {
      /* not written yet */
    }
    await sleep(25);
  }
  assert.equal(pids.length, 3, `the run never reached step 130: ${stderr}`);
  for (const pid of new Set([child.pid!, ...pids])) process.kill(pid, 'SIGKILL');
  assert.equal(await exited, null, 'the master was killed');

  const r = resume(store, 'three');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).stateHash, expected);
});

test('resume of a plan the store does not hold: one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-solo-'));
  const r = resume(`file:${join(dir, 'store')}`, 'nothing');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no such plan/);
});

test('a one-process run with checkpoints that finishes leaves no run directory behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-solo-'));
  const r = spawnSync(
    process.execPath,
    [cli, 'run', cfg, '--end', END, '--checkpoint-every', '40', '--summary', '-', '--no-progress'],
    { encoding: 'utf8', cwd: root, env: { ...process.env, TESSDS_RUN_DIR: join(dir, 'runs') } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /run kept in file:/);
  assert.deepEqual(readdirSync(join(dir, 'runs')), []);
});
