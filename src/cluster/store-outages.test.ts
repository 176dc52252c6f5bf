import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreOutages, outageRecorded, storeDownEvent, storeUpEvent } from './store-outages.js';
import { StatusWriter, type RunEvent } from './status.js';

const T0 = 1_000_000;

test('one outage however many workers notice it: down at the first loss, up at the first recovery', () => {
  const s = new StoreOutages();
  assert.equal(s.down, false);
  assert.equal(s.report({ up: false, at: T0 + 10, error: 'connection closed', by: 2 }), 'down');
  assert.equal(
    s.report({ up: false, at: T0 + 12, error: 'ECONNRESET', by: 0 }),
    undefined,
    'the same outage, second worker',
  );
  assert.equal(s.down, true);
  assert.equal(s.report({ up: true, at: T0 + 900, by: 0 }), 'up');
  assert.equal(s.report({ up: true, at: T0 + 1400, by: 2 }), undefined, 'already up');
  // a third worker's loss, noticed during the outage but arriving after its end: not a new outage
  assert.equal(s.report({ up: false, at: T0 + 15, error: 'late', by: 1 }), undefined);
  assert.equal(s.down, false);
  assert.deepEqual(s.outages, [{ downAt: T0 + 10, error: 'connection closed', by: 2, upAt: T0 + 900, upBy: 0 }]);
  // a later loss is a new outage; a recovery from before it changes nothing
  assert.equal(s.report({ up: false, at: T0 + 5000, error: 'x' }), 'down');
  assert.equal(s.report({ up: true, at: T0 + 4999, by: 1 }), undefined);
  assert.equal(s.report({ up: true, at: T0 + 5200 }), 'up');
  assert.deepEqual(
    s.outages.map((o) => [o.downAt, o.upAt]),
    [
      [T0 + 10, T0 + 900],
      [T0 + 5000, T0 + 5200],
    ],
  );
});

test('store events: the store, the error, the outage length; the worker that noticed', () => {
  const o = { downAt: T0, error: 'connection closed', by: 1, upAt: T0 + 700, upBy: 2 };
  assert.deepEqual(storeDownEvent(o, 'redis://h:1', 40), {
    at: T0,
    type: 'store-down',
    worker: 1,
    step: 40,
    detail: '{"store":"redis://h:1","error":"connection closed"}',
  });
  assert.deepEqual(storeUpEvent(o, 'redis://h:1', 52), {
    at: T0 + 700,
    type: 'store-up',
    worker: 2,
    step: 52,
    detail: `{"store":"redis://h:1","downAt":${T0},"downMs":700}`,
  });
  assert.equal(
    'worker' in storeDownEvent({ downAt: T0, error: 'e' }, 'x', 0),
    false,
    "the master's own connection: no worker",
  );
});

test('outageRecorded: an overlapping store-down … store-up span is the same outage', () => {
  const events: RunEvent[] = [
    { at: T0, type: 'checkpoint', step: 40 },
    { at: T0 + 100, type: 'store-down' },
    { at: T0 + 300, type: 'worker-lost', worker: 1 },
    { at: T0 + 1100, type: 'store-up' },
  ];
  assert.equal(
    outageRecorded(events, { downAt: T0 + 120, error: '', upAt: T0 + 1300 }),
    true,
    "another master's times of it",
  );
  assert.equal(outageRecorded(events, { downAt: T0 + 50, error: '', upAt: T0 + 90 }), false, 'before');
  assert.equal(outageRecorded(events, { downAt: T0 + 2000, error: '', upAt: T0 + 2500 }), false, 'after');
  assert.equal(outageRecorded(events, { downAt: T0 + 2000, error: '' }), false, 'a later one still going on');
  // a store-down never followed by its store-up stands for an outage until now
  assert.equal(
    outageRecorded([{ at: T0, type: 'store-down' }], { downAt: T0 + 9000, error: '', upAt: T0 + 9100 }),
    true,
  );
  assert.equal(outageRecorded([], { downAt: T0, error: '' }), false);
});

test('StatusWriter.event: an event told late goes in at its time', () => {
  const w = new StatusWriter();
  w.event({ type: 'checkpoint', step: 40 });
  const now = w.status.events![0]!.at;
  w.event({ type: 'checkpoint', step: 80, at: now + 10 });
  w.event({ type: 'store-down', step: 70, at: now + 5 });
  w.event({ type: 'store-up', step: 90, at: now + 20 });
  assert.deepEqual(
    w.status.events!.map((e) => [e.type, e.at - now]),
    [
      ['checkpoint', 0],
      ['store-down', 5],
      ['checkpoint', 10],
      ['store-up', 20],
    ],
  );
  assert.deepEqual(Object.keys(w.status.events![1]!), ['at', 'type', 'step'], 'at first, as before');
  w.close();
});
