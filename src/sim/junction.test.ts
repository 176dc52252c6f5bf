import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foeArrivalBraking } from './junction.js';

// a foe 69.45 m away at 13.89 m/s arrives in 5 s; the waiting driver arrives in 0.5 s (step 1 s)
test('foe arrival when braking for an impatient driver (SUMO computeFoeArrivalTimeBraking), by hand', () => {
  // impatience 0.5, decel 4.5: m = 2.25; stopping from 13.89 m/s takes 13.89² / (2 · 2.25) = 42.9 m
  // of the 69.45 m: the foe could stop, so it counts 30 s later
  assert.equal(foeArrivalBraking(0.5, 5, 69.45, 2.25, 1), 35);
  // impatience 0.1: m = 0.45 needs 214 m; braking from the driver's step (1 s) on for 4 s saves
  // a = 4 · 1.8 / 2 = 3.6 m, made up after the foe's arrival: x = (v − d − √((v − d)² − 2·m·a)) / m
  const v = 13.89;
  const d = 4 * 0.45;
  const x = (v - d - Math.sqrt((v - d) * (v - d) - 2 * 0.45 * 3.6)) / 0.45;
  assert.ok(Math.abs(foeArrivalBraking(0.5, 5, 69.45, 0.45, 1) - (5 + x)) < 1e-9);
  assert.ok(x > 0.29 && x < 0.31, String(x));
  // both enter in the same step: no braking counts
  assert.equal(foeArrivalBraking(0.2, 0.7, 9, 2.25, 1), 0.7);
});
