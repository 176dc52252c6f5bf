/**
 * Online commands on the real engine: each command's effect, its errors, and the determinism promise
 * (whole network = 2 and 3 parts = snapshot, restore and replay).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../io/sumo/config.js';
import type { FlowSpec, ScenarioSpec } from '../io/spec.js';
import { CommandError } from '../errors.js';
import { Engine } from './engine.js';
import { LinkState } from './network.js';
import { dumpState, hashDump, mergeDumps, stateHash } from './dump.js';
import {
  applyInbox,
  collectOutbox,
  laneOwnersFromJunctions,
  makeLayout,
  restorePart,
  snapshotPart,
} from './partition.js';
import { restore, snapshot } from './snapshot.js';
import { summarizeDump } from './summary.js';
import { hash4 } from './rng.js';
import { corridor, vehicle } from './testnets.js';
import { ALL_PARTS, commandsToReplay, parseSimCommand, type ResolvedCommand, type SimCommand } from './commands.js';
import { commandLanes, commandParts, resolveSimCommand } from './commands-resolve.js';
import { applyCommand, applyDemandCommands, applyDueCommands } from './commands-apply.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/${name}/scenario.sumocfg`, import.meta.url));

/** Resolves `cmds` ([effectiveStep, command]) into a log, as the control layer will. */
function makeLog(e: Engine, cmds: [number, SimCommand][]): ResolvedCommand[] {
  const log: ResolvedCommand[] = [];
  for (const [effectiveStep, cmd] of cmds)
    log.push(resolveSimCommand(e.net, e.demand, cmd, { effectiveStep, prior: log }));
  return log;
}

/** Runs a whole-network engine to its end, applying the log's commands; `onStep` after each step. */
function runWhole(e: Engine, log: readonly ResolvedCommand[], onStep?: (e: Engine) => void): Engine {
  while (e.step < e.endStep!) {
    applyDueCommands(e, log);
    e.doStep();
    onStep?.(e);
  }
  return e;
}

/** A flow from time 0 to `end` s, one vehicle every `period` s. */
function flow(id: string, type: string, period: number, route: string[], end: number): FlowSpec {
  const { departLane, departSpeed, departPos, arrivalPos } = vehicle(id, 0, route);
  return { id, type, begin: 0, end, period, route, departLane, departSpeed, departPos, arrivalPos };
}

