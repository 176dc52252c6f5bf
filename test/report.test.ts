/**
 * `tessds report DIR` on the real outputs of a partitioned run, checked in its HTML and, when Chromium
 * is there, as the browser shows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM_MISSING, launchBrowser } from './browser.js';
import { decodePng } from './png.js';
import { repoRoot } from '../src/control/testing.js';
import { loadScenario } from '../src/io/scenario.js';
import { Network } from '../src/sim/network.js';

const cli = join(repoRoot, 'dist/src/cli/main.js');
const tessds = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: repoRoot });

function expectUserError(r: ReturnType<typeof tessds>, pattern: RegExp) {
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
}

/** The crossroads example on 2 workers, split by hand: C, N, W in part 0; E, S in part 1. */
function runOutputs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-report-'));
  writeFileSync(join(dir, 'partition.json'), JSON.stringify({ C: 0, N: 0, W: 0, E: 1, S: 1 }));
  const r = tessds(
    'run',
    'examples/crossroads.json',
    '--end',
    '300',
    '--workers',
    '2',
    '--partition-map',
    join(dir, 'partition.json'),
    '--summary',
    join(dir, 'summary.json'),
    '--tripinfo',
    join(dir, 'tripinfo.xml'),
    '--status-file',
    join(dir, 'status.json'),
    '-q',
  );
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

const dir = runOutputs();
const r = tessds('report', dir, '--scenario', 'examples/crossroads.json');
const htmlPath = join(dir, 'report.html');

test("report writes one HTML page whose plots agree with the run's files", () => {
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /report written to .*report\.html/);
  const html = readFileSync(htmlPath, 'utf8');
  for (const id of ['plot-vehicles', 'plot-traveltime', 'plot-speed', 'plot-timeloss', 'plot-partition'])
    assert.match(html, new RegExp(`<svg id="${id}"`));
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained: no scripts, nothing fetched');
  const section = (id: string) =>
    html.slice(html.indexOf(`<svg id="${id}"`), html.indexOf('</svg>', html.indexOf(`<svg id="${id}"`)));
  // every arrived vehicle is in the travel-time histogram exactly once
  const trips = (readFileSync(join(dir, 'tripinfo.xml'), 'utf8').match(/<tripinfo /g) ?? []).length;
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { arrived: number; stateHash: string };
  const counted = [...section('plot-traveltime').matchAll(/data-count="(\d+)"/g)].reduce((a, m) => a + Number(m[1]), 0);
  assert.equal(trips, summary.arrived);
  assert.equal(counted, trips);
  // part 1 holds junctions E and S: the lanes driving into them are CE_0, CE_1, CS_0, CS_1
  assert.equal((section('plot-partition').match(/data-part="1"/g) ?? []).length, 4);
  assert.equal((section('plot-partition').match(/data-part="0"/g) ?? []).length, 12);
  assert.match(html, new RegExp(summary.stateHash));
});

test('report opened in Chromium shows its plots', { skip: CHROMIUM_MISSING }, async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(htmlPath).href);
    const plots = page.locator('svg.plot');
    assert.equal(await plots.count(), 5);
    for (let i = 0; i < 5; i++) {
      const img = decodePng(await plots.nth(i).screenshot());
      let ink = 0,
        colour = 0;
      for (let p = 0; p < img.width * img.height; p++) {
        const [R, G, B] = [img.rgba[p * 4]!, img.rgba[p * 4 + 1]!, img.rgba[p * 4 + 2]!];
        if (R < 235 || G < 235 || B < 235) ink++;
        if (Math.max(R, G, B) - Math.min(R, G, B) > 80) colour++;
      }
      const id = await plots.nth(i).getAttribute('id');
      assert.ok(img.width > 300 && img.height > 200, `${id} is laid out (${img.width}×${img.height})`);
      assert.ok(colour > 500, `${id} shows coloured data (${colour} px)`);
      assert.ok(ink > colour, `${id} has axes or text besides the data`);
    }
  } finally {
    await browser.close();
  }
});

