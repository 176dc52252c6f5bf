/**
 * The embedded store (`file:DIR`): one machine, any number of processes. Layout under
 * DIR/<project>/<plan>/:
 *   kv/<name>           values of get/put
 *   ttl/<name>          TTL keys: 8-byte big-endian expiry time (Date.now ms, float64), then the value
 *   lease/<name>        JSON {epoch, owner, expiresAt}; owner null once released. The file outlives
 *                       expiry and release, so the epoch only ever grows.
 *   log/<name>/<index>  one file per log entry, index zero-padded to 12 digits
 *   journal             a fenced batch being applied (see putFenced)
 *   lock                the cross-process lock (file-lock.ts)
 * <name> is encodeURIComponent(key) with a leading "." escaped as %2E: "/" becomes %2F, so every key is
 * one flat file name, never "." or "..", and never starts with "." like our temp files. Names are
 * limited to MAX_NAME bytes (file systems allow 255). Assumes a case-sensitive file system.
 *
 * Every write goes to a temp file in the same directory, is fsync'd, renamed over the target (atomic)
 * and the directory fsync'd, so a crash leaves either the old or the new value. Leases, fenced writes
 * and appends are read-modify-write and run under the lock; plain get/put/delete/list do not need it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FileLock } from './file-lock.js';
import { StoreError, reason } from './store-error.js';
import type { Namespace, Store } from './store.js';

const MAX_NAME = 240;
const INDEX_DIGITS = 12;

interface LeaseRecord {
  epoch: number;
  owner: string | null;
  expiresAt: number;
}

/** A fenced batch; written to `journal` before it is applied, so a crash midway is finished later. */
interface Batch {
  sets: Map<string, Buffer>;
  deletes: Set<string>;
}

export async function openFileStore(dir: string, ns: Namespace): Promise<FileStore> {
  const url = `file:${resolve(dir)}`;
  const root = resolve(dir, ns.project, ns.plan);
  try {
    for (const sub of ['kv', 'ttl', 'lease', 'log']) await mkdir(join(root, sub), { recursive: true });
  } catch (e) {
    throw new StoreError(`${url}: cannot create store directory ${root}: ${reason(e)}`, { cause: e });
  }
  const store = new FileStore(url, root);
  // A journal left by a crash is applied now, so later plain puts cannot be overwritten by its replay.
  if ((await store.pendingJournal()) !== undefined) await store.locked(async () => undefined);
  return store;
}

export class FileStore implements Store {
  private readonly lock: FileLock;

  constructor(
    readonly url: string,
    private readonly root: string,
  ) {
    this.lock = new FileLock(join(root, 'lock'));
  }

  async get(key: string): Promise<Buffer | undefined> {
    // A fenced batch being applied is already committed: read through it so no one sees half of it.
    const journal = await this.pendingJournal();
    if (journal?.sets.has(key)) return journal.sets.get(key);
    if (journal?.deletes.has(key)) return undefined;
    return this.guard(`read ${key}`, readOrUndefined(this.path('kv', key)));
  }

  async put(key: string, value: Buffer): Promise<void> {
    await this.guard(`write ${key}`, atomicWrite(this.path('kv', key), value));
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    // Each unlink is atomic; the batch is not (only putFenced is all-or-nothing here).
    await this.guard('delete keys', unlinkAll(keys.map((k) => this.path('kv', k))));
  }

  async list(prefix: string): Promise<string[]> {
    const files = await this.guard('list keys', readdir(join(this.root, 'kv')));
    const keys = new Set(files.filter((f) => !f.startsWith('.')).map((f) => decodeURIComponent(f)));
    const journal = await this.pendingJournal();
    for (const k of journal?.deletes ?? []) keys.delete(k);
    for (const k of journal?.sets.keys() ?? []) keys.add(k);
    return [...keys].filter((k) => k.startsWith(prefix)).sort(byBytes);
  }

  acquireLease(
    name: string,
    owner: string,
    ttlMs: number,
    floor = 0,
  ): Promise<{ epoch: number; raisedFrom?: number } | undefined> {
    return this.locked(async (stillHeld) => {
      const rec = await this.readLeaseRecord(name);
      const now = Date.now();
      if (rec?.owner != null && rec.expiresAt > now) {
        if (rec.owner !== owner) return undefined;
        await this.writeLease(name, { ...rec, expiresAt: now + ttlMs }, stillHeld);
        return { epoch: rec.epoch };
      }
      const counter = rec?.epoch ?? 0;
      // never at or below an epoch seen before, even if the lease file was lost
      const epoch = Math.max(counter, Math.floor(floor)) + 1;
      await this.writeLease(name, { epoch, owner, expiresAt: now + ttlMs }, stillHeld);
      return counter < floor ? { epoch, raisedFrom: counter } : { epoch };
    });
  }

