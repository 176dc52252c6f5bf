import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { loadSumoScenarioCached } from './scenario-cache.js';
import { loadSumoScenario } from './sumo/config.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

/** A copy of a fixture in a fresh directory, and a fresh cache directory. */
function setup(name: string) {
  const root = mkdtempSync(join(tmpdir(), 'tessds-cache-test-'));
  cpSync(fixture(name), join(root, 'scenario'), { recursive: true });
  return { cfg: join(root, 'scenario', 'scenario.sumocfg'), dir: join(root, 'cache') };
}

function entries(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.scenario.json'))
    .map((n) => join(dir, n));
}

test('a cached scenario is the scenario its files give, -0 included (rand4 has three)', () => {
  const { cfg, dir } = setup('rand4');
  const fresh = loadSumoScenario(cfg);
  // JSON alone would turn those -0 into 0: the round trip the cache must not be
  assert.ok(!isDeepStrictEqual(JSON.parse(JSON.stringify(fresh)), fresh));
  const warnings: string[] = [];
  const o = { dir, minBytes: 0, warn: (m: string) => warnings.push(m) };
  assert.ok(isDeepStrictEqual(loadSumoScenarioCached(cfg, o), fresh), 'first read (written to the cache)');
  assert.equal(entries(dir).length, 1);
  assert.ok(isDeepStrictEqual(loadSumoScenarioCached(cfg, o), fresh), 'second read (from the cache)');
  assert.deepEqual(warnings, []);
});

test('a corrupt, truncated or foreign entry is named, ignored and replaced by a fresh read', () => {
  const { cfg, dir } = setup('grid4');
  const fresh = loadSumoScenario(cfg);
  const warnings: string[] = [];
  const o = { dir, minBytes: 0, warn: (m: string) => warnings.push(m) };
  loadSumoScenarioCached(cfg, o);
  const [file] = entries(dir);
  const data = readFileSync(file!, 'utf8');
  // corrupt one digit of the body: the checksum catches it, the files are read, the entry rewritten
  const at = data.indexOf('"length":') + 9;
  writeFileSync(file!, data.slice(0, at) + (data[at] === '9' ? '8' : '9') + data.slice(at + 1));
  assert.ok(isDeepStrictEqual(loadSumoScenarioCached(cfg, o), fresh));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /scenario\.json: checksum mismatch \(corrupt\); ignored/);
  assert.equal(readFileSync(file!, 'utf8'), data, 'rewritten');
  // truncated, and not an entry at all
  writeFileSync(file!, data.slice(0, data.length - 10));
  assert.ok(isDeepStrictEqual(loadSumoScenarioCached(cfg, o), fresh));
  assert.match(warnings[1]!, /truncated/);
  writeFileSync(file!, '<net/>\n');
  assert.ok(isDeepStrictEqual(loadSumoScenarioCached(cfg, o), fresh));
  assert.match(warnings[2]!, /not a TessDS scenario cache entry/);
  assert.equal(readFileSync(file!, 'utf8'), data);
});

test('another scenario’s entry under this name is refused by its key', () => {
  const a = setup('grid4');
  const b = setup('spider4');
  const warnings: string[] = [];
  const o = { dir: a.dir, minBytes: 0, warn: (m: string) => warnings.push(m) };
  loadSumoScenarioCached(a.cfg, o);
  loadSumoScenarioCached(b.cfg, { ...o, dir: b.dir });
  const [fileA] = entries(a.dir);
  const [fileB] = entries(b.dir);
  writeFileSync(fileA!, readFileSync(fileB!));
  assert.ok(isDeepStrictEqual(loadSumoScenarioCached(a.cfg, o), loadSumoScenario(a.cfg)));
  assert.match(warnings[0]!, /a cache entry for other input files/);
});

test('a changed input file is a new entry, and the change is read', () => {
  const { cfg, dir } = setup('grid4');
  const o = { dir, minBytes: 0 };
  const before = loadSumoScenarioCached(cfg, o);
  const routes = join(
    cfg,
    '..',
    readdirSync(join(cfg, '..')).find((n) => n.endsWith('.rou.xml'))!,
  );
  appendFileSync(routes, '<!-- edited -->\n');
  const text = readFileSync(routes, 'utf8');
  writeFileSync(
    routes,
    text.replace(/depart="([\d.]+)"/, (_m, d: string) => `depart="${Number(d) + 0.5}"`),
  );
  const after = loadSumoScenarioCached(cfg, o);
  assert.equal(entries(dir).length, 2);
  assert.ok(!isDeepStrictEqual(after, before));
  assert.ok(isDeepStrictEqual(after, loadSumoScenario(cfg)));
});

test('small inputs are not cached; the oldest entries go beyond maxEntries', () => {
  const { cfg, dir } = setup('grid4');
  loadSumoScenarioCached(cfg, { dir });
  assert.throws(() => readdirSync(dir), /ENOENT/, 'the 1 MB default leaves a small fixture uncached');
  for (const name of ['grid4', 'spider4', 'rand4'])
    loadSumoScenarioCached(setup(name).cfg, { dir, minBytes: 0, maxEntries: 2 });
  assert.equal(entries(dir).length, 2);
});
