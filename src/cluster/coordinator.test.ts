/**
 * The coordinator's meanings, the same for both hosts (coordinator.ts header, README "status file"):
 * a plan goes out once every slot said hello, start once every session is ready; `worker-lost`
 * names the lost slot's own step; `recoveries` counts a replacement when it is started; the
 * replacement gets its plan from the committed checkpoint, its neighbours a `peer-restart`, and
 * `worker-recovered` comes once it caught up with the furthest step any slot had reached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../io/sumo/config.js';
import { Network } from '../sim/network.js';
import { Coordinator, type CoordinatorHost } from './coordinator.js';
import type { MasterMessage } from './protocol.js';

const cfg = fileURLToPath(new URL('../../../test/fixtures/rand4/scenario.sumocfg', import.meta.url));

function setup() {
  const spec = { ...loadSumoScenario(cfg), end: 300 };
  const junctions = new Network(spec.net).junctionIds.length;
  const sent: { slot: number; m: MasterMessage }[] = [];
  const host: CoordinatorHost = {
    send: (slot, m) => void sent.push({ slot, m }),
    workerOf: (slot) => 10 + slot, // a registry id that is not the slot
    changed: () => {},
    durable: () => Promise.resolve(true),
    beforePlans: () => Promise.resolve(true),
    fail: (_slot, message) => assert.fail(message),
    log: () => {},
  };
  const c = new Coordinator(
    {
      spec,
      parts: 3,
      junctionPart: Array.from({ length: junctions }, (_, j) => j % 3),
      partSlot: [0, 1, 2],
      scenario: { id: 'held-by-slot-2' },
      checkpointEvery: 40,
      heartbeatMs: 250,
      leaseMs: 1000,
      control: false,
    },
    host,
  );
  c.openDesk({});
  const hello = (slot: number, pid: number, preloaded?: string) =>
    c.hello(slot, { type: 'hello', workerId: slot, pid, host: 'h', port: 5000 + pid, preloaded }, '127.0.0.1');
  const status = (slot: number, step: number) =>
    c.onMessage(slot, { type: 'status', workerId: slot, parts: [{ part: slot, step }], running: 1, arrived: 0 });
  const take = () => sent.splice(0);
  return { c, hello, status, take };
}

const settle = () => new Promise((r) => setImmediate(r));

test('plans once every slot said hello (the scenario only to those not holding it), start once all are ready', async () => {
  const { c, hello, take } = setup();
  hello(0, 100);
  hello(1, 101);
  assert.equal(c.startedAt, 0);
  hello(2, 102, 'held-by-slot-2');
  await settle();
  const plans = take().map(({ slot, m }) => ({ slot, m: m as Extract<MasterMessage, { type: 'plan' }> }));
  assert.deepEqual(
    plans.map((p) => p.slot),
    [0, 1, 2],
  );
  assert.ok(plans[0]!.m.spec && !plans[0]!.m.scenarioId, 'slot 0 gets the scenario');
  assert.ok(!plans[2]!.m.spec && plans[2]!.m.scenarioId === 'held-by-slot-2', 'slot 2 holds it already');
  assert.deepEqual(plans[1]!.m.hosted, [1]);
  assert.deepEqual(
    plans[1]!.m.peers.map((p) => p.workerId),
    [0, 2],
    'peers are named by slot, without itself',
  );
  c.ready(0);
  c.ready(1);
  assert.equal(take().length, 0, 'no start before every session is ready');
  c.ready(2);
  assert.deepEqual(
    take().map(({ slot, m }) => `${slot}:${m.type}`),
    ['0:start', '1:start', '2:start'],
  );
});

test('a lost slot: worker-lost at its own step, recoveries at the replacement, worker-recovered once caught up', async () => {
  const { c, hello, status, take } = setup();
  for (const s of [0, 1, 2]) hello(s, 100 + s);
  await settle();
  for (const s of [0, 1, 2]) c.ready(s);
  for (const s of [0, 1, 2]) c.checkpoint(s, 40);
  status(0, 100);
  status(1, 90);
  status(2, 120);
  assert.equal(c.step(), 90);
  assert.equal(c.committed, 40);
  take();

  c.lost(1, 'exited (SIGKILL)');
  const lost = c.events.find((e) => e.type === 'worker-lost')!;
  assert.equal(lost.worker, 11, 'events name the worker hosting the slot');
  assert.equal(lost.pid, 101);
  assert.equal(lost.step, 90, "the lost slot's own step, not the run's furthest (120)");
  assert.equal(lost.detail, 'slot 1: exited (SIGKILL)');
  assert.equal(c.workerStatus()[1]!.state, 'recovering');
  assert.equal(c.recoveries, 0);
  c.replacing(1);
  assert.equal(c.recoveries, 1, 'counted when the replacement is started');

  hello(1, 201);
  const sent = take();
  const plan = sent.find((x) => x.m.type === 'plan');
  assert.equal(plan?.slot, 1);
  assert.equal((plan!.m as Extract<MasterMessage, { type: 'plan' }>).recoverFrom, 40);
  assert.deepEqual(
    sent.filter((x) => x.m.type === 'peer-restart').map((x) => [x.slot, x.m]),
    [0, 2].map((s) => [s, { type: 'peer-restart', workerId: 1, host: '127.0.0.1', port: 5201, step: 40 }]),
  );
  status(1, 110);
  assert.ok(!c.events.some((e) => e.type === 'worker-recovered'), 'not caught up with step 120 yet');
  status(1, 120);
  const rec = c.events.find((e) => e.type === 'worker-recovered')!;
  assert.equal(rec.worker, 11);
  assert.equal(rec.pid, 201);
  assert.deepEqual(JSON.parse(rec.detail!), { slot: 1, replayedSteps: 80, lostAt: lost.at });
  assert.equal(c.workerStatus()[1]!.state, 'running');
  assert.equal(c.recoveries, 1);
});

test('the local fence: a running slot silent past its lease expires, one building its parts does not', async () => {
  const { c, hello, status } = setup();
  for (const s of [0, 1, 2]) hello(s, 100 + s);
  await settle();
  for (const s of [0, 1, 2]) c.ready(s);
  const t = Date.now();
  for (const s of [0, 1, 2]) {
    status(s, 50);
    c.heard(s, t);
  }
  c.heard(2, t + 1500);
  assert.deepEqual(c.expired(t + 1500), [
    { slot: 0, silentMs: 1500 },
    { slot: 1, silentMs: 1500 },
  ]);
  c.lost(1, 'no heartbeat for 1500 ms');
  hello(1, 201); // its replacement restores its parts: no heartbeats meanwhile
  c.heard(1, t);
  assert.deepEqual(
    c.expired(t + 1500).map((x) => x.slot),
    [0],
  );
});