  renewLease(name: string, owner: string, epoch: number, ttlMs: number): Promise<boolean> {
    return this.locked(async (stillHeld) => {
      const rec = await this.readLeaseRecord(name);
      const now = Date.now();
      if (rec === undefined || rec.epoch !== epoch) return false;
      const heldByOther = rec.owner !== null && rec.owner !== owner && rec.expiresAt > now;
      if (heldByOther) return false;
      // Ours, or lapsed with the epoch unchanged (nobody took it since): extend / take back.
      await this.writeLease(name, { epoch, owner, expiresAt: now + ttlMs }, stillHeld);
      return true;
    });
  }

  releaseLease(name: string, owner: string, epoch: number): Promise<void> {
    return this.locked(async (stillHeld) => {
      const rec = await this.readLeaseRecord(name);
      if (rec?.owner === owner && rec.epoch === epoch && rec.expiresAt > Date.now()) {
        await this.writeLease(name, { epoch, owner: null, expiresAt: 0 }, stillHeld);
      }
    });
  }

  async readLease(name: string): Promise<{ owner: string; epoch: number; expiresInMs: number } | undefined> {
    const rec = await this.readLeaseRecord(name);
    const expiresInMs = (rec?.expiresAt ?? 0) - Date.now();
    if (rec?.owner == null || expiresInMs <= 0) return undefined;
    return { owner: rec.owner, epoch: rec.epoch, expiresInMs };
  }

  putFenced(
    lease: string,
    epoch: number,
    entries: { key: string; value: Buffer }[],
    deletes: string[] = [],
  ): Promise<boolean> {
    return this.locked(async (stillHeld) => {
      if ((await this.readLeaseRecord(lease))?.epoch !== epoch) return false;
      for (const k of [...deletes, ...entries.map((e) => e.key)]) this.path('kv', k); // reject bad keys before committing
      const batch: Batch = { sets: new Map(entries.map((e) => [e.key, e.value])), deletes: new Set(deletes) };
      await assertHeld(stillHeld, this.url);
      // Committed once the journal file exists (atomic rename); applying it is then redone until done.
      await this.guard('write journal', atomicWrite(join(this.root, 'journal'), encodeBatch(batch)));
      await this.applyJournal(batch);
      return true;
    });
  }

  append(log: string, entry: Buffer): Promise<number> {
    return this.locked(async (stillHeld) => {
      const dir = this.path('log', log);
      await this.guard(`create log ${log}`, ensureDir(dir));
      // Entries are never removed and each appears atomically, so the count is the next index.
      const index = (await this.logFiles(dir)).length;
      await assertHeld(stillHeld, this.url);
      await this.guard(
        `append to log ${log}`,
        atomicWrite(join(dir, String(index).padStart(INDEX_DIGITS, '0')), entry),
      );
      return index;
    });
  }

  async readLog(log: string, from = 0): Promise<Buffer[]> {
    const dir = this.path('log', log);
    const files = (await this.logFiles(dir)).slice(Math.max(0, from));
    return this.guard(`read log ${log}`, Promise.all(files.map((f) => readFile(join(dir, f)))));
  }

  async putTtl(key: string, value: Buffer, ttlMs: number): Promise<void> {
    const expiry = Buffer.alloc(8);
    expiry.writeDoubleBE(Date.now() + ttlMs);
    // No fsync: a liveness key is worthless after a crash anyway (it would have expired), and
    // heartbeats come several times a second. The rename still keeps readers from seeing half a value.
    await this.guard(`write ${key}`, atomicWrite(this.path('ttl', key), Buffer.concat([expiry, value]), false));
  }

