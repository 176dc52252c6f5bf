/**
 * `node dist/bench/traci.js [--pairs N] [CFG]`: steps per second through TraCI, SUMO's Python client
 * driving the sumo-rl style controller of test/fixtures/traci/signal_controller.py, against `sumo`
 * and against `tessds-sumo` on the same scenario (default: that fixture; any .sumocfg, e.g. a RESCO
 * scenario of ../shared/scenarios/real). The two run alternately (A, B, A, B, ...: the machine is
 * shared) and the medians and their ratio are printed, with each side's departed/arrived/queue.
 * Exit code 2 when it cannot run (no python3, no sumo, a run failed); timings never fail it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'test/fixtures/traci');
const sumoHome = process.env.SUMO_HOME ?? '/usr/share/sumo';

interface Figures {
  departed: number;
  arrived: number;
  meanQueue: number;
  switches: number;
  steps: number;
  stepsPerSecond: number;
}

function fail(message: string): never {
  process.stderr.write(`traci bench: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): { pairs: number; cfg: string } {
  let pairs = 5;
  let cfg = join(fixture, 'scenario.sumocfg');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--pairs') {
      pairs = Number(argv[++i]);
      if (!Number.isInteger(pairs) || pairs < 1) fail(`--pairs: a whole number >= 1, got ${argv[i]}`);
    } else cfg = resolve(argv[i]!);
  }
  return { pairs, cfg };
}

function run(binary: string, cfg: string, path: string): Figures {
  const r = spawnSync('python3', [join(fixture, 'signal_controller.py'), binary, '-c', cfg], {
    encoding: 'utf8',
    env: { ...process.env, PATH: path, SUMO_HOME: sumoHome },
    timeout: 600_000,
  });
  if (r.error || r.status !== 0) fail(`${binary} run failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function main(): void {
  const { pairs, cfg } = parseArgs(process.argv.slice(2));
  if (spawnSync('python3', ['--version']).status !== 0) fail('python3 is not installed');
  if (spawnSync('sumo', ['--version']).status !== 0) fail('sumo is not installed (SUMO 1.15)');
  const bin = mkdtempSync(join(tmpdir(), 'tessds-traci-bench-'));
  const wrapper = join(bin, 'tessds-sumo');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'dist/src/cli/sumo-main.js')}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  const path = `${bin}:${process.env.PATH}`;
  const sumo: Figures[] = [];
  const ours: Figures[] = [];
  for (let k = 0; k < pairs; k++) {
    process.stderr.write(`traci bench: pair ${k + 1}/${pairs}\n`);
    sumo.push(run('sumo', cfg, path));
    ours.push(run('tessds-sumo', cfg, path));
  }
  const ms = median(sumo.map((f) => f.stepsPerSecond));
  const mt = median(ours.map((f) => f.stepsPerSecond));
  const row = (name: string, f: Figures, sps: number) =>
    `${name.padEnd(12)} ${String(f.departed).padStart(8)} ${String(f.arrived).padStart(8)} ${f.meanQueue.toFixed(2).padStart(10)} ${sps.toFixed(0).padStart(14)}`;
  process.stdout.write(
    [
      `TraCI bench: ${cfg}, sumo-rl style controller, ${sumo[0]!.steps} steps, ${pairs} interleaved pairs (medians)`,
      `${'engine'.padEnd(12)} ${'departed'.padStart(8)} ${'arrived'.padStart(8)} ${'mean queue'.padStart(10)} ${'steps/s (TraCI)'.padStart(14)}`,
      row('sumo', sumo[0]!, ms),
      row('tessds-sumo', ours[0]!, mt),
      `tessds-sumo / sumo: ${(mt / ms).toFixed(2)}× the steps per second through TraCI`,
      '',
    ].join('\n'),
  );
}

main();
