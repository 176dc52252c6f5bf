/**
 * The Redis store (`redis://host:port[/db]`, ioredis). Key layout, all on one cluster slot thanks to
 * the hash tag {project}:
 *   tessds:{<project>}:<plan>:kv:<key>       values of get/put (strings)
 *   tessds:{<project>}:<plan>:index          sorted set of the kv keys above, for list() without SCAN
 *   tessds:{<project>}:<plan>:ttl:<key>      TTL keys (SET PX)
 *   tessds:{<project>}:<plan>:lease:<name>   "<epoch> <owner>", expires with PX
 *   tessds:{<project>}:<plan>:epoch:<name>   the lease's epoch counter (INCR, never expires)
 *   tessds:{<project>}:<plan>:log:<name>     append-only log (list; index = position)
 * Disconnects are survived (R12): ioredis reconnects with exponential back-off and, with
 * maxRetriesPerRequest null, commands wait in its offline queue instead of failing; commands in flight
 * when the connection dropped are resent. So a command the server executed just before dying may run
 * twice: harmless for everything but append, which can then log an entry twice.
 */
import { Redis } from 'ioredis';
import { StoreError, reason } from './store-error.js';
import { RECONNECT_MAX_MS } from './reconnect.js';
import type { Namespace, OpenOptions, Store, StoreAvailability } from './store.js';
import * as lua from './redis-scripts.js';

/** Back-off between reconnect attempts: 100 ms, 200 ms, ... capped at 2 s. */
const retryStrategy = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), RECONNECT_MAX_MS);
/** watch(): how often a PING checks that the server answers, and how long one may wait before the
 *  server counts as down (a checkpoint write takes milliseconds; a busy server answers within this) */
const PROBE_EVERY_MS = 500;
const HANG_MS = 2000;
/** How long close() waits for a polite QUIT before dropping the connection. */
const QUIT_WAIT_MS = 1000;

/** The scripts from redis-scripts.ts as ioredis defines them (defineCommand has no static types). */
interface Scripts {
  tessPut(index: string, key: string, value: Buffer): Promise<number>;
  tessDelete(numKeys: number, ...keys: string[]): Promise<number>;
  tessAcquire(
    lease: string,
    counter: string,
    owner: string,
    ttlMs: number,
    floor: number,
  ): Promise<[number, number] | null>;
  tessRenew(lease: string, counter: string, owner: string, epoch: number, ttlMs: number): Promise<number>;
  tessRelease(lease: string, owner: string, epoch: number): Promise<number>;
  tessPutFenced(numKeys: number, ...keysThenArgs: (string | number | Buffer)[]): Promise<number>;
}

