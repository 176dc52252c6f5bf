import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  faultDurationMs,
  makeSchedule,
  scheduleDefaults,
  scheduleSpanMs,
  seededRandom,
  type FaultKind,
  type ScheduleOptions,
} from './schedule.js';

const base: ScheduleOptions = {
  ...scheduleDefaults,
  seed: 7,
  faults: 20,
  killable: [1, 2, 3],
  networked: [0, 1, 2, 3],
  weights: { 'kill-workers': 5, 'stop-worker': 2, 'restart-store': 1, 'net-delay': 1, 'net-drop': 1, 'net-cut': 1 },
};

test('the same seed gives the same schedule; another seed another one', () => {
  assert.deepEqual(makeSchedule(base), makeSchedule({ ...base }));
  assert.notDeepEqual(makeSchedule(base), makeSchedule({ ...base, seed: 8 }));
});

test('without jitter the times are hand-checkable: lead, then spacing after each fault ends', () => {
  const kills = makeSchedule({
    ...base,
    jitter: 0,
    faults: 4,
    weights: { 'kill-workers': 1 },
    leadMs: 1000,
    spacingMs: 3000,
  });
  assert.deepEqual(
    kills.map((f) => f.atMs),
    [1000, 4000, 7000, 10000],
  );
  // a SIGSTOP lasts holdMs: the next fault waits for hold + spacing
  const stops = makeSchedule({
    ...base,
    jitter: 0,
    faults: 3,
    weights: { 'stop-worker': 1 },
    leadMs: 500,
    spacingMs: 2000,
    stopHoldMs: 1500,
  });
  assert.deepEqual(
    stops.map((f) => f.atMs),
    [500, 4000, 7500],
  );
  assert.ok(stops.every((f) => f.type === 'stop-worker' && f.holdMs === 1500));
  assert.equal(scheduleSpanMs(stops, 2000), 7500 + 1500 + 2000);
  // one killable worker: every kill hits exactly that one
  const one = makeSchedule({
    ...base,
    faults: 5,
    killable: [2],
    weights: { 'kill-workers': 1 },
    maxSimultaneousKills: 3,
  });
  assert.ok(one.every((f) => f.type === 'kill-workers' && f.workers.length === 1 && f.workers[0] === 2));
});

test('faults are at least spacingMs apart after the previous one ends', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const s = makeSchedule({ ...base, seed, faults: 50 });
    assert.equal(s.length, 50);
    for (let i = 1; i < s.length; i++) {
      const prev = s[i - 1]!;
      assert.ok(s[i]!.atMs >= prev.atMs + faultDurationMs(prev) + base.spacingMs, `seed ${seed} fault ${i}`);
      assert.ok(
        s[i]!.atMs <= prev.atMs + faultDurationMs(prev) + base.spacingMs * (1 + base.jitter),
        `seed ${seed} fault ${i}`,
      );
    }
  }
});

test('kills hit distinct killable workers, never more than allowed at once; worker 0 is never signalled', () => {
  const s = makeSchedule({ ...base, faults: 500, maxSimultaneousKills: 2 });
  const sizes = new Set<number>();
  for (const f of s) {
    if (f.type === 'kill-workers') {
      assert.ok(f.workers.length >= 1 && f.workers.length <= 2);
      assert.equal(new Set(f.workers).size, f.workers.length);
      assert.ok(f.workers.every((w) => [1, 2, 3].includes(w)));
      sizes.add(f.workers.length);
    }
    if (f.type === 'stop-worker') assert.notEqual(f.worker, 0);
  }
  assert.deepEqual([...sizes].sort(), [1, 2], 'both single and double kills occur');
});

test('at most one Redis restart in any storeRestartEvery consecutive faults', () => {
  const s = makeSchedule({
    ...base,
    faults: 300,
    weights: { 'restart-store': 10, 'kill-workers': 1 },
    storeRestartEvery: 5,
  });
  const idx = s.flatMap((f, i) => (f.type === 'restart-store' ? [i] : []));
  assert.ok(idx.length > 30, `restarts drawn: ${idx.length}`);
  for (let j = 1; j < idx.length; j++) assert.ok(idx[j]! - idx[j - 1]! >= 5);
});

test('weights: a zero-weight kind never appears, the others in proportion', () => {
  const s = makeSchedule({ ...base, faults: 4000, weights: { 'kill-workers': 3, 'net-cut': 1, 'stop-worker': 0 } });
  const count = (k: FaultKind) => s.filter((f) => f.type === k).length;
  assert.equal(count('stop-worker'), 0);
  assert.equal(count('kill-workers') + count('net-cut'), 4000);
  const share = count('kill-workers') / 4000;
  assert.ok(share > 0.7 && share < 0.8, `kill share ${share}`);
});

test('kinds without targets are not drawn; nothing available is an error', () => {
  const s = makeSchedule({ ...base, faults: 100, killable: [] });
  assert.ok(s.every((f) => f.type !== 'kill-workers' && f.type !== 'stop-worker'));
  assert.throws(
    () => makeSchedule({ ...base, killable: [], networked: [], weights: { 'kill-workers': 1 } }),
    /no fault kind/,
  );
  assert.deepEqual(makeSchedule({ ...base, faults: 0 }), []);
});

test('seededRandom is uniform in [0, 1)', () => {
  const r = seededRandom(123);
  let sum = 0;
  for (let i = 0; i < 10000; i++) {
    const x = r();
    assert.ok(x >= 0 && x < 1);
    sum += x;
  }
  assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02);
});
