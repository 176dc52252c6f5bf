/**
 * Hand-written validation helpers. Every check names the JSON path of the offending value; the
 * Checker turns that path into `file:line:column: path: detail` using the parser's offsets.
 */
import { InputError } from '../../errors.js';
import { childPath, lineColumn, parentPath, type LocatedJson } from './json.js';

export class Checker {
  constructor(
    readonly file: string,
    private readonly doc: LocatedJson,
  ) {}

  /** Throws an InputError at `path` (or, for a missing field, at the nearest enclosing value). */
  fail(path: string, detail: string): never {
    let offset: number | undefined;
    for (let p: string | undefined = path; p !== undefined && offset === undefined; p = parentPath(p)) {
      offset = this.doc.offsets.get(p);
    }
    const lc = offset === undefined ? undefined : lineColumn(this.doc.text, offset);
    throw new InputError(this.file, path === '' ? detail : `${path}: ${detail}`, lc?.line, lc?.column);
  }
}

export interface Range {
  /** value >= min */
  min?: number;
  /** value > gt */
  gt?: number;
  /** value <= max */
  max?: number;
  int?: boolean;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v === 'number' ? 'the number' : typeof v === 'string' ? 'the string' : 'the boolean'} ${JSON.stringify(v)}`;
}

export function checkNum(ck: Checker, v: unknown, path: string, r: Range = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return ck.fail(path, `must be a number, not ${kind(v)}`);
  if (r.int && !Number.isInteger(v)) ck.fail(path, `must be an integer, not ${v}`);
  if (r.min !== undefined && v < r.min) ck.fail(path, `must be >= ${r.min}, not ${v}`);
  if (r.gt !== undefined && v <= r.gt) ck.fail(path, `must be > ${r.gt}, not ${v}`);
  if (r.max !== undefined && v > r.max) ck.fail(path, `must be <= ${r.max}, not ${v}`);
  return v;
}

export function checkStr(ck: Checker, v: unknown, path: string): string {
  if (typeof v !== 'string') return ck.fail(path, `must be a string, not ${kind(v)}`);
  return v;
}

/** A non-empty identifier without whitespace (ids end up in lane ids and messages). */
export function checkId(ck: Checker, v: unknown, path: string): string {
  const s = checkStr(ck, v, path);
  if (!/^\S+$/.test(s)) ck.fail(path, `must be a non-empty id without spaces, not ${JSON.stringify(s)}`);
  return s;
}

export function checkList(ck: Checker, v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) return ck.fail(path, `must be an array, not ${kind(v)}`);
  return v;
}

/**
 * One JSON object being read. Unknown fields are errors (they are almost always typos in a
 * hand-written file); keys starting with "//" are comments and ignored.
 */
export class Obj {
  private constructor(
    readonly ck: Checker,
    readonly path: string,
    private readonly raw: Record<string, unknown>,
  ) {}

  static read(ck: Checker, v: unknown, path: string, keys: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return ck.fail(path, `must be an object, not ${kind(v)}`);
    const raw = v as Record<string, unknown>;
    for (const k of Object.keys(raw)) {
      if (!keys.includes(k) && !k.startsWith('//'))
        ck.fail(childPath(path, k), `unknown field (expected one of ${keys.join(', ')})`);
    }
    return new Obj(ck, path, raw);
  }

  at(key: string): string {
    return childPath(this.path, key);
  }
  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }
  get(key: string): unknown {
    return this.raw[key];
  }
  fail(key: string, detail: string): never {
    return this.ck.fail(this.at(key), detail);
  }
  private need(key: string): unknown {
    if (!this.has(key)) this.ck.fail(this.path, `missing required field "${key}"`);
    return this.raw[key];
  }

  num(key: string, r?: Range): number {
    return checkNum(this.ck, this.need(key), this.at(key), r);
  }
  optNum(key: string, r?: Range): number | undefined {
    return this.has(key) ? checkNum(this.ck, this.raw[key], this.at(key), r) : undefined;
  }
  str(key: string): string {
    return checkStr(this.ck, this.need(key), this.at(key));
  }
  optStr(key: string): string | undefined {
    return this.has(key) ? checkStr(this.ck, this.raw[key], this.at(key)) : undefined;
  }
  id(key: string): string {
    return checkId(this.ck, this.need(key), this.at(key));
  }
  optId(key: string): string | undefined {
    return this.has(key) ? checkId(this.ck, this.raw[key], this.at(key)) : undefined;
  }
  optBool(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    return typeof v === 'boolean' ? v : this.fail(key, `must be true or false, not ${kind(v)}`);
  }
  list(key: string): unknown[] {
    return checkList(this.ck, this.need(key), this.at(key));
  }
  optList(key: string): unknown[] | undefined {
    return this.has(key) ? checkList(this.ck, this.raw[key], this.at(key)) : undefined;
  }
  /** A list of ids, each one checked. */
  optIds(key: string): string[] | undefined {
    return this.optList(key)?.map((v, i) => checkId(this.ck, v, childPath(this.at(key), i)));
  }
  optObj(key: string, keys: readonly string[]): Obj | undefined {
    return this.has(key) ? Obj.read(this.ck, this.raw[key], this.at(key), keys) : undefined;
  }
  /** One of a fixed set of keywords. */
  optEnum<T extends string>(key: string, values: readonly T[]): T | undefined {
    const s = this.optStr(key);
    if (s !== undefined && !(values as readonly string[]).includes(s)) {
      this.fail(key, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, not ${JSON.stringify(s)}`);
    }
    return s as T | undefined;
  }
}

const isComment = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.keys(v).length > 0 &&
  Object.keys(v).every((k) => k.startsWith('//'));

/**
 * Reads every element of an optional list as an object with the given keys. Elements holding only
 * "//" keys are comments between entries and skipped (paths keep the element's real index).
 */
export function readObjects<T>(parent: Obj, key: string, keys: readonly string[], read: (o: Obj) => T): T[] {
  const list = parent.optList(key) ?? [];
  return list.flatMap((v, i) =>
    isComment(v) ? [] : [read(Obj.read(parent.ck, v, childPath(parent.at(key), i), keys))],
  );
}

/** Ids of one namespace: reports a duplicate at its second occurrence, naming the first. */
export class IdSet<T> {
  private readonly items = new Map<string, { path: string; item: T }>();
  constructor(
    private readonly ck: Checker,
    private readonly what: string,
  ) {}

  add(id: string, path: string, item: T): void {
    const prev = this.items.get(id);
    if (prev) this.ck.fail(path, `duplicate ${this.what} id "${id}" (first defined at ${prev.path})`);
    this.items.set(id, { path, item });
  }
  get(id: string): T | undefined {
    return this.items.get(id)?.item;
  }
  /** The item with this id, or an "unknown <what>" error at `path`. */
  ref(id: string, path: string): T {
    const found = this.items.get(id);
    return found ? found.item : this.ck.fail(path, `unknown ${this.what} "${id}"`);
  }
}
