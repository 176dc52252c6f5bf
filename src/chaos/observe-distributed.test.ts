import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  eventSlot,
  judgeDistributedFaults,
  slotFromEvents,
  unfencedStops,
  type DistributedInjection,
} from './observe-distributed.js';
import type { ObservedStatus, Snapshot, StatusEvent } from './observe.js';

const T0 = 1_000_000;
const status = (step: number, epoch: number): ObservedStatus => ({
  step,
  state: 'running',
  workers: [],
  leader: { pid: 1, host: 'h', epoch },
});
const snap = (t: number, step: number, epoch: number): Snapshot => ({ t: T0 + t, status: status(step, epoch) });

test('eventSlot reads the slot of worker-lost ("slot S: …") and worker-recovered ({"slot": S}) events', () => {
  assert.equal(eventSlot({ at: 0, type: 'worker-lost', detail: 'slot 2: lease expired' }), 2);
  assert.equal(eventSlot({ at: 0, type: 'worker-recovered', detail: '{"slot":1,"replayedSteps":7}' }), 1);
  assert.equal(eventSlot({ at: 0, type: 'checkpoint' }), undefined);
  assert.equal(eventSlot({ at: 0, type: 'x', detail: 'not json' }), undefined);
});

test('a slot is matched by the signalled pid: the replacement (another worker id) recovers it', () => {
  const events: StatusEvent[] = [
    { at: T0 + 900, type: 'worker-lost', worker: 4, pid: 99, detail: 'slot 0: lease expired' }, // another pid: an earlier fault
    { at: T0 + 1100, type: 'worker-lost', worker: 5, pid: 50, detail: 'slot 1: lease expired' },
    { at: T0 + 1200, type: 'worker-recovered', worker: 7, pid: 60, detail: '{"slot":0,"replayedSteps":3}' },
    { at: T0 + 1500, type: 'worker-recovered', worker: 8, pid: 61, detail: '{"slot":1,"replayedSteps":12}' },
  ];
  assert.deepEqual(slotFromEvents(events, 1, 50, T0 + 100), {
    lostAt: T0 + 1100,
    recoveredAt: T0 + 1500,
    replayedSteps: 12,
  });
  assert.deepEqual(slotFromEvents(events, 0, 51, T0 + 100), {}, 'slot 0 was lost with another pid');
  assert.deepEqual(slotFromEvents(events, 1, 50, T0 + 2000), {}, 'events before the fault do not count');
});

test('judge: worker kill, leader kill (detection = new epoch, recovery = step moving under it), store restart, unfenced stop', () => {
  const injections: DistributedInjection[] = [
    { index: 0, fault: { type: 'kill-workers', atMs: 1000, workers: [1] }, at: T0 + 1000, step: 50, pids: [50] },
    { index: 1, fault: { type: 'kill-leader', atMs: 5000 }, at: T0 + 5000, step: 150, pids: [10], oldEpoch: 1 },
    {
      index: 2,
      fault: { type: 'restart-store', atMs: 9000, downMs: 500 },
      at: T0 + 9000,
      step: 250,
      pids: [],
      storeBackAt: T0 + 9600,
    },
    {
      index: 3,
      fault: { type: 'stop-worker', atMs: 13000, worker: 0, holdMs: 3000 },
      at: T0 + 13000,
      step: 350,
      pids: [70],
      wokenExit: null,
    },
    { index: 4, fault: { type: 'kill-leader', atMs: 20000 }, pids: [], note: 'no leader found' },
  ];
  const events: StatusEvent[] = [
    { at: T0, type: 'leader', detail: '{"pid":10,"host":"h","epoch":1}' },
    { at: T0 + 2000, type: 'worker-lost', worker: 5, pid: 50, detail: 'slot 1: lease expired' },
    { at: T0 + 2500, type: 'worker-recovered', worker: 8, pid: 61, detail: '{"slot":1,"replayedSteps":10}' },
    { at: T0 + 5900, type: 'leader', detail: '{"pid":11,"host":"h","epoch":2}' },
    { at: T0 + 14100, type: 'worker-lost', worker: 3, pid: 70, detail: 'slot 0: lease expired' },
    { at: T0 + 14400, type: 'worker-recovered', worker: 9, pid: 62, detail: '{"slot":0,"replayedSteps":20}' },
  ];
  const snapshots = [
    snap(4000, 140, 1),
    snap(5000, 151, 1), // the old leader's last write, after the kill time: not the new leader's
    snap(6000, 150, 2),
    snap(6200, 152, 2),
    snap(9700, 250, 2),
    snap(9900, 251, 2),
  ];
  const r = judgeDistributedFaults({ injections, snapshots, events, startedAt: T0, completed: true });
  assert.deepEqual(
    r.map((f) => [f.kind, f.target, f.detectMs, f.recoverMs, f.replayedSteps, f.outcome]),
    [
      ['kill-workers', 'slot 1', 1000, 500, 10, 'recovered'],
      ['kill-leader', 'leader', 900, 300, undefined, 'recovered'],
      ['restart-store', 'redis', undefined, 300, undefined, 'absorbed'],
      ['stop-worker', 'slot 0', 1100, 300, 20, 'recovered'],
      ['kill-leader', 'leader', undefined, undefined, undefined, 'skipped'],
    ],
  );
  assert.equal(r[0]!.atSeconds, 1);
  assert.match(r[3]!.note ?? '', /still running, not fenced/);
  assert.deepEqual(
    unfencedStops(injections).map((i) => i.index),
    [3],
  );
  // the same faults in a plan that did not finish
  const failed = judgeDistributedFaults({
    injections,
    snapshots,
    events: events.slice(0, 3),
    startedAt: T0,
    completed: false,
  });
  assert.deepEqual(
    failed.map((f) => f.outcome),
    ['recovered', 'run-failed', 'run-failed', 'run-failed', 'skipped'],
  );
});

