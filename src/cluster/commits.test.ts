import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointCommits, checkpointKey, parseCheckpointKey } from './commits.js';

test('a checkpoint commits when every part wrote it, in any order; older and repeated notes change nothing', () => {
  const c = new CheckpointCommits(3);
  assert.equal(c.note(0, 40), false);
  assert.equal(c.note(2, 80), false); // a fast part is already one checkpoint ahead
  assert.equal(c.note(2, 40), false);
  assert.equal(c.note(2, 40), false); // told twice (a relayed ack after a leader change)
  assert.equal(c.note(1, 40), true);
  assert.equal(c.committed, 40);
  assert.equal(c.note(1, 40), false);
  assert.equal(c.note(0, 80), false);
  assert.equal(c.note(1, 80), true);
  assert.equal(c.committed, 80);
});

test('a commit from the store: a new leader starts from the committed step it read', () => {
  const c = new CheckpointCommits(2, 80);
  assert.equal(c.note(0, 40), false);
  assert.equal(c.note(1, 40), false);
  assert.equal(c.committed, 80);
});

test('checkpoint keys sort by step and parse back', () => {
  assert.equal(checkpointKey(40, 3), 'checkpoint/000000040/part-3');
  assert.ok(checkpointKey(400, 0) > checkpointKey(40, 9));
  assert.deepEqual(parseCheckpointKey(checkpointKey(1234, 7)), { step: 1234, part: 7 });
  assert.equal(parseCheckpointKey('checkpoint/x/part-1'), undefined);
});
