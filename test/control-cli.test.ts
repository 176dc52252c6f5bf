/**
 * `tessds run --http` as a user meets it: a real process serving the API while it runs, obeying
 * commands, closing its server when the run ends; logs as JSON lines only when asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, waitFor } from '../src/control/testing.js';
import { watch } from './watch.js';

const cli = join(repoRoot, 'dist/src/cli/main.js');

test('run --http serves the API while it runs; stop ends it with the usual report; the server closes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-http-'));
  const log = join(dir, 'run.log');
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      'examples/crossroads.json',
      '--end',
      '3600',
      '--realtime-factor',
      '20',
      '--http',
      '0',
      '--log-file',
      log,
      '--plan',
      'p1',
      '--summary',
      join(dir, 'summary.json'),
    ],
    { cwd: repoRoot },
  );
  const { stdout, stderr, exited } = watch(child);
  try {
    await waitFor(() => /control API and viewer at (http:\S+)/.test(stderr()), 'the server address');
    const base = stderr()
      .match(/control API and viewer at (http:\S+)/)![1]!
      .replace(/\/$/, '');
    await waitFor(
      async () => ((await (await fetch(`${base}/api/status`)).json()) as { step: number }).step > 10,
      'the run to step',
    );
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<canvas id="map"/);
    const bad = await fetch(`${base}/api/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":',
    });
    assert.equal(bad.status, 400);
    const stop = await fetch(`${base}/api/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type1: 'down', type2: 'stop' }),
    });
    assert.equal(stop.status, 200);
    const stoppedAt = ((await stop.json()) as { effectiveStep: number }).effectiveStep;
    assert.equal(await exited, 0, stderr());
    assert.match(stdout(), /TessDS run: examples\/crossroads\.json/);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { steps: number };
    assert.equal(summary.steps, stoppedAt, 'the run ended where it was stopped');
    await assert.rejects(fetch(`${base}/api/status`), 'the server is closed after the run');
    // JSON lines with the base fields, for fluentd/Elasticsearch
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.length >= 4);
    for (const l of lines) {
      assert.equal(l.plan, 'p1');
      assert.equal(l.worker, 0);
      assert.equal(typeof l.step, 'number');
      assert.match(String(l.time), /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof l.level, 'string');
    }
    assert.ok(lines.some((l) => l.msg === 'command' && (l.answer as { type?: string }).type === 'stop'));
    assert.ok(lines.some((l) => l.msg === 'run finished' && l.step === stoppedAt));
  } finally {
    child.kill('SIGKILL');
  }
});

test('run --http: errors are one line with exit code 2; no logs on the terminal unless asked', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cli, 'run', 'examples/crossroads.json', '--end', '20', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
  const one = (r: ReturnType<typeof run>, pattern: RegExp) => {
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  };
  one(run('--http', 'x'), /--http/);
  one(run('--http', '0', '--workers', '2', '--http-host', 'no.such.host.invalid'), /--http-host/);
  one(run('--log-level', 'loud', '--log-json'), /--log-level must be one of/);
  one(run('--http', '0', '--http-host', 'no.such.host.invalid'), /--http-host/);
  const quiet = run('--http', '0', '-q');
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.equal(quiet.stderr, '');
  const json = run('--log-json', '-q');
  assert.equal(json.status, 0);
  assert.ok(
    json.stderr
      .trim()
      .split('\n')
      .every((l) => typeof JSON.parse(l).msg === 'string'),
  );
});

test('--help documents the control and logging options, and the report command', () => {
  const run = spawnSync(process.execPath, [cli, 'run', '--help'], { cwd: repoRoot, encoding: 'utf8' });
  for (const o of ['--http <port>', '--http-host', '--http-linger', '--log-file', '--log-json', '--log-level'])
    assert.match(run.stdout, new RegExp(o));
  const report = spawnSync(process.execPath, [cli, 'report', '--help'], { cwd: repoRoot, encoding: 'utf8' });
  for (const o of ['--scenario', '--output', 'summary.json', 'tripinfo.xml', 'status.json', 'partition.json'])
    assert.match(report.stdout, new RegExp(o));
});

test('--http-linger keeps serving the finished run until SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    [cli, 'run', 'examples/crossroads.json', '--end', '30', '--http', '0', '--http-linger'],
    { cwd: repoRoot },
  );
  const { stdout, stderr, exited } = watch(child);
  try {
    await waitFor(() => /state hash/.test(stdout()), 'the end-of-run report');
    const base = stderr()
      .match(/control API and viewer at (http:\S+)/)![1]!
      .replace(/\/$/, '');
    const status = (await (await fetch(`${base}/api/status`)).json()) as { state: string; step: number };
    assert.deepEqual([status.state, status.step], ['finished', 60]);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a partitioned run logs JSON lines from the master and every worker, each with plan, worker and step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-wlog-'));
  const log = join(dir, 'run.log');
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      'test/fixtures/grid4/scenario.sumocfg',
      '--end',
      '100',
      '--workers',
      '3',
      '--log-file',
      log,
      '--plan',
      'wlog',
      '-q',
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing on the terminal');
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const l of lines) {
    assert.equal(l.plan, 'wlog');
    assert.equal(typeof l.step, 'number');
  }
  const workers = new Set(lines.filter((l) => l.msg === 'plan received').map((l) => l.worker));
  assert.deepEqual([...workers].sort(), [0, 1, 2], 'every worker logs');
  assert.equal(new Set(lines.filter((l) => l.worker !== undefined).map((l) => l.pid)).size, 3, 'from three processes');
  assert.ok(lines.some((l) => l.msg === 'parts finished' && l.step === 200));
});
