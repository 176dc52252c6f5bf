/**
 * The snapshot round trip the scenario suites share: a run stopped after `steps` steps, snapshotted
 * and restored into a fresh engine, must be in the same state and stay so to the end. Returns the
 * first engine, run to the end.
 */
import assert from 'node:assert/strict';
import type { ScenarioSpec } from '../src/io/spec.js';
import { Engine } from '../src/sim/engine.js';
import { restore, snapshot, stateHash } from '../src/sim/snapshot.js';

export function assertSnapshotContinues(spec: ScenarioSpec, steps: number): Engine {
  const first = new Engine(spec);
  for (let k = 0; k < steps; k++) first.doStep();
  const second = new Engine(spec);
  restore(second, snapshot(first));
  assert.equal(stateHash(second), stateHash(first));
  first.run();
  second.run();
  assert.equal(stateHash(second), stateHash(first));
  return first;
}
