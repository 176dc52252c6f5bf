import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../io/sumo/config.js';
import { Engine } from './engine.js';
import { restore, snapshot, stateHash } from './snapshot.js';
import { corridor, vehicle } from './testnets.js';
import { LinkState } from './network.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/${name}/scenario.sumocfg`, import.meta.url));

/** Checks the engine's bookkeeping after a step: lane lists, counts and vehicle conservation. */
function checkInvariants(e: Engine): void {
  const seen = new Set<number>();
  let listed = 0;
  for (let lane = 0; lane < e.net.laneCount; lane++) {
    let n = 0;
    let prevPos = Infinity;
    for (let s = e.laneFront[lane]!; s >= 0; s = e.v.behind[s]!) {
      assert.equal(e.v.lane[s], lane, 'vehicle on the list of another lane');
      assert.ok(e.v.pos[s]! <= prevPos, `lane ${e.net.laneIds[lane]} out of order`);
      assert.ok(!seen.has(e.v.vid[s]!), `vehicle ${e.v.vid[s]} listed twice`);
      seen.add(e.v.vid[s]!);
      prevPos = e.v.pos[s]!;
      n++;
    }
    assert.equal(n, e.laneVehicles[lane], 'lane count');
    listed += n;
  }
  assert.equal(
    listed + e.transitCount + e.reinsertCount,
    e.running,
    'running = on lanes + leaving junctions + teleporting',
  );
  assert.equal(e.inserted, e.running + e.arrived, 'inserted = running + arrived');
}

test('a lone vehicle: speed after its first step matches the hand-computed IDM value', () => {
  const e = new Engine(corridor({ vehicles: [vehicle('a', 0, ['in', 'out'])] }));
  e.doStep(); // step 0: inserted at t = 0 (insertion opens the step), then its first move
  assert.equal(e.running, 1);
  const s = e.laneFront[e.net.laneIndex.get('in_0')!]!;
  assert.ok(Math.abs(e.v.speed[s]! - 1.29999688) < 1e-6);
  assert.ok(Math.abs(e.v.pos[s]! - (5.1 + 1.29999688 * 0.5)) < 1e-6);
});

test('a lone vehicle drives its route and arrives; route length is the sum of lane lengths minus the depart position', () => {
  const e = new Engine(corridor({ vehicles: [vehicle('a', 0, ['in', 'out'])] }));
  e.run();
  assert.equal(e.arrived, 1);
  // 500 (in) − 5.1 (depart pos: length + 0.1) + 10 (internal) + 500 (out)
  assert.ok(Math.abs(e.trips.routeLength[0]! - 1004.9) < 1e-6);
  // lower bound: the whole way at 13.89 m/s
  assert.ok((e.trips.arrivalStep[0]! - e.trips.departStep[0]!) * 0.5 > 1004.9 / 13.89);
});

test('vehicles stop for red, queue at the standstill gap, and go on green', () => {
  // red for 60 s, then green
  const phases = [
    { duration: 60, state: 'r' },
    { duration: 60, state: 'G' },
  ];
  const e = new Engine(
    corridor({ phases, vehicles: [vehicle('a', 0, ['in', 'out']), vehicle('b', 5, ['in', 'out'])] }),
  );
  const inLane = e.net.laneIndex.get('in_0')!;
  while (e.time() < 59) {
    e.doStep();
    for (let s = e.laneFront[inLane]!; s >= 0; s = e.v.behind[s]!)
      assert.ok(e.v.pos[s]! <= 500, 'passed the stop line on red');
    assert.equal(e.laneVehicles[e.net.linkLane[0]!], 0, 'entered the junction on red');
  }
  const a = e.laneFront[inLane]!;
  const b = e.v.behind[a]!;
  assert.ok(e.v.speed[a]! < 0.1 && e.v.speed[b]! < 0.1, 'both stopped');
  // SUMO's jmStoplineGap: 1 m before the line of a red light (and SUMO's 0.001 m of slack)
  assert.ok(Math.abs(500 - e.v.pos[a]! - 1) < 0.01, `stopped ${500 - e.v.pos[a]!} m before the line`);
  const gap = e.v.pos[a]! - 5 - e.v.pos[b]!;
  assert.ok(gap >= 2.5 - 0.05 && gap < 3.5, `standstill gap ${gap}`);
  e.run();
  assert.equal(e.arrived, 2);
});

