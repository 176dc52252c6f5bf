/**
 * The store behind fault tolerance (DESIGN.md "Fault tolerance"): checkpoints, the worker registry, the
 * leader lease with its fencing epoch, the command log and worker liveness keys. Two implementations
 * with identical behaviour, checked by one shared test suite (store.test-suite.ts):
 *   file:DIR              embedded default, one machine, several processes (file-store.ts)
 *   redis://host:port/db  several machines, Redis with AOF (redis-store.ts)
 * Everything is namespaced by project and plan (R8), so two runs never see each other's keys.
 */
import { UsageError } from '../../errors.js';

export { StoreError } from './store-error.js';

export interface Namespace {
  project: string;
  plan: string;
}

export interface Store {
  /** Where this store keeps things, for messages: "file:/dir" or "redis://host:port". */
  readonly url: string;

  /** The value of `key`, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Sets `key` to `value` (replacing any old value); durable when the promise resolves. */
  put(key: string, value: Buffer): Promise<void>;
  /** Removes the keys; missing keys are ignored. */
  delete(keys: string[]): Promise<void>;
  /** The keys (of get/put, not TTL keys) starting with `prefix`, sorted by code point (= UTF-8 bytes). */
  list(prefix: string): Promise<string[]>;

  /**
   * Takes the leader lease `name` for `owner` for `ttlMs` milliseconds. Succeeds when the lease is free
   * or expired (a new holder: the epoch becomes one higher than any before, even across expiry and
   * release) or already held by `owner` (extended, same epoch). Undefined while someone else holds it.
   * A new epoch is also above `floor` (the highest epoch the caller has seen): should the store have
   * lost its counter (FLUSHDB, a restore without its AOF), epochs still never go back; `raisedFrom`
   * then says where the store's counter was.
   */
  acquireLease(
    name: string,
    owner: string,
    ttlMs: number,
    floor?: number,
  ): Promise<{ epoch: number; raisedFrom?: number } | undefined>;
  /**
   * Extends our lease to `ttlMs` milliseconds from now. False when someone else holds it or the epoch
   * moved on; true also when it had expired but nobody took it in between (the epoch is unchanged,
   * so no other leader can have written: taking it back is safe).
   */
  renewLease(name: string, owner: string, epoch: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `owner` still holds it with `epoch`; otherwise does nothing. */
  releaseLease(name: string, owner: string, epoch: number): Promise<void>;
  /** The current holder, its epoch and the milliseconds left; undefined when free or expired. */
  readLease(name: string): Promise<{ owner: string; epoch: number; expiresInMs: number } | undefined>;
  /**
   * Writes `entries` and removes `deletes` (deletes first, so a key in both ends up written), all or
   * nothing, only if `epoch` is still the latest epoch of lease `lease`: fencing, so an old leader woken
   * from a pause cannot write. False (and nothing changed) when the epoch is stale.
   */
  putFenced(
    lease: string,
    epoch: number,
    entries: { key: string; value: Buffer }[],
    deletes?: string[],
  ): Promise<boolean>;

  /** Appends `entry` to the append-only log `log`; resolves to its index (0, 1, 2, ...). */
  append(log: string, entry: Buffer): Promise<number>;
  /** The entries of `log` from index `from` (default 0) on, in order; [] for an unknown log. */
  readLog(log: string, from?: number): Promise<Buffer[]>;

  /** Sets a short-lived key (worker liveness) that disappears `ttlMs` milliseconds from now. */
  putTtl(key: string, value: Buffer, ttlMs: number): Promise<void>;
  /** The value of a TTL key and the milliseconds it has left; undefined once expired. */
  getTtl(key: string): Promise<{ value: Buffer; expiresInMs: number } | undefined>;

  /** Releases connections and handles; returns promptly even when the server is unreachable. */
  close(): Promise<void>;

  /**
   * A networked store (Redis) tells `listener` when its connection is lost (its calls then wait) and
   * when the server answers again — at once, not at the next call, which may be far off. Never for
   * a close() of ours. A file store has no connection to lose: it lacks this method, and its failing
   * calls are what tell.
   */
  watch?(listener: (a: StoreAvailability) => void): void;
}

/** A change of whether a store answers (Store.watch). */
export type StoreAvailability = { up: true } | { up: false; error: string };

export { RECONNECT_MAX_MS } from './reconnect.js';

export interface OpenOptions {
  /** Redis only: how long openStore waits for the first answer before failing (ms, default 10 000). */
  connectTimeoutMs?: number;
}

const URL_HELP = 'expected file:DIR or redis[s]://[user:password@]host:port[/db]';

/** A store URL fit for messages: a password in it is replaced by "***" (never logged or shown). */
export function redactUrl(url: string): string {
  return url.replace(
    /^(rediss?:\/\/)([^@/]*)@/,
    (_m, scheme: string, cred: string) =>
      `${scheme}${cred.includes(':') ? `${cred.slice(0, cred.indexOf(':'))}:***` : '***'}@`,
  );
}

// Project and plan become directory names and parts of Redis keys (`tessds:{project}:plan:...`), so
// they must not contain separators or hash-tag braces: otherwise two namespaces could overlap.
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** Opens the store at `url` ("file:DIR" or "redis://host:port[/db]") for one project and plan. */
export async function openStore(url: string, namespace: Namespace, options: OpenOptions = {}): Promise<Store> {
  for (const [what, name] of [
    ['project', namespace.project],
    ['plan', namespace.plan],
  ] as const) {
    if (!NAME.test(name)) {
      throw new UsageError(
        `bad ${what} name "${name}": use letters, digits, "_", "-" and "." (not first), at most 100`,
      );
    }
  }
  if (url.startsWith('file:')) {
    const { openFileStore } = await import('./file-store.js');
    return openFileStore(fileDir(url), namespace);
  }
  if (url.startsWith('redis:') || url.startsWith('rediss:')) {
    const { openRedisStore } = await import('./redis-store.js');
    return openRedisStore(checkRedisUrl(url), namespace, options);
  }
  throw new UsageError(`bad store URL "${redactUrl(url)}": ${URL_HELP}`);
}

/** The directory of a file: URL: "file:data", "file:/abs/dir" and "file:///abs/dir" are accepted. */
export function fileDir(url: string): string {
  let dir = url.slice('file:'.length);
  if (dir.startsWith('//')) {
    // file://host/... is not a local directory; file:///abs is.
    if (!dir.startsWith('///')) throw new UsageError(`bad store URL "${url}": ${URL_HELP}`);
    dir = decodeURIComponent(dir.slice(2));
  }
  if (dir === '') throw new UsageError(`bad store URL "${url}": no directory after "file:"; ${URL_HELP}`);
  return dir;
}

/** Checks a redis: or rediss: (TLS) URL (user and password, host, port, optional numeric db) and returns it unchanged. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`bad store URL "${redactUrl(url)}": ${URL_HELP}`);
  }
  const okPath = parsed.pathname === '' || parsed.pathname === '/' || /^\/\d{1,2}$/.test(parsed.pathname);
  if (
    (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') ||
    parsed.hostname === '' ||
    !okPath ||
    parsed.search !== '' ||
    parsed.hash !== ''
  ) {
    throw new UsageError(`bad store URL "${redactUrl(url)}": ${URL_HELP}`);
  }
  return url;
}
