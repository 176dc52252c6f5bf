import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  brakeGap,
  finalizeSpeed,
  followSpeed,
  freeSpeed,
  maximumSafeFollowSpeed,
  maximumSafeStopSpeed,
  secureGap,
  stopSpeed,
} from './krauss.js';
import { drawSpeedFactor, type VehicleType } from './demand.js';
import { compileVType } from './demand.js';
import { PASSENGER_DEFAULTS } from '../io/spec.js';
import { Purpose, uniform } from './rng.js';

// Hand calculations with SUMO's formulas, dt = 1 s, decel 4.5 m/s², tau 1 s. Several are SUMO's own
// figures too: test/fixtures/krauss/queue.sumo-fcd.json (vehicle v0 braking for the red light 22.54 m
// ahead at 13.89 m/s, v1 behind it).
const close = (a: number, b: number, eps = 1e-9, what = '') =>
  assert.ok(Math.abs(a - b) <= eps, `${what} ${a} vs ${b}`);

test('brakeGap (Euler): the whole steps of braking, plus the reaction distance', () => {
  // 10 m/s, 4.5 per step: 5.5 then 1 m/s, then stopped: 5.5 + 1 = 6.5 m, + 10 m of reaction
  close(brakeGap(10, 4.5, 1, 1), 16.5);
  close(brakeGap(10, 4.5, 1, 0), 6.5);
  close(brakeGap(4, 4.5, 1, 0), 0); // slower than one step's braking: stops where it is
  // dt 0.5: 2.25 per step, 10 → 7.75, 5.5, 3.25, 1 → 0.5·(7.75 + 5.5 + 3.25 + 1) = 8.75
  close(brakeGap(10, 4.5, 0.5, 0), 8.75);
});

test('maximumSafeStopSpeed: SUMO maximumSafeStopSpeedEuler (n whole braking steps plus headway)', () => {
  // gap 22.54 - 1 (stop-line gap) = 21.54: n = 2, h = 0.5·2·1·4.5 + 2·4.5·1 = 13.5, r = (21.539 − 13.5)/3
  close(maximumSafeStopSpeed(21.54, 4.5, 1, 1), 9 + (21.539 - 13.5) / 3);
  close(maximumSafeStopSpeed(21.54, 4.5, 1, 1), 11.679667, 1e-6, 'SUMO v0 at 30 s');
  close(maximumSafeStopSpeed(9.860333, 4.5, 1, 1), 7.179667, 1e-6, 'SUMO v0 at 31 s');
  assert.equal(maximumSafeStopSpeed(0.0005, 4.5, 1, 1), 0); // SUMO's 0.001 m of slack
  assert.equal(maximumSafeStopSpeed(-3, 4.5, 1, 1), 0);
  // stopSpeed: with a one-step reaction time, capped by maxNextSpeed
  close(stopSpeed(21.54, 4.5, 1, 100), 11.679667, 1e-6);
  close(stopSpeed(21.54, 4.5, 1, 5), 5);
});

test('maximumSafeFollowSpeed: behind a leader (its braking distance at least with our decel) and the emergency branch', () => {
  // SUMO v1 at 32 s: 363.57 behind v0 at 398.999 (2.679667 m/s, stops within the step): gap 27.929
  close(followSpeed(27.929, 13.89, 2.679667, 4.5, 4.5, 9, 1, 1, 13.89 + 2.6), 13.732, 1e-6, 'SUMO v1 at 33 s');
  // gap 30 behind a leader at 10 m/s (brakeGap 6.5): stop within 36.5 → n = 3, h = 27, r = (36.499 − 27)/4
  close(maximumSafeFollowSpeed(30, 20, 10, 4.5, 4.5, 9, 1, 1, false), 13.5 + (36.499 - 27) / 4);
  // the leader's braking counts with at least our decel: a leader braking at 2 m/s² changes nothing
  close(maximumSafeFollowSpeed(30, 20, 10, 2, 4.5, 9, 1, 1, false), 13.5 + (36.499 - 27) / 4);
  // emergency (decel 1 m/s²): 30 m behind a standing leader at 10 m/s. The Euler stop speed is
  // 7 + (29.999 − 28)/8 (n = 7, h = 21 + 7), braking by 2.75 > decel; SUMO brakes instead by 1.2 × the
  // continuous deceleration needed, 1.2 · 10²/(2·30) = 2: 10 − 2 = 8
  close(maximumSafeFollowSpeed(30, 10, 0, 1, 1, 9, 1, 1, false), 8);
  // ... on insertion without the adjustment
  close(maximumSafeFollowSpeed(30, 10, 0, 1, 1, 9, 1, 1, true), 7 + (29.999 - 28) / 8);
  // ... and never braking harder than the Euler stop speed asks: at 20 m/s 10 m behind a leader at 15
  // the continuous need (8.75 × 1.2) is above the 6.25025 the stop speed 13.74975 means, which is kept
  close(maximumSafeFollowSpeed(10, 20, 15, 4.5, 4.5, 9, 1, 1, false), 13.5 + (27.999 - 27) / 4);
  // overlapping the leader: emergency braking
  close(maximumSafeFollowSpeed(-1, 10, 0, 4.5, 4.5, 9, 1, 1, false), 1);
  // capped by maxNextSpeed
  close(followSpeed(1000, 10, 10, 4.5, 4.5, 9, 1, 1, 12.6), 12.6);
});

test("secureGap: our braking distance with reaction less the leader's (SUMO getSecureGap)", () => {
  close(secureGap(10, 0, 4.5, 4.5, 1, 1), 16.5);
  close(secureGap(10, 10, 4.5, 4.5, 1, 1), 10);
  close(secureGap(10, 10, 9, 4.5, 1, 1), 16.5 - brakeGap(10, 9, 1, 0)); // a leader braking harder leaves less
  assert.equal(secureGap(0, 10, 4.5, 4.5, 1, 1), 0);
});

