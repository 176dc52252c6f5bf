/**
 * Lanes by vehicle class, turn lanes and a short lane behind a left turn, against SUMO 1.15 on a
 * net built by netconvert from our own plain XML (test/fixtures/lanes, see its README): SUMO's
 * figures per flow are committed (sumo-flows.json), so CI needs no SUMO.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../src/io/sumo/config.js';
import { parseSumoRoutes } from '../src/io/sumo/routes.js';
import { Engine } from '../src/sim/engine.js';
import { Demand } from '../src/sim/demand.js';
import { Network } from '../src/sim/network.js';
import { routeContinuation, LOOK_AHEAD } from '../src/sim/bestlanes.js';
import { vClassMask } from '../src/sim/vclass.js';
import { summarize } from '../src/sim/summary.js';

const dir = fileURLToPath(new URL('../../test/fixtures/lanes/', import.meta.url));
const cfg = `${dir}scenario.sumocfg`;

test('lanes: no vehicle ever on a lane its class may not use (sidewalk, bus lane)', () => {
  const engine = new Engine(loadSumoScenario(cfg));
  const { net, v, demand } = engine;
  const sidewalk = net.laneIndex.get('WJ_0')!;
  const turnLane = net.laneIndex.get('WJ_2')!;
  let checked = 0;
  let onTurnLane = 0;
  engine.run((e) => {
    for (let s = 0; s < v.used; s++) {
      if (v.vid[s]! < 0) continue;
      const lane = v.lane[s]!;
      const type = demand.types[demand.type[v.vid[s]!]!]!;
      assert.ok(
        (net.lanePerm[lane]! & type.vClass) !== 0,
        `step ${e.step}: ${demand.ids[v.vid[s]!]} (${type.id}) on ${net.laneIds[lane]}`,
      );
      assert.notEqual(lane, sidewalk);
      if (lane === turnLane) onTurnLane++;
      checked++;
    }
  });
  assert.ok(checked > 10_000, `only ${checked} vehicle-steps checked`);
  // everybody departs on lane 1 (the rightmost a car may use): lane 2 is reached by changing lanes,
  // so the check above also covers lane changes
  assert.ok(onTurnLane > 1000, `only ${onTurnLane} vehicle-steps on the turn lane`);
});

test('lanes: every flow within 10% of SUMO on mean duration, and the whole run within the issue tolerances', () => {
  const sumoFlows = JSON.parse(readFileSync(`${dir}sumo-flows.json`, 'utf8')) as Record<
    string,
    { arrived: number; meanDuration: number }
  >;
  const sumo = JSON.parse(readFileSync(`${dir}sumo-reference.json`, 'utf8'));
  const engine = new Engine(loadSumoScenario(cfg));
  engine.run();
  const { demand, trips } = engine;
  const dt = engine.cfg.stepLength;
  const byFlow = new Map<string, number[]>();
  for (let i = 0; i < demand.count; i++) {
    if (trips.arrivalStep[i]! < 0) continue;
    const flow = demand.ids[i]!.split('.')[0]!;
    const list = byFlow.get(flow) ?? [];
    list.push((trips.arrivalStep[i]! - trips.departStep[i]!) * dt);
    byFlow.set(flow, list);
  }
  for (const [flow, ref] of Object.entries(sumoFlows)) {
    const ours = byFlow.get(flow) ?? [];
    assert.equal(ours.length, ref.arrived, `${flow}: arrived`);
    const mean = ours.reduce((a, b) => a + b, 0) / ours.length;
    const rel = Math.abs(mean - ref.meanDuration) / ref.meanDuration;
    assert.ok(
      rel <= 0.1,
      `${flow}: meanDuration ${mean.toFixed(1)} s vs SUMO ${ref.meanDuration.toFixed(1)} s (${(100 * rel).toFixed(1)}%)`,
    );
  }
  const s = summarize(engine, 0, 0);
  const within = (k: 'inserted' | 'arrived' | 'meanDuration' | 'meanTimeLoss', tol: number) => {
    const rel = Math.abs(s[k] - sumo[k]) / sumo[k];
    assert.ok(rel <= tol, `${k}: ${s[k]} vs SUMO ${sumo[k]} (${(100 * rel).toFixed(1)}%)`);
  };
  within('inserted', 0.05);
  within('arrived', 0.1);
  within('meanDuration', 0.1);
  within('meanTimeLoss', 0.25);
});

test('continuation of each lane along a route, by hand from the edge lengths (SUMO bestLanes)', () => {
  const spec = loadSumoScenario(cfg);
  const net = new Network(spec.net);
  const e = (id: string) => net.edgeIndex.get(id)!;
  const len = (id: string) => net.edgeLength[e(id)]!;
  const car = vClassMask('passenger');
  const left = routeContinuation(net, [e('WJ'), e('JN1'), e('N1N2')], car);
  // WJ: lane 0 sidewalk and lane 3 bus lane lead nowhere for a car; lane 1 has no link to JN1 (it
  // ends with WJ); lane 2 turns left and drives on to the end of the route
  assert.deepEqual(Array.from(left.cont.subarray(0, 4)), [0, len('WJ'), len('WJ') + len('JN1') + len('N1N2'), 0]);
  const bus = routeContinuation(net, [e('WJ'), e('JE')], vClassMask('bus'));
  const straight = len('WJ') + len('JE');
  assert.deepEqual(Array.from(bus.cont.subarray(0, 4)), [0, straight, straight, straight]);
  assert.ok(straight < LOOK_AHEAD);
});

test('a route or trip through an edge the class may not use is skipped with a warning naming the class', () => {
  const spec = loadSumoScenario(cfg);
  const routes = `<routes>
    <vType id="lorry" vClass="truck" carFollowModel="IDM"/>
    <vType id="car" vClass="passenger" carFollowModel="IDM"/>
    <vehicle id="t" type="lorry" depart="0"><route edges="WJ JS"/></vehicle>
    <trip id="tt" type="lorry" depart="0" from="WJ" to="JS"/>
    <vehicle id="c" type="car" depart="0"><route edges="WJ JS"/></vehicle>
    <trip id="ct" type="car" depart="0" from="WJ" to="JS"/>
  </routes>`;
  const net = new Network(spec.net);
  const demand = new Demand(parseSumoRoutes(routes, 'trucks.rou.xml', spec.net), net, {
    stepLength: 1,
    begin: 0,
    seed: 1,
  });
  assert.deepEqual(demand.ids, ['c', 'ct']);
  for (const id of ['t', 'tt'])
    assert.ok(
      demand.warnings.some((w) => w.includes(`"${id}"`) && w.includes('truck')),
      demand.warnings.join('\n'),
    );
});

test('the left turn is clear of an oncoming vehicle once its back passed the crossing, by hand from the shapes', () => {
  const net = new Network(loadSumoScenario(cfg).net);
  const link = (from: string, to: string) => {
    for (let i = 0; i < net.linkCount; i++)
      if (net.laneIds[net.linkFrom[i]!] === from && net.laneIds[net.linkTo[i]!] === to) return i;
    throw new Error(`no link ${from} -> ${to}`);
  };
  const left = link('WJ_2', 'JN1_0');
  const clearOf = (foe: number) => {
    for (let k = net.linkFoeStart[left]!; k < net.linkFoeStart[left + 1]!; k++)
      if (net.linkFoe[k] === foe) return net.linkFoeClear[k]!;
    throw new Error('not a foe');
  };
  // :J_7_0 (299.40,299.00 -> 301.05,303.75) meets :J_0_1 (y = 301.60, from x = 307.20 to 292.80, 14.40 m
  // long as its shape) at x = 299.40 + 1.65 * 2.60 / 4.75 = 300.303: 6.897 m along it, less half
  // SUMO's default lane width of 3.2 m, plus the width: 8.497 m
  assert.ok(Math.abs(clearOf(link('EJ_1', 'JW_1')) - 8.497) < 0.01, String(clearOf(link('EJ_1', 'JW_1'))));
  // the straight lane merging into the same lane as the bus lane: a merge has no crossing to pass
  const straight = link('WJ_2', 'JE_2');
  for (let k = net.linkFoeStart[straight]!; k < net.linkFoeStart[straight + 1]!; k++)
    if (net.linkTo[net.linkFoe[k]!] === net.linkTo[straight]) assert.equal(net.linkFoeClear[k], Infinity);
});
