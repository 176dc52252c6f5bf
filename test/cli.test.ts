/**
 * The `tessds` command as a user meets it: real processes, real files. Bad input must give one
 * clear line naming the file/position/option, exit code 2 and no stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const fixtures = join(root, 'test/fixtures');

function tessds(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectUserError(r: ReturnType<typeof tessds>, pattern: RegExp) {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, 'no stack trace');
}

/** A scratch copy of a fixture whose files a test may break. */
function scratchFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cli-'));
  for (const f of ['net.net.xml', 'routes.rou.xml', 'scenario.sumocfg'])
    copyFileSync(join(fixtures, name, f), join(dir, f));
  return dir;
}

test('the README demo runs and prints the report', () => {
  const r = tessds('run', 'examples/crossroads.json', '--end', '120');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /TessDS run: examples\/crossroads.json/);
  assert.match(r.stdout, /state hash [0-9a-f]{64}/);
});

test('--summary writes every contract field; --tripinfo writes SUMO tripinfo with one element per arrived vehicle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cli-'));
  const summaryFile = join(dir, 's.json');
  const tripFile = join(dir, 't.xml');
  const r = tessds(
    'run',
    join(fixtures, 'grid4/scenario.sumocfg'),
    '--end',
    '200',
    '--summary',
    summaryFile,
    '--tripinfo',
    tripFile,
    '-q',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
  for (const k of [
    'loaded',
    'inserted',
    'running',
    'waiting',
    'arrived',
    'meanDuration',
    'meanRouteLength',
    'meanSpeed',
    'meanTimeLoss',
    'meanWaitingTime',
    'steps',
    'simSeconds',
    'wallSeconds',
    'vehicleUpdates',
    'ups',
    'stateHash',
  ]) {
    assert.ok(k in s, `summary field ${k}`);
  }
  assert.equal(s.steps, 400);
  const xml = readFileSync(tripFile, 'utf8');
  assert.equal((xml.match(/<tripinfo /g) ?? []).length, s.arrived);
  assert.match(xml, /<tripinfos[^>]*>/);
  assert.match(xml, /<\/tripinfos>\s*$/);
});

test('--save-state then --load-state continues to the same final hash as an uninterrupted run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cli-'));
  const cfg = join(fixtures, 'rand4/scenario.sumocfg');
  const whole = JSON.parse(tessds('run', cfg, '--end', '240', '--summary', '-').stdout);
  const state = join(dir, 'half.state');
  assert.equal(tessds('run', cfg, '--end', '97', '--save-state', state, '-q').code, 0);
  const resumed = JSON.parse(tessds('run', cfg, '--end', '240', '--load-state', state, '--summary', '-').stdout);
  assert.equal(resumed.stateHash, whole.stateHash);
  assert.equal(resumed.arrived, whole.arrived);
});

test('missing scenario file', () => {
  expectUserError(tessds('run', 'no/such/file.sumocfg'), /^tessds: no\/such\/file\.sumocfg: file not found$/);
});

test('unknown scenario format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cli-'));
  writeFileSync(join(dir, 'net.txt'), 'hello');
  expectUserError(tessds('run', join(dir, 'net.txt')), /net\.txt: unknown scenario format/);
});

test('a JSON file that is not a scenario names the file and the field', () => {
  expectUserError(tessds('run', 'package.json'), /package\.json:\d+:\d+: /);
});

test('truncated network XML names the file and a line', () => {
  const dir = scratchFixture('grid4');
  const net = readFileSync(join(dir, 'net.net.xml'), 'utf8');
  writeFileSync(join(dir, 'net.net.xml'), net.slice(0, Math.floor(net.length / 2)));
  expectUserError(tessds('run', join(dir, 'scenario.sumocfg')), /net\.net\.xml:\d+(:\d+)?: /);
});

test('malformed route XML names the file and position', () => {
  const dir = scratchFixture('grid4');
  const routes = readFileSync(join(dir, 'routes.rou.xml'), 'utf8').replace('<vehicle id="1"', '<vehicle id="1" <<');
  writeFileSync(join(dir, 'routes.rou.xml'), routes);
  expectUserError(tessds('run', join(dir, 'scenario.sumocfg')), /routes\.rou\.xml:\d+(:\d+)?: /);
});

test('malformed JSON scenario names the file, line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cli-'));
  const text = readFileSync(join(root, 'examples/crossroads.json'), 'utf8').replace('"nodes"', '"nodes" ,');
  writeFileSync(join(dir, 'bad.json'), text);
  expectUserError(tessds('run', join(dir, 'bad.json')), /bad\.json:\d+:\d+: /);
});

test('a route through an unknown edge: the vehicle is skipped with a warning naming it and the edge', () => {
  const dir = scratchFixture('grid4');
  const routes = readFileSync(join(dir, 'routes.rou.xml'), 'utf8');
  const broken = routes.replace(/(<vehicle id="7"[^>]*>\s*<route edges=")([^ "]+)/, '$1NOPE');
  assert.notEqual(broken, routes);
  writeFileSync(join(dir, 'routes.rou.xml'), broken);
  const r = tessds('run', join(dir, 'scenario.sumocfg'), '--end', '30', '--summary', '-');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*vehicle "7".*"NOPE"/);
  assert.equal(JSON.parse(r.stdout).loaded < 300, true);
});

