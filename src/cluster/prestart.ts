/**
 * Worker processes started before the master has read the scenario. A Node process takes a few
 * hundred milliseconds to boot and load TessDS, about a third of what reading a large scenario takes;
 * started first, the workers boot while the master parses, and are waiting when the plan is ready.
 *
 * A pre-started worker does not know the master's address yet: it reads `host:port` as one line from
 * its stdin (`worker-embedded --master stdin`). If the master dies or gives up first (bad input,
 * fewer parts than workers), the worker sees its stdin close and exits without a word.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** The node flags and arguments of an embedded worker process. */
export function workerArgs(master: string, workerId: number): string[] {
  // a larger young generation: fewer scavenges, and a worker's pause stalls its neighbours too
  return ['--max-semi-space-size=64', process.argv[1]!, 'worker-embedded', '--master', master, '--id', String(workerId)];
}

export class WorkerPool {
  private readonly waiting = new Map<number, ChildProcess>();

  /** Starts workers 1..workers-1 (worker 0 runs in the master's process). */
  constructor(workers: number) {
    for (let w = 1; w < workers; w++) {
      const child = spawn(process.execPath, workerArgs('stdin', w), { stdio: ['pipe', 'ignore', 'inherit'] });
      // a worker that died before it was told the address: take() starts a fresh one instead
      child.stdin!.on('error', () => undefined);
      this.waiting.set(w, child);
    }
  }

  /** Worker `w`'s process, told to report to `master`; undefined when there is none (alive) to give. */
  take(w: number, master: string): ChildProcess | undefined {
    const child = this.waiting.get(w);
    this.waiting.delete(w);
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    child.stdin!.end(`${master}\n`);
    return child;
  }

  /** Lets the workers nobody took go: their stdin closes and they exit. */
  release(): void {
    for (const child of this.waiting.values()) child.stdin!.end();
    this.waiting.clear();
  }
}

/** In a worker: the master's `host:port`, as the first line of stdin; undefined if stdin closes first. */
export function readMasterAddress(): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const stdin = process.stdin;
    const done = (value: string | undefined) => {
      stdin.removeAllListeners('data').removeAllListeners('end');
      stdin.pause();
      stdin.unref?.();
      resolve(value);
    };
    stdin.setEncoding('utf8');
    stdin.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) done(text.slice(0, nl).trim());
    });
    stdin.on('end', () => done(text.trim() || undefined));
  });
}
