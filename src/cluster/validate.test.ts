import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  jsonDepth,
  readFromAgent,
  readMasterMessage,
  readPeerMessage,
  readWorkerMessage,
  readToAgent,
} from './validate.js';

const b = (x: unknown) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x));

test('wire messages of the right shape pass; any other is a one-line error naming the field', () => {
  assert.deepEqual(readPeerMessage(b({ type: 'peer', workerId: 1 })), { type: 'peer', workerId: 1 });
  assert.throws(() => readPeerMessage(b({ type: 'peer', workerId: -1 })), /message\.workerId: expected an integer ≥ 0/);
  assert.throws(() => readPeerMessage(b({ type: 'hello', workerId: 1 })), /message\.type: expected "peer"/);
  assert.throws(() => readPeerMessage(b('[1,2')), /not JSON/);
  assert.throws(() => readPeerMessage(b('null')), /expected an object/);
  assert.throws(
    () =>
      readWorkerMessage(b({ type: 'status', workerId: 0, parts: [{ part: 0, step: 'x' }], running: 0, arrived: 0 })),
    /message\.parts\[0\]\.step/,
  );
  assert.ok(readWorkerMessage(b({ type: 'hello', workerId: 0, pid: 1, host: 'h', port: 4000 })));
  assert.throws(() => readWorkerMessage(b({ type: 'hello', workerId: 0, pid: 1, host: 'h', port: 70000 })), /port/);
  assert.throws(
    () => readMasterMessage(b({ type: 'frame-request', id: 1, viewport: [1, 2, 3] })),
    /viewport: expected a list of 4/,
  );
  assert.ok(
    readMasterMessage(b({ type: 'command', entry: { seq: 0, step: 3, parts: 'all', command: { type: 'stop' } } })),
  );
  assert.throws(
    () =>
      readMasterMessage(b({ type: 'command', entry: { seq: 0, step: 3, parts: 'some', command: { type: 'stop' } } })),
    /parts/,
  );
  assert.throws(
    () =>
      readMasterMessage(b({ type: 'command', entry: { seq: 0, step: 3, parts: [1], command: { type: 'rm -rf' } } })),
    /command\.type/,
  );
  assert.ok(readFromAgent(b({ type: 'heartbeat', workerId: 2 })));
  assert.ok(readFromAgent(b({ type: 'done', workerId: 2, stepSeconds: 1.5 })));
  assert.ok(readToAgent(b({ type: 'assign', epoch: 2, plan: 'p', slot: 0 })));
  assert.throws(() => readToAgent(b({ type: 'assign', epoch: 2, plan: 7, slot: 0 })), /plan: expected a string/);
});

test('nesting is measured without parsing (strings and escapes skipped); deep JSON is refused', () => {
  assert.equal(jsonDepth('{"a":[1,{"b":"[[[\\"["}]}'), 3);
  assert.equal(jsonDepth('1'), 0);
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  assert.equal(jsonDepth(deep, 64), 65, 'stops counting past the limit');
  assert.throws(() => readMasterMessage(b(deep)), /nested deeper than 64/);
});
