/**
 * A lock shared by every process on one machine, for the file store's read-modify-write operations
 * (leases, fenced writes, log appends). Node has no flock, so the lock is a file created atomically:
 * the holder's identity is written to a private temp file first, then hard-linked to the lock name.
 * link(2) fails with EEXIST when the lock exists, so exactly one contender wins, and the lock file is
 * never seen half-written (unlike open('wx') + write).
 *
 * Stale locks (holder crashed) are broken when the holder's pid is dead on this host, or the lock is
 * older than STALE_MS (pid reused, or a holder stuck far longer than any critical section, which takes
 * milliseconds). Breaking happens under a second lock ("<lock>.break") and re-checks the holder, so two
 * breakers cannot both break and one of them remove the fresh lock of a third process.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { StoreError, reason } from './store-error.js';

export const STALE_MS = 10_000;
/** Waiting longer than this means something is badly wrong (a stale lock is broken after STALE_MS). */
const WAIT_MS = 3 * STALE_MS;

interface Holder {
  pid: number;
  host: string;
  at: number;
  token: string;
}

export class FileLock {
  constructor(readonly path: string) {}

  /** Runs `fn` holding the lock; `stillHeld` lets it check just before committing anything. */
  async with<T>(fn: (stillHeld: () => Promise<boolean>) => Promise<T>): Promise<T> {
    const token = await this.acquire();
    try {
      return await fn(async () => (await readHolder(this.path))?.token === token);
    } finally {
      await this.release(token);
    }
  }

  private async acquire(): Promise<string> {
    const token = randomBytes(8).toString('hex');
    const me: Holder = { pid: process.pid, host: hostname(), at: Date.now(), token };
    const start = Date.now();
    for (let attempt = 0; ; attempt++) {
      me.at = Date.now(); // age counts from taking the lock, not from starting to wait
      if (await tryCreate(this.path, me)) return token;
      const holder = await readHolder(this.path);
      if (holder !== undefined && isStale(holder)) await this.breakStale(holder.token);
      if (Date.now() - start > WAIT_MS) {
        throw new StoreError(
          `could not lock ${this.path} within ${WAIT_MS / 1000} s (held by pid ${holder?.pid ?? '?'})`,
        );
      }
      // Random back-off so contenders do not retry in lock-step; capped low because critical sections are short.
      await sleep(1 + Math.random() * Math.min(50, 2 ** attempt));
    }
  }

  private async release(token: string): Promise<void> {
    // Only remove our own lock: if ours was broken as stale, the file now belongs to someone else.
    if ((await readHolder(this.path))?.token === token) await unlinkQuiet(this.path);
  }

  /** Removes the lock if it is still the stale one we saw (`token`), holding the break lock meanwhile. */
  private async breakStale(token: string): Promise<void> {
    const breakPath = `${this.path}.break`;
    const me: Holder = { pid: process.pid, host: hostname(), at: Date.now(), token: randomBytes(8).toString('hex') };
    if (!(await tryCreate(breakPath, me))) {
      // Someone else is breaking; if that breaker died, clear its break lock so the next round can.
      const breaker = await readHolder(breakPath);
      if (breaker !== undefined && isStale(breaker)) await unlinkQuiet(breakPath);
      return;
    }
    try {
      const holder = await readHolder(this.path);
      if (holder !== undefined && holder.token === token && isStale(holder)) {
        await unlinkQuiet(this.path);
      }
    } finally {
      await unlinkQuiet(breakPath);
    }
  }
}

/** Creates `path` holding `who` atomically; false when it already exists. */
async function tryCreate(path: string, who: Holder): Promise<boolean> {
  const tmp = `${path}.${who.token}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(who));
  } catch (e) {
    throw new StoreError(`cannot write lock file ${tmp}: ${reason(e)}`, { cause: e });
  }
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError(`cannot create lock ${path}: ${reason(e)}`, { cause: e });
  } finally {
    await unlinkQuiet(tmp);
  }
}

/** The holder of lock `path`, or undefined when there is no lock. */
async function readHolder(path: string): Promise<Holder | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(`cannot read lock ${path}: ${reason(e)}`, { cause: e });
  }
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (
      typeof h.pid === 'number' &&
      typeof h.host === 'string' &&
      typeof h.at === 'number' &&
      typeof h.token === 'string'
    ) {
      return h as Holder;
    }
  } catch {
    // torn: the machine crashed before the lock's content reached the disk
  }
  // An unreadable lock has no pid to check, so it goes stale by age alone (host '' is never ours).
  const at = (await stat(path).catch(() => undefined))?.mtimeMs ?? 0;
  return { pid: 0, host: '', at, token: `unreadable@${at}` };
}

function isStale(h: Holder): boolean {
  return (h.host === hostname() && !pidAlive(h.pid)) || Date.now() - h.at > STALE_MS;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

async function unlinkQuiet(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new StoreError(`cannot remove ${path}: ${reason(e)}`, { cause: e });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