test('freeSpeed: SUMO freeSpeed (Euler) toward a lower limit ahead', () => {
  assert.equal(freeSpeed(4.5, 0.5, 5, 1), 5); // closer than one step at the limit
  // 10 m to a 5 m/s limit: y = 1.04, one whole braking step: 4.5 + 5
  close(freeSpeed(4.5, 10, 5, 1), 9.5);
  // far away: no bound in practice
  assert.ok(freeSpeed(4.5, 500, 5, 1) > 60);
});

test('finalizeSpeed: deceleration bounds, then σ dawdling (SUMO dawdle2)', () => {
  // no dawdling with σ = 0 or r = 0
  close(finalizeSpeed(10, 12.6, 13.89, 2.6, 4.5, 9, 0, 1, 0.7), 12.6);
  close(finalizeSpeed(10, 12.6, 13.89, 2.6, 4.5, 9, 0.5, 1, 0), 12.6);
  // at or above accel (m/s against m/s², SUMO's comparison): minus σ·accel·dt·r
  close(finalizeSpeed(10, 12.6, 13.89, 2.6, 4.5, 9, 0.5, 1, 0.5), 12.6 - 0.5 * 2.6 * 0.5);
  close(finalizeSpeed(0, 2.6, 13.89, 2.6, 4.5, 9, 0.5, 1, 0.999), 2.6 - 0.5 * 2.6 * 0.999);
  // below accel: minus σ·speed·dt·r (a starting vehicle always starts)
  close(finalizeSpeed(0, 2, 13.89, 2.6, 4.5, 9, 0.5, 1, 1), 1);
  // the lane limit bounds, braking to it by decel at most
  close(finalizeSpeed(10, 12.6, 8, 2.6, 4.5, 9, 0, 1, 0), 8);
  close(finalizeSpeed(20, 22, 8, 2.6, 4.5, 9, 0, 1, 0), 15.5);
  // dawdling never brakes harder than decel
  close(finalizeSpeed(1, 3.6, 13.89, 2.6, 0.5, 9, 1, 1, 0.999), 3.6 - 2.6 * 0.999);
  close(finalizeSpeed(10, 12, 13.89, 20, 0.5, 9, 1, 1, 0.999), 9.5);
  // a vPos that needs more than decel is followed, down to the emergency bound (v − emergencyDecel·dt)
  close(finalizeSpeed(10, 3, 13.89, 2.6, 4.5, 9, 0.5, 1, 0), 3);
  close(finalizeSpeed(10, 0, 13.89, 2.6, 4.5, 9, 0.5, 1, 0), 1);
});

test('dawdling draws: uniform in [0, 1), a pure function of (seed, vehicle, step)', () => {
  let sum = 0;
  for (let k = 0; k < 10_000; k++) {
    const r = uniform(42, 7, k, Purpose.dawdle);
    assert.ok(r >= 0 && r < 1);
    sum += r;
  }
  close(sum / 10_000, 0.5, 0.01);
  assert.equal(uniform(42, 7, 3, Purpose.dawdle), uniform(42, 7, 3, Purpose.dawdle));
  assert.notEqual(uniform(42, 7, 3, Purpose.dawdle), uniform(42, 8, 3, Purpose.dawdle));
});

function vtype(over: Partial<typeof PASSENGER_DEFAULTS> = {}): VehicleType {
  return compileVType({ id: 't', ...PASSENGER_DEFAULTS, carFollowModel: 'Krauss', ...over }, 1);
}

test('speed factors: normc(1, 0.1, 0.2, 2) per vehicle, deterministic, rounded to 4 decimals', () => {
  const t = vtype({ speedDev: 0.1 });
  const n = 20_000;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const f = drawSpeedFactor(t, 23423, i);
    assert.ok(f >= 0.2 && f <= 2);
    assert.equal(Math.round(f * 1e4) / 1e4, f);
    assert.equal(drawSpeedFactor(t, 23423, i), f, 'the same vehicle draws the same factor');
    sum += f;
    sq += f * f;
  }
  const mean = sum / n;
  const sd = Math.sqrt(sq / n - mean * mean);
  close(mean, 1, 0.003, 'mean');
  close(sd, 0.1, 0.003, 'deviation');
  // another seed, other factors
  assert.notEqual(drawSpeedFactor(t, 1, 5), drawSpeedFactor(t, 23423, 5));
  // no deviation: the mean; tight bounds: redrawn until inside
  assert.equal(drawSpeedFactor(vtype({ speedFactor: 1.3, speedDev: 0 }), 1, 5), 1.3);
  const tight = vtype({ speedFactor: 1, speedDev: 0.5, speedFactorMin: 0.9, speedFactorMax: 1.1 });
  for (let i = 0; i < 2000; i++) {
    const f = drawSpeedFactor(tight, 9, i);
    assert.ok(f >= 0.9 && f <= 1.1, `${f}`);
  }
});

test('compileVType: σ outside [0, 1], a negative speedDev and an unknown model are parameter errors', () => {
  assert.throws(() => vtype({ sigma: 1.2 }), /vType "t": sigma must be in \[0, 1\], got 1\.2/);
  assert.throws(() => vtype({ speedDev: -0.1 }), /vType "t": speedDev must not be negative/);
  assert.throws(
    () => compileVType({ id: 't', ...PASSENGER_DEFAULTS, carFollowModel: 'W99' as 'IDM' }, 1),
    /carFollowModel must be "Krauss" or "IDM"/,
  );
  assert.equal(vtype().apparentDecel, 4.5);
  assert.equal(vtype({ apparentDecel: 6 }).apparentDecel, 6);
});
