import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Demand } from './demand.js';
import { Engine } from './engine.js';
import { Network } from './network.js';
import { corridor, vehicle } from './testnets.js';
import type { FlowSpec } from '../io/spec.js';

const flow = (id: string, rate: Partial<FlowSpec>): FlowSpec => ({
  id,
  type: 'car',
  begin: 0,
  end: 100,
  route: ['in', 'out'],
  departLane: { kind: 'first' },
  departSpeed: { kind: 'value', speed: 0 },
  departPos: { kind: 'base' },
  arrivalPos: { kind: 'max' },
  ...rate,
});

test('departures before the begin are dropped as SUMO drops them, and counted', () => {
  const spec = corridor({
    vehicles: [
      vehicle('early', 5, ['in', 'out']),
      vehicle('atBegin', 10, ['in', 'out']),
      vehicle('late', 20, ['in', 'out']),
    ],
  });
  // SUMO 1.15 with begin 10 (hand-checked on a two-edge net): a period flow keeps 12, 16, ... as f.0, f.1, ...;
  // a number flow counts its skipped departures toward the number (number 10 over 0..100 → 10, 20, ..., 90)
  spec.demand.flows = [flow('f', { period: 4, end: 60 }), flow('g', { number: 10 })];
  const net = new Network(spec.net);
  const d = new Demand(spec.demand, net, { stepLength: 1, begin: 10, seed: 1 });
  const ids = d.ids.slice(0, d.count);
  assert.ok(!ids.includes('early'));
  assert.ok(ids.includes('atBegin') && ids.includes('late'));
  const fIds = ids.filter((i) => i.startsWith('f.'));
  assert.equal(fIds.length, 12); // 12, 16, ..., 56
  assert.equal(d.depart[ids.indexOf('f.0')], 12);
  const gIds = ids.filter((i) => i.startsWith('g.'));
  assert.equal(gIds.length, 9);
  assert.equal(d.depart[ids.indexOf('g.0')], 10);
  assert.equal(d.droppedBeforeBegin, 1 + 3 + 1);
  assert.ok(d.warnings.some((w) => /5 vehicle\(s\) depart before the begin/.test(w)));
});

test('stops resolve to their place on the route; a stop off the route or a trip through it as SUMO has them', () => {
  const spec = corridor({ vehicles: [] });
  const base = vehicle('x', 0, ['in', 'out']);
  spec.demand.vehicles = [
    {
      ...base,
      id: 'two',
      stops: [
        { lane: 'in_0', startPos: 99.8, endPos: 100, duration: 10 },
        { lane: 'out_0', startPos: 0, endPos: 50, until: 80, untilFrom: 0 },
      ],
    },
    {
      ...base,
      id: 'behind',
      stops: [
        { lane: 'out_0', startPos: 50, endPos: 50, duration: 1 },
        { lane: 'in_0', startPos: 10, endPos: 10, duration: 1 },
      ],
    },
    {
      ...base,
      id: 'trip',
      depart: 5,
      route: undefined,
      from: 'in',
      to: 'out',
      stops: [{ lane: 'out_0', startPos: 20, endPos: 20, duration: 3 }],
    },
  ];
  const d = new Demand(spec.demand, new Network(spec.net), { stepLength: 1, begin: 0, seed: 1 });
  assert.deepEqual(d.ids.slice(0, d.count), ['two', 'trip']);
  assert.ok(
    d.warnings.some((w) => /vehicle "behind" skipped: its stop on lane "in_0" is not downstream on its route/.test(w)),
  );
  const i = d.ids.indexOf('two');
  const st = d.stops;
  assert.deepEqual(
    [st.routeIdx.slice(d.stopFirst[i]!, d.stopLast[i]!), st.duration.slice(d.stopFirst[i]!, d.stopLast[i]!)],
    [
      [0, 1],
      [10, 0],
    ],
  );
  // until 80 of a route's stop counts from the departure: 80 + 0
  assert.equal(d.stopUntil(d.stopFirst[i]! + 1, i), 80);
  const t = d.ids.indexOf('trip');
  assert.equal(d.stopLast[t]! - d.stopFirst[t]!, 1);
  assert.equal(st.routeIdx[d.stopFirst[t]!], 1);
});

test('arrival: middle and random positions, arrival lanes checked against the last edge', () => {
  const spec = corridor({ vehicles: [] });
  const base = vehicle('x', 0, ['in', 'out']);
  spec.demand.vehicles = [
    { ...base, id: 'mid', arrivalPos: { kind: 'middle' } },
    { ...base, id: 'rnd', depart: 1, arrivalPos: { kind: 'random' } },
    { ...base, id: 'lane9', depart: 2, arrivalLane: { kind: 'index', index: 9 } },
  ];
  spec.end = 200;
  const e = new Engine(spec);
  assert.ok(
    e.demand.warnings.some((w) =>
      /vehicle "lane9": arrivalLane 9 does not exist on its last edge "out" \(1 lanes\); skipped/.test(w),
    ),
  );
  e.run();
  const pos = (id: string) => e.trips.arrivalPos[e.demand.ids.indexOf(id)]!;
  assert.equal(pos('mid'), 250);
  assert.ok(pos('rnd') > 0 && pos('rnd') < 500);
  // drawn once per vehicle from the counter-based RNG: the same for another run
  const again = new Engine(spec);
  again.run();
  assert.equal(again.trips.arrivalPos[again.demand.ids.indexOf('rnd')], pos('rnd'));
});