test('a leader kill with no later leader event is undetected', () => {
  const injections: DistributedInjection[] = [
    { index: 0, fault: { type: 'kill-leader', atMs: 1000 }, at: T0 + 1000, step: 10, pids: [10], oldEpoch: 3 },
  ];
  const events: StatusEvent[] = [{ at: T0 + 1500, type: 'leader', detail: '{"pid":11,"host":"h","epoch":3}' }];
  const [f] = judgeDistributedFaults({ injections, snapshots: [], events, startedAt: T0, completed: true });
  assert.equal(f!.outcome, 'undetected');
  assert.equal(f!.detectMs, undefined);
});

test('a Redis restart with the store events the leader wrote after it: detection and recovery from them', () => {
  const injections: DistributedInjection[] = [
    {
      index: 0,
      fault: { type: 'restart-store', atMs: 1000, downMs: 500 },
      at: T0 + 1000,
      step: 50,
      pids: [],
      storeBackAt: T0 + 1520,
    },
    {
      index: 1,
      fault: { type: 'restart-store', atMs: 8000, downMs: 500 },
      at: T0 + 8000,
      step: 150,
      pids: [],
      storeBackAt: T0 + 8510,
    },
  ];
  // written by the new leader after the first outage (a term ended in it): times from its connection
  const events: StatusEvent[] = [
    { at: T0, type: 'leader', detail: '{"pid":10,"host":"h","epoch":1}' },
    { at: T0 + 1002, type: 'store-down', step: 50, detail: '{"store":"redis://h:1","error":"connection closed"}' },
    { at: T0 + 1700, type: 'store-up', step: 58, detail: '{"store":"redis://h:1","downAt":1001002,"downMs":698}' },
    { at: T0 + 1800, type: 'leader', detail: '{"pid":11,"host":"h","epoch":2}' },
  ];
  const snapshots = [snap(1900, 60, 2), snap(8700, 151, 2)];
  const r = judgeDistributedFaults({ injections, snapshots, events, startedAt: T0, completed: true });
  assert.deepEqual(
    r.map((f) => [f.detectMs, f.recoverMs, f.outcome]),
    [
      [2, 698, 'recovered'],
      // no store events for the second: the fallback (step moving − Redis back), absorbed
      [undefined, 190, 'absorbed'],
    ],
  );
  const lone = judgeDistributedFaults({
    injections: injections.slice(0, 1),
    snapshots,
    events: events.slice(0, 2),
    startedAt: T0,
    completed: true,
  });
  assert.deepEqual([lone[0]!.detectMs, lone[0]!.recoverMs, lone[0]!.outcome], [2, undefined, 'not-recovered']);
});
