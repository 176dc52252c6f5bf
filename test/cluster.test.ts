/**
 * Partitioned runs on the embedded cluster (real worker processes talking TCP): the state hash and
 * every summary figure equal the one-process run's, for 1..4 workers and 1..8 parts, on the three
 * kinds of SUMO network and on a Krauss (σ > 0) scenario; a user's partition map; the status file; clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const fixtures = join(root, 'test/fixtures');
const END = '150';

function tessds(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function summary(...args: string[]) {
  const r = tessds('run', ...args, '--summary', '-', '--end', END);
  assert.equal(r.code, 0, `tessds ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number | string>;
}

/** Everything but the timings must be equal. */
function sameResult(a: Record<string, number | string>, b: Record<string, number | string>, what: string) {
  for (const k of Object.keys(a)) {
    if (k === 'wallSeconds' || k === 'ups') continue;
    assert.equal(b[k], a[k], `${what}: ${k}`);
  }
}

// the three kinds of SUMO network (IDM, σ 0), and a city with SUMO's default vType (Krauss, σ 0.5, speedDev 0.1)
const scenarios: [string, string][] = [
  ['grid4', 'grid4/scenario.sumocfg'],
  ['spider4', 'spider4/scenario.sumocfg'],
  ['rand4', 'rand4/scenario.sumocfg'],
  ['krauss city', 'krauss/city.sumocfg'],
];
for (const [name, file] of scenarios) {
  test(`${name}: --workers 1..4 and --parts 1..8 end in the one-process run's hash and figures`, () => {
    const cfg = join(fixtures, file);
    const single = summary(cfg);
    assert.ok(Number(single.arrived) > 0);
    const configs: [number, number][] = [
      [2, 2],
      [3, 3],
      [4, 4],
      [1, 5],
      [2, 6],
      [3, 7],
      [4, 8],
    ];
    for (const [w, p] of configs) {
      sameResult(
        single,
        summary(cfg, '--workers', String(w), '--parts', String(p), '--check'),
        `${w} workers, ${p} parts`,
      );
    }
  });
}

test('--partition-map: a user map runs to the same hash; a map missing a junction is refused by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-map-'));
  const cfg = join(fixtures, 'grid4', 'scenario.sumocfg');
  const net = readFileSync(join(fixtures, 'grid4', 'net.net.xml'), 'utf8');
  const ids = [...net.matchAll(/<junction id="([^":]+)"/g)].map((m) => m[1]!);
  // columns A,B → part 0, C,D → part 1 (netgenerate names grid junctions by column letter)
  const map = Object.fromEntries(ids.map((id) => [id, id < 'C' ? 0 : 1]));
  writeFileSync(join(dir, 'map.json'), JSON.stringify(map));
  sameResult(summary(cfg), summary(cfg, '--partition-map', join(dir, 'map.json'), '--workers', '2'), 'user map');
  delete map[ids[3]!];
  writeFileSync(join(dir, 'partial.json'), JSON.stringify(map));
  const r = tessds('run', cfg, '--partition-map', join(dir, 'partial.json'), '--end', END);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`junction "?${ids[3]}"?`));
});

test('--status-file is kept current during the run and ends "finished" with every worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-status-'));
  const file = join(dir, 'status.json');
  const child = spawn(
    process.execPath,
    [cli, 'run', join(fixtures, 'rand4', 'scenario.sumocfg'), '--workers', '2', '--status-file', file, '-q'],
    { cwd: root },
  );
  const seen = new Set<string>();
  const poll = setInterval(() => {
    if (!existsSync(file)) return;
    try {
      seen.add(JSON.parse(readFileSync(file, 'utf8')).state);
    } catch {
      // renamed atomically: a read never sees half a file, but the file may be replaced meanwhile
    }
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(poll);
  assert.equal(code, 0);
  const status = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(status.state, 'finished');
  assert.equal(status.step, 600);
  assert.equal(status.workers.length, 2);
  for (const w of status.workers) {
    assert.equal(w.state, 'finished');
    assert.ok(Number.isInteger(w.pid) && w.pid > 0);
    assert.ok(Array.isArray(w.parts) && w.parts.length >= 1);
    assert.equal(w.step, 600);
  }
  assert.ok(status.leader && Number.isInteger(status.leader.pid));
  assert.ok(seen.has('running') || seen.has('starting'), `states seen: ${[...seen]}`);
});

test('partition options are checked', () => {
  const cfg = join(fixtures, 'grid4', 'scenario.sumocfg');
  let r = tessds('run', cfg, '--parts', '0');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--parts/);
  r = tessds('run', cfg, '--parts', '99');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--parts 99/);
  r = tessds('run', cfg, '--workers', 'two');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--workers/);
});

test('--region: a partitioned run of a sub-network ends in the one-process hash', () => {
  const cfg = join(fixtures, 'rand4', 'scenario.sumocfg');
  const one = summary(cfg, '--region', '0,0,900,900');
  assert.ok(Number(one.loaded) > 0);
  sameResult(one, summary(cfg, '--region', '0,0,900,900', '--workers', '2', '--parts', '3'), 'region, 2 workers');
});
