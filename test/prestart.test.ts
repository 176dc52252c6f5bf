/**
 * Worker processes started before the scenario is read (src/cluster/prestart.ts): a run that needs
 * fewer of them, a run that fails on its input, and a master killed at any moment must leave no
 * worker process behind, nor the scenario file the master hands them; and a run on pre-started
 * workers, which build the scenario from that file, ends in the one-process hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watch } from './watch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/grid4/scenario.sumocfg');

/** pids of the processes carrying `mark` in their environment (a run's master and its workers,
 *  whoever their parent is by now: an orphan is adopted by init) */
function marked(mark: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(`TESSDS_TEST_MARK=${mark}\0`))
        pids.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Starts `tessds run …`, collects its worker pids while it runs, waits for its exit, and then
 *  for every process it started to be gone. */
async function runWatching(
  args: string[],
  kill?: { afterWorkers: number } | { afterOutput: RegExp },
  extraEnv: Record<string, string> = {},
) {
  const mark = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  // a temporary folder of its own: what the run leaves in it is what it failed to clean up
  const tmp = mkdtempSync(join(tmpdir(), 'tessds-prestart-test-'));
  const env = { ...process.env, TESSDS_TEST_MARK: mark, TMPDIR: tmp, TESSDS_TIMING: '1', ...extraEnv };
  const child = spawn(process.execPath, [cli, 'run', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
  const { stdout, stderr, exited } = watch(child);
  const seen = new Set<number>();
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    for (const pid of marked(mark)) if (pid !== child.pid) seen.add(pid);
    if (kill && ('afterWorkers' in kill ? seen.size >= kill.afterWorkers : kill.afterOutput.test(stderr())))
      child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 10));
  }
  const code = await exited;
  let left = marked(mark);
  for (const deadline = Date.now() + 5000; left.length > 0 && Date.now() < deadline; left = marked(mark))
    await new Promise((r) => setTimeout(r, 50));
  // a failing test must not hang: leftovers hold the pipes to this process open
  for (const pid of left) process.kill(pid, 'SIGKILL');
  child.stdout.destroy();
  child.stderr.destroy();
  const files = readdirSync(tmp);
  rmSync(tmp, { recursive: true, force: true });
  // the [timing] lines (TESSDS_TIMING) tell which workers built the scenario from the master's file
  const timingLines = stderr()
    .split('\n')
    .filter((l) => l.startsWith('[timing]'));
  return {
    code,
    stdout: stdout(),
    stderr: stderr()
      .split('\n')
      .filter((l) => !l.startsWith('[timing]'))
      .join('\n'),
    timingLines,
    workers: [...seen],
    left,
    files,
  };
}

test('a run on pre-started workers ends in the one-process hash and leaves no worker behind', async () => {
  const one = spawnSync(process.execPath, [cli, 'run', cfg, '--end', '120', '--summary', '-'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(one.status, 0, one.stderr);
  const r = await runWatching([cfg, '--end', '120', '--summary', '-', '--workers', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).stateHash, JSON.parse(one.stdout).stateHash);
  assert.equal(r.workers.length, 2, 'workers 1 and 2 are processes (worker 0 runs in the master)');
  assert.equal(
    r.timingLines.filter((l) => l.includes('worker: scenario built')).length,
    2,
    'both built the scenario the master handed them',
  );
  assert.deepEqual(r.left, [], 'no process of the run outlives it');
  assert.deepEqual(r.files, [], 'nothing left in the temporary folder');
});

test('more workers than parts: the workers not needed exit', async () => {
  const r = await runWatching([cfg, '--end', '60', '--summary', '-', '--workers', '4', '--parts', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.workers.length, 3, 'three were started before the part count was known');
  assert.deepEqual(r.left, [], 'no process of the run outlives it');
  assert.deepEqual(r.files, [], 'nothing left in the temporary folder');
});

test('bad input after the workers started: one line, exit code 2, no worker left', async () => {
  const r = await runWatching([join(root, 'test/fixtures/grid4/no-such.sumocfg'), '--workers', '3']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^tessds: .*no-such\.sumocfg: file not found\n$/);
  assert.deepEqual(r.left, [], 'no process of the run outlives it');
  assert.deepEqual(r.files, [], 'nothing left in the temporary folder');
});

test('a master SIGKILLed while its workers start leaves no worker behind', async () => {
  const r = await runWatching([cfg, '--end', '600', '--workers', '3'], { afterWorkers: 2 });
  assert.equal(r.code, null, 'killed');
  assert.ok(r.workers.length >= 2);
  assert.deepEqual(r.left, [], 'no process of the run outlives it');
  assert.deepEqual(r.files, [], 'nothing left in the temporary folder: each worker removes its file once read');
});

test('a master SIGKILLed once it handed its workers the scenario leaves neither worker nor file behind', async () => {
  const r = await runWatching([cfg, '--end', '600', '--workers', '3'], {
    afterOutput: /scenario handed to the workers/,
  });
  assert.equal(r.code, null, 'killed');
  assert.deepEqual(r.left, [], 'no process of the run outlives it');
  assert.deepEqual(r.files, [], 'each worker removed the file it was handed');
});

test('no room to hand the scenario over (TMPDIR unusable): the plans carry it, same hash', async () => {
  const one = spawnSync(process.execPath, [cli, 'run', cfg, '--end', '120', '--summary', '-'], {
    cwd: root,
    encoding: 'utf8',
  });
  const r = await runWatching([cfg, '--end', '120', '--summary', '-', '--workers', '3'], undefined, {
    TMPDIR: join(root, 'no-such-folder', 'tmp'),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).stateHash, JSON.parse(one.stdout).stateHash);
  assert.equal(r.timingLines.filter((l) => l.includes('worker: scenario built')).length, 0, 'nothing was handed over');
  assert.deepEqual(r.left, [], 'no process of the run outlives it');
});
