import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../io/sumo/config.js';
import { Engine } from '../sim/engine.js';
import { applyRegion, parseRegion } from './region.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/${name}/scenario.sumocfg`, import.meta.url));

test('parseRegion: a box, a list, a file', () => {
  assert.deepEqual(parseRegion('400,600,0,0'), { kind: 'bbox', x1: 0, y1: 0, x2: 400, y2: 600 });
  assert.deepEqual(parseRegion('A0A1, A1A2'), { kind: 'edges', edges: ['A0A1', 'A1A2'], source: '--region' });
  const dir = mkdtempSync(join(tmpdir(), 'tessds-region-'));
  writeFileSync(join(dir, 'r.txt'), '# left column\nA0A1\nA1A2 A2A3\n');
  assert.deepEqual(parseRegion(join(dir, 'r.txt')).kind, 'edges');
});

test('a box keeps the edges inside it and cuts every route to its first stretch inside', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  const cut = applyRegion(spec, parseRegion('0,0,400,600'));
  const pos = new Map(spec.net.junctions.map((j) => [j.id, j]));
  const kept = new Set(cut.net.edges.map((e) => e.id));
  for (const e of cut.net.edges) {
    for (const j of [e.from, e.to]) assert.ok(pos.get(j)!.x <= 400, `edge ${e.id} leaves the box`);
  }
  const byId = new Map(spec.demand.vehicles.map((v) => [v.id, v]));
  for (const v of cut.demand.vehicles) {
    assert.ok(
      v.route!.every((e) => kept.has(e)),
      `vehicle ${v.id} drives outside`,
    );
    // the kept stretch is contiguous in the original route
    const orig = byId.get(v.id)!.route!.join(' ');
    assert.ok(orig.includes(v.route!.join(' ')), `vehicle ${v.id}: not a stretch of its route`);
  }
  // vehicles that never touch the box are gone; the others are all still there
  const touching = spec.demand.vehicles.filter((v) => v.route!.some((e) => kept.has(e)));
  assert.equal(cut.demand.vehicles.length, touching.length);
  assert.ok(cut.demand.vehicles.length < spec.demand.vehicles.length);
});

test('a vehicle entering the region later departs later by the free-flow time of the edges it skipped', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  const region = parseRegion('0,0,400,600');
  const cut = applyRegion(spec, region);
  const kept = new Set(cut.net.edges.map((e) => e.id));
  const v = spec.demand.vehicles.find((x) => !kept.has(x.route![0]!) && x.route!.some((e) => kept.has(e)))!;
  const c = cut.demand.vehicles.find((x) => x.id === v.id)!;
  const edges = new Map(spec.net.edges.map((e) => [e.id, e]));
  let delay = 0;
  for (const id of v.route!) {
    if (kept.has(id)) break;
    const e = edges.get(id)!;
    delay += e.lanes[0]!.length / Math.max(...e.lanes.map((l) => l.speed));
  }
  assert.ok(Math.abs(c.depart - (v.depart + delay)) < 1e-9);
  assert.equal(c.departPos.kind, 'base');
});

test('a region whose border cuts busy edges: entering vehicles queue, none is lost', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  // the middle column only: most routes cross its border
  const cut = applyRegion(spec, parseRegion('150,0,450,600'));
  const e = new Engine(cut);
  e.run();
  assert.equal(e.demand.count, cut.demand.vehicles.length);
  assert.equal(
    e.inserted + e.pendingCount + (e.departures.length - e.nextDeparture),
    e.demand.count,
    'every vehicle inserted or waiting',
  );
  assert.equal(e.inserted, e.running + e.arrived);
  assert.ok(e.arrived > 0);
});

test('unknown edges and empty regions are refused by name', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  assert.throws(() => applyRegion(spec, parseRegion('A0A1,NOPE')), /unknown edge "NOPE"/);
  assert.throws(
    () => applyRegion(spec, parseRegion('5000,5000,6000,6000')),
    /no edge of the network lies in the region/,
  );
});
