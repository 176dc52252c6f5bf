/**
 * Worker processes started before the master has read the scenario. A Node process takes a few
 * hundred milliseconds to boot and load TessDS, about a third of what reading a large scenario takes;
 * started first, the workers boot while the master parses, and are waiting when the plan is ready.
 *
 * A pre-started worker does not know the master's address yet: it reads `host:port` as one line from
 * its stdin (`worker-embedded --master stdin`). If the master dies or gives up first (bad input,
 * fewer parts than workers), the worker sees its stdin close and exits without a word.
 *
 * Before the address, the master hands over the scenario as soon as it has read it: one line
 * `{"preload": {"id", "file"}}` names a JSON file that holds it, which the worker reads and removes.
 * The worker parses it and builds its network and demand while the master partitions, rather than
 * after (a plan carrying the scenario took the worker longer to parse than the master took to
 * partition). Its hello names the scenario's id, and its plan then goes without the scenario.
 *
 * Not the pipe itself: a pipe moves a megabyte line only as fast as the master, busy partitioning,
 * turns its event loop. Nor the worker reading the scenario's own files: two processes parsing XML
 * side by side each took 40% longer on the 2-vCPU machine we measure on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ScenarioSpec } from '../io/spec.js';
import { sinceStart, timing } from '../timing.js';
import { workerEnv } from './secret.js';

/** The `tessds` command's script: workers run `tessds worker-embedded` whichever command started the run (tessds-sumo too). */
const TESSDS_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** The node flags and arguments of an embedded worker process (the secret goes in its environment:
 *  workerEnv in secret.ts). */
export function workerArgs(master: string, workerId: number, plan: string): string[] {
  // a larger young generation: fewer scavenges, and a worker's pause stalls its neighbours too
  return [
    '--max-semi-space-size=64',
    TESSDS_MAIN,
    'worker-embedded',
    '--master',
    master,
    '--id',
    String(workerId),
    '--plan',
    plan,
  ];
}

/** What every embedded worker of a run gets: the plan name its links are bound to, and the secret. */
export interface EmbeddedLinks {
  plan: string;
  secret: Buffer;
}

export class WorkerPool {
  private readonly waiting = new Map<number, ChildProcess>();
  /** where `preload` put the scenario (removed by `dispose`) */
  private dir: string | undefined;

  /** Starts workers 1..workers-1 (worker 0 runs in the master's process). */
  constructor(workers: number, links: EmbeddedLinks) {
    for (let w = 1; w < workers; w++) {
      const child = spawn(process.execPath, workerArgs('stdin', w, links.plan), {
        stdio: ['pipe', 'ignore', 'inherit'],
        env: workerEnv(links.secret),
      });
      // a worker that died before it was told the address: take() starts a fresh one instead
      child.stdin!.on('error', () => undefined);
      this.waiting.set(w, child);
    }
  }

  /**
   * Hands the scenario to every waiting worker; returns the id that names it (the plans of
   * workers that hold it need not carry it), or undefined when it handed nothing. It goes through a
   * file: a pipe would move only as fast as this process, busy partitioning, turns its event loop.
   */
  preload(spec: ScenarioSpec): string | undefined {
    if (this.waiting.size === 0) return undefined;
    const id = `${process.pid}-${Date.now()}`;
    const files = new Map<number, string>();
    try {
      this.dir = mkdtempSync(join(tmpdir(), 'tessds-scenario-'));
      const text = JSON.stringify(spec);
      // one file each: a worker removes its own once read, so a killed master leaves none (unless it
      // dies within the few milliseconds of this loop)
      for (const w of this.waiting.keys()) {
        const file = join(this.dir, `worker-${w}.json`);
        writeFileSync(file, text);
        files.set(w, file);
      }
    } catch {
      // no room or no right to write: the plans carry the scenario, as they would without this
      this.removeDir();
      return undefined;
    }
    for (const [w, child] of this.waiting)
      child.stdin!.write(`${JSON.stringify({ preload: { id, file: files.get(w) } })}\n`);
    return id;
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

  /** Lets the waiting workers go and removes the scenario file (the workers said hello: they read it). */
  dispose(): void {
    this.release();
    this.removeDir();
  }

  private removeDir(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

/**
 * In a worker: the master's `host:port`, the first line of stdin that is not a preload; undefined if
 * stdin closes first. A preload (`{"preload": ...}`) is handed to `onPreload` as it comes.
 */
export function readMasterAddress(
  onPreload?: (preload: unknown) => void,
  stdin: Readable = process.stdin,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: string[] = [];
    let finished = false;
    const done = (value: string | undefined) => {
      finished = true;
      stdin.removeAllListeners('data').removeAllListeners('end');
      stdin.pause();
      (stdin as { unref?: () => void }).unref?.();
      resolve(value);
    };
    stdin.setEncoding('utf8');
    stdin.on('data', (chunk: string) => {
      // a preload line is megabytes long: look for its end in the new chunk only
      for (let nl = chunk.indexOf('\n'); nl >= 0 && !finished; nl = chunk.indexOf('\n')) {
        chunks.push(chunk.slice(0, nl));
        chunk = chunk.slice(nl + 1);
        const line = chunks.splice(0).join('').trim();
        if (!line.startsWith('{')) return done(line);
        onPreload?.((JSON.parse(line) as { preload?: unknown }).preload);
      }
      if (chunk !== '') chunks.push(chunk);
    });
    stdin.on('end', () => done(chunks.join('').trim() || undefined));
  });
}

/**
 * In a worker: the scenario a `preload` line handed over, read from its file, which is then removed
 * (and its folder, by the last worker to read); undefined when the file is gone or unreadable (the
 * master gave up; a plan, if one comes, carries the scenario).
 */
export function takeHandedScenario(preload: unknown): { id: string; spec: ScenarioSpec } | undefined {
  const { id, file } = preload as { id: string; file: string };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  rmSync(file, { force: true });
  try {
    rmdirSync(dirname(file));
  } catch {
    // another worker's file is still in it
  }
  try {
    const spec = JSON.parse(text) as ScenarioSpec;
    timing(() => `worker: scenario parsed at ${sinceStart()}`);
    return { id, spec };
  } catch {
    return undefined; // cut short (the master died writing it)
  }
}
