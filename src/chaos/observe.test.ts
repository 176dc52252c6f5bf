import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  collectEvents,
  fromPolls,
  judgeFaults,
  median,
  type Injection,
  type Snapshot,
  type StatusEvent,
} from './observe.js';
import { compareCounts, markdownTable, medians, type Counts } from './report.js';

const T0 = 1_000_000;
const kill = (index: number, at: number, worker: number, pid: number): Injection => ({
  index,
  fault: { type: 'kill-workers', atMs: at - T0, workers: [worker] },
  at,
  step: 10,
  pids: [pid],
});

test('events: detection = lost − kill, recovery = recovered − lost, replayed steps from the detail', () => {
  const events: StatusEvent[] = [
    { at: T0 + 1100, type: 'worker-lost', worker: 1, pid: 101, step: 50 },
    {
      at: T0 + 1900,
      type: 'worker-recovered',
      worker: 1,
      pid: 201,
      step: 50,
      detail: '{"replayedSteps":12,"lostAt":1}',
    },
    // a second kill of the same worker (its replacement, pid 201)
    { at: T0 + 5030, type: 'worker-lost', worker: 1, pid: 201 },
    { at: T0 + 5530, type: 'worker-recovered', worker: 1, pid: 301, detail: '{"replayedSteps":3}' },
  ];
  const r = judgeFaults({
    injections: [kill(0, T0 + 1000, 1, 101), kill(1, T0 + 5000, 1, 201)],
    snapshots: [{ t: T0, status: { step: 0, state: 'running', workers: [], events: [] } }],
    events,
    startedAt: T0,
    completed: true,
  });
  assert.deepEqual(
    r.map((f) => [f.detectMs, f.recoverMs, f.replayedSteps, f.outcome, f.atSeconds]),
    [
      [100, 800, 12, 'recovered', 1],
      [30, 500, 3, 'recovered', 5],
    ],
  );
});

test('events: a kill of two workers counts the slower of the two; a lost worker never recovered', () => {
  const inj: Injection = {
    index: 0,
    fault: { type: 'kill-workers', atMs: 0, workers: [1, 2] },
    at: T0,
    pids: [11, 12],
  };
  const events: StatusEvent[] = [
    { at: T0 + 10, type: 'worker-lost', worker: 1, pid: 11 },
    { at: T0 + 40, type: 'worker-lost', worker: 2, pid: 12 },
    { at: T0 + 300, type: 'worker-recovered', worker: 2, detail: '{"replayedSteps":4}' },
    { at: T0 + 500, type: 'worker-recovered', worker: 1, detail: '{"replayedSteps":9}' },
  ];
  const snap: Snapshot[] = [{ t: T0, status: { step: 0, state: 'running', workers: [], events: [] } }];
  const [f] = judgeFaults({ injections: [inj], snapshots: snap, events, startedAt: T0, completed: true });
  assert.deepEqual([f!.detectMs, f!.recoverMs, f!.replayedSteps, f!.outcome], [40, 490, 9, 'recovered']);
  const [g] = judgeFaults({
    injections: [inj],
    snapshots: snap,
    events: events.slice(0, 2),
    startedAt: T0,
    completed: true,
  });
  assert.equal(g!.outcome, 'not-recovered');
  const [h] = judgeFaults({ injections: [inj], snapshots: snap, events: [], startedAt: T0, completed: true });
  assert.equal(h!.outcome, 'undetected');
  const [k] = judgeFaults({ injections: [inj], snapshots: snap, events: [], startedAt: T0, completed: false });
  assert.equal(k!.outcome, 'run-failed');
});

test('a fault not injected is skipped; a stop without lease that nobody noticed is absorbed', () => {
  const notInjected: Injection = {
    index: 0,
    fault: { type: 'kill-workers', atMs: 0, workers: [1] },
    pids: [],
    note: 'run already over',
  };
  const stop: Injection = {
    index: 1,
    fault: { type: 'stop-worker', atMs: 0, worker: 1, holdMs: 1500 },
    at: T0,
    pids: [5],
  };
  const r = judgeFaults({ injections: [notInjected, stop], snapshots: [], events: [], startedAt: T0, completed: true });
  assert.deepEqual(
    r.map((f) => f.outcome),
    ['skipped', 'absorbed'],
  );
  const withLease = judgeFaults({
    injections: [stop],
    snapshots: [],
    events: [],
    startedAt: T0,
    completed: true,
    leaseMs: 1000,
  });
  assert.equal(withLease[0]!.outcome, 'undetected');
});

