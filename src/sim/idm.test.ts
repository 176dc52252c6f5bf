import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acc, eulerBrakeGap, idmSpeed, maximumSafeStopSpeed, secureGap, type IdmParams } from './idm.js';

const P: IdmParams = {
  accel: 2.6,
  decel: 4.5,
  tau: 1,
  minGap: 2.5,
  delta: 4,
  iterations: 2,
  twoSqrtAB: 2 * Math.sqrt(2.6 * 4.5),
};

test('acc: free road from standstill is the maximum acceleration', () => {
  assert.equal(acc(1e9, 0, 0, 13.89, P), 2.6);
});

test('acc: at the desired speed on a free road it is zero', () => {
  assert.ok(Math.abs(acc(1e9, 13.89, 13.89, 13.89, P)) < 1e-9);
});

test('acc: standing at exactly the standstill gap behind a stopped leader it is -a·(s0/s0)² + a = 0', () => {
  // a(1 - 0 - (s0/s)^2) with s = s0: 0
  assert.ok(Math.abs(acc(2.5, 0, 0, 13.89, P)) < 1e-12);
});

test('idmSpeed: one 0.5 s step from standstill, hand-computed in two 0.25 s sub-steps', () => {
  // sub-step 1: a = 2.6 → v = 0.65; sub-step 2: a = 2.6(1 − (0.65/13.89)^4) → v = 0.65 + 0.25·a
  const a2 = 2.6 * (1 - Math.pow(0.65 / 13.89, 4));
  const expected = 0.65 + 0.25 * a2;
  assert.ok(Math.abs(idmSpeed(1e6, 0, 13.89, 13.89, 0.5, P, false) - expected) < 1e-12);
  assert.ok(Math.abs(expected - 1.29999688) < 1e-7);
});

test('eulerBrakeGap: hand-computed sums', () => {
  // v = 10, b·dt = 4.5: next speeds 5.5, 1.0, then 0 → distance 0.5·(5.5 + 1.0) = 3.25
  assert.ok(Math.abs(eulerBrakeGap(10, 9, 0.5) - 3.25) < 1e-12);
  assert.equal(eulerBrakeGap(4, 9, 0.5), 0);
});

test('maximumSafeStopSpeed: SUMO formula evaluated by hand (b = 2.25 m/s per step, dt = 0.5 s)', () => {
  // gap 2: n = floor(0.5 − (0.5 − 0.5·√3.806)/0.5) = 1, h = 0, r = 2/(0.5 + 0.5) = 2, x = 2.25 + 2
  assert.ok(Math.abs(maximumSafeStopSpeed(2, 4.5, 0.5) - 4.25) < 1e-5);
  // gap 0.05: n = 0, r = 0.05/0.5, x = 0.1
  assert.ok(Math.abs(maximumSafeStopSpeed(0.05, 4.5, 0.5) - 0.1) < 1e-5);
});

test('secureGap: v·T when the leader drives as fast', () => {
  assert.equal(secureGap(10, 10, P), 10);
  assert.equal(secureGap(0, 5, P), 0);
});
