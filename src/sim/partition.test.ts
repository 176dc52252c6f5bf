/**
 * The promise of DESIGN.md, in one process: a run split into parts that exchange only border
 * messages ends in exactly the state hash of the whole-network run — for any partition, even random
 * ones that cut almost every junction apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../io/sumo/config.js';
import type { ScenarioSpec } from '../io/spec.js';
import { Engine } from './engine.js';
import { dumpState, hashDump, mergeDumps } from './dump.js';
import {
  applyInbox,
  collectOutbox,
  laneOwnersFromJunctions,
  makeLayout,
  restorePart,
  snapshotPart,
} from './partition.js';
import { hash4 } from './rng.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/${name}/scenario.sumocfg`, import.meta.url));

/** Runs `spec` split by `junctionPart` into `parts` engines stepping in lockstep; returns the merged dump. */
export function runParts(spec: ScenarioSpec, junctionPart: Int32Array, parts: number) {
  const engines = Array.from({ length: parts }, () => new Engine(spec));
  const owners = laneOwnersFromJunctions(engines[0]!.net, junctionPart);
  const layouts = engines.map((e, p) => makeLayout(e.net, e.demand, owners, p, parts));
  engines.forEach((e, p) => e.setLayout(layouts[p]!));
  let inbox: Buffer[][] = engines.map(() => []);
  const end = engines[0]!.endStep!;
  for (let t = 0; t < end; t++) {
    const next: Buffer[][] = engines.map(() => []);
    engines.forEach((e, p) => {
      applyInbox(e, layouts[p]!, inbox[p]!);
      e.doStep();
      const out = collectOutbox(e, layouts[p]!, e.outgoing);
      e.outgoing = [];
      for (const [q, buf] of out) next[q]!.push(buf);
    });
    inbox = next;
  }
  return mergeDumps(engines.map(dumpState), engines[0]!.demand.count);
}

function wholeRun(spec: ScenarioSpec) {
  const e = new Engine(spec);
  e.run();
  return dumpState(e);
}

for (const name of ['grid4', 'spider4', 'rand4']) {
  test(`${name}: random partitions into 2, 3 and 5 parts end in the whole run's hash`, () => {
    const spec = loadSumoScenario(fixture(name));
    spec.end = 200;
    const whole = wholeRun(spec);
    const expected = hashDump(whole);
    const nJunctions = new Engine(spec).net.junctionIds.length;
    for (const parts of [2, 3, 5]) {
      const junctionPart = new Int32Array(nJunctions);
      for (let j = 0; j < nJunctions; j++) junctionPart[j] = hash4(parts, j, 7, 1) % parts;
      const merged = runParts(spec, junctionPart, parts);
      assert.equal(merged.arrived, whole.arrived, `${parts} parts: arrived`);
      assert.equal(merged.running, whole.running, `${parts} parts: running`);
      assert.equal(hashDump(merged), expected, `${parts} parts: state hash`);
    }
  });
}

test("a lost part restored from a checkpoint and replayed from its neighbours' sent messages rejoins exactly", () => {
  const spec = loadSumoScenario(fixture('rand4'));
  spec.end = 250;
  const expected = hashDump(wholeRun(spec));
  const parts = 3;
  const probe = new Engine(spec);
  const nJ = probe.net.junctionIds.length;
  const junctionPart = new Int32Array(nJ);
  for (let j = 0; j < nJ; j++) junctionPart[j] = hash4(parts, j, 11, 1) % parts;
  const owners = laneOwnersFromJunctions(probe.net, junctionPart);
  const layouts = Array.from({ length: parts }, (_, p) => makeLayout(probe.net, probe.demand, owners, p, parts));
  const make = (p: number) => {
    const e = new Engine(spec, probe.net, probe.demand);
    e.setLayout(layouts[p]!);
    return e;
  };
  const engines = Array.from({ length: parts }, (_, p) => make(p));
  // sender-based log: from → header step → to → message
  const sent = engines.map(() => new Map<number, Map<number, Buffer>>());
  const checkpoints = new Map<number, Buffer>(); // part → checkpoint
  const CHECKPOINT = 120;
  const CRASH = 190;
  const LOST = 1;
  let inbox: Buffer[][] = engines.map(() => []);
  const stepAll = (until: number) => {
    while (engines[0]!.step < until) {
      const next: Buffer[][] = engines.map(() => []);
      engines.forEach((e, p) => {
        applyInbox(e, layouts[p]!, inbox[p]!);
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
  // part LOST dies: a fresh engine restores its checkpoint and replays from its neighbours' logs
  const fresh = make(LOST);
  restorePart(fresh, checkpoints.get(LOST)!);
  assert.equal(fresh.step, CHECKPOINT);
  while (fresh.step < CRASH) {
    const h = fresh.step;
    const msgs = layouts[LOST]!.neighbours.map((q) => sent[q]!.get(h)!.get(LOST)!);
    applyInbox(fresh, layouts[LOST]!, msgs);
    fresh.doStep();
    const out = collectOutbox(fresh, layouts[LOST]!, fresh.outgoing);
    fresh.outgoing = [];
    // what it sends again is what it sent the first time, byte for byte (neighbours drop duplicates)
    for (const [q, b] of out)
      assert.ok(b.equals(sent[LOST]!.get(fresh.step)!.get(q)!), `replayed message to ${q} at ${fresh.step}`);
  }
  const before = dumpState(engines[LOST]!);
  const after = dumpState(fresh);
  assert.equal(after.running, before.running, 'running');
  assert.equal(after.inserted, before.inserted, 'inserted');
  assert.equal(after.arrived, before.arrived, 'arrived');
  assert.equal(after.vehicleUpdates, before.vehicleUpdates, 'vehicleUpdates');
  assert.deepEqual(after.pending, before.pending, 'pending');
  assert.ok(after.vehicles.equals(before.vehicles), 'vehicles');
  assert.equal(hashDump(after), hashDump(before), 'restored part after replay');
  engines[LOST] = fresh;
  stepAll(probe.endStep!);
  assert.equal(hashDump(mergeDumps(engines.map(dumpState), probe.demand.count)), expected);
});
