import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntegrityError, SEAL_HEAD_BYTES, seal, sealJson, unseal, unsealJson } from './integrity.js';

test('a sealed record reads back; every flipped bit, a cut and a record without a seal are named', () => {
  const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));
  const sealed = seal(payload);
  assert.ok(unseal(sealed, 'x').equals(payload));
  for (let bit = 0; bit < sealed.length * 8; bit += 13) {
    const b = Buffer.from(sealed);
    b[bit >> 3]! ^= 1 << (bit & 7);
    assert.throws(
      () => unseal(b, 'checkpoint c in s'),
      (e: Error) => e instanceof IntegrityError && /^checkpoint c in s: /.test(e.message),
      `bit ${bit}`,
    );
  }
  assert.throws(
    () => unseal(sealed.subarray(0, sealed.length - 1), 'k'),
    /k: truncated or padded \(299 of 300 bytes\)/,
  );
  assert.throws(() => unseal(sealed.subarray(0, 20), 'k'), /k: truncated \(20 bytes\)/);
  assert.throws(() => unseal(Buffer.alloc(0), 'k'), /k: empty/);
  assert.throws(() => unseal(Buffer.from('{"a":1}'), 'k'), /k: no TessDS checksum/);
  assert.equal(seal(Buffer.alloc(0)).length, SEAL_HEAD_BYTES);
  assert.deepEqual(unsealJson(sealJson({ a: [1, 2] }), 'j'), { a: [1, 2] });
});

test('stored scenarios and command log entries carry their checksum: a changed byte is named on read', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openCluster, key, planRecordValue, readPlanRecord, commandValue, readCommand } =
    await import('./distributed/layout.js');
  const store = await openCluster(`file:${mkdtempSync(join(tmpdir(), 'tessds-seal-'))}`);
  try {
    const rec = {
      name: 'p',
      spec: { net: {} },
      slots: 1,
      parts: 1,
      junctionPart: [0],
      partSlot: [0],
      checkpointEvery: 50,
      submittedAt: 1,
    } as never;
    await store.put(key.plan('p'), planRecordValue(rec));
    assert.deepEqual(await readPlanRecord(store, 'p'), rec);
    const b = (await store.get(key.plan('p')))!;
    b[b.length - 3]! ^= 4;
    await store.put(key.plan('p'), b);
    await assert.rejects(
      readPlanRecord(store, 'p'),
      /^IntegrityError: the stored scenario of plan p \(plans\/p in file:.*\): checksum mismatch/,
    );
    const entry = { seq: 0, step: 3, parts: 'all' as const, command: { type: 'stop' as const } };
    await store.put(key.command('p', 0), commandValue(entry));
    assert.deepEqual(await readCommand(store, key.command('p', 0)), entry);
    await store.put(key.command('p', 1), Buffer.from(JSON.stringify(entry)));
    await assert.rejects(
      readCommand(store, key.command('p', 1)),
      /command log entry plan\/p\/command\/00000001 in file:.*: no TessDS checksum/,
    );
  } finally {
    await store.close();
  }
});
