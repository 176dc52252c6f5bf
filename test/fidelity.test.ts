/**
 * Fidelity against SUMO: committed fixtures built by SUMO's own generators, with the figures SUMO
 * 1.15 produced on them (test/fixtures/<name>/sumo-reference.json, see the README there). TessDS must
 * agree within 10% on the vehicles that arrived, their mean duration and mean route length.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../src/io/sumo/config.js';
import { Engine } from '../src/sim/engine.js';
import { summarize } from '../src/sim/summary.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const TOLERANCE = 0.1;

for (const name of ['grid4', 'spider4', 'rand4']) {
  test(`${name}: arrived, meanDuration and meanRouteLength within 10% of SUMO`, () => {
    const sumo = JSON.parse(readFileSync(`${fixtures}${name}/sumo-reference.json`, 'utf8'));
    const engine = new Engine(loadSumoScenario(`${fixtures}${name}/scenario.sumocfg`));
    engine.run();
    const ours = summarize(engine, 0, 0);
    assert.equal(ours.inserted + ours.waiting, sumo.inserted + sumo.waiting, 'same demand by the end');
    for (const k of ['arrived', 'meanDuration', 'meanRouteLength'] as const) {
      const rel = Math.abs(ours[k] - sumo[k]) / sumo[k];
      assert.ok(
        rel <= TOLERANCE,
        `${k}: TessDS ${ours[k].toFixed(2)} vs SUMO ${sumo[k].toFixed(2)} (${(100 * rel).toFixed(1)}%)`,
      );
    }
  });
}
