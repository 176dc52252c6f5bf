import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../sim/engine.js';
import { corridor, vehicle } from '../sim/testnets.js';
import { PositionSampler, networkView } from './positions.js';
import { decodeFrame, encodeFrame, mergeFrames } from './backend.js';

/** A corridor whose first lane is bent: 100 m east, then 100 m north; lane length 200 m. */
function bentCorridor() {
  const spec = corridor({ l1: 200, vehicles: [vehicle('a', 0, ['in', 'out']), vehicle('b', 0, ['in', 'out'])] });
  spec.net.edges[0]!.lanes[0]!.shape = [0, 0, 100, 0, 100, 100];
  return spec;
}

function place(e: Engine, vid: number, laneId: string, pos: number, speed: number): void {
  const s = e.v.alloc();
  e.v.vid[s] = vid;
  e.v.pos[s] = pos;
  e.v.speed[s] = speed;
  e.insertSorted(s, e.net.laneIndex.get(laneId)!);
}

test('a position along a bent lane maps onto its shape, with the heading of that segment', () => {
  const e = new Engine(bentCorridor());
  place(e, 0, 'in_0', 150, 10); // 100 m east, then 50 m north: (100, 50), heading north
  place(e, 1, 'in_0', 25, 4); // (25, 0), heading east
  const f = new PositionSampler(e.net).sample(e);
  assert.equal(f.count, 2);
  assert.equal(f.running, 2);
  assert.equal(f.meanSpeed, 7);
  // front to back: the vehicle at 150 m comes first
  assert.deepEqual([f.x[0], f.y[0], f.angle[0]], [100, 50, Math.fround(Math.PI / 2)]);
  assert.deepEqual([f.x[1], f.y[1], f.angle[1]], [25, 0, 0]);
});

test('a shape longer than the lane is scaled: halfway along the lane is halfway along the shape', () => {
  const spec = bentCorridor();
  spec.net.edges[0]!.lanes[0]!.length = 100; // shape is 200 m long
  const e = new Engine(spec);
  place(e, 0, 'in_0', 50, 0);
  const f = new PositionSampler(e.net).sample(e);
  assert.deepEqual([f.x[0], f.y[0]], [100, 0]);
});

test('the viewport keeps only vehicles inside it, but totals count every vehicle', () => {
  const e = new Engine(bentCorridor());
  place(e, 0, 'in_0', 150, 10);
  place(e, 1, 'in_0', 25, 4);
  const f = new PositionSampler(e.net).sample(e, [90, 10, 110, 60]);
  assert.equal(f.count, 1);
  assert.equal(f.x[0], 100);
  assert.equal(f.running, 2);
});

test('parts come from the lane owner map; lanes an engine does not own are skipped', () => {
  const e = new Engine(bentCorridor());
  place(e, 0, 'in_0', 150, 10);
  place(e, 1, 'out_0', 5, 4);
  const owner = Int32Array.from({ length: e.net.laneCount }, (_, lane) => (e.net.laneIds[lane] === 'out_0' ? 1 : 0));
  const f = new PositionSampler(e.net, owner).sample(e);
  assert.deepEqual(Array.from(f.part.subarray(0, f.count)).sort(), [0, 1]);
  e.ownedLane[e.net.laneIndex.get('out_0')!] = 0;
  assert.equal(new PositionSampler(e.net, owner).sample(e).count, 1);
});

test('frames survive binary encoding', () => {
  const e = new Engine(bentCorridor());
  place(e, 0, 'in_0', 150, 10);
  place(e, 1, 'in_0', 25, 4);
  const f = new PositionSampler(e.net).sample(e);
  f.ups = 1234;
  const g = decodeFrame(encodeFrame(f));
  assert.equal(g.count, 2);
  assert.equal(g.running, 2);
  assert.equal(g.ups, 1234);
  assert.deepEqual(Array.from(g.x), [100, 25]);
  assert.deepEqual(Array.from(g.y), [50, 0]);
  assert.deepEqual(Array.from(g.speed), [10, 4]);
});

test('the network view has every lane with its part and the bounds of all shapes', () => {
  const e = new Engine(bentCorridor());
  const owner = Int32Array.from({ length: e.net.laneCount }, (_, lane) => (e.net.laneIds[lane] === 'out_0' ? 1 : 0));
  const v = networkView(e.net, owner);
  assert.deepEqual(
    v.lanes.map((l) => [l.id, l.internal, l.part]),
    [
      ['in_0', false, 0],
      ['out_0', false, 1],
      [':B#0', true, 0],
    ],
  );
  assert.equal(v.parts, 2);
  // in_0 reaches y = 100; out_0 runs from x = 210 to 710 (corridor: l1 + 10 .. + 500)
  assert.deepEqual(v.bounds, [0, 0, 710, 100]);
});

test('frames of two parts merge into the frame of the whole network', () => {
  const whole = new Engine(bentCorridor());
  place(whole, 0, 'in_0', 150, 10);
  place(whole, 1, 'out_0', 5, 4);
  const owner = Int32Array.from({ length: whole.net.laneCount }, (_, lane) =>
    whole.net.laneIds[lane] === 'out_0' ? 1 : 0,
  );
  const expected = new PositionSampler(whole.net, owner).sample(whole);
  const expectedCopy = decodeFrame(encodeFrame(expected));
  const parts = [0, 1].map((p) => {
    const e = new Engine(bentCorridor());
    place(e, 0, 'in_0', 150, 10);
    place(e, 1, 'out_0', 5, 4);
    for (let lane = 0; lane < e.net.laneCount; lane++) e.ownedLane[lane] = owner[lane] === p ? 1 : 0;
    return decodeFrame(encodeFrame(new PositionSampler(e.net, owner).sample(e)));
  });
  const merged = mergeFrames(parts);
  assert.equal(merged.count, 2);
  assert.equal(merged.running, 2);
  assert.equal(merged.meanSpeed, 7);
  const key = (f: typeof merged) =>
    Array.from({ length: f.count }, (_, i) => [f.x[i], f.y[i], f.angle[i], f.speed[i], f.part[i]].join(',')).sort();
  assert.deepEqual(key(merged), key(expectedCopy));
});
