/**
 * Reading a manual partition map: which part each junction belongs to. Two formats, told apart by the
 * first non-blank character ({ or [ : JSON):
 *
 *   JSON   { "junctionId": 0, "other": 1, ... }
 *   text   one `junctionId part` per line; blank lines and `#` comments are ignored
 *
 * Parts are non-negative integers. Whether the map fits a network (every junction listed, parts
 * 0..N-1 all used) is checked by makePartition, which knows the network.
 *
 * formatPartitionMap writes the JSON format (`run --save-partition`), so a run's partition can be fed
 * back with --partition-map, or drawn by `tessds report`.
 */
import { readTextFile } from '../io/files.js';
import { writeFileSync } from 'node:fs';
import { InputError, UsageError } from '../errors.js';

export function loadPartitionMap(path: string): Map<string, number> {
  const text = readTextFile(path, 'a partition map');
  const json = /^\s*[{[]/.test(text); // a text map cannot start with a bracket: no sane junction id does
  const map = json ? parseJsonMap(text, path) : parseTextMap(text, path);
  if (map.size === 0) throw new InputError(path, 'the partition map lists no junctions');
  return map;
}

/**
 * The JSON map of a partition, one junction a line in network order. Each line is built with
 * JSON.stringify of the id: an object with a key like "__proto__" would lose that junction.
 */
export function formatPartitionMap(junctionIds: readonly string[], junctionPart: ArrayLike<number>): string {
  const lines = junctionIds.map((id, j) => `  ${JSON.stringify(id)}: ${junctionPart[j]}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

/** Writes `--save-partition FILE` (its path was checked before the run; this catches what changed since). */
export function savePartitionMap(path: string, junctionIds: readonly string[], junctionPart: ArrayLike<number>): void {
  try {
    writeFileSync(path, formatPartitionMap(junctionIds, junctionPart));
  } catch (e) {
    throw new UsageError(`--save-partition ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

function parseTextMap(text: string, path: string): Map<string, number> {
  const map = new Map<string, number>();
  const lineOf = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.replace(/(^|\s)#.*$/, '').trim(); // a comment starts a word: ids may contain '#'
    if (content === '') return;
    const words = content.split(/\s+/);
    if (words.length !== 2) throw new InputError(path, `expected "junctionId part", found "${content}"`, line);
    const [id, value] = words as [string, string];
    const part = parsePart(value);
    if (part === undefined)
      throw new InputError(path, `part of junction "${id}" must be a non-negative integer, found "${value}"`, line);
    const first = lineOf.get(id);
    if (first !== undefined)
      throw new InputError(path, `junction "${id}" is listed twice (first on line ${first})`, line);
    map.set(id, part);
    lineOf.set(id, line);
  });
  return map;
}

function parsePart(s: string): number | undefined {
  return /^\d+$/.test(s) && Number(s) <= 0x7fffffff ? Number(s) : undefined;
}

function parseJsonMap(text: string, path: string): Map<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // V8 says "... in JSON at position N"; turn that into a line and column
    const m = /position (\d+)/.exec((e as Error).message);
    const at = m ? lineColumn(text, Number(m[1])) : lineColumn(text, text.length);
    throw new InputError(
      path,
      `malformed JSON: ${(e as Error).message.replace(/ in JSON at position \d+.*$/, '')}`,
      at.line,
      at.column,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(path, 'expected a JSON object { "junctionId": part, ... }', 1);
  }
  // every string in a valid map is a key (the values are numbers), so a key's line is easy to find;
  // JSON.parse silently keeps the last of duplicate keys, so look for them here too
  const keyLines = new Map<string, number>();
  for (const m of text.matchAll(/"(?:[^"\\]|\\.)*"(?=\s*:)/g)) {
    const key = JSON.parse(m[0]) as string;
    const line = lineColumn(text, m.index).line;
    const first = keyLines.get(key);
    if (first !== undefined)
      throw new InputError(path, `junction "${key}" is listed twice (first on line ${first})`, line);
    keyLines.set(key, line);
  }
  const map = new Map<string, number>();
  for (const [id, part] of Object.entries(value)) {
    if (typeof part !== 'number' || !Number.isInteger(part) || part < 0 || part > 0x7fffffff) {
      throw new InputError(
        path,
        `part of junction "${id}" must be a non-negative integer, found ${JSON.stringify(part)}`,
        keyLines.get(id),
      );
    }
    map.set(id, part);
  }
  return map;
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}
