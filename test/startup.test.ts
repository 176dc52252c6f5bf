/**
 * Start-up cost: every run and every worker process pays for the modules it loads, so the heavy
 * packages that only some paths use (ioredis: a Redis store; prom-client, ws: --http; pino: logs)
 * must stay out of the processes that do not use them. Guards against a static import creeping back
 * into src/cli/main.ts or the modules a run loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const hook = join(root, 'test/fixtures/loaded-packages.cjs');
const HEAVY = ['ioredis', 'prom-client', 'ws', 'pino'];

/** Runs tessds; returns the packages each of its processes (the CLI and any workers it spawned) loaded. */
function loadedPackages(...args: string[]): { argv: string[]; packages: string[] }[] {
  const log = join(mkdtempSync(join(tmpdir(), 'tessds-startup-')), 'loaded.jsonl');
  // NODE_OPTIONS reaches the worker processes too
  const env = { ...process.env, NODE_OPTIONS: `--require ${hook}`, TESSDS_LOADED_PACKAGES: log };
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root, env });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { argv: string[]; packages: string[] });
}

test('--version loads no package but commander', () => {
  const [p] = loadedPackages('--version');
  assert.deepEqual(p!.packages, ['commander']);
});

test('a one-process run loads none of ioredis, prom-client, ws, pino', () => {
  const procs = loadedPackages('run', 'examples/crossroads.json', '--end', '30', '-q');
  assert.equal(procs.length, 1);
  for (const h of HEAVY) assert.ok(!procs[0]!.packages.includes(h), `${h} loaded: ${procs[0]!.packages.join(' ')}`);
});

test('a run on workers: neither the master nor a worker loads them', () => {
  const procs = loadedPackages(
    'run',
    'examples/crossroads.json',
    '--end',
    '30',
    '-q',
    '--workers',
    '2',
    '--parts',
    '2',
  );
  assert.ok(
    procs.some((p) => p.argv.includes('worker-embedded')),
    `a worker process was seen: ${JSON.stringify(procs)}`,
  );
  for (const p of procs) for (const h of HEAVY) assert.ok(!p.packages.includes(h), `${p.argv.join(' ')}: ${h} loaded`);
});

test('the check sees packages a run does load: --http and --log-json bring ws, prom-client and pino', () => {
  const [p] = loadedPackages('run', 'examples/crossroads.json', '--end', '30', '-q', '--http', '0', '--log-json');
  for (const h of ['ws', 'prom-client', 'pino'])
    assert.ok(p!.packages.includes(h), `${h} not seen: ${p!.packages.join(' ')}`);
});
