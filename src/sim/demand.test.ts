import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Demand } from './demand.js';
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
  const spec = corridor({ vehicles: [vehicle('early', 5, ['in', 'out']), vehicle('atBegin', 10, ['in', 'out']), vehicle('late', 20, ['in', 'out'])] });
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