function throwsCommand(f: () => unknown, status: number, ...fragments: string[]): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof CommandError, `expected a CommandError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    for (const x of fragments) assert.ok(err.message.includes(x), `"${err.message}" should mention ${x}`);
    return true;
  });
}

// ---------------------------------------------------------------- parsing and resolution

test("parseSimCommand reads our shape and the seeds' envelope (numbers as strings)", () => {
  assert.deepEqual(parseSimCommand({ type: 'closeLane', lane: 'A0B0_0' }), { type: 'closeLane', lane: 'A0B0_0' });
  assert.deepEqual(
    parseSimCommand({
      type1: 'down',
      type2: 'setSpeedLimit',
      param: [{ edge: 'A0B0', speed: '8.5' }],
      timestamp: '1704271327166',
    }),
    {
      type: 'setSpeedLimit',
      edge: 'A0B0',
      speed: 8.5,
    },
  );
  assert.deepEqual(
    parseSimCommand({ type1: 'down', type2: 'setPhase', param: [{ tls: 'B1', phase: '2', duration: '5' }] }),
    { type: 'setPhase', tls: 'B1', phase: 2, duration: 5 },
  );
  assert.deepEqual(
    parseSimCommand({ type: 'addVehicle', id: 'x', route: 'A0B0 B0C0', departLane: 'best', departSpeed: 3 }),
    {
      type: 'addVehicle',
      id: 'x',
      route: ['A0B0', 'B0C0'],
      departLane: 'best',
      departSpeed: 3,
    },
  );
  assert.deepEqual(parseSimCommand({ type: 'setFlow', flow: 'f', vehsPerHour: 600 }), {
    type: 'setFlow',
    flow: 'f',
    vehsPerHour: 600,
  });
});

test('malformed commands are rejected with 400 naming the field', () => {
  throwsCommand(() => parseSimCommand('closeLane'), 400, 'JSON object');
  throwsCommand(() => parseSimCommand({ type: 'closeRoad', lane: 'x' }), 400, 'type', 'closeRoad');
  throwsCommand(() => parseSimCommand({ type: 'closeLane' }), 400, 'lane');
  throwsCommand(() => parseSimCommand({ type: 'closeLane', lane: 'x', speed: 3 }), 400, 'speed', 'unknown field');
  throwsCommand(() => parseSimCommand({ type: 'setSpeedLimit', lane: 'x', speed: 0 }), 400, 'speed');
  throwsCommand(
    () => parseSimCommand({ type: 'setSpeedLimit', lane: 'x', edge: 'y', speed: 3 }),
    400,
    'exactly one of edge and lane',
  );
  throwsCommand(() => parseSimCommand({ type: 'setPhase', tls: 'B1', phase: 1.5 }), 400, 'phase');
  throwsCommand(() => parseSimCommand({ type: 'addVehicle', id: 'v', from: 'a' }), 400, 'route');
  throwsCommand(
    () => parseSimCommand({ type: 'addVehicle', id: 'v', route: ['a'], departLane: 'left' }),
    400,
    'departLane',
  );
  throwsCommand(
    () => parseSimCommand({ type: 'setFlow', flow: 'f', period: 2, probability: 0.1 }),
    400,
    'exactly one of',
  );
  throwsCommand(() => parseSimCommand({ type1: 'up', type2: 'closeLane', param: [{ lane: 'x' }] }), 400, 'type1');
  throwsCommand(
    () => parseSimCommand({ type1: 'down', type2: 'closeLane', param: [{ lane: 7 }] }),
    400,
    'param[0].lane',
  );
});

test('unknown targets are 404 naming them; unconnected routes 400; a used vehicle id 409', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  const e = new Engine(spec);
  const resolve = (cmd: SimCommand, prior: ResolvedCommand[] = []) =>
    resolveSimCommand(e.net, e.demand, cmd, { effectiveStep: 0, prior });
  throwsCommand(() => resolve({ type: 'closeLane', lane: 'nowhere_0' }), 404, '"nowhere_0"', 'lane');
  throwsCommand(() => resolve({ type: 'setSpeedLimit', edge: 'Z9', speed: 5 }), 404, '"Z9"', 'edge');
  throwsCommand(() => resolve({ type: 'setPhase', tls: 'Q7', phase: 0 }), 404, '"Q7"', 'tls');
  throwsCommand(() => resolve({ type: 'setSignalProgram', tls: 'B1', program: 'night' }), 404, '"night"');
  throwsCommand(() => resolve({ type: 'setPhase', tls: 'B1', phase: 99 }), 400, 'phase');
  throwsCommand(() => resolve({ type: 'setFlow', flow: 'nope', period: 3 }), 404, '"nope"');
  throwsCommand(() => resolve({ type: 'addVehicle', id: 'new', route: ['A0B0'], vType: 'truck' }), 404, '"truck"');
  throwsCommand(() => resolve({ type: 'addVehicle', id: 'new', route: ['A0B0', 'C3D3'] }), 400, '"A0B0"', '"C3D3"');
  throwsCommand(() => resolve({ type: 'addVehicle', id: '0', route: ['A0B0'] }), 409, '"0"');
  throwsCommand(
    () => resolve({ type: 'addVehicle', id: 'fast', route: ['A0B0'], departSpeed: 100 }),
    400,
    'departSpeed',
  );
  throwsCommand(
    () => resolve({ type: 'addVehicle', id: 'wide', route: ['A0B0'], departLane: 2 }),
    400,
    'departLane',
    '"A0B0"',
  );
  throwsCommand(() => resolve({ type: 'addVehicle', id: 'lost', from: 'A0B0', to: 'nowhere' }), 404, '"nowhere"');
  const added = resolve({ type: 'addVehicle', id: 'new', route: ['A0B0'] });
  throwsCommand(() => resolve({ type: 'addVehicle', id: 'new', route: ['A0B0'] }, [added]), 409, '"new"');
  throwsCommand(
    () =>
      resolveSimCommand(
        e.net,
        e.demand,
        { type: 'closeLane', lane: 'A0B0_0' },
        { effectiveStep: 0, prior: [{ ...added, effectiveStep: 5 }] },
      ),
    409,
    'effectiveStep',
  );
  // the resolved form is plain JSON
  assert.deepEqual(JSON.parse(JSON.stringify(added)), added);
});

// ---------------------------------------------------------------- effects

/** Vehicle ids on `lane` now. */
function onLane(e: Engine, lane: number): Set<number> {
  const ids = new Set<number>();
  for (let s = e.laneFront[lane]!; s >= 0; s = e.v.behind[s]!) ids.add(e.v.vid[s]!);
  return ids;
}

/** The normal lane most vehicles entered during the first `steps` steps of a run without commands. */
function busiestLane(spec: ScenarioSpec, steps: number): number {
  const e = new Engine(spec);
  const entries = new Int32Array(e.net.normalLaneCount);
  const before = Array.from({ length: e.net.normalLaneCount }, (_, l) => onLane(e, l));
  while (e.step < steps) {
    e.doStep();
    for (let l = 0; l < e.net.normalLaneCount; l++) {
      const now = onLane(e, l);
      for (const id of now) if (!before[l]!.has(id)) entries[l]!++;
      before[l] = now;
    }
  }
  let best = 0;
  for (let l = 1; l < entries.length; l++) if (entries[l]! > entries[best]!) best = l;
  return best;
}

test('closeLane: after the effective step nobody enters the lane; openLane lets them in again', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  const CLOSE = 100;
  const OPEN = 400;
  const lane = busiestLane(spec, CLOSE);
  const e = new Engine(spec);
  const laneId = e.net.laneIds[lane]!;
  const log = makeLog(e, [
    [CLOSE, { type: 'closeLane', lane: laneId }],
    [OPEN, { type: 'openLane', lane: laneId }],
  ]);
  let entriesBefore = 0;
  let entriesClosed = 0;
  let entriesAfter = 0;
  let prev = onLane(e, lane);
  // vehicles already inside the junction toward the lane when it closes still enter (past the line)
  let committed = new Set<number>();
  runWhole(e, log, (x) => {
    const now = onLane(x, lane);
    for (const id of now) {
      if (prev.has(id)) continue;
      if (x.step <= CLOSE) entriesBefore++;
      else if (x.step <= OPEN) {
        if (!committed.has(id)) entriesClosed++;
      } else entriesAfter++;
    }
    prev = now;
    if (x.step === CLOSE) {
      // vehicles on the junction paths into the lane, or in transit onto it, before the closure applies
      committed = new Set<number>();
      for (let k = x.net.laneInStart[lane]!; k < x.net.laneInStart[lane + 1]!; k++) {
        for (const id of onLane(x, x.net.linkLane[x.net.laneIn[k]!]!)) committed.add(id);
      }
      for (let k = 0; k < x.transitCount; k++) committed.add(x.v.vid[x.transit[k]!]!);
    }
  });
  assert.ok(entriesBefore > 5, `the lane had traffic before (${entriesBefore} entries)`);
  assert.equal(entriesClosed, 0, 'vehicles entered the closed lane');
  assert.ok(entriesAfter > 0, 'nobody entered the lane after it opened again');
});

test('closeLane keeps insertion and lane changes out of the lane at every step', () => {
  // the corridor's single lane: vehicles wait for insertion while it is closed
  const spec = corridor({
    vehicles: [vehicle('a', 0, ['in', 'out']), vehicle('b', 5, ['in', 'out']), vehicle('c', 10, ['in', 'out'])],
    end: 200,
  });
  const e = new Engine(spec);
  const log = makeLog(e, [
    [4, { type: 'closeLane', lane: 'in_0' }],
    [60, { type: 'openLane', lane: 'in_0' }],
  ]);
  const inLane = e.net.laneIndex.get('in_0')!;
  runWhole(e, log, (x) => {
    if (x.step > 4 && x.step <= 60)
      assert.deepEqual(
        [...onLane(x, inLane)].map((id) => x.demand.ids[id]),
        ['a'],
        `step ${x.step}: only the vehicle inserted before the closure`,
      );
  });
  assert.equal(e.trips.departStep[e.demand.ids.indexOf('b')], 60, 'b departs when the lane opens');
  assert.equal(e.arrived, 3);
});

test('a vehicle whose next edge has no open lane waits at the stop line until time-to-teleport', () => {
  const spec = corridor({ vehicles: [vehicle('a', 0, ['in', 'out'])], end: 100 });
  spec.timeToTeleport = 20;
  const e = new Engine(spec);
  const log = makeLog(e, [[0, { type: 'closeLane', lane: 'out_0' }]]);
  const inLane = e.net.laneIndex.get('in_0')!;
  const out = e.net.laneIndex.get('out_0')!;
  let stoppedAt = -1;
  runWhole(e, log, (x) => {
    assert.equal(x.laneVehicles[out], 0, `step ${x.step}: a vehicle on the closed lane`);
    assert.equal(x.laneVehicles[x.net.linkLane[0]!], 0, `step ${x.step}: a vehicle in the junction`);
    const s = x.laneFront[inLane]!;
    if (s >= 0 && stoppedAt < 0 && x.v.speed[s]! < 0.1 && x.v.pos[s]! > 400) stoppedAt = x.step;
    if (s >= 0 && stoppedAt >= 0) assert.ok(500 - x.v.pos[s]! < 1, 'waits at the stop line');
  });
  assert.ok(stoppedAt > 0, 'stopped at the line');
  // stopped for 20 s: teleported; the only lane of the next edge is closed, so it is carried on to the route's end
  assert.equal(e.teleports, 1);
  const id = e.demand.ids.indexOf('a');
  assert.equal(e.trips.teleports[id], 1);
  // (it creeps up to the line after first stopping, which restarts the 20 s = 40 steps)
  const after = e.trips.arrivalStep[id]! - stoppedAt;
  assert.ok(after >= 40 && after <= 60, `arrived ${after} steps after stopping`);
});

test('setSpeedLimit: vehicles on the edge slow to the new limit × speedFactor', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  const CHANGE = 100;
  const LIMIT = 5;
  const lane = busiestLane(spec, CHANGE);
  const probe = new Engine(spec);
  const edge = probe.net.laneEdge[lane]!;
  const edgeLanes = Array.from(
    { length: probe.net.edgeLaneCount[edge]! },
    (_, k) => probe.net.edgeFirstLane[edge]! + k,
  );
  const e = new Engine(spec);
  const log = makeLog(e, [[CHANGE, { type: 'setSpeedLimit', edge: e.net.edgeIds[edge]!, speed: LIMIT }]]);
  // steps each vehicle has spent on the edge
  const since = new Map<number, number>();
  let fastBefore = 0;
  let checked = 0;
  runWhole(e, log, (x) => {
    const here = new Set<number>();
    for (const l of edgeLanes) {
      for (let s = x.laneFront[l]!; s >= 0; s = x.v.behind[s]!) {
        const id = x.v.vid[s]!;
        here.add(id);
        if (!since.has(id)) since.set(id, x.step);
        const sf = x.demand.speedFactor[id]!; // each vehicle's own (SUMO: speedFactor="1" keeps passenger's speedDev 0.1)
        if (x.step <= CHANGE && x.v.speed[s]! > LIMIT * sf + 1) fastBefore++;
        // 10 s on the edge under the new limit: the IDM has reached its desired speed (from above
        // it approaches it asymptotically, hence 1 cm/s)
        if (x.step > CHANGE + 20 && x.step - Math.max(since.get(id)!, CHANGE) >= 20) {
          checked++;
          assert.ok(x.v.speed[s]! <= LIMIT * sf + 0.01, `step ${x.step}: ${x.demand.ids[id]} at ${x.v.speed[s]} m/s`);
        }
      }
    }
    for (const id of [...since.keys()]) if (!here.has(id)) since.delete(id);
  });
  assert.ok(fastBefore > 0, 'vehicles drove faster than the new limit before');
  assert.ok(checked > 20, `checked ${checked} vehicle-steps`);
});

test('setSpeedLimit far below the speed: the vehicle brakes at no more than its decel, down to the limit', () => {
  const spec = corridor({ l1: 3000, vehicles: [vehicle('a', 0, ['in', 'out'])], end: 200 });
  const e = new Engine(spec);
  const CHANGE = 100; // t = 50 s: 'a' cruises at 13.89 m/s, ~500 m in
  const log = makeLog(e, [[CHANGE, { type: 'setSpeedLimit', edge: 'in', speed: 5 }]]);
  const decel = e.demand.types[0]!.decel; // 4.5 m/s², step 0.5 s: at most 2.25 m/s less per step
  let last = -1;
  runWhole(e, log, (x) => {
    if (x.step < CHANGE || x.step > CHANGE + 60) return;
    const s = x.laneFront[x.net.laneIndex.get('in_0')!]!;
    const sp = x.v.speed[s]!;
    if (x.step === CHANGE) assert.ok(Math.abs(sp - 13.89) < 0.05, `cruising at ${sp} before`);
    else {
      assert.ok(last - sp <= decel * x.cfg.stepLength + 1e-9, `step ${x.step}: ${last} → ${sp} m/s`);
      assert.ok(sp > 4.99, `step ${x.step}: no slower than the new limit (${sp})`);
    }
    // 13.89 → 5 m/s at ≤ 4.5 m/s² takes ≥ 2 s; 10 s later it drives at the limit
    if (x.step === CHANGE + 3) assert.ok(sp > 5.5, 'not there within 1.5 s');
    if (x.step >= CHANGE + 20) assert.ok(sp <= 5.01, `step ${x.step}: ${sp} m/s`);
    last = sp;
  });
});

test('setPhase and setSignalProgram: the light shows the requested state in the next step', () => {
  const phases = [
    { duration: 10, state: 'G' },
    { duration: 3, state: 'y' },
    { duration: 10, state: 'r' },
  ];
  const spec = corridor({ phases, vehicles: [], end: 30 });
  spec.net.tlLogics.push({
    id: 'B',
    programID: 'alt',
    offset: 0,
    phases: [
      { duration: 5, state: 'r' },
      { duration: 5, state: 'G' },
    ],
  });
  const e = new Engine(spec);
  // step length 0.5 s: step 4 is t = 2 s (green); phase 2 (red) for 3 s, then phase 0 (green) again
  const log = makeLog(e, [
    [4, { type: 'setPhase', tls: 'B', phase: 2, duration: 3 }],
    [20, { type: 'setSignalProgram', tls: 'B', program: 'alt' }],
    [40, { type: 'setSignalProgram', tls: 'B', program: 'off' }],
    [44, { type: 'setSignalProgram', tls: 'B', program: '0' }],
    [46, { type: 'setPhase', tls: 'B', phase: 1 }],
  ]);
  const states: number[] = [];
  runWhole(e, log, (x) => states.push(x.linkState(0)));
  // states[k]: the state in force during step k
  assert.equal(states[3], LinkState.greenMajor);
  for (let k = 4; k < 10; k++) assert.equal(states[k], LinkState.red, `step ${k}`);
  assert.equal(states[10], LinkState.greenMajor, 'after the held 3 s the program goes on with the phase after');
  // program "alt" from step 20 (t = 10 s): red 5 s, then green
  for (let k = 20; k < 30; k++) assert.equal(states[k], LinkState.red, `alt, step ${k}`);
  assert.equal(states[30], LinkState.greenMajor);
  // off: the junction's own priority (a lone link is major)
  assert.equal(states[40], LinkState.major);
  // program "0" again from its phase 0, then phase 1 (yellow, 3 s = 6 steps), then red
  assert.equal(states[44], LinkState.greenMajor);
  for (let k = 46; k < 52; k++) assert.equal(states[k], LinkState.yellowMajor, `step ${k}`);
  assert.equal(states[52], LinkState.red);
});

test('addVehicle: the vehicle departs at the effective step (or queues), arrives, and has a trip record', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  const e = new Engine(spec);
  const ADD = 50;
  const body = {
    type1: 'down',
    type2: 'addVehicle',
    param: [{ id: 'guest', from: 'A0B0', to: 'C3D3', departSpeed: 'max' }],
  };
  const log = makeLog(e, [
    [ADD, parseSimCommand(body)],
    [ADD, { type: 'addVehicle', id: 'guest2', route: ['A0B0', 'B0C0'] }],
    [ADD, { type: 'addVehicle', id: 'guest3', route: ['A0B0', 'B0C0'] }],
  ]);
  runWhole(e, log);
  for (const id of ['guest', 'guest2', 'guest3']) {
    const i = e.demand.ids.indexOf(id);
    assert.ok(i >= e.demand.baseCount, `${id} added`);
    assert.ok(e.trips.departStep[i]! >= ADD, `${id} departed at ${e.trips.departStep[i]}`);
    assert.ok(e.trips.arrivalStep[i]! > e.trips.departStep[i]!, `${id} arrived`);
  }
  const first = e.demand.ids.indexOf('guest');
  assert.equal(e.trips.departStep[first], ADD, 'the first departs at the effective step');
  const a = e.trips.departStep[e.demand.ids.indexOf('guest2')]!;
  const b = e.trips.departStep[e.demand.ids.indexOf('guest3')]!;
  assert.ok(b > a, `same edge, same step: guest3 queues behind guest2 (${a}, ${b})`);
  assert.equal(
    e.net.edgeIds[
      e.demand.routeEdges[
        e.demand.routeStart[e.demand.route[first]!]! + e.demand.routeOf(e.demand.route[first]!).length - 1
      ]!
    ],
    'C3D3',
  );
});

test("setFlow changes the rate of the flow's later departures", () => {
  const spec = corridor({ vehicles: [], end: 200 });
  spec.demand.flows.push(flow('f', 'car', 10, ['in', 'out'], 200));
  const e = new Engine(spec);
  // period 10 s until t = 50 s (step 100), then 2 s
  const log = makeLog(e, [[100, { type: 'setFlow', flow: 'f', period: 2 }]]);
  runWhole(e, log);
  // the flow's vehicles in the demand, by depart step (a 2 s headway from standstill on one lane
  // is more than insertion can serve: some of them queue, which is not what is checked here)
  const scheduled = (from: number, to: number) => {
    let n = 0;
    for (let i = 0; i < e.demand.count; i++)
      if (!e.demand.cancelled[i] && e.demand.departStep[i]! >= from && e.demand.departStep[i]! < to) n++;
    return n;
  };
  assert.equal(scheduled(0, 100), 5, 'every 10 s in the first 50 s');
  assert.equal(scheduled(100, 200), 25, 'every 2 s in the next 50 s');
  assert.equal(scheduled(0, 400), 5 + 75);
  assert.equal(e.demand.count - e.demand.baseCount, 75, '75 new vehicles');
  // the summary loads the 5 kept and 75 new vehicles, not the 15 cancelled ones
  assert.equal(e.demand.baseCount, 20);
  assert.equal(summarizeDump(dumpState(e), e.demand, 0.5, 1, 1).loaded, 80);
  assert.ok(e.inserted > 40, `the new vehicles depart (${e.inserted} inserted)`);
  const ids = [...e.demand.ids.slice(e.demand.baseCount)];
  assert.equal(ids[0], 'f.5', 'numbering goes on');
  // a process that only merges dumps brings its own demand up to date from the log
  const other = new Engine(spec).demand;
  applyDemandCommands(other, log);
  assert.deepEqual(other.ids, e.demand.ids);
  assert.deepEqual(
    Array.from(other.departStep.subarray(0, other.count)),
    Array.from(e.demand.departStep.subarray(0, e.demand.count)),
  );
});

// ---------------------------------------------------------------- determinism

/** A command list touching every kind of command, on grid4 with a flow added. */
function gridScenario(): { spec: ScenarioSpec; cmds: [number, SimCommand][] } {
  const spec = loadSumoScenario(fixture('grid4'));
  spec.end = 250;
  spec.demand.flows.push(flow('f', 'DEFAULT_VEHTYPE', 12, ['A0B0', 'B0C0', 'C0C1'], 250));
  const cmds: [number, SimCommand][] = [
    [40, { type: 'closeLane', lane: 'B0C0_0' }],
    [40, { type: 'closeLane', lane: 'B1B2_1' }],
    [60, { type: 'setSpeedLimit', edge: 'A1B1', speed: 6 }],
    [80, { type: 'setPhase', tls: 'B1', phase: 2, duration: 7 }],
    [100, { type: 'setSignalProgram', tls: 'C2', program: 'off' }],
    [120, { type: 'addVehicle', id: 'guest', from: 'A0A1', to: 'D3C3', departLane: 'best' }],
    [150, { type: 'setFlow', flow: 'f', vehsPerHour: 900 }],
    [200, { type: 'openLane', lane: 'B0C0_0' }],
    [220, { type: 'setSpeedLimit', lane: 'B1C1_0', speed: 20 }],
    [300, { type: 'setFlow', flow: 'f', probability: 0.2 }],
    [320, { type: 'addVehicle', id: 'guest2', route: ['B0C0', 'C0C1'] }],
  ];
  return { spec, cmds };
}

/**
 * Runs the scenario in `parts` in-process parts (as partition.test.ts) and gives each command only to
 * the parts `commandLanes` names; returns the merged dump.
 */
function runPartsWithCommands(
  spec: ScenarioSpec,
  junctionPart: Int32Array,
  parts: number,
  cmds: [number, SimCommand][],
) {
  const engines = Array.from({ length: parts }, () => new Engine(spec));
  const log = makeLog(engines[0]!, cmds);
  const owners = laneOwnersFromJunctions(engines[0]!.net, junctionPart);
  const layouts = engines.map((e, p) => makeLayout(e.net, e.demand, owners, p, parts));
  engines.forEach((e, p) => e.setLayout(layouts[p]!));
  const receivers = log.map((c) => {
    const parts = commandParts(engines[0]!.net, c, owners);
    return parts === ALL_PARTS ? new Set(engines.map((_, p) => p)) : new Set(parts);
  });
  let inbox: Buffer[][] = engines.map(() => []);
  const end = engines[0]!.endStep!;
  for (let t = 0; t < end; t++) {
    const next: Buffer[][] = engines.map(() => []);
    engines.forEach((e, p) => {
      applyInbox(e, layouts[p]!, inbox[p]!);
      log.forEach((c, i) => {
        if (c.effectiveStep === e.step && receivers[i]!.has(p)) applyCommand(e, c);
      });
      e.doStep();
      const out = collectOutbox(e, layouts[p]!, e.outgoing);
      e.outgoing = [];
      for (const [q, buf] of out) next[q]!.push(buf);
    });
    inbox = next;
  }
  return mergeDumps(engines.map(dumpState), engines[0]!.demand.count);
}

test('the same commands give the whole network and 2- and 3-part runs the same state hash', () => {
  const { spec, cmds } = gridScenario();
  const whole = new Engine(spec);
  runWhole(whole, makeLog(whole, cmds));
  const wholeDump = dumpState(whole);
  assert.ok(wholeDump.commands, 'the commands are in the dump');
  assert.ok(whole.trips.departStep[whole.demand.ids.indexOf('guest')]! >= 120, 'the added vehicle departed');
  const plain = new Engine(spec);
  plain.run();
  assert.notEqual(stateHash(plain), hashDump(wholeDump), 'the commands changed the run');
  const nJ = whole.net.junctionIds.length;
  for (const parts of [2, 3]) {
    for (const salt of [3, 8]) {
      const junctionPart = new Int32Array(nJ);
      for (let j = 0; j < nJ; j++) junctionPart[j] = hash4(parts, j, salt, 1) % parts;
      const merged = runPartsWithCommands(spec, junctionPart, parts, cmds);
      assert.equal(merged.arrived, wholeDump.arrived, `${parts} parts (${salt}): arrived`);
      assert.deepEqual(merged.commands, wholeDump.commands, `${parts} parts (${salt}): command state`);
      assert.equal(hashDump(merged), hashDump(wholeDump), `${parts} parts (${salt}): state hash`);
    }
  }
});

test('snapshot between two commands, restore into a fresh engine and replay: the same final hash', () => {
  const { spec, cmds } = gridScenario();
  const whole = new Engine(spec);
  const log = makeLog(whole, cmds);
  for (const at of [120, 170, 310]) {
    let snap: Buffer | undefined;
    const live = new Engine(spec);
    runWhole(live, log, (x) => {
      if (x.step === at) snap = snapshot(x);
    });
    // a fresh engine with its own (unextended) demand: the snapshot brings the added vehicles back
    const fresh = new Engine(spec);
    restore(fresh, snap!);
    assert.equal(fresh.step, at);
    const replay = commandsToReplay(log, at);
    assert.ok(replay.length > 0 && replay.length < log.length, 'the checkpoint falls between commands');
    runWhole(fresh, replay);
    assert.equal(stateHash(fresh), stateHash(live), `checkpoint at step ${at}`);
  }
});

test('a part restored from its checkpoint replays the later commands and the run ends in the whole hash', () => {
  const { spec, cmds } = gridScenario();
  const probe = new Engine(spec);
  const log = makeLog(probe, cmds);
  const expected = stateHash(runWhole(new Engine(spec), log));
  const parts = 3;
  const nJ = probe.net.junctionIds.length;
  const junctionPart = new Int32Array(nJ);
  for (let j = 0; j < nJ; j++) junctionPart[j] = hash4(parts, j, 11, 1) % parts;
  const owners = laneOwnersFromJunctions(probe.net, junctionPart);
  const layouts = Array.from({ length: parts }, (_, p) => makeLayout(probe.net, probe.demand, owners, p, parts));
  // the parts share one network and one demand, as parts hosted by one worker do
  const make = (p: number) => {
    const e = new Engine(spec, probe.net, probe.demand);
    e.setLayout(layouts[p]!);
    return e;
  };
  const receivers = log.map((c) => {
    const lanes = commandLanes(probe.net, c);
    return lanes === ALL_PARTS ? null : new Set(lanes.map((l) => owners[l]!));
  });
  const applyDue = (e: Engine, p: number, commands: readonly ResolvedCommand[]) => {
    for (const c of commands)
      if (c.effectiveStep === e.step && (receivers[c.seq] === null || receivers[c.seq]!.has(p))) applyCommand(e, c);
  };
  const engines = Array.from({ length: parts }, (_, p) => make(p));
  const sent = engines.map(() => new Map<number, Map<number, Buffer>>());
  const checkpoints = new Map<number, Buffer>();
  const CHECKPOINT = 140;
  const CRASH = 330;
  const LOST = 1;
  let inbox: Buffer[][] = engines.map(() => []);
  const stepAll = (until: number) => {
    while (engines[0]!.step < until) {
      const next: Buffer[][] = engines.map(() => []);
      engines.forEach((e, p) => {
        applyInbox(e, layouts[p]!, inbox[p]!);
        applyDue(e, p, log);
        e.doStep();
        const out = collectOutbox(e, layouts[p]!, e.outgoing);
        e.outgoing = [];
        sent[p]!.set(e.step, out);
        for (const [q, b] of out) next[q]!.push(b);
        if (e.step === CHECKPOINT) checkpoints.set(p, snapshotPart(e, out));
      });
      inbox = next;
    }
  };
  stepAll(CRASH);
  const fresh = make(LOST);
  restorePart(fresh, checkpoints.get(LOST)!);
  const replay = commandsToReplay(log, CHECKPOINT);
  while (fresh.step < CRASH) {
    const h = fresh.step;
    applyInbox(
      fresh,
      layouts[LOST]!,
      layouts[LOST]!.neighbours.map((q) => sent[q]!.get(h)!.get(LOST)!),
    );
    applyDue(fresh, LOST, replay);
    fresh.doStep();
    const out = collectOutbox(fresh, layouts[LOST]!, fresh.outgoing);
    fresh.outgoing = [];
    for (const [q, b] of out)
      assert.ok(b.equals(sent[LOST]!.get(fresh.step)!.get(q)!), `replayed message to ${q} at ${fresh.step}`);
  }
  assert.equal(hashDump(dumpState(fresh)), hashDump(dumpState(engines[LOST]!)), 'restored part after replay');
  engines[LOST] = fresh;
  stepAll(probe.endStep!);
  assert.equal(hashDump(mergeDumps(engines.map(dumpState), probe.demand.count)), expected);
});

test('commands that change nothing leave the state hash of the run without commands', () => {
  const spec = loadSumoScenario(fixture('grid4'));
  spec.end = 150;
  const plain = new Engine(spec);
  plain.run();
  const e = new Engine(spec);
  const speed = e.net.laneSpeed[e.net.laneIndex.get('A0B0_0')!]!;
  const log = makeLog(e, [
    [30, { type: 'setSpeedLimit', edge: 'A0B0', speed }],
    [60, { type: 'closeLane', lane: 'B1B2_0' }],
    [60, { type: 'openLane', lane: 'B1B2_0' }],
  ]);
  runWhole(e, log);
  assert.equal(stateHash(e), stateHash(plain));
});

test('commandLanes: a closed lane goes to its owner and to the lanes feeding it; signals to their lanes; demand to all', () => {
  const e = new Engine(loadSumoScenario(fixture('grid4')));
  const net = e.net;
  const log = makeLog(e, [
    [0, { type: 'closeLane', lane: 'B1C1_0' }],
    [0, { type: 'setPhase', tls: 'B1', phase: 1 }],
    [0, { type: 'addVehicle', id: 'z', route: ['A0B0'] }],
  ]);
  const close = commandLanes(net, log[0]!) as number[];
  const target = net.laneIndex.get('B1C1_0')!;
  assert.ok(close.includes(target));
  for (let k = net.laneInStart[target]!; k < net.laneInStart[target + 1]!; k++)
    assert.ok(close.includes(net.linkFrom[net.laneIn[k]!]!));
  const feeds = (l: number) =>
    Array.from(net.laneOut.subarray(net.laneOutStart[l]!, net.laneOutStart[l + 1]!)).some(
      (lk) => net.linkTo[lk] === target,
    );
  assert.ok(
    close.every((l) => l === target || feeds(l)),
    'only the lane and its feeders',
  );
  const phase = commandLanes(net, log[1]!) as number[];
  const tl = net.trafficLights.findIndex((t) => t.id === 'B1');
  for (let lk = 0; lk < net.linkCount; lk++)
    if (net.linkTl[lk] === tl) assert.ok(phase.includes(net.linkLane[lk]!) && phase.includes(net.linkFrom[lk]!));
  assert.equal(commandLanes(net, log[2]!), ALL_PARTS);
});
