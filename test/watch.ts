/**
 * A tessds process under test: what it has printed so far, its exit code, and the last status it
 * wrote (`--status-file` is rewritten whole; a read that catches it mid-write counts as none yet).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Watched<S> {
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  status(): S | undefined;
}

export function watch<S = unknown>(child: ChildProcess, statusFile?: string): Watched<S> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    status: () => {
      if (statusFile === undefined || !existsSync(statusFile)) return undefined;
      try {
        return JSON.parse(readFileSync(statusFile, 'utf8')) as S;
      } catch {
        return undefined;
      }
    },
  };
}
