/**
 * A read SUMO scenario kept for the next run that reads the same files: the spec as JSON, which
 * loads several times faster than the XML it came from (repeated runs, benchmarks, a parameter
 * sweep on one network).
 *
 * An entry is named by a SHA-1 key over everything the spec depends on: the cache format, the
 * reader's own compiled code (every .js file under dist/src/io: a changed reader never meets an old
 * entry), and each input file's path as given and content. The file holds one header line
 * `{"tessdsScenarioCache": FORMAT, "key", "bytes", "sha1"}` and then the spec; an entry whose header,
 * key, length or body checksum does not match (a truncated write, a disk error, a foreign file) is
 * named in a warning, ignored, and replaced by a fresh read. Only whole, verified entries are read,
 * so a cached run is the run it would have been. JSON keeps everything a spec holds but the sign of
 * a zero (SUMO writes "-0.00"): the header lists where those are, and they are put back. A spec with
 * anything JSON would change (undefined, NaN, a Map) is not cached.
 *
 * Entries are written atomically (a temporary file renamed into place: concurrent runs are safe) and
 * only for inputs of at least `minBytes` (small scenarios read in milliseconds anyway); the oldest
 * are removed beyond `maxEntries`. A cache that cannot be written is skipped without a word.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioSpec } from './spec.js';
import { loadSumoConfig, loadSumoScenario } from './sumo/config.js';

/** Bump when the entry layout changes (the spec's own shape is covered by the code fingerprint). */
const FORMAT = 1;
const SUFFIX = '.scenario.json';

export interface ScenarioCacheOptions {
  dir: string;
  /** inputs smaller than this (bytes, all files together) are read, not cached; default 1 MB */
  minBytes?: number;
  /** default 16 */
  maxEntries?: number;
  /** one line about an entry that was ignored */
  warn?: (message: string) => void;
}

/** Reads a .sumocfg scenario through the cache: the same spec as `loadSumoScenario(path)`. */
export function loadSumoScenarioCached(path: string, o: ScenarioCacheOptions): ScenarioSpec {
  const inputs = inputFiles(path);
  const size = inputs?.reduce((n, f) => n + f.content.length, 0) ?? 0;
  if (inputs === undefined || size < (o.minBytes ?? 1 << 20)) return loadSumoScenario(path);
  const key = cacheKey(inputs);
  const file = join(o.dir, `${key.slice(0, 32)}${SUFFIX}`);
  const cached = readEntry(file, key, o.warn);
  if (cached !== undefined) return cached;
  const spec = loadSumoScenario(path);
  // a file changed while it was read: its entry would hold the other version
  const after = inputFiles(path);
  if (after !== undefined && cacheKey(after) === key) writeEntry(o.dir, file, key, spec, o.maxEntries ?? 16);
  return spec;
}

interface Input {
  path: string;
  content: Buffer;
}

/** The config and the files it names; undefined when any cannot be read (the reader says why). */
function inputFiles(path: string): Input[] | undefined {
  try {
    const cfg = loadSumoConfig(path);
    return [path, cfg.netFile, ...cfg.additionalFiles, ...cfg.routeFiles].map((p) => ({
      path: p,
      content: readFileSync(p),
    }));
  } catch {
    return undefined;
  }
}

function cacheKey(inputs: Input[]): string {
  const h = createHash('sha1');
  h.update(`tessds scenario cache ${FORMAT}\n${readerFingerprint()}\n`);
  for (const f of inputs) {
    h.update(`${JSON.stringify(f.path)} ${f.content.length}\n`);
    h.update(f.content);
  }
  return h.digest('hex');
}

let fingerprint: string | undefined;

/** SHA-1 over the compiled reader (this folder's .js files, tests aside), once per process. */
function readerFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const h = createHash('sha1');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js') && !e.name.endsWith('.test.js')) h.update(`${e.name}\n`).update(readFileSync(p));
    }
  };
  walk(dirname(fileURLToPath(import.meta.url)));
  return (fingerprint = h.digest('hex'));
}

interface Header {
  tessdsScenarioCache: number;
  key: string;
  bytes: number;
  sha1: string;
  /** where the spec holds -0 (JSON writes 0): property names and indices from the root */
  negativeZeros: (string | number)[][];
}

/** The places of -0 in `value`, or undefined when JSON would not give `value` back as it is. */
function negativeZeros(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    if (Object.is(value, -0)) out.push([...path]);
    return out;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return out;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const ok = negativeZeros(value[i], path, out);
      path.pop();
      if (ok === undefined) return undefined;
    }
    return out;
  }
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  for (const k of Object.keys(value)) {
    path.push(k);
    const ok = negativeZeros((value as Record<string, unknown>)[k], path, out);
    path.pop();
    if (ok === undefined) return undefined;
  }
  return out;
}

function restoreNegativeZeros(spec: unknown, places: (string | number)[][]): void {
  for (const place of places) {
    let at = spec as Record<string | number, unknown>;
    for (const k of place.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    at[place[place.length - 1]!] = -0;
  }
}

function readEntry(file: string, key: string, warn?: (m: string) => void): ScenarioSpec | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined; // not cached yet
  }
  const problem = (why: string) => {
    warn?.(`${file}: ${why}; ignored, the scenario is read from its files`);
    return undefined;
  };
  const nl = data.indexOf(10);
  let header: Header;
  try {
    header = JSON.parse(data.subarray(0, nl < 0 ? data.length : nl).toString('utf8')) as Header;
  } catch {
    return problem('not a TessDS scenario cache entry');
  }
  if (header?.tessdsScenarioCache !== FORMAT) return problem('not a TessDS scenario cache entry of this version');
  if (header.key !== key) return problem('a cache entry for other input files');
  const body = data.subarray(nl + 1);
  if (body.length !== header.bytes) return problem(`truncated (${body.length} of ${header.bytes} bytes)`);
  if (createHash('sha1').update(body).digest('hex') !== header.sha1) return problem('checksum mismatch (corrupt)');
  let spec: ScenarioSpec;
  try {
    spec = JSON.parse(body.toString('utf8')) as ScenarioSpec;
    restoreNegativeZeros(spec, header.negativeZeros);
  } catch {
    return problem('corrupt JSON');
  }
  try {
    const now = new Date();
    utimesSync(file, now, now); // recently used: kept longest
  } catch {
    /* a read-only cache still serves */
  }
  return spec;
}

function writeEntry(dir: string, file: string, key: string, spec: ScenarioSpec, maxEntries: number): void {
  const zeros = negativeZeros(spec);
  if (zeros === undefined) return;
  try {
    mkdirSync(dir, { recursive: true });
    const body = Buffer.from(JSON.stringify(spec), 'utf8');
    const header: Header = {
      tessdsScenarioCache: FORMAT,
      key,
      bytes: body.length,
      sha1: createHash('sha1').update(body).digest('hex'),
      negativeZeros: zeros,
    };
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]));
    renameSync(tmp, file);
    evict(dir, maxEntries);
  } catch {
    /* no room or no right to write: the next run reads the files again */
  }
}

/** Removes the least recently used entries beyond `maxEntries`. */
function evict(dir: string, maxEntries: number): void {
  const entries = readdirSync(dir)
    .filter((n) => n.endsWith(SUFFIX))
    .map((n) => ({ path: join(dir, n), used: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const e of entries.slice(maxEntries)) rmSync(e.path, { force: true });
}
