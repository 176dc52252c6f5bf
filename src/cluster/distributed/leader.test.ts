/**
 * Leader election on a real file store: one leader at a time, epochs that only grow, a release handing
 * over at once, and a leader cut off from the store (its renewals hang, as in a long pause) stepping
 * down by itself, after which its fenced writes fail. No timing thresholds: the tests wait for events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { openStore, type Store } from '../store/store.js';
import { LeaderElection } from './leader.js';

const timings = { leaseMs: 300, heartbeatMs: 50 };

async function fileStore(): Promise<Store> {
  return openStore(`file:${mkdtempSync(join(tmpdir(), 'tessds-leader-'))}`, { project: 'tessds', plan: '_cluster' });
}

/** The store as seen by a process that can no longer reach it for renewals (they never answer). */
function cutOffRenewals(s: Store): Store {
  return new Proxy(s, {
    get(target, prop, receiver) {
      if (prop === 'renewLease') return () => new Promise<never>(() => {});
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

test('one leader at a time; stop() releases the lease and the standby leads with a higher epoch', async () => {
  const store = await fileStore();
  const a = new LeaderElection(store, 'A', timings);
  const b = new LeaderElection(store, 'B', timings);
  const first = once(a, 'elected');
  a.start();
  const [epochA] = (await first) as [number];
  const bElected = once(b, 'elected');
  b.start();
  // B keeps trying while A renews: it must not lead (checked across several of its attempts)
  await new Promise((r) => setTimeout(r, 5 * timings.heartbeatMs));
  assert.equal(b.epoch, undefined);
  assert.equal(a.epoch, epochA);
  await a.stop();
  const [epochB] = (await bElected) as [number];
  assert.ok(epochB > epochA, `epoch ${epochB} after ${epochA}`);
  assert.equal((await store.readLease('leader'))?.owner, 'B');
  await b.stop();
  await store.close();
});

test('a leader whose renewals hang steps down by itself; a newer leader fences its writes', async () => {
  const store = await fileStore();
  const a = new LeaderElection(cutOffRenewals(store), 'A', timings);
  const elected = once(a, 'elected');
  a.start();
  const [epochA] = (await elected) as [number];
  assert.equal(await a.write([{ key: 'x', value: Buffer.from('from A') }]), true);

  const lost = once(a, 'lost');
  const b = new LeaderElection(store, 'B', timings);
  const bElected = once(b, 'elected');
  b.start();
  const [, reason] = (await lost) as [number, string];
  assert.match(reason, /no renewal/);
  const [epochB] = (await bElected) as [number];
  assert.ok(epochB > epochA);

  // A believes nothing any more, and the store refuses its epoch even when asked directly
  assert.equal(a.epoch, undefined);
  assert.equal(await a.write([{ key: 'x', value: Buffer.from('late A') }]), false);
  assert.equal(await store.putFenced('leader', epochA, [{ key: 'x', value: Buffer.from('late A') }]), false);
  assert.equal(await b.write([{ key: 'x', value: Buffer.from('from B') }]), true);
  assert.deepEqual(await store.get('x'), Buffer.from('from B'));
  await a.stop();
  await b.stop();
  await store.close();
});

test('the store loses its lease file (a flush): the leader steps down, leads again above its old epoch, and says the history was lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-leader-'));
  const s = await openStore(`file:${dir}`, { project: 'tessds', plan: '_cluster' });
  const e = new LeaderElection(s, 'A', timings);
  try {
    e.start();
    const [first] = (await once(e, 'elected')) as [number];
    const lost = new Promise<[number, number, number]>((resolve) => e.once('historyLost', (...a) => resolve(a)));
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'tessds', '_cluster', 'lease'), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'tessds', '_cluster', 'lease'));
    const [counter, seen, epoch] = await lost;
    assert.equal(counter, 0);
    assert.equal(seen, first);
    assert.equal(epoch, first + 1, 'the next epoch, not 1 again');
  } finally {
    await e.stop();
    await s.close();
  }
});
