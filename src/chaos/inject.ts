/**
 * Carrying faults out, the same for both chaos runners (the embedded cluster, runner.ts, and
 * distributed mode, distributed.ts): signalling target processes and restarting the store.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisServer } from '../cluster/store/redis-server.js';
import type { Injection } from './observe.js';

/**
 * On Ctrl-C or SIGTERM: kills what the chaos run started (`kill`) and its own Redis, and exits 130.
 * Returns what removes the handlers once the run is over.
 */
export function abortOnInterrupt(kill: () => void, redis: () => RedisServer | undefined): () => void {
  const abort = () => {
    kill();
    void redis()?.destroy();
    process.exit(130);
  };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return () => {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  };
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Finds the pid of every target (each may first have to come back from an earlier fault), then
 * stamps `inj` with the time, step and pids and sends them all `sig`. Undefined, with a note naming
 * the target (`label` says what a target is: "worker", "slot"), when one did not come back in time.
 */
export async function signalTargets(
  inj: Injection,
  targets: readonly number[],
  label: string,
  pidOf: (target: number) => Promise<number | undefined>,
  sig: NodeJS.Signals,
  step: () => number | undefined,
): Promise<number[] | undefined> {
  const pids: number[] = [];
  for (const t of targets) {
    const pid = await pidOf(t);
    if (pid === undefined) {
      inj.note = `${label} ${t} not running`;
      return undefined;
    }
    pids.push(pid);
  }
  inj.at = Date.now();
  inj.step = step();
  inj.pids = pids;
  for (const pid of pids) signal(pid, sig);
  return pids;
}

/** The Redis-restart fault: SIGKILL, down for `downMs`, started again on the same port and AOF. */
export async function restartStore(
  inj: Injection,
  redis: RedisServer,
  downMs: number,
  step: () => number | undefined,
): Promise<void> {
  inj.at = Date.now();
  inj.step = step();
  await redis.kill();
  await sleep(downMs);
  await redis.start();
}

/** The last line a process wrote (for one-line error messages). */
export function lastLine(s: string): string {
  return s.trim().split('\n').pop() ?? '';
}