export async function openRedisStore(url: string, ns: Namespace, options: OpenOptions): Promise<RedisStore> {
  const parsed = new URL(url);
  // as shown in messages, status and metrics: never the user or password
  const shown = `${parsed.protocol}//${parsed.hostname}:${parsed.port || '6379'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy });
  let lastError: unknown;
  // Without a listener ioredis prints every failed reconnect; remember the last one for messages instead.
  redis.on('error', (e) => (lastError = e));
  const defs: [keyof Scripts, string, number | undefined][] = [
    ['tessPut', lua.PUT, 2],
    ['tessDelete', lua.DELETE, undefined],
    ['tessAcquire', lua.ACQUIRE, 2],
    ['tessRenew', lua.RENEW, 2],
    ['tessRelease', lua.RELEASE, 1],
    ['tessPutFenced', lua.PUT_FENCED, undefined],
  ];
  // EVALSHA with the script text kept client-side: after a server restart (empty script cache) ioredis
  // sees NOSCRIPT and resends the script itself.
  for (const [name, script, numberOfKeys] of defs) redis.defineCommand(name, { lua: script, numberOfKeys });

  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const ok = await within(
    redis.ping().then(() => true),
    timeoutMs,
  );
  if (!ok) {
    redis.disconnect();
    throw new StoreError(
      `cannot reach ${shown} within ${timeoutMs / 1000} s: ${lastError ? reason(lastError) : 'no answer'}`,
    );
  }
  return new RedisStore(shown, redis, `tessds:{${ns.project}}:${ns.plan}:`);
}

export class RedisStore implements Store {
  private readonly scripts: Scripts;
  private readonly index: string;
  /** Rejects when close() is called, failing every call still waiting (see close). */
  private readonly closed: Promise<never>;
  private markClosed: () => void = () => undefined;
  /** close() was called: the connection's end is ours, not an outage */
  private closing = false;
  /** the last connection error since the server last answered (what watch() says went wrong) */
  private lastError: unknown;

  constructor(
    readonly url: string,
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.scripts = redis as unknown as Scripts;
    this.index = `${prefix}index`;
    this.closed = new Promise<never>(
      (_, reject) => (this.markClosed = () => reject(new Error('the store was closed'))),
    );
    this.closed.catch(() => undefined); // only ever observed through guard's race
    redis.on('error', (e) => (this.lastError = e));
    redis.on('ready', () => (this.lastError = undefined));
  }

  /** Down at the first 'close' of a connection that was ready (each failed reconnect closes again:
   *  one report per outage), up at the next 'ready' — which ioredis gives only once the server
   *  answers and has finished loading its AOF, just before it sends the calls that waited.
   *  A server that keeps the connection but answers nothing (stopped, hung) closes nothing: a PING
   *  every PROBE_EVERY_MS finds it, down once one has waited HANG_MS, up when it is answered. */
  watch(listener: (a: StoreAvailability) => void): void {
    let down = false;
    const report = (up: boolean, error = '') => {
      if (up !== down || this.closing) return;
      down = !up;
      listener(up ? { up: true } : { up: false, error });
    };
    /** when the PING now waiting was sent (0: none); a connection lost or made anew starts over */
    let pingSince = 0;
    this.redis.on(
      'close',
      () => ((pingSince = 0), report(false, this.lastError ? reason(this.lastError) : 'connection closed')),
    );
    this.redis.on('ready', () => ((pingSince = 0), report(true)));
    const probe = setInterval(() => {
      if (this.closing) return clearInterval(probe);
      if (this.redis.status !== 'ready') return; // a closed connection is reported by 'close'
      if (pingSince === 0) {
        pingSince = Date.now();
        this.redis.ping().then(
          () => ((pingSince = 0), this.redis.status === 'ready' && report(true)),
          () => (pingSince = 0),
        );
      } else if (Date.now() - pingSince >= HANG_MS)
        report(false, `no answer for ${HANG_MS / 1000} s (the server holds the connection but does not reply)`);
    }, PROBE_EVERY_MS);
    probe.unref();
  }

  get(key: string): Promise<Buffer | undefined> {
    return this.guard(`read ${key}`, async () => (await this.redis.getBuffer(this.kv(key))) ?? undefined, [
      this.kv(key),
    ]);
  }

  async put(key: string, value: Buffer): Promise<void> {
    await this.guard(`write ${key}`, () => this.scripts.tessPut(this.index, this.kv(key), value), [
      this.index,
      this.kv(key),
    ]);
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.guard(
      'delete keys',
      () => this.scripts.tessDelete(keys.length + 1, this.index, ...keys.map((k) => this.kv(k))),
      [this.index],
    );
  }

  list(prefix: string): Promise<string[]> {
    const from = this.kv(prefix);
    // Lexical range [from, from + 0xFF): every UTF-8 string starting with `from` (no UTF-8 byte is 0xFF).
    const max = Buffer.concat([Buffer.from(`(${from}`), Buffer.from([0xff])]);
    return this.guard(
      'list keys',
      async () => (await this.redis.zrangebylex(this.index, `[${from}`, max)).map((k) => k.slice(this.kv('').length)),
      [this.index],
    );
  }

  acquireLease(
    name: string,
    owner: string,
    ttlMs: number,
    floor = 0,
  ): Promise<{ epoch: number; raisedFrom?: number } | undefined> {
    const keys = [this.key('lease', name), this.key('epoch', name)];
    return this.guard(
      `acquire lease ${name}`,
      async () => {
        const r = await this.scripts.tessAcquire(keys[0]!, keys[1]!, owner, ms(ttlMs), Math.max(0, Math.floor(floor)));
        if (r === null) return undefined;
        return r[1] >= 0 ? { epoch: r[0], raisedFrom: r[1] } : { epoch: r[0] };
      },
      keys,
    );
  }

  renewLease(name: string, owner: string, epoch: number, ttlMs: number): Promise<boolean> {
    return this.guard(
      `renew lease ${name}`,
      async () =>
        (await this.scripts.tessRenew(this.key('lease', name), this.key('epoch', name), owner, epoch, ms(ttlMs))) === 1,
      [this.key('lease', name), this.key('epoch', name)],
    );
  }

  async releaseLease(name: string, owner: string, epoch: number): Promise<void> {
    await this.guard(`release lease ${name}`, () => this.scripts.tessRelease(this.key('lease', name), owner, epoch), [
      this.key('lease', name),
    ]);
  }

  readLease(name: string): Promise<{ owner: string; epoch: number; expiresInMs: number } | undefined> {
    const k = this.key('lease', name);
    return this.guard(
      `read lease ${name}`,
      async () => {
        // MULTI so the value and its remaining time belong together.
        const [value, pttl] = replies(await this.redis.multi().get(k).pttl(k).exec());
        if (typeof value !== 'string' || typeof pttl !== 'number' || pttl <= 0) return undefined;
        const sp = value.indexOf(' ');
        return { owner: value.slice(sp + 1), epoch: Number(value.slice(0, sp)), expiresInMs: pttl };
      },
      [k],
    );
  }

  putFenced(
    lease: string,
    epoch: number,
    entries: { key: string; value: Buffer }[],
    deletes: string[] = [],
  ): Promise<boolean> {
    const keys = [
      this.key('epoch', lease),
      this.index,
      ...entries.map((e) => this.kv(e.key)),
      ...deletes.map((k) => this.kv(k)),
    ];
    const args = [epoch, entries.length, ...entries.map((e) => e.value)];
    return this.guard(
      `write fenced by lease ${lease}`,
      async () => (await this.scripts.tessPutFenced(keys.length, ...keys, ...args)) === 1,
      keys,
    );
  }

  append(log: string, entry: Buffer): Promise<number> {
    // A single RPUSH is atomic already; its reply is the new length.
    return this.guard(`append to log ${log}`, async () => (await this.redis.rpush(this.key('log', log), entry)) - 1, [
      this.key('log', log),
    ]);
  }

  readLog(log: string, from = 0): Promise<Buffer[]> {
    // Clamped: a negative LRANGE start would count from the end.
    return this.guard(`read log ${log}`, () => this.redis.lrangeBuffer(this.key('log', log), Math.max(0, from), -1), [
      this.key('log', log),
    ]);
  }

  async putTtl(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.guard(`write ${key}`, () => this.redis.set(this.key('ttl', key), value, 'PX', ms(ttlMs)), [
      this.key('ttl', key),
    ]);
  }

  getTtl(key: string): Promise<{ value: Buffer; expiresInMs: number } | undefined> {
    const k = this.key('ttl', key);
    return this.guard(
      `read ${key}`,
      async () => {
        const [value, pttl] = replies(await this.redis.multi().getBuffer(k).pttl(k).exec());
        if (!Buffer.isBuffer(value) || typeof pttl !== 'number' || pttl <= 0) return undefined;
        return { value, expiresInMs: pttl };
      },
      [k],
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.redis.status === 'end') return;
    // QUIT lets queued replies arrive; but while the server is down it would wait forever in the
    // offline queue (maxRetriesPerRequest null), so only try it when connected, and only briefly.
    if (this.redis.status === 'ready') await within(this.redis.quit(), QUIT_WAIT_MS);
    // Calls still waiting fail now. ioredis alone would not fail them: disconnect() while it waits to
    // reconnect cancels the reconnect but leaves its offline queue pending forever.
    this.markClosed();
    // Drops the socket and the reconnect timer, so nothing keeps the process alive.
    if ((this.redis.status as string) !== 'end') this.redis.disconnect(); // (status changes during quit)
  }

  private kv(key: string): string {
    return this.key('kv', key);
  }

  private key(kind: 'kv' | 'ttl' | 'lease' | 'epoch' | 'log', name: string): string {
    return `${this.prefix}${kind}:${name}`;
  }

  /** Turns Redis errors, and calls cut short by close(), into one-line StoreErrors; a key of the
   *  wrong type (someone else's data, a hand edit) is named with what it holds and what it should. */
  private async guard<T>(what: string, work: () => Promise<T>, keys: string[] = []): Promise<T> {
    try {
      return await Promise.race([work(), this.closed]);
    } catch (e) {
      if (/WRONGTYPE|not an integer|out of range/.test(String((e as Error)?.message))) {
        const bad = await this.wrongTyped(keys).catch(() => undefined);
        if (bad)
          throw new StoreError(
            `${this.url}: cannot ${what}: key ${bad.key} holds a Redis ${bad.is}, not the ${bad.expected} TessDS keeps there (delete it, or use another store or db)`,
            { cause: e },
          );
      }
      throw new StoreError(`${this.url}: cannot ${what}: ${reason(e)}`, { cause: e });
    }
  }

  /** The first of `keys` that holds another Redis type than this store writes there (or an epoch counter that is no integer). */
  private async wrongTyped(keys: string[]): Promise<{ key: string; is: string; expected: string } | undefined> {
    for (const k of keys) {
      const kind = k === this.index ? 'index' : k.slice(this.prefix.length).split(':')[0];
      const expected = kind === 'index' ? 'zset' : kind === 'log' ? 'list' : 'string';
      const is = await within2(this.redis.type(k));
      if (is === undefined || is === 'none') continue;
      if (is !== expected) return { key: k, is, expected: expected === 'zset' ? 'sorted set' : expected };
      if (kind === 'epoch' && !/^\d+$/.test((await this.redis.get(k)) ?? ''))
        return { key: k, is: 'string that is no integer', expected: 'integer epoch counter' };
    }
    return undefined;
  }
}

/** The replies of a MULTI, throwing the first error (exec gives null only after a failed WATCH). */
function replies(results: [error: Error | null, reply: unknown][] | null): unknown[] {
  return (results ?? []).map(([e, reply]) => {
    if (e) throw e;
    return reply;
  });
}

/** A reply within a second, or undefined. */
async function within2<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 1000)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Redis wants whole milliseconds, at least 1. */
function ms(t: number): number {
  return Math.max(1, Math.ceil(t));
}

/** Whether `work` settles successfully within `timeoutMs`; a late rejection is swallowed. */
async function within(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
