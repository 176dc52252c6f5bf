/**
 * Issue 13 from the command line: the control API's token and bind rules, and the cluster secret's
 * flags, on real `tessds run` and `tessds master` processes. No secret or token ever shows in output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, waitFor } from '../src/control/testing.js';
import { watch } from './watch.js';

const cli = join(repoRoot, 'dist/src/cli/main.js');
const TOKEN = 'cli-test-token-0123456789';
const SECRET = 'cli-test-secret-0123456789';
const env = (extra: Record<string, string>) => {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  return e;
};

function one(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

test('--http-host 0.0.0.0 without a token exits 2 with one line; bad tokens and secrets too, naming the source and never the value', () => {
  const run = (args: string[], extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, [cli, 'run', 'examples/crossroads.json', '--end', '20', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: env(extra),
    });
  one(
    run(['--http', '0', '--http-host', '0.0.0.0']),
    /^tessds: --http-host 0\.0\.0\.0: without a token \(TESSDS_TOKEN or --token-file\) the control API listens on loopback only/,
  );
  one(run(['--http', '0', '--workers', '2', '--http-host', '0.0.0.0']), /loopback only/);
  one(
    run(['--http', '0'], { TESSDS_TOKEN: 'short' }),
    /^tessds: TESSDS_TOKEN: the token is 5 characters; use at least 16/,
  );
  one(
    run(['--http', '0', '--token-file', '/no/such/token']),
    /^tessds: --token-file \/no\/such\/token: cannot read it \(ENOENT\)/,
  );
  one(
    run(['--workers', '2'], { TESSDS_CLUSTER_SECRET: 'shortsecret' }),
    /^tessds: TESSDS_CLUSTER_SECRET: the secret is 11 characters/,
  );
  one(run(['--workers', '2', '--secret-file', '/no/such/secret']), /--secret-file \/no\/such\/secret: cannot read it/);
  const master = spawnSync(
    process.execPath,
    [
      cli,
      'master',
      '--store',
      `file:${mkdtempSync(join(tmpdir(), 'tessds-sec-'))}`,
      '--http',
      '0',
      '--http-host',
      '0.0.0.0',
    ],
    { encoding: 'utf8' },
  );
  one(master, /^tessds: --http-host 0\.0\.0\.0: without a token/);
  for (const r of [run(['--http', '0'], { TESSDS_TOKEN: 'short' })]) assert.doesNotMatch(r.stderr, /short"/);
  // a secret given works, and appears nowhere in the output
  const ok = run(['--workers', '2', '--log-json'], { TESSDS_CLUSTER_SECRET: SECRET });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(!ok.stdout.includes(SECRET) && !ok.stderr.includes(SECRET));
});

test('run --http with TESSDS_TOKEN on 0.0.0.0: 401 without the token, 200 with it; stopped with it; the token never in the logs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-sec-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
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
      '--http-host',
      '0.0.0.0',
      '--token-file',
      tokenFile,
      '--workers',
      '2',
      '--log-json',
    ],
    { cwd: repoRoot },
  );
  const w = watch(child);
  try {
    await waitFor(() => /control API and viewer at (http:\S+)/.test(w.stderr()), 'the server address');
    const port = /control API and viewer at http:\S+:(\d+)\//.exec(w.stderr())![1];
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await fetch(`${base}/api/status`)).status, 401);
    assert.equal(
      (await fetch(`${base}/api/status`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status,
      401,
    );
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/metrics`)).status, 200);
    await waitFor(
      async () => ((await (await fetch(`${base}/api/status`, { headers: auth })).json()) as { step: number }).step > 5,
      'the run to step',
    );
    const stop = JSON.stringify({ type: 'stop' });
    assert.equal(
      (
        await fetch(`${base}/api/commands`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: stop,
        })
      ).status,
      401,
    );
    assert.equal(
      (
        await fetch(`${base}/api/commands`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'text/plain' },
          body: stop,
        })
      ).status,
      415,
    );
    assert.equal(
      (
        await fetch(`${base}/api/commands`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', origin: 'http://evil.example' },
          body: stop,
        })
      ).status,
      403,
    );
    const accepted = (
      await fetch(`${base}/api/commands`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: stop,
      })
    ).status;
    assert.ok(accepted === 200 || accepted === 202, `stop with the token: ${accepted}`);
    assert.equal(await w.exited, 0, w.stderr());
    assert.ok(!w.stderr().includes(TOKEN) && !w.stdout().includes(TOKEN), 'the token is in no log line');
  } finally {
    child.kill('SIGKILL');
  }
});

test('master --http with a token: 401 without it, 200 with it; /healthz and /readyz open', async () => {
  const store = `file:${mkdtempSync(join(tmpdir(), 'tessds-sec-'))}`;
  const sub = spawnSync(
    process.execPath,
    [cli, 'submit', 'examples/crossroads.json', '--end', '60', '--plan', 'sec', '--store', store],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  assert.equal(sub.status, 0, sub.stderr);
  const child = spawn(process.execPath, [cli, 'master', '--store', store, '--http', '0'], {
    cwd: repoRoot,
    env: env({ TESSDS_TOKEN: TOKEN, TESSDS_CLUSTER_SECRET: SECRET }),
  });
  const w = watch(child);
  try {
    await waitFor(() => /control API at (http:\S+)/.test(w.stderr()), 'the server address');
    const port = /control API at http:\S+:(\d+)\//.exec(w.stderr())![1];
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const path of ['/api/status?plan=sec', '/api/network?plan=sec', '/api/timeline?plan=sec']) {
      assert.equal((await fetch(base + path)).status, 401, path);
      assert.equal(
        (await fetch(base + path, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status,
        401,
        path,
      );
    }
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/api/commands?plan=sec`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ type: 'pause' }),
      });
    assert.equal((await post({})).status, 401);
    assert.notEqual((await post(auth)).status, 401);
    assert.equal((await post({ ...auth, origin: 'http://evil.example' })).status, 403);
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.equal((await fetch(base + path)).status, 200, path);
    await waitFor(
      async () => (await fetch(`${base}/api/status?plan=sec`, { headers: auth })).status === 200,
      'the plan status with the token',
    );
    assert.equal((await fetch(`${base}/api/network?plan=sec`, { headers: auth })).status, 200);
    assert.doesNotMatch(w.stderr(), /no cluster secret/, 'a secret was given: no warning');
    assert.ok(!w.stderr().includes(TOKEN) && !w.stderr().includes(SECRET));
  } finally {
    child.kill('SIGKILL');
  }
});

test('a demand that cannot fit in memory, and a vehicle id a flow also makes, are one line each, exit 2, before anything is built', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-sec-'));
  const base = JSON.parse(readFileSync(join(repoRoot, 'examples/crossroads.json'), 'utf8')) as {
    flows: Record<string, unknown>[];
    vehicles?: unknown[];
  };
  const big = join(dir, 'big.json');
  writeFileSync(
    big,
    JSON.stringify({ ...base, flows: [{ ...base.flows[0], vehsPerHour: 1e9 }, ...base.flows.slice(1)] }),
  );
  const t0 = Date.now();
  for (const args of [
    ['run', big],
    ['run', big, '--workers', '2'],
    ['submit', big, '--plan', 'big', '--store', `file:${dir}/store`],
  ]) {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: repoRoot, encoding: 'utf8' });
    one(
      r,
      /big\.json: flow "N_right" would make 166,666,667 vehicles.*\(about 83 GB of memory\); a run takes at most 5,000,000/,
    );
  }
  assert.ok(Date.now() - t0 < 20_000, 'refused at once, not after filling the memory');
  const dup = join(dir, 'dup.json');
  writeFileSync(
    dup,
    JSON.stringify({ ...base, vehicles: [{ id: 'N_right.3', type: 'car', route: 'N_W', depart: 5 }] }),
  );
  one(
    spawnSync(process.execPath, [cli, 'run', dup], { cwd: repoRoot, encoding: 'utf8' }),
    /dup\.json: vehicle id "N_right\.3" is used twice: by vehicle 0 \(in file order\) and by flow "N_right", whose vehicle 3 it names/,
  );
  const dup2 = join(dir, 'dup2.json');
  writeFileSync(
    dup2,
    JSON.stringify({
      ...base,
      vehicles: [
        { id: 'a', type: 'car', route: 'N_W', depart: 5 },
        { id: 'a', type: 'car', route: 'N_S', depart: 9 },
      ],
    }),
  );
  one(
    spawnSync(process.execPath, [cli, 'run', dup2], { cwd: repoRoot, encoding: 'utf8' }),
    /duplicate vehicle\/flow id "a" \(first defined at vehicles\[0\]\.id\)|vehicle id "a" is given twice/,
  );
});
