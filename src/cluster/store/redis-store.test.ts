/**
 * The shared suite against a real redis-server started by this file (its own port and directory, AOF
 * on, fsync on every write), plus the fault tests of R12: a server killed and restarted under the
 * store, and close() while the server is down. Skipped, with a message, where redis-server is missing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { openStore, StoreError, type Store, type StoreAvailability } from './store.js';
import { freshNamespace, sleep, storeSuite } from './store.test-suite.js';
import { RedisServer, freePort, redisMissing } from './redis-server.js';

const missing = redisMissing();

const server = new RedisServer();
storeSuite('redis store', (ns) => openStore(server.url, ns), {
  skip: missing,
  before: () => server.start(),
  after: () => server.destroy(),
});

describe('redis store faults', { skip: missing ?? false }, () => {
  const faulty = new RedisServer();
  const stores: Store[] = [];
  const open = async (): Promise<Store> => {
    const s = await openStore(faulty.url, freshNamespace());
    stores.push(s);
    return s;
  };
  before(() => faulty.start());
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await faulty.destroy();
  });

  test('a key of the wrong type is named in one line; FLUSHDB does not take epochs back (a floor)', async () => {
    const s = await openStore(faulty.url, { project: 'wt', plan: '_cluster' });
    stores.push(s);
    const raw = new Redis(faulty.url);
    try {
      await raw.hset('tessds:{wt}:_cluster:lease:leader', 'x', '1');
      await assert.rejects(
        s.acquireLease('leader', 'A', 1000),
        (e: Error) =>
          e instanceof StoreError &&
          /^redis:\/\/127\.0\.0\.1:\d+: cannot acquire lease leader: key tessds:\{wt\}:_cluster:lease:leader holds a Redis hash, not the string TessDS keeps there/.test(
            e.message,
          ) &&
          !e.message.includes('\n'),
      );
      await raw.del('tessds:{wt}:_cluster:lease:leader');
      await raw.set('tessds:{wt}:_cluster:epoch:leader', 'abc');
      await assert.rejects(
        s.acquireLease('leader', 'A', 1000),
        /key tessds:\{wt\}:_cluster:epoch:leader holds a Redis string that is no integer/,
      );
      await raw.del('tessds:{wt}:_cluster:epoch:leader');
      await raw.rpush('tessds:{wt}:_cluster:kv:plans/x', 'a');
      await assert.rejects(
        s.get('plans/x'),
        /key tessds:\{wt\}:_cluster:kv:plans\/x holds a Redis list, not the string/,
      );
      await raw.del('tessds:{wt}:_cluster:kv:plans/x');
      const e1 = (await s.acquireLease('leader', 'A', 60_000))!.epoch;
      await s.releaseLease('leader', 'A', e1);
      const e2 = (await s.acquireLease('leader', 'A', 60_000))!.epoch;
      assert.ok(e2 > e1);
      await raw.flushdb();
      const after = await s.acquireLease('leader', 'B', 60_000, e2);
      assert.deepEqual(after, { epoch: e2 + 1, raisedFrom: 0 }, 'above every epoch seen, and the loss is told');
    } finally {
      raw.disconnect();
    }
  });

  test('keys live under tessds:{project}:plan:', async () => {
    const s = await openStore(faulty.url, { project: 'proj', plan: 'plan1' });
    stores.push(s);
    await s.put('a/b', Buffer.from('v'));
    await s.putTtl('w', Buffer.from('v'), 5_000);
    await s.acquireLease('leader', 'A', 5_000);
    await s.append('cmd', Buffer.from('c'));
    const raw = new Redis(faulty.url);
    try {
      const keys = (await raw.keys('tessds:{proj}:plan1:*')).sort();
      assert.deepEqual(
        keys,
        ['epoch:leader', 'index', 'kv:a/b', 'lease:leader', 'log:cmd', 'ttl:w'].map((k) => `tessds:{proj}:plan1:${k}`),
      );
    } finally {
      raw.disconnect();
    }
  });

  test('a server killed and restarted: commands issued meanwhile complete, acknowledged data survives', async () => {
    const s = await open();
    await s.put('before', Buffer.from('written before the kill'));
    const lease = await s.acquireLease('leader', 'A', 60_000);
    assert.ok(lease);
    await faulty.kill();

    let settled = false;
    const during = Promise.all([
      s.get('before'),
      s.put('during', Buffer.from('written during the outage')),
      s.putFenced('leader', lease.epoch, [{ key: 'fenced', value: Buffer.from('f') }]),
      s.append('log', Buffer.from('x')),
    ]).finally(() => (settled = true));
    await sleep(500);
    assert.equal(settled, false, 'commands wait for the server instead of failing');

    await faulty.start(); // same port, same directory: the AOF is replayed
    const [before, , fenced, index] = await during;
    assert.deepEqual(before, Buffer.from('written before the kill'));
    assert.equal(fenced, true, 'the epoch counter survived the restart');
    assert.equal(index, 0);
    assert.deepEqual(await s.get('during'), Buffer.from('written during the outage'));
    assert.deepEqual(await s.list(''), ['before', 'during', 'fenced']);
    assert.deepEqual(await s.acquireLease('leader', 'B', 1000), undefined, 'the lease survived too');
  });

  test('watch: down once when the server dies, however many reconnects fail; up once it answers; nothing on close()', async () => {
    const s = await open();
    const seen: StoreAvailability[] = [];
    s.watch!((a) => seen.push(a));
    await s.put('k', Buffer.from('v'));
    await faulty.kill();
    while (seen.length === 0) await sleep(10);
    // ioredis retries at 100, 200, 400 ms …: let a few attempts fail
    await sleep(800);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.up, false);
    const waiting = s.get('k');
    await faulty.start();
    assert.deepEqual(await waiting, Buffer.from('v'));
    while (seen.length < 2) await sleep(10);
    assert.deepEqual(seen[1], { up: true });
    await s.close();
    await sleep(50);
    assert.equal(seen.length, 2, 'our own close is no outage');
  });

  test(
    'watch: a server that stops answering but keeps the connection (SIGSTOP) is down, and up once it answers again',
    { timeout: 20_000 },
    async () => {
      const s = await open();
      const seen: StoreAvailability[] = [];
      s.watch!((a) => seen.push(a));
      await s.put('k', Buffer.from('v'));
      const pid = faulty.pid!;
      process.kill(pid, 'SIGSTOP');
      try {
        const stoppedAt = Date.now();
        const waiting = s.get('k');
        while (seen.length === 0 && Date.now() - stoppedAt < 10_000) await sleep(20);
        assert.equal(seen.length, 1, 'one report of the hang');
        assert.equal(seen[0]!.up, false);
        assert.match((seen[0] as { error: string }).error, /no answer for 2 s/);
        process.kill(pid, 'SIGCONT');
        assert.deepEqual(await waiting, Buffer.from('v'), 'the call that waited is answered');
        while (seen.length < 2) await sleep(20);
        assert.deepEqual(seen[1], { up: true });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await sleep(1200);
      assert.equal(seen.length, 2, 'nothing more while it answers');
      await s.close();
    },
  );

  test(
    'close() returns while the server is down; waiting commands then fail with a StoreError',
    { timeout: 10_000 },
    async () => {
      const s = await open();
      await s.put('k', Buffer.from('v'));
      await faulty.kill();
      const waiting = s.get('k');
      await sleep(200);
      await s.close();
      await assert.rejects(waiting, (e: unknown) => e instanceof StoreError && e.message.startsWith(faulty.url));
      await faulty.start();
    },
  );

  test('an unreachable server is a one-line StoreError naming it', async () => {
    const port = await freePort(); // nothing listens there
    await assert.rejects(
      openStore(`redis://127.0.0.1:${port}`, freshNamespace(), { connectTimeoutMs: 300 }),
      (e: unknown) => {
        assert.ok(e instanceof StoreError);
        assert.equal(e.message, `cannot reach redis://127.0.0.1:${port} within 0.3 s: ECONNREFUSED`);
        return true;
      },
    );
  });
});

/** Resolves once `port` accepts connections; rejects if the server process exits first. */
