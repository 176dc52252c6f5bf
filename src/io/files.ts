/**
 * Reading an input file as text: a missing or unreadable file is one InputError naming the path.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

/** `what` names the expected content for the directory case, e.g. "an XML file". */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? `is a directory, expected ${what}` : code === 'EACCES' ? 'permission denied' : `cannot read file (${code ?? String(e)})`;
    throw new InputError(path, detail, undefined, undefined, { cause: e });
  }
}

/** Reads a JSON file that must hold a list; not JSON or not a list is one InputError naming the file. */
export function readJsonList(path: string, what: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(readTextFile(path, what));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(path, `not JSON: ${(e as Error).message}`, undefined, undefined, { cause: e });
  }
  if (!Array.isArray(value)) throw new InputError(path, `expected a JSON list (${what})`);
  return value;
}