test('the linkState of a signalised link follows the program', () => {
  const phases = [
    { duration: 10, state: 'G' },
    { duration: 3, state: 'y' },
    { duration: 10, state: 'r' },
  ];
  const e = new Engine(corridor({ phases, vehicles: [] }));
  const states: number[] = [];
  for (let k = 0; k < 2 * 23; k++) {
    e.doStep();
    states.push(e.linkState(0));
  }
  // the state in force during step k is the one at time 0.5·k (steps 0..19 green, 20..25 yellow, 26..45 red)
  assert.equal(states[19], LinkState.greenMajor);
  assert.equal(states[20], LinkState.yellowMajor);
  assert.equal(states[25], LinkState.yellowMajor);
  assert.equal(states[26], LinkState.red);
});

test('bookkeeping holds at every step on a SUMO grid, and no vehicle enters a junction on red', () => {
  const e = new Engine(loadSumoScenario(fixture('grid4')));
  const net = e.net;
  const before = new Int32Array(e.demand.count).fill(-1);
  while (e.step < e.endStep!) {
    for (let s = 0; s < e.v.used; s++) if (e.v.vid[s]! >= 0) before[e.v.vid[s]!] = e.v.lane[s]!;
    e.doStep();
    checkInvariants(e);
    for (let s = 0; s < e.v.used; s++) {
      const id = e.v.vid[s]!;
      const was = id >= 0 ? before[id]! : -1;
      const lane = e.v.lane[s]!;
      if (id < 0 || was < 0 || was >= net.normalLaneCount || lane < net.normalLaneCount || lane === was) continue;
      // crossed a stop line in this step: the link it took must not have been red
      const link = net.laneLink[lane]!;
      const tl = net.linkTl[link]!;
      if (tl < 0) continue;
      const st = net.trafficLights[tl]!.states[net.tlPhaseAt(tl, e.time(e.step - 1))]![net.linkTlIndex[link]!];
      assert.notEqual(st, LinkState.red, `vehicle ${e.demand.ids[id]} entered on red at step ${e.step - 1}`);
    }
    before.fill(-1);
  }
  assert.ok(e.arrived > 100);
});

test('runs are deterministic: the same scenario gives the same hash; a different input another', () => {
  const run = (mutate?: (e: Engine) => void) => {
    const spec = loadSumoScenario(fixture('spider4'));
    spec.end = 150;
    const e = new Engine(spec);
    mutate?.(e);
    e.run();
    return stateHash(e);
  };
  const h1 = run();
  assert.equal(run(), h1);
  assert.notEqual(
    run((e) => {
      e.demand.departStep[5]! += 2;
    }),
    h1,
  );
});

for (const name of ['grid4', 'rand4']) {
  test(`snapshot at a random step of ${name}, restored into a fresh engine, ends in the uninterrupted run's hash`, () => {
    const spec = loadSumoScenario(fixture(name));
    const reference = new Engine(spec);
    reference.run();
    const finalHash = stateHash(reference);

    const cut = 1 + Math.floor(Math.random() * (reference.endStep! - 2));
    const first = new Engine(spec);
    while (first.step < cut) first.doStep();
    const bytes = snapshot(first);
    const hashAtCut = stateHash(first);

    const second = new Engine(spec);
    restore(second, bytes);
    assert.equal(stateHash(second), hashAtCut, `state hash right after restore (cut at step ${cut})`);
    second.run();
    assert.equal(stateHash(second), finalHash, `final hash after restoring at step ${cut}`);
    assert.equal(second.arrived, reference.arrived);
  });
}

test('restore refuses a snapshot of another scenario', () => {
  const a = new Engine(loadSumoScenario(fixture('grid4')));
  a.doStep();
  const b = new Engine(loadSumoScenario(fixture('spider4')));
  assert.throws(() => restore(b, snapshot(a), 'x.state'), /x.state: snapshot belongs to another scenario/);
  assert.throws(() => restore(b, Buffer.from('garbage!garbage!'), 'y.state'), /y.state: not a TessDS snapshot/);
});
