import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointKey } from './commits.js';
import { seal, sealJson } from './integrity.js';
import type { LoggedCommand } from './protocol.js';
import { keepPartitioned, type PartitionedRecord } from './solo.js';
import { openStore } from './store/store.js';

/** A file store holding what a run of 2 parts wrote (checkpoints: step → parts), opened afresh. */
async function storeWith(checkpoints: Record<number, number[]>, log: LoggedCommand[] = []) {
  const store = await openStore(`file:${mkdtempSync(join(tmpdir(), 'tessds-keep-'))}`, { project: 't', plan: 'p' });
  for (const [step, parts] of Object.entries(checkpoints))
    for (const part of parts) await store.put(checkpointKey(Number(step), part), seal(Buffer.from(`${step}/${part}`)));
  for (const c of log) await store.append('commands', sealJson(c));
  return store;
}

const rec = { kind: 'partitioned' } as PartitionedRecord;
const resume = async (store: Awaited<ReturnType<typeof storeWith>>) => {
  const lines: string[] = [];
  const kept = await keepPartitioned(store, rec, 2, { startedAt: 1 }, (l) => lines.push(l));
  return { committed: kept.committed, log: kept.restore?.log.length, lines };
};

test('resume starts from the newest checkpoint every part wrote; a newer one only some parts wrote does not count', async () => {
  const r = await resume(await storeWith({ 40: [0, 1], 80: [0, 1], 120: [1] }));
  assert.deepEqual(r, { committed: 80, log: 0, lines: [] });
});

test('a part of the newest complete checkpoint cut short: one line naming it, the one before counts', async () => {
  const store = await storeWith({ 40: [0, 1], 80: [0, 1] });
  const k = checkpointKey(80, 1);
  const b = (await store.get(k))!;
  await store.put(k, b.subarray(0, b.length - 3));
  const r = await resume(store);
  assert.equal(r.committed, 40);
  assert.equal(r.lines.length, 1);
  assert.match(r.lines[0]!, /checkpoint checkpoint\/000000080\/part-1 .*truncated.*trying the checkpoint before it/);
});

test('no complete checkpoint left: the run starts again from step 0, and says so', async () => {
  const r = await resume(await storeWith({ 40: [0] }));
  assert.equal(r.committed, 0);
  assert.match(r.lines.join('\n'), /no complete checkpoint .*starting again from step 0/);
});

test('a command log that lost an entry in the middle: resume refuses in one line naming the lost commands', async () => {
  const c = (seq: number): LoggedCommand => ({ seq, step: 10 * seq, parts: 'all', command: { type: 'checkpoint' } });
  const store = await storeWith({ 40: [0, 1] }, [c(0), c(2)]);
  await assert.rejects(resume(store), (e: Error) => {
    assert.equal(e.name, 'UsageError');
    assert.match(e.message, /^cannot resume: the command log in file:\S+ lost commands 1\.\.1 /);
    return true;
  });
  assert.deepEqual((await resume(await storeWith({ 40: [0, 1] }, [c(0), c(1)]))).log, 2);
});
