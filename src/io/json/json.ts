/**
 * A small strict JSON parser that remembers where every value starts.
 *
 * Why not JSON.parse: Node 20's V8 does not always report a position for syntax errors (e.g.
 * `Unexpected token '}', "..." is not valid JSON`), it silently keeps the last of two duplicate keys,
 * and it cannot tell us where a *valid* value sits, so schema errors could not name a line. This parser
 * accepts exactly RFC 8259 JSON and records the offset of each value under its JSON path
 * (`edges[3].to`), which the validator turns into `file:line:column`.
 */

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface LocatedJson {
  text: string;
  value: unknown;
  /** JSON path → offset of the first character of the value at that path */
  offsets: Map<string, number>;
}

/** `edges` + 3 → `edges[3]`; `edges[3]` + `to` → `edges[3].to`; '' + `time` → `time`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** `edges[3].to` → `edges[3]` → `edges` → '' (undefined above the root). */
export function parentPath(path: string): string | undefined {
  if (path === '') return undefined;
  const m = /(\[\d+\]|\.[^.[]*)$/.exec(path);
  return m ? path.slice(0, m.index) : '';
}

/** 1-based line and column (in UTF-16 code units) of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

export function parseLocated(text: string): LocatedJson {
  const offsets = new Map<string, number>();
  // A UTF-8 byte order mark is not JSON but editors write it; skip it without shifting positions.
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const fail = (message: string, at = pos): never => {
    throw new JsonSyntaxError(message, at);
  };
  const describe = (at: number): string => {
    if (at >= text.length) return 'end of file';
    const c = text[at]!;
    return c === '/' ? `'/' (JSON has no comments; use a key starting with "//")` : `'${c}'`;
  };
  const skipWs = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return;
    }
  };
  const expect = (c: string, what: string): void => {
    skipWs();
    if (text[pos] !== c) fail(`expected ${what}, found ${describe(pos)}`);
    pos++;
  };

  const parseString = (): string => {
    const start = pos;
    pos++; // opening quote
    let out = '';
    let chunk = pos;
    for (;;) {
      if (pos >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string (escape it)');
      if (c === 0x5c) {
        out += text.slice(chunk, pos);
        const e = text[pos + 1];
        if (e === 'u') {
          const hex = text.slice(pos + 2, pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 6;
        } else {
          const r = e === undefined ? undefined : ESCAPES[e];
          if (r === undefined) fail(`invalid escape '\\${e ?? ''}'`);
          out += r;
          pos += 2;
        }
        chunk = pos;
      } else pos++;
    }
    out += text.slice(chunk, pos);
    pos++; // closing quote
    return out;
  };

  const parseValue = (path: string): unknown => {
    skipWs();
    offsets.set(path, pos);
    const c = text[pos];
    if (c === '{') return parseObject(path);
    if (c === '[') return parseArray(path);
    if (c === '"') return parseString();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m) {
      pos += m[0].length;
      return Number(m[0]);
    }
    return fail(`expected a value, found ${describe(pos)}`);
  };

  const parseObject = (path: string): Record<string, unknown> => {
    pos++;
    const obj: Record<string, unknown> = {};
    skipWs();
    if (text[pos] === '}') {
      pos++;
      return obj;
    }
    for (;;) {
      skipWs();
      if (text[pos] !== '"') {
        fail(
          text[pos] === '}'
            ? `expected a key, found '}' (trailing comma?)`
            : `expected a key in double quotes, found ${describe(pos)}`,
        );
      }
      const keyAt = pos;
      const key = parseString();
      if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`duplicate key "${key}"`, keyAt);
      expect(':', `':' after key "${key}"`);
      // defineProperty: a key "__proto__" must be data, not a prototype change
      Object.defineProperty(obj, key, {
        value: parseValue(childPath(path, key)),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      skipWs();
      if (text[pos] === ',') pos++;
      else if (text[pos] === '}') {
        pos++;
        return obj;
      } else fail(`expected ',' or '}' after a value, found ${describe(pos)}`);
    }
  };

  const parseArray = (path: string): unknown[] => {
    pos++;
    const arr: unknown[] = [];
    skipWs();
    if (text[pos] === ']') {
      pos++;
      return arr;
    }
    for (;;) {
      skipWs();
      if (text[pos] === ']') fail(`expected a value, found ']' (trailing comma?)`);
      arr.push(parseValue(childPath(path, arr.length)));
      skipWs();
      if (text[pos] === ',') pos++;
      else if (text[pos] === ']') {
        pos++;
        return arr;
      } else fail(`expected ',' or ']' after a value, found ${describe(pos)}`);
    }
  };

  const value = parseValue('');
  skipWs();
  if (pos < text.length) fail(`unexpected ${describe(pos)} after the end of the JSON value`);
  return { text, value, offsets };
}
