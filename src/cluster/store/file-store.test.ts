import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile, readFile, utimes, access } from 'node:fs/promises';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { openStore, StoreError, type Namespace } from './store.js';
import { encodeBatch } from './file-store.js';
import { STALE_MS } from './file-lock.js';
import { freshNamespace, storeSuite } from './store.test-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'tessds-file-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

storeSuite('file store', (ns) => openStore(`file:${dir}`, ns));

/** Runs `script` in a fresh node process with `openStore` imported and `ns` defined; resolves to its stdout. */
function inProcess(script: string, ns: Namespace): Promise<string> {
  const storeModule = new URL('./store.js', import.meta.url).href;
  const code = `import { openStore } from ${JSON.stringify(storeModule)};
    const s = await openStore(${JSON.stringify(`file:${dir}`)}, ${JSON.stringify(ns)});
    ${script}
    await s.close();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited with ${code}`))));
  });
}

/** A script line that waits until wall-clock time `at`, so several processes start their race together. */
const startAt = (at: number): string => `await new Promise((r) => setTimeout(r, ${at} - Date.now()));`;

describe('file store across processes', () => {
  test('concurrent acquireLease from several processes: exactly one wins', async () => {
    for (let round = 0; round < 3; round++) {
      const ns = freshNamespace();
      const at = Date.now() + 1000; // after every child has started and opened the store
      const outs = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          inProcess(
            `${startAt(at)} console.log(JSON.stringify(await s.acquireLease('leader', 'proc-${i}', 10000) ?? null));`,
            ns,
          ),
        ),
      );
      const results = outs.map((o) => JSON.parse(o) as { epoch: number } | null);
      assert.equal(results.filter((r) => r !== null).length, 1, `round ${round}: ${outs.join(' ')}`);
    }
  });

  test('concurrent appends from several processes get distinct indices', async () => {
    const ns = freshNamespace();
    const at = Date.now() + 1000;
    const outs = await Promise.all(
      [0, 1, 2].map((p) =>
        inProcess(
          `${startAt(at)} const got = [];
           for (let i = 0; i < 15; i++) got.push(await s.append('log', Buffer.from('p${p}-' + i)));
           console.log(JSON.stringify(got));`,
          ns,
        ),
      ),
    );
    const perProcess = outs.map((o) => JSON.parse(o) as number[]);
    assert.deepEqual(
      perProcess.flat().sort((a, b) => a - b),
      Array.from({ length: 45 }, (_, i) => i),
    );
    const s = await openStore(`file:${dir}`, ns);
    const log = (await s.readLog('log')).map(String);
    perProcess.forEach((indices, p) => indices.forEach((at, i) => assert.equal(log[at], `p${p}-${i}`)));
  });
});

describe('file store internals', () => {
  const rootOf = (ns: Namespace): string => join(dir, ns.project, ns.plan);

  test('a fenced batch interrupted by a crash is read through, then finished on open', async () => {
    const ns = freshNamespace();
    const s = await openStore(`file:${dir}`, ns);
    await s.put('old', Buffer.from('old'));
    await s.put('kept', Buffer.from('kept'));
    // What a crash right after committing the journal leaves behind: the journal, nothing applied.
    const batch = { sets: new Map([['new', Buffer.from('new')]]), deletes: new Set(['old']) };
    await writeFile(join(rootOf(ns), 'journal'), encodeBatch(batch));
    assert.deepEqual(await s.get('new'), Buffer.from('new'));
    assert.equal(await s.get('old'), undefined);
    assert.deepEqual(await s.list(''), ['kept', 'new']);
    await openStore(`file:${dir}`, ns); // the next open applies it
    await assert.rejects(access(join(rootOf(ns), 'journal')));
    await assert.rejects(access(join(rootOf(ns), 'kv', 'old')));
    assert.deepEqual(await readFile(join(rootOf(ns), 'kv', 'new')), Buffer.from('new'));
  });

  test('a lock left by a dead process is broken', async () => {
    const ns = freshNamespace();
    const s = await openStore(`file:${dir}`, ns);
    const dead = await deadPid();
    await writeFile(
      join(rootOf(ns), 'lock'),
      JSON.stringify({ pid: dead, host: hostname(), at: Date.now(), token: 'x' }),
    );
    assert.ok(await s.acquireLease('leader', 'A', 1000));
  });

  test('an old or unreadable lock is broken, a fresh one of a live process is not', async () => {
    const ns = freshNamespace();
    const s = await openStore(`file:${dir}`, ns);
    const lock = join(rootOf(ns), 'lock');
    const old = new Date(Date.now() - 2 * STALE_MS);
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), at: old.getTime(), token: 'x' }));
    assert.ok(await s.acquireLease('leader', 'A', 1000));
    await writeFile(lock, ''); // torn by a power loss
    await utimes(lock, old, old);
    assert.ok(await s.acquireLease('leader', 'A', 1000));
    // A live holder: the append must wait until the lock is released.
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now(), token: 'y' }));
    let done = false;
    const pending = s.append('log', Buffer.from('x')).then((i) => ((done = true), i));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(done, false);
    rmSync(lock);
    assert.equal(await pending, 0);
  });

  test('bad keys are refused with a StoreError naming the store', async () => {
    const s = await openStore(`file:${dir}`, freshNamespace());
    await assert.rejects(
      s.put('', Buffer.from('x')),
      (e: unknown) => e instanceof StoreError && e.message.includes('empty'),
    );
    await assert.rejects(
      s.get('x'.repeat(300)),
      (e: unknown) => e instanceof StoreError && e.message.startsWith(`file:${dir}`),
    );
  });

  test('an unusable directory is a one-line StoreError', async () => {
    const file = join(dir, 'not-a-dir');
    await writeFile(file, '');
    await assert.rejects(openStore(`file:${file}`, freshNamespace()), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.match(e.message, /^file:.*not-a-dir: cannot create store directory .*: ENOTDIR$/);
      return true;
    });
  });
});

/** The pid of a process that has exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}
