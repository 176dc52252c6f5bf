/**
 * The `real` group of `npm run bench`: real networks with real demand (../shared/scenarios/real, the
 * RESCO set) and a city built from OpenStreetMap the way osmWebWizard does (../shared/tools/
 * sumo-osm-scenario on ../shared/scenarios/osm/monaco.osm, with and without sidewalks), run as
 * shipped, SUMO then TessDS, with the figures of issue 11's table and its tolerances: inserted within
 * 5%, arrived and meanDuration within 10%, meanTimeLoss within 25%; TessDS's updates per second
 * against SUMO's, same run. These files are not part of the project (licences): they are read where
 * they lie and the OSM scenarios are built into bench/.cache.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSumoConfig } from '../src/io/sumo/config.js';
import { BenchError, ROOT, TOOLS, runSumo, runTessds, type RunResult } from './scenarios.js';
import { num, pct, relErr, table } from './table.js';

const SHARED = resolve(ROOT, '..', 'shared', 'scenarios');
const CACHE = join(ROOT, 'bench', '.cache');

/** issue 11's tolerances, % */
export const REAL_TOLERANCES: Record<string, number> = { inserted: 5, arrived: 10, meanDuration: 10, meanTimeLoss: 25 };

export interface RealResult {
  name: string;
  cfg: string;
  sumo: RunResult;
  tessds: RunResult;
  errors: Record<string, number | null>;
  ok: boolean;
  upsRatio: number;
}

/** The real scenarios found: every real/NAME/NAME.sumocfg, then Monaco built from OSM when the extract is there. */
export function realScenarios(log: (m: string) => void, osm = true): { name: string; cfg: string }[] {
  const found: { name: string; cfg: string }[] = [];
  const real = join(SHARED, 'real');
  if (existsSync(real)) {
    for (const name of readdirSync(real).sort()) {
      const cfg = join(real, name, `${name}.sumocfg`);
      if (existsSync(cfg)) found.push({ name, cfg });
    }
  }
  const monaco = join(SHARED, 'osm', 'monaco.osm');
  if (osm && existsSync(monaco)) {
    for (const sidewalks of [false, true]) {
      const name = sidewalks ? 'monaco-sidewalks' : 'monaco';
      found.push({ name, cfg: ensureOsmScenario(name, monaco, sidewalks, log) });
    }
  }
  return found;
}

function ensureOsmScenario(name: string, osm: string, sidewalks: boolean, log: (m: string) => void): string {
  const dir = join(CACHE, `osm-${name}`);
  const cfg = join(dir, 'scenario.sumocfg');
  if (existsSync(cfg)) return cfg;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log(`building ${name} from ${osm} (sumo-osm-scenario, once)`);
  const args = [tmp, '--osm', osm, ...(sidewalks ? ['--sidewalks'] : [])];
  const r = spawnSync(join(TOOLS, 'sumo-osm-scenario'), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError(`sumo-osm-scenario ${args.join(' ')} failed: ${r.stderr.trim()}`);
  renameSync(tmp, dir);
  return cfg;
}

/** Runs SUMO then TessDS on each scenario (one process at a time) and prints the table. */
export function realGroup(out: (s?: string) => void, log: (m: string) => void, rss: boolean): RealResult[] {
  const scenarios = realScenarios(log);
  if (scenarios.length === 0) {
    log(`no real scenarios under ${SHARED}: skipping the real group`);
    return [];
  }
  const results: RealResult[] = [];
  for (const { name, cfg } of scenarios) {
    const end = loadSumoConfig(cfg).end;
    if (end === undefined) throw new BenchError(`${cfg}: no end time`);
    log(`real ${name}: SUMO`);
    const sumo = runSumo(cfg, end);
    log(`real ${name}: TessDS`);
    const tessds = runTessds(cfg, end, rss);
    const errors: Record<string, number | null> = {};
    for (const f of Object.keys(REAL_TOLERANCES)) errors[f] = relErr(tessds[f] as number, sumo[f] as number) ?? null;
    const ok = Object.entries(REAL_TOLERANCES).every(([f, tol]) => errors[f] !== null && Math.abs(errors[f]!) <= tol);
    results.push({ name, cfg, sumo, tessds, errors, ok, upsRatio: tessds.ups / sumo.ups });
  }
  const head = [
    'scenario',
    ...Object.keys(REAL_TOLERANCES).map((f) => `${f} (≤${REAL_TOLERANCES[f]}%)`),
    'TessDS/SUMO ups',
    'within',
  ];
  const rows = [head];
  for (const r of results) {
    rows.push([
      r.name,
      ...Object.keys(REAL_TOLERANCES).map((f) => `${num(r.tessds[f] as number)} ${pct(r.errors[f] ?? undefined)}`),
      `${r.upsRatio.toFixed(1)}×`,
      r.ok ? '✓' : '✗',
    ]);
  }
  out('== real networks, as shipped (TessDS figure and its error against SUMO)');
  out(table(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'l']));
  out();
  return results;
}
