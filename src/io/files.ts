/**
 * Reading an input file as text: a missing or unreadable file is one InputError naming the path.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError, UsageError } from '../errors.js';

/** `what` names the expected content for the directory case, e.g. "an XML file". */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? `is a directory, expected ${what}`
          : code === 'EACCES'
            ? 'permission denied'
            : `cannot read file (${code ?? String(e)})`;
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

/**
 * Checks before a run that an output file can be written (its directory exists and is writable), so
 * that a long run is not lost at the end to a typo in a path. Throws UsageError naming the option.
 */
export function checkOutputPath(path: string, option: string): void {
  const dir = dirname(resolve(path));
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`${option} ${path}: directory ${dir} does not exist`);
  }
  if (!ok) throw new UsageError(`${option} ${path}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${option} ${path}: directory ${dir} is not writable`);
  }
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UsageError(`${option} ${path}: is a directory, expected a file name`);
}
