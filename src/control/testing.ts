/**
 * Helpers for the control layer's tests (not a test file itself): a controlled run of the crossroads
 * example behind a real server on a free port, and a stand-in for the simulation-command module.
 */
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../io/scenario.js';
import { Engine } from '../sim/engine.js';
import { createMetrics, type Metrics } from './metrics.js';
import { startControlServer, type ControlServer } from './http.js';
import { LocalRun } from './local.js';
import { localSimCommands } from './sim-commands.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Stand-in for src/sim/commands.ts until it is plugged in: validates `closeLane {lane}` against the
 * network (so a bad target is refused) and records where each command was applied.
 */
/**
 * Watches one lane of a running engine (called after every step): the steps at which a vehicle
 * entered it, i.e. appeared on it without having been there the step before.
 */
export function laneEntries(engine: Engine, laneId: string): { entries: number[]; observe(e: Engine): void } {
  const lane = engine.net.laneIndex.get(laneId);
  if (lane === undefined) throw new Error(`no lane ${laneId}`);
  let before = new Set<number>();
  const entries: number[] = [];
  return {
    entries,
    observe(e) {
      const now = new Set<number>();
      for (let s = e.laneFront[lane]!; s >= 0; s = e.v.behind[s]!) now.add(e.v.vid[s]!);
      for (const vid of now) if (!before.has(vid)) entries.push(e.step);
      before = now;
    },
  };
}

export interface ControlledRun {
  run: LocalRun;
  server: ControlServer;
  metrics: Metrics;
  base: string;
  done: Promise<void>;
  /** vehicles entering lane NC_0 (the northern approach), by step */
  nc0: ReturnType<typeof laneEntries>;
  /** whether lane `id` is closed in the engine now */
  closed(id: string): boolean;
  close(): Promise<void>;
}

/** The crossroads example, paced at `factor` simulated s per wall s, served on a free port. */
export async function startControlledRun(
  o: { factor?: number; end?: number; checkpointFile?: string; token?: string; bodyTimeoutMs?: number } = {},
): Promise<ControlledRun> {
  const spec = loadScenario(`${repoRoot}examples/crossroads.json`);
  spec.end = o.end ?? 3600;
  const engine = new Engine(spec);
  const metrics = createMetrics();
  const nc0 = laneEntries(engine, 'NC_0');
  const run = new LocalRun({
    engine,
    realtimeFactor: o.factor ?? 20,
    checkpointFile: o.checkpointFile,
    sim: localSimCommands(engine),
    metrics,
    onStep: (e) => nc0.observe(e),
  });
  const server = await startControlServer({
    port: 0,
    backend: run,
    metrics,
    token: o.token,
    bodyTimeoutMs: o.bodyTimeoutMs,
  });
  const done = run.run();
  const base = `http://127.0.0.1:${server.port}`;
  return {
    run,
    server,
    metrics,
    base,
    done,
    nc0,
    closed: (id) => engine.laneClosed[engine.net.laneIndex.get(id)!] === 1,
    async close() {
      await run.command({ type: 'stop' });
      await done;
      await server.close();
    },
  };
}

/** Polls `check` every 20 ms until it returns true; fails after `ms` (a hang guard, not a timing test). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 20000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
