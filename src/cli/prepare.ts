/**
 * A scenario as a run uses it: the file read, then the command line's overrides (times, step, seed,
 * teleport time, region) applied. `run` and `submit` both prepare it here, with one set of errors.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../io/scenario.js';
import type { ScenarioCacheOptions } from '../io/scenario-cache.js';
import type { ScenarioSpec } from '../io/spec.js';
import { InputError, UsageError } from '../errors.js';
import { applyRegion, parseRegion } from '../partition/region.js';
import { checkDemand } from './demand-check.js';

/** What the command line may change of a scenario. */
export interface ScenarioOverrides {
  begin?: number;
  end?: number;
  step?: number;
  seed?: number;
  timeToTeleport?: number;
  /** `--region`: an edge list or a bounding box */
  region?: string;
}

export function prepareScenario(path: string, o: ScenarioOverrides): ScenarioSpec {
  return prepareSpec(loadScenario(path, scenarioCache()), path, o);
}

/** The overrides applied to a scenario already read (from `path`, named in errors). */
export function prepareSpec(spec: ScenarioSpec, path: string, o: ScenarioOverrides): ScenarioSpec {
  if (o.begin !== undefined) spec.begin = o.begin;
  if (o.end !== undefined) spec.end = o.end;
  if (o.step !== undefined) spec.stepLength = o.step;
  if (o.seed !== undefined) spec.seed = o.seed;
  if (o.timeToTeleport !== undefined) spec.timeToTeleport = o.timeToTeleport;
  if (spec.end !== undefined && spec.end < spec.begin) {
    // name what the user typed: the flags, or else the scenario file
    if (o.begin !== undefined || o.end !== undefined)
      throw new UsageError(`the end time ${spec.end} is before the begin time ${spec.begin} (--begin, --end)`);
    throw new InputError(path, `end time ${spec.end} is before begin time ${spec.begin}`);
  }
  if (o.region !== undefined) spec = applyRegion(spec, parseRegion(o.region));
  // before anything is built from it: a demand that cannot fit in memory, an id given twice
  checkDemand(spec);
  return spec;
}

/**
 * Where read scenarios are kept for the next run (io/scenario-cache.ts): `$TESSDS_SCENARIO_CACHE`,
 * `off` for nowhere; by default `$XDG_CACHE_HOME/tessds/scenarios` (else ~/.cache/tessds/scenarios).
 */
export function scenarioCache(env: NodeJS.ProcessEnv = process.env): ScenarioCacheOptions | undefined {
  const setting = env['TESSDS_SCENARIO_CACHE'];
  if (setting === 'off' || setting === '') return undefined;
  const dir = setting ?? join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'tessds', 'scenarios');
  return { dir, warn: (m) => process.stderr.write(`tessds: warning: scenario cache ${m}\n`) };
}
