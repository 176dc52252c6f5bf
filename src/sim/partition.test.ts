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
import { applyInbox, collectOutbox, laneOwnersFromJunctions, makeLayout } from './partition.js';
import { hash4 } from './rng.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/${name}/scenario.sumocfg`, import.meta.url));

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
