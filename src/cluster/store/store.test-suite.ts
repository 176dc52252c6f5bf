/**
 * The behaviour every Store must have, run against each implementation (file-store.test.ts,
 * redis-store.test.ts) so they cannot drift apart. Not a test file by itself (no ".test.ts" suffix).
 * Every test works in its own fresh plan, so tests cannot see each other's keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Namespace, Store } from './store.js';

export interface SuiteHooks {
  /** Reason to skip the whole suite (e.g. "redis-server not installed"). */
  skip?: string;
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const buf = (s: string): Buffer => Buffer.from(s);

export function storeSuite(name: string, open: (ns: Namespace) => Promise<Store>, hooks: SuiteHooks = {}): void {
  const opened: Store[] = [];
  /** Opens a store on `ns`, or on a fresh plan of its own. */
  const openStore = async (ns: Namespace = freshNamespace()): Promise<Store> => {
    const s = await open(ns);
    opened.push(s);
    return s;
  };

  describe(name, { skip: hooks.skip ?? false }, () => {
    if (hooks.before) before(hooks.before);
    after(async () => {
      await Promise.all(opened.map((s) => s.close()));
      await hooks.after?.();
    });

    test('put, get, delete', async () => {
      const s = await openStore();
      assert.equal(await s.get('a'), undefined);
      await s.put('a', buf('1'));
      await s.put('b', buf('2'));
      assert.deepEqual(await s.get('a'), buf('1'));
      await s.delete(['a', 'never-written']);
      assert.equal(await s.get('a'), undefined);
      assert.deepEqual(await s.get('b'), buf('2'));
      await s.delete([]);
      assert.deepEqual(await s.list(''), ['b']);
    });

    test('overwrite replaces the value', async () => {
      const s = await openStore();
      await s.put('k', buf('old, longer value'));
      await s.put('k', buf('new'));
      assert.deepEqual(await s.get('k'), buf('new'));
    });

    test('binary values round-trip, including empty ones', async () => {
      const s = await openStore();
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const random = randomBytes(100_000);
      await s.put('all', all);
      await s.put('random', random);
      await s.put('empty', Buffer.alloc(0));
      assert.deepEqual(await s.get('all'), all);
      assert.deepEqual(await s.get('random'), random);
      assert.deepEqual(await s.get('empty'), Buffer.alloc(0));
    });

    test('list returns keys with the prefix, sorted, and odd key names survive', async () => {
      const s = await openStore();
      const odd = ['.', '..', '.hidden', 'a b', '%41', 'x/../y', 'ü', '日本', 'a:b{c}', '*?[]'];
      for (const k of ['a/2', 'a/10', 'b/1', 'a/1', 'ab', ...odd]) await s.put(k, buf(k));
      await s.putTtl('a/ttl', buf('x'), 10_000); // TTL keys are not listed
      assert.deepEqual(await s.list('a/'), ['a/1', 'a/10', 'a/2']);
      assert.deepEqual(await s.list('zzz'), []);
      const all = await s.list('');
      assert.equal(all.length, 15);
      assert.deepEqual(
        all,
        [...all].sort((x, y) => Buffer.compare(buf(x), buf(y))),
      );
      for (const k of odd) {
        assert.ok(all.includes(k), `list has ${k}`);
        assert.deepEqual(await s.get(k), buf(k));
      }
    });

    test('lease: acquire, refuse a second owner, same owner again keeps the epoch', async () => {
      const s = await openStore();
      const a = await s.acquireLease('leader', 'A', 5_000);
      assert.ok(a && a.epoch >= 1);
      assert.equal(await s.acquireLease('leader', 'B', 5_000), undefined);
      assert.deepEqual(await s.acquireLease('leader', 'A', 5_000), a);
      const seen = await s.readLease('leader');
      assert.equal(seen?.owner, 'A');
      assert.equal(seen?.epoch, a.epoch);
      assert.ok(seen.expiresInMs > 0 && seen.expiresInMs <= 5_000, `expiresInMs ${seen.expiresInMs}`);
      assert.equal(await s.readLease('other'), undefined);
    });

    test('lease: a floor (an epoch seen before) puts a new epoch above it, says where the counter was, and fencing follows the new epoch', async () => {
      const s = await openStore();
      const a = await s.acquireLease('floored', 'A', 100, 41);
      assert.deepEqual(a, { epoch: 42, raisedFrom: 0 });
      assert.equal(await s.putFenced('floored', 42, [{ key: 'k', value: buf('v') }]), true);
      assert.equal(await s.renewLease('floored', 'A', 42, 5_000), true);
      await s.releaseLease('floored', 'A', 42);
      const b = await s.acquireLease('floored', 'B', 5_000, 42);
      assert.deepEqual(b, { epoch: 43 }, 'a floor at or below the counter changes nothing');
    });

    test('lease: after expiry a new owner gets a higher epoch and the old one is fenced out', async () => {
      const s = await openStore();
      await s.put('state', buf('from A'));
      const a = await s.acquireLease('leader', 'A', 200);
      assert.ok(a);
      await sleep(300);
      assert.equal(await s.readLease('leader'), undefined);
      const b = await s.acquireLease('leader', 'B', 5_000);
      assert.ok(b && b.epoch > a.epoch, `epoch ${b?.epoch} > ${a.epoch}`);
      assert.equal(await s.renewLease('leader', 'A', a.epoch, 5_000), false);
      assert.equal(await s.putFenced('leader', a.epoch, [{ key: 'state', value: buf('late A') }]), false);
      assert.deepEqual(await s.get('state'), buf('from A'));
      assert.equal(await s.putFenced('leader', b.epoch, [{ key: 'state', value: buf('from B') }]), true);
      assert.deepEqual(await s.get('state'), buf('from B'));
      assert.equal((await s.readLease('leader'))?.owner, 'B');
    });

    test('lease: renew extends it; a wrong epoch or owner cannot renew', async () => {
      const s = await openStore();
      const a = await s.acquireLease('leader', 'A', 200);
      assert.ok(a);
      assert.equal(await s.renewLease('leader', 'A', a.epoch, 5_000), true);
      await sleep(300); // past the first TTL
      assert.equal(await s.acquireLease('leader', 'B', 5_000), undefined);
      assert.equal(await s.renewLease('leader', 'A', a.epoch + 1, 5_000), false);
      assert.equal(await s.renewLease('leader', 'B', a.epoch, 5_000), false);
      assert.equal((await s.readLease('leader'))?.owner, 'A');
    });

    test('lease: renew after a lapse nobody used keeps the epoch', async () => {
      const s = await openStore();
      const a = await s.acquireLease('leader', 'A', 100);
      assert.ok(a);
      await sleep(200);
      assert.equal(await s.renewLease('leader', 'A', a.epoch, 5_000), true);
      assert.deepEqual(await s.readLease('leader').then((l) => l && [l.owner, l.epoch]), ['A', a.epoch]);
      assert.equal(await s.putFenced('leader', a.epoch, [{ key: 'k', value: buf('v') }]), true);
    });

    test('lease: release by the holder only; epochs keep growing after release', async () => {
      const s = await openStore();
      const a = await s.acquireLease('leader', 'A', 5_000);
      assert.ok(a);
      await s.releaseLease('leader', 'B', a.epoch); // not B's: ignored
      await s.releaseLease('leader', 'A', a.epoch + 1); // wrong epoch: ignored
      assert.equal((await s.readLease('leader'))?.owner, 'A');
      await s.releaseLease('leader', 'A', a.epoch);
      assert.equal(await s.readLease('leader'), undefined);
      const b = await s.acquireLease('leader', 'B', 5_000);
      assert.ok(b && b.epoch > a.epoch);
      assert.equal(await s.putFenced('leader', a.epoch, [{ key: 'k', value: buf('A') }]), false);
    });

    test('putFenced: all or nothing, deletes included', async () => {
      const s = await openStore();
      await s.put('a', buf('1'));
      await s.put('b', buf('2'));
      await s.put('c', buf('3'));
      assert.equal(await s.putFenced('nobody-ever', 1, [{ key: 'a', value: buf('x') }]), false);
      const first = await s.acquireLease('leader', 'A', 100);
      assert.ok(first);
      await sleep(200);
      const now = await s.acquireLease('leader', 'B', 5_000);
      assert.ok(now);
      const batch = [
        { key: 'a', value: buf('X') },
        { key: 'd', value: buf('D') },
      ];
      assert.equal(await s.putFenced('leader', first.epoch, batch, ['b']), false);
      assert.deepEqual(await snapshot(s), { a: '1', b: '2', c: '3' });
      assert.equal(await s.putFenced('leader', now.epoch, batch, ['b', 'missing']), true);
      assert.deepEqual(await snapshot(s), { a: 'X', c: '3', d: 'D' });
      // A key both deleted and written ends up written.
      assert.equal(await s.putFenced('leader', now.epoch, [{ key: 'c', value: buf('C') }], ['c', 'd']), true);
      assert.deepEqual(await snapshot(s), { a: 'X', c: 'C' });
    });

    test('append and readLog: order and indices', async () => {
      const s = await openStore();
      assert.deepEqual(await s.readLog('cmd'), []);
      for (let i = 0; i < 12; i++) assert.equal(await s.append('cmd', buf(`e${i}`)), i);
      assert.equal(await s.append('other', buf('o')), 0);
      const all = await s.readLog('cmd');
      assert.deepEqual(
        all.map(String),
        Array.from({ length: 12 }, (_, i) => `e${i}`),
      );
      assert.deepEqual((await s.readLog('cmd', 10)).map(String), ['e10', 'e11']);
      assert.deepEqual(await s.readLog('cmd', 12), []);
      assert.deepEqual(await s.append('cmd', Buffer.alloc(0)), 12);
      assert.deepEqual(await s.readLog('cmd', 12), [Buffer.alloc(0)]);
    });

    test('concurrent appends from several instances get distinct indices', async () => {
      const ns = freshNamespace();
      const stores = await Promise.all([1, 2, 3, 4].map(() => openStore(ns)));
      const indices = await Promise.all(
        Array.from({ length: 24 }, (_, i) => stores[i % stores.length]!.append('log', buf(`entry ${i}`))),
      );
      assert.deepEqual(
        [...indices].sort((x, y) => x - y),
        Array.from({ length: 24 }, (_, i) => i),
      );
      const log = await stores[0]!.readLog('log');
      indices.forEach((at, i) => assert.equal(String(log[at]), `entry ${i}`));
    });

    test('TTL keys expire', async () => {
      const s = await openStore();
      assert.equal(await s.getTtl('worker/1'), undefined);
      // 400 ms rather than less: the read-back below must come before expiry even on a loaded machine.
      await s.putTtl('worker/1', buf('alive'), 400);
      const live = await s.getTtl('worker/1');
      assert.deepEqual(live?.value, buf('alive'));
      assert.ok(live.expiresInMs > 0 && live.expiresInMs <= 400, `expiresInMs ${live.expiresInMs}`);
      await sleep(600);
      assert.equal(await s.getTtl('worker/1'), undefined);
      await s.putTtl('worker/1', buf('again'), 5_000); // a heartbeat brings it back
      assert.deepEqual((await s.getTtl('worker/1'))?.value, buf('again'));
      assert.equal(await s.get('worker/1'), undefined); // TTL keys and plain keys are separate
    });

    test('two plans do not see each other', async () => {
      const one = await openStore({ project: 'shared', plan: `one-${randomBytes(4).toString('hex')}` });
      const two = await openStore({ project: 'shared', plan: `two-${randomBytes(4).toString('hex')}` });
      await one.put('k', buf('one'));
      await one.putTtl('t', buf('one'), 5_000);
      await one.append('log', buf('one'));
      assert.ok(await one.acquireLease('leader', 'A', 5_000));
      assert.equal(await two.get('k'), undefined);
      assert.deepEqual(await two.list(''), []);
      assert.equal(await two.getTtl('t'), undefined);
      assert.deepEqual(await two.readLog('log'), []);
      assert.ok(await two.acquireLease('leader', 'B', 5_000));
      assert.equal((await one.readLease('leader'))?.owner, 'A');
    });

    test('concurrent acquireLease from several instances: exactly one wins', async () => {
      for (let round = 0; round < 5; round++) {
        const ns = freshNamespace();
        const stores = await Promise.all([1, 2, 3, 4, 5, 6].map(() => openStore(ns)));
        const results = await Promise.all(stores.map((s, i) => s.acquireLease('leader', `owner-${i}`, 5_000)));
        const winners = results.flatMap((r, i) => (r ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: winners ${winners.join(',')}`);
        assert.equal((await stores[0]!.readLease('leader'))?.owner, `owner-${winners[0]}`);
      }
    });
  });
}

export function freshNamespace(): Namespace {
  return { project: 'test', plan: `p-${randomBytes(6).toString('hex')}` };
}

/** Every key and its value as text, for comparing whole store states. */
async function snapshot(s: Store): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of await s.list('')) out[k] = String(await s.get(k));
  return out;
}
