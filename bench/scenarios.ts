/**
 * Building cached SUMO scenarios and running SUMO and TessDS on them as child processes.
 * Every run is a separate process, one at a time: the machine is small and shared, and a
 * child's peak RSS is only measurable per process.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: this file runs as dist/bench/scenarios.js. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The shared reference tools (DESIGN.md: ../shared/tools); overridable for other checkouts. */
export const TOOLS = process.env.TESSDS_TOOLS ?? resolve(ROOT, '..', 'shared', 'tools');
const CACHE = join(ROOT, 'bench', '.cache');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BIG = 256 * 1024 * 1024;

export interface ScenarioSpec {
  kind: string;
  size: number;
  period: number;
  end: number;
  seed: number;
  step: number;
}

/** The fields both engines report (sumo-reference prints the same names as `tessds run --summary`). */
export interface Reported {
  loaded: number;
  inserted: number;
  running: number;
  waiting: number;
  arrived: number;
  meanDuration: number;
  meanRouteLength: number;
  meanTimeLoss: number;
  meanWaitingTime: number;
  meanSpeed: number;
  ups: number;
  /** as the engine reports it (TessDS: load + run; SUMO: the sumo process) */
  wallSeconds: number;
  [key: string]: unknown;
}

export interface RunResult extends Reported {
  /** elapsed time of the child process as we saw it */
  processSeconds: number;
  /** peak resident set size of the child, KiB, when /usr/bin/time is available */
  peakRssKiB?: number;
}

export class BenchError extends Error {}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** SUMO and its generators are external; say how to get them rather than failing deep inside a run. */
export function missingSumoTools(): string[] {
  return ['sumo', 'netgenerate', 'duarouter', 'python3'].filter((c) => !onPath(c));
}

export function sumoVersion(): string {
  const r = spawnSync('sumo', ['--version'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n')[0]?.trim() ?? 'unknown';
}

/** GNU time gives the child's peak RSS without any cooperation from the child. */
export function hasGnuTime(): boolean {
  return spawnSync('/usr/bin/time', ['-f', '%M', '-o', '/dev/null', 'true'], { stdio: 'ignore' }).status === 0;
}

export function cacheDir(s: ScenarioSpec): string {
  return join(CACHE, `${s.kind}-${s.size}-${s.period}-${s.end}-${s.seed}`);
}

/**
 * Build the scenario unless it is cached. It is generated into a temporary sibling directory and renamed
 * into place, so an interrupted generation is never mistaken for a finished one.
 */
export function ensureScenario(
  s: ScenarioSpec,
  log: (msg: string) => void,
): { cfg: string; built: boolean; seconds: number } {
  const dir = cacheDir(s);
  const cfg = join(dir, 'scenario.sumocfg');
  if (existsSync(cfg)) return { cfg, built: false, seconds: 0 };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log(`building ${s.kind} size ${s.size}, period ${s.period}, end ${s.end} → ${dir}`);
  const t0 = performance.now();
  const args = [
    tmp,
    '--kind',
    s.kind,
    '--size',
    String(s.size),
    '--period',
    String(s.period),
    '--end',
    String(s.end),
    '--seed',
    String(s.seed),
    '--step',
    String(s.step),
  ];
  const r = spawnSync(join(TOOLS, 'sumo-scenario'), args, { encoding: 'utf8', maxBuffer: BIG });
  check(r, 'sumo-scenario', args);
  renameSync(tmp, dir);
  return { cfg, built: true, seconds: (performance.now() - t0) / 1000 };
}

export function runSumo(cfg: string, end: number): RunResult {
  const args = [cfg, '--end', String(end)];
  const t0 = performance.now();
  const r = spawnSync(join(TOOLS, 'sumo-reference'), args, { encoding: 'utf8', maxBuffer: BIG });
  const processSeconds = (performance.now() - t0) / 1000;
  check(r, 'sumo-reference', args);
  return { ...parseJson(r.stdout, 'sumo-reference'), processSeconds };
}

/** Run `tessds run` in a fresh node process, under GNU time when we have it, to get its peak RSS. */
export function runTessds(cfg: string, end: number, measureRss: boolean): RunResult {
  if (!existsSync(CLI)) throw new BenchError(`${CLI} not found: build first (npx tsc -p tsconfig.json)`);
  const tessArgs = [CLI, 'run', cfg, '--end', String(end), '--summary', '-', '--no-progress'];
  let rssFile: string | undefined;
  let cmd = process.execPath;
  let args = tessArgs;
  if (measureRss) {
    rssFile = join(mkdtempSync(join(tmpdir(), 'tessds-bench-')), 'rss');
    cmd = '/usr/bin/time';
    // -o keeps time's line out of the child's stderr (warnings) and stdout (the summary JSON)
    args = ['-f', '%M', '-o', rssFile, process.execPath, ...tessArgs];
  }
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: BIG });
  const processSeconds = (performance.now() - t0) / 1000;
  let peakRssKiB: number | undefined;
  if (rssFile) {
    // GNU time prefixes "Command exited with non-zero status" lines on failure; the figure is the last line
    const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
    peakRssKiB = /^\d+$/.test(last) ? Number(last) : undefined;
    rmSync(dirname(rssFile), { recursive: true, force: true });
  }
  check(r, 'node', tessArgs);
  const warnings = r.stderr.trim();
  if (warnings) process.stderr.write(indent(warnings) + '\n');
  return { ...parseJson(r.stdout, 'tessds run'), processSeconds, peakRssKiB };
}

/** `tessds run CFG --end END --workers N [extra] --summary -` in a fresh process, timed whole (as a
 *  user sees it): wall seconds, the summary, and stderr (where TESSDS_TIMING lines go). */
export function timedRun(
  cfg: string,
  end: number,
  workers: number,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): { seconds: number; summary: Reported & { stateHash: string }; stderr: string } {
  const args = [
    CLI,
    'run',
    cfg,
    '--end',
    String(end),
    '--workers',
    String(workers),
    '--summary',
    '-',
    '--no-progress',
    ...extra,
  ];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: BIG, env });
  const seconds = (performance.now() - t0) / 1000;
  check(r, 'node', args);
  return { seconds, summary: parseJson(r.stdout, 'tessds run') as Reported & { stateHash: string }, stderr: r.stderr };
}

function check(r: SpawnSyncReturns<string>, what: string, args: string[]): void {
  if (r.error) throw new BenchError(`${what}: ${r.error.message}`);
  if (r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    throw new BenchError(`${what} ${args.join(' ')} failed (${how})\n${indent((r.stderr || r.stdout || '').trim())}`);
  }
}

function parseJson(text: string, what: string): Reported {
  try {
    return JSON.parse(text) as Reported;
  } catch {
    throw new BenchError(`${what} did not print JSON:\n${indent(text.slice(0, 2000))}`);
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