test('a Redis restart: detection = store-down − kill, recovery = store-up − store-down', () => {
  const restart = (index: number, at: number): Injection => ({
    index,
    fault: { type: 'restart-store', atMs: at - T0, downMs: 500 },
    at,
    step: 80,
    pids: [],
  });
  const snap: Snapshot[] = [{ t: T0, status: { step: 0, state: 'running', workers: [], events: [] } }];
  // the events of a 3-worker run: one pair per outage (the master folds the workers' reports)
  const events: StatusEvent[] = [
    { at: T0 + 900, type: 'checkpoint', step: 40 },
    {
      at: T0 + 1003,
      type: 'store-down',
      worker: 2,
      step: 80,
      detail: '{"store":"redis://127.0.0.1:1","error":"connection closed"}',
    },
    {
      at: T0 + 1650,
      type: 'store-up',
      worker: 0,
      step: 88,
      detail: '{"store":"redis://127.0.0.1:1","downAt":1001003,"downMs":647}',
    },
    { at: T0 + 6010, type: 'store-down', worker: 1, step: 150 },
    { at: T0 + 6900, type: 'store-up', worker: 1, step: 160 },
  ];
  const r = judgeFaults({
    injections: [restart(0, T0 + 1000), restart(1, T0 + 6000)],
    snapshots: snap,
    events,
    startedAt: T0,
    completed: true,
  });
  assert.deepEqual(
    r.map((f) => [f.detectMs, f.recoverMs, f.outcome]),
    [
      [3, 647, 'recovered'],
      [10, 890, 'recovered'],
    ],
  );
  // the first restart unnoticed: the second one's outage is not credited to it
  const unnoticed = judgeFaults({
    injections: [restart(0, T0 + 1000), restart(1, T0 + 6000)],
    snapshots: snap,
    events: events.slice(3),
    startedAt: T0,
    completed: true,
  });
  assert.deepEqual(
    unnoticed.map((f) => [f.detectMs, f.recoverMs, f.outcome]),
    [
      [undefined, undefined, 'absorbed'],
      [10, 890, 'recovered'],
    ],
  );
  // the run ended while the store was still down; the run failed
  const [down] = judgeFaults({
    injections: [restart(0, T0 + 1000)],
    snapshots: snap,
    events: events.slice(0, 2),
    startedAt: T0,
    completed: true,
  });
  assert.deepEqual([down!.detectMs, down!.recoverMs, down!.outcome], [3, undefined, 'not-recovered']);
  const [failed] = judgeFaults({
    injections: [restart(0, T0 + 1000)],
    snapshots: snap,
    events,
    startedAt: T0,
    completed: false,
  });
  assert.equal(failed!.outcome, 'run-failed');
});

test('polling fallback: lost when the pid changes or the state is not running; recovered on a fresh report past the step', () => {
  const w = (pid: number, state: string, step: number) => ({
    step: 100,
    state: 'running',
    workers: [{ id: 1, pid, state, step }],
  });
  const snaps: Snapshot[] = [
    { t: T0 + 100, status: w(7, 'running', 100) },
    { t: T0 + 300, status: w(7, 'starting', 100) },
    { t: T0 + 500, status: w(8, 'running', 100) }, // the replacement said hello; no report of its own yet
    { t: T0 + 700, status: w(8, 'running', 80) },
    { t: T0 + 900, status: w(8, 'running', 104) },
  ];
  assert.deepEqual(fromPolls(snaps, 1, 7, T0 + 50), {
    lostAt: T0 + 300,
    recoveredAt: T0 + 900,
    replayedSteps: undefined,
  });
  // detection after the next fault is not this fault's
  assert.deepEqual(fromPolls(snaps, 1, 7, T0 + 50, T0 + 200), {});
});

test('events seen in several polls are collected once, in time order', () => {
  const all: StatusEvent[] = [];
  const seen = new Set<string>();
  collectEvents(all, seen, {
    step: 0,
    state: 'running',
    workers: [],
    events: [
      { at: 2, type: 'checkpoint', step: 40 },
      { at: 1, type: 'worker-lost', worker: 1 },
    ],
  });
  collectEvents(all, seen, {
    step: 0,
    state: 'running',
    workers: [],
    events: [
      { at: 2, type: 'checkpoint', step: 40 },
      { at: 3, type: 'checkpoint', step: 80 },
    ],
  });
  assert.deepEqual(
    all.map((e) => e.at),
    [1, 2, 3],
  );
});

test('median and report figures', () => {
  assert.equal(median([]), undefined);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const ref: Counts = {
    loaded: 300,
    inserted: 290,
    arrived: 200,
    running: 90,
    waiting: 10,
    steps: 600,
    stateHash: 'aa',
    ups: 1000,
  };
  assert.deepEqual(compareCounts(ref, { ...ref }), {
    differences: {},
    vehiclesLost: 0,
    vehiclesDuplicated: 0,
    hashEqual: true,
  });
  assert.deepEqual(compareCounts(ref, { ...ref, running: 87, stateHash: 'bb' }), {
    differences: { running: -3 },
    vehiclesLost: 3,
    vehiclesDuplicated: 0,
    hashEqual: false,
  });
  assert.deepEqual(compareCounts(ref, { ...ref, arrived: 202 }).vehiclesDuplicated, 2);
  assert.deepEqual(
    medians([
      { index: 0, kind: 'net-cut', target: 'w', outcome: 'absorbed' },
      { index: 1, kind: 'kill-workers', target: 'w', outcome: 'recovered', detectMs: 10, recoverMs: 20 },
    ]),
    { medianDetectMs: 10, medianRecoverMs: 20 },
  );
  const table = markdownTable([
    {
      index: 0,
      kind: 'kill-workers',
      target: 'worker 1',
      atSeconds: 2,
      step: 40,
      detectMs: 120,
      recoverMs: 800,
      replayedSteps: 7,
      outcome: 'recovered',
    },
  ]);
  assert.equal(table.split('\n')[2], '| 1 | 2.0 | 40 | kill-workers | worker 1 | 0.12 | 0.80 | 7 | recovered |');
});

test('per-kind medians leave skipped faults out', async () => {
  const { byKind } = await import('./report.js');
  assert.deepEqual(
    byKind([
      { index: 0, kind: 'kill-workers', target: 'w', outcome: 'recovered', detectMs: 10, recoverMs: 100 },
      { index: 1, kind: 'kill-workers', target: 'w', outcome: 'recovered', detectMs: 30, recoverMs: 300 },
      { index: 2, kind: 'stop-worker', target: 'w', outcome: 'recovered', detectMs: 1000, recoverMs: 900 },
      { index: 3, kind: 'net-cut', target: 'w', outcome: 'skipped' },
    ]),
    {
      'kill-workers': { count: 2, medianDetectMs: 20, medianRecoverMs: 200 },
      'stop-worker': { count: 1, medianDetectMs: 1000, medianRecoverMs: 900 },
    },
  );
});
