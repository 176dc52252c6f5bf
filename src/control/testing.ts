/**
 * Helpers for the control layer's tests (not a test file itself): a controlled run of the crossroads
 * example behind a real server on a free port, and a stand-in for the simulation-command module.
 */
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../io/scenario.js';
import { Engine } from '../sim/engine.js';
import { createMetrics, type Metrics } from './metrics.js';
import { startControlServer, type ControlServer } from './http.js';
import { LocalRun, type LocalSimCommands } from './local.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Stand-in for src/sim/commands.ts until it is plugged in: validates `closeLane {lane}` against the
 * network (so a bad target is refused) and records where each command was applied.
 */
export function recordingLaneCommands(): LocalSimCommands<{ type: 'closeLane'; lane: string }> & { applied: { lane: string; step: number }[] } {
  const applied: { lane: string; step: number }[] = [];
  let lanes: Set<string> | undefined;
  return {
    applied,
    parse(b) {
      if (b.type !== 'closeLane') throw new Error(`unknown command type "${String(b.type)}"`);
      if (typeof b.lane !== 'string') throw new Error('closeLane needs "lane": a lane id');
      if (lanes && !lanes.has(b.lane)) throw new Error(`closeLane: no lane "${b.lane}" in the network`);
      return { type: 'closeLane', lane: b.lane };
    },
    apply(engine, c) {
      applied.push({ lane: c.lane, step: engine.step });
    },
    set network(ids: string[]) {
      lanes = new Set(ids);
    },
  } as LocalSimCommands<{ type: 'closeLane'; lane: string }> & { applied: { lane: string; step: number }[] };
}

export interface ControlledRun {
  run: LocalRun;
  server: ControlServer;
  metrics: Metrics;
  base: string;
  done: Promise<void>;
  sim: ReturnType<typeof recordingLaneCommands>;
  close(): Promise<void>;
}

/** The crossroads example, paced at `factor` simulated s per wall s, served on a free port. */
export async function startControlledRun(o: { factor?: number; end?: number; checkpointFile?: string } = {}): Promise<ControlledRun> {
  const spec = loadScenario(`${repoRoot}examples/crossroads.json`);
  spec.end = o.end ?? 3600;
  const engine = new Engine(spec);
  const metrics = createMetrics();
  const sim = recordingLaneCommands();
  (sim as unknown as { network: string[] }).network = engine.net.laneIds.slice(0, engine.net.normalLaneCount);
  const run = new LocalRun({ engine, realtimeFactor: o.factor ?? 20, checkpointFile: o.checkpointFile, sim, metrics });
  const server = await startControlServer({ port: 0, backend: run, metrics });
  const done = run.run();
  const base = `http://127.0.0.1:${server.port}`;
  return {
    run, server, metrics, base, done, sim,
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