  async getTtl(key: string): Promise<{ value: Buffer; expiresInMs: number } | undefined> {
    const data = await this.guard(`read ${key}`, readOrUndefined(this.path('ttl', key)));
    if (data === undefined || data.length < 8) return undefined;
    const expiresInMs = data.readDoubleBE(0) - Date.now();
    return expiresInMs > 0 ? { value: data.subarray(8), expiresInMs } : undefined;
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  /** Runs `fn` under the cross-process lock, first finishing any fenced batch a crash interrupted. */
  async locked<T>(fn: (stillHeld: () => Promise<boolean>) => Promise<T>): Promise<T> {
    return this.lock.with(async (stillHeld) => {
      const journal = await this.pendingJournal();
      if (journal !== undefined) await this.applyJournal(journal);
      return fn(stillHeld);
    });
  }

  /** The fenced batch being applied, if any (normally none: it lives only while putFenced runs). */
  async pendingJournal(): Promise<Batch | undefined> {
    const data = await this.guard('read journal', readOrUndefined(join(this.root, 'journal')));
    return data === undefined ? undefined : decodeBatch(data);
  }

  private async applyJournal(batch: Batch): Promise<void> {
    await this.guard(
      'apply fenced batch',
      (async () => {
        // Deletes first, so a key both deleted and written ends up written.
        await unlinkAll([...batch.deletes].map((k) => this.path('kv', k)));
        for (const [k, v] of batch.sets) await atomicWrite(this.path('kv', k), v);
        await unlinkAll([join(this.root, 'journal')]);
      })(),
    );
  }

  private async readLeaseRecord(name: string): Promise<LeaseRecord | undefined> {
    const data = await this.guard(`read lease ${name}`, readOrUndefined(this.path('lease', name)));
    return data === undefined ? undefined : (JSON.parse(data.toString('utf8')) as LeaseRecord);
  }

  private async writeLease(name: string, rec: LeaseRecord, stillHeld: () => Promise<boolean>): Promise<void> {
    await assertHeld(stillHeld, this.url);
    await this.guard(`write lease ${name}`, atomicWrite(this.path('lease', name), Buffer.from(JSON.stringify(rec))));
  }

  private async logFiles(dir: string): Promise<string[]> {
    const files = await this.guard(
      'list log',
      readdir(dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return [];
        throw e;
      }),
    );
    return files.filter((f) => !f.startsWith('.')).sort();
  }

  private path(kind: 'kv' | 'ttl' | 'lease' | 'log', key: string): string {
    return join(this.root, kind, fileName(key, this.url));
  }

  /** Turns file-system errors into one-line StoreErrors naming the store. */
  private async guard<T>(what: string, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError(`${this.url}: cannot ${what}: ${reason(e)}`, { cause: e });
    }
  }
}

/** The file name of a key (see the header comment). */
export function fileName(key: string, url: string): string {
  const name = encodeURIComponent(key).replace(/^\./, '%2E');
  if (key === '' || name.length > MAX_NAME) {
    throw new StoreError(
      `${url}: key "${key.slice(0, 60)}" is ${key === '' ? 'empty' : 'too long for the file store'}`,
    );
  }
  return name;
}

/** The journal file: JSON with base64 values (a third larger; fenced batches are metadata, not checkpoints). */
export function encodeBatch(b: Batch): Buffer {
  const sets = [...b.sets].map(([k, v]) => [k, v.toString('base64')]);
  return Buffer.from(JSON.stringify({ sets, deletes: [...b.deletes] }));
}

function decodeBatch(data: Buffer): Batch {
  const j = JSON.parse(data.toString('utf8')) as { sets: [string, string][]; deletes: string[] };
  return { sets: new Map(j.sets.map(([k, v]) => [k, Buffer.from(v, 'base64')])), deletes: new Set(j.deletes) };
}

/** Code point order, the same as Redis's byte order on UTF-8 (JS's default sort is UTF-16 order). */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function assertHeld(stillHeld: () => Promise<boolean>, url: string): Promise<void> {
  // Only after a pause longer than file-lock's STALE_MS: someone broke our lock; writing now could race.
  if (!(await stillHeld()))
    throw new StoreError(`${url}: lost the store lock (process paused too long); nothing written`);
}

/** Temp file, fsync, rename over the target, fsync the directory: old or new value after any crash. */
async function atomicWrite(path: string, data: Buffer, durable = true): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (durable) await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function ensureDir(dir: string): Promise<void> {
  // mkdir returns the path only when it created something; then make the new entry durable too.
  if ((await mkdir(dir, { recursive: true })) !== undefined) await syncDir(dirname(dir));
}

async function unlinkAll(paths: string[]): Promise<void> {
  const dirs = new Set<string>();
  for (const p of paths) {
    try {
      await unlink(p);
      dirs.add(dirname(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  for (const d of dirs) await syncDir(d);
}

async function readOrUndefined(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