test('run --save-partition writes the parts it used: --partition-map gives them back, and the report draws them', () => {
  const cfg = join(repoRoot, 'test/fixtures/grid4/scenario.sumocfg');
  const net = new Network(loadScenario(cfg).net);
  const first = mkdtempSync(join(tmpdir(), 'tessds-report-saved-'));
  const again = mkdtempSync(join(tmpdir(), 'tessds-report-saved-'));
  const saved = join(first, 'partition.json');
  let r = tessds(
    'run',
    cfg,
    '--end',
    '200',
    '--workers',
    '2',
    '--save-partition',
    saved,
    '--summary',
    join(first, 'summary.json'),
    '-q',
  );
  assert.equal(r.status, 0, r.stderr);
  const map = JSON.parse(readFileSync(saved, 'utf8')) as Record<string, number>;
  assert.deepEqual(Object.keys(map).sort(), [...net.junctionIds].sort(), 'every junction, once');
  assert.deepEqual([...new Set(Object.values(map))].sort(), [0, 1]);

  // fed back, the map is the partition the second run uses (it saves the same file) and ends in the same state
  r = tessds(
    'run',
    cfg,
    '--end',
    '200',
    '--workers',
    '2',
    '--partition-map',
    saved,
    '--save-partition',
    join(again, 'partition.json'),
    '--summary',
    join(again, 'summary.json'),
    '-q',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(again, 'partition.json'), 'utf8'), readFileSync(saved, 'utf8'));
  const hash = (d: string) =>
    (JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')) as { stateHash: string }).stateHash;
  assert.equal(hash(again), hash(first));

  // the report colours each lane by the part of the junction it drives into, as the saved map says
  r = tessds('report', first, '--scenario', cfg);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(join(first, 'report.html'), 'utf8');
  const start = html.indexOf('<svg id="plot-partition"');
  const drawn = [...html.slice(start, html.indexOf('</svg>', start)).matchAll(/data-part="(\d+)"/g)].map((m) =>
    Number(m[1]),
  );
  const expected: number[] = [];
  for (let lane = 0; lane < net.laneCount; lane++) {
    if (net.laneLink[lane]! < 0) expected.push(map[net.junctionIds[net.edgeTo[net.laneEdge[lane]!]!]!]!);
  }
  assert.deepEqual(drawn, expected);
  assert.equal(new Set(drawn).size, 2, 'both parts on the map');
});

test('report: a missing directory, an empty one and a broken file are one line each, exit 2', () => {
  expectUserError(tessds('report', join(dir, 'nope')), /nope: directory not found/);
  const empty = mkdtempSync(join(tmpdir(), 'tessds-report-empty-'));
  expectUserError(tessds('report', empty), /found none of summary\.json, tripinfo\.xml, status\.json/);
  assert.equal(existsSync(join(empty, 'report.html')), false);
  const broken = mkdtempSync(join(tmpdir(), 'tessds-report-broken-'));
  writeFileSync(
    join(broken, 'tripinfo.xml'),
    '<tripinfos>\n  <tripinfo id="a" depart="x" arrival="3" duration="3" routeLength="10"/>\n</tripinfos>\n',
  );
  expectUserError(
    tessds('report', broken),
    /tripinfo\.xml:2: tripinfo "a": attribute "depart" is not a number \("x"\)/,
  );
  writeFileSync(join(broken, 'tripinfo.xml'), '<tripinfos><tripinfo');
  expectUserError(tessds('report', broken), /tripinfo\.xml/);
});

test('report escapes every field of status.json (a <script> in any of them stays text)', () => {
  const d = mkdtempSync(join(tmpdir(), 'tessds-report-xss-'));
  for (const f of ['summary.json', 'tripinfo.xml']) writeFileSync(join(d, f), readFileSync(join(dir, f)));
  const x = '<script>alert(1)</script>';
  const status = {
    step: x,
    state: x,
    leader: { pid: x, host: x, epoch: x },
    workers: [{ id: x, pid: x, host: x, parts: [x], step: x, state: x }],
    events: [{ at: x, type: x, worker: x, step: x, detail: x }],
  };
  writeFileSync(join(d, 'status.json'), JSON.stringify(status));
  const out = tessds('report', d, '--scenario', 'examples/crossroads.json');
  assert.equal(out.status, 0, out.stderr);
  const html = readFileSync(join(d, 'report.html'), 'utf8');
  assert.doesNotMatch(html, /<script/i);
  assert.ok((html.match(/&lt;script&gt;/g) ?? []).length >= 14, 'each field shown as text');
});