test('a non-numeric option value names the option', () => {
  expectUserError(tessds('run', 'examples/crossroads.json', '--end', 'soon'), /--end.*"soon" is not a number/);
});

test('a negative step length names the option', () => {
  expectUserError(tessds('run', 'examples/crossroads.json', '--step', '-0.5'), /--step.*must be greater than 0/);
});

test('a negative step length in the scenario file names it', () => {
  const dir = scratchFixture('grid4');
  const cfg = readFileSync(join(dir, 'scenario.sumocfg'), 'utf8').replace(
    /<step-length value="[^"]*"/,
    '<step-length value="-1"',
  );
  writeFileSync(join(dir, 'scenario.sumocfg'), cfg);
  expectUserError(tessds('run', join(dir, 'scenario.sumocfg')), /step.length/);
});

test('an unknown option and an unknown command', () => {
  expectUserError(tessds('run', 'examples/crossroads.json', '--fast'), /unknown option '--fast'/);
  expectUserError(tessds('fly'), /unknown command 'fly'/);
});

test('an output path in a missing directory is refused before the run, naming the option', () => {
  const grid = join(fixtures, 'grid4/scenario.sumocfg');
  expectUserError(
    tessds('run', grid, '--end', '10', '--summary', '/nonexistent-dir/s.json'),
    /--summary \/nonexistent-dir\/s\.json: directory \/nonexistent-dir does not exist/,
  );
  expectUserError(
    tessds('run', grid, '--end', '10', '--tripinfo', '/nonexistent-dir/t.xml', '--workers', '2'),
    /--tripinfo/,
  );
  expectUserError(tessds('run', grid, '--end', '10', '--status-file', tmpdir()), /--status-file .*is a directory/);
  // refused before the run starts: its log (opened first thing) is never written
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cli-'));
  for (const where of [['--workers', '2'], []]) {
    expectUserError(
      tessds(
        'run',
        grid,
        '--end',
        '10',
        ...where,
        '--log-file',
        join(dir, 'log.jsonl'),
        '--save-partition',
        '/nonexistent-dir/p.json',
      ),
      /^tessds: --save-partition \/nonexistent-dir\/p\.json: directory \/nonexistent-dir does not exist$/,
    );
    expectUserError(
      tessds('run', grid, '--end', '10', ...where, '--save-partition', dir),
      /--save-partition .*is a directory/,
    );
  }
  assert.deepEqual(readdirSync(dir), []);
});

test('--save-partition in one process: every junction in part 0, a map --partition-map takes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cli-'));
  const cfg = join(fixtures, 'grid4/scenario.sumocfg');
  const saved = join(dir, 'partition.json');
  const alone = tessds('run', cfg, '--end', '20', '--save-partition', saved, '--summary', '-');
  assert.equal(alone.code, 0, alone.stderr);
  const map = JSON.parse(readFileSync(saved, 'utf8')) as Record<string, number>;
  const junctions = [
    ...readFileSync(join(fixtures, 'grid4/net.net.xml'), 'utf8').matchAll(
      /<junction id="([^"]+)"(?![^>]*type="internal")/g,
    ),
  ].map((m) => m[1]);
  assert.deepEqual(Object.keys(map).sort(), junctions.sort());
  assert.deepEqual(new Set(Object.values(map)), new Set([0]));
  const fedBack = tessds('run', cfg, '--end', '20', '--partition-map', saved, '--summary', '-');
  assert.equal(fedBack.code, 0, fedBack.stderr);
  assert.equal(JSON.parse(fedBack.stdout).stateHash, JSON.parse(alone.stdout).stateHash);
});

test('a state file of another scenario is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cli-'));
  const state = join(dir, 'g.state');
  assert.equal(
    tessds('run', join(fixtures, 'grid4/scenario.sumocfg'), '--end', '5', '--save-state', state, '-q').code,
    0,
  );
  expectUserError(
    tessds('run', join(fixtures, 'spider4/scenario.sumocfg'), '--load-state', state),
    /g\.state: snapshot belongs to another scenario/,
  );
});

test('--help documents every run option', () => {
  const r = tessds('run', '--help');
  assert.equal(r.code, 0);
  for (const o of [
    '--end',
    '--step',
    '--seed',
    '--begin',
    '--summary',
    '--tripinfo',
    '--save-state',
    '--load-state',
    '--time-to-teleport',
    '--no-progress',
    '--quiet',
    '--workers',
    '--parts',
    '--min-parts',
    '--max-parts',
    '--partition-map',
    '--save-partition',
    '--region',
    '--checkpoint-every',
    '--store',
    '--plan',
    '--realtime-factor',
    '--status-file',
    '--check',
  ]) {
    assert.match(r.stdout, new RegExp(o));
  }
});
