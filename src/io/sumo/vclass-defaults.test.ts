import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VCLASS_DEFAULTS, SPEED_FACTOR_MAX, SPEED_FACTOR_MIN } from './vclass-defaults.js';
import { sumoVTypeDefaults } from './routes.js';
import { VCLASSES } from '../../sim/vclass.js';

// what SUMO 1.15 itself reports over TraCI for a <vType vClass="…"/> of each class (see the fixture's README)
const sumo = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../../test/fixtures/krauss/vclass-defaults.sumo.json', import.meta.url)),
    'utf8',
  ),
) as Record<
  string,
  {
    length: number;
    minGap: number;
    maxSpeed: number;
    accel: number;
    decel: number;
    emergencyDecel: number;
    apparentDecel: number;
    sigma: number;
    tau: number;
    speedFactor: number;
    speedDev: number;
  }
>;

test('vClass defaults: every class SUMO 1.15 knows, with the values SUMO 1.15 reports', () => {
  assert.deepEqual(Object.keys(sumo).sort(), [...VCLASSES, 'ignoring'].sort());
  assert.deepEqual(Object.keys(VCLASS_DEFAULTS).sort(), Object.keys(sumo).sort());
  for (const [cls, ref] of Object.entries(sumo)) {
    const t = sumoVTypeDefaults('x', cls);
    const near = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) < 1e-4, `${cls} ${what}: ${a} vs SUMO ${b}`);
    near(t.length, ref.length, 'length');
    near(t.minGap, ref.minGap, 'minGap');
    near(t.maxSpeed, ref.maxSpeed, 'maxSpeed');
    near(t.accel, ref.accel, 'accel');
    near(t.decel, ref.decel, 'decel');
    near(t.emergencyDecel, ref.emergencyDecel, 'emergencyDecel');
    near(t.apparentDecel ?? t.decel, ref.apparentDecel, 'apparentDecel');
    near(t.sigma, ref.sigma, 'sigma');
    near(t.tau, ref.tau, 'tau');
    near(t.speedFactor, ref.speedFactor, 'speedFactor');
    near(t.speedDev, ref.speedDev, 'speedDev');
    assert.equal(t.carFollowModel, 'Krauss');
    assert.equal(t.speedFactorMin, SPEED_FACTOR_MIN);
    assert.equal(t.speedFactorMax, SPEED_FACTOR_MAX);
  }
});
