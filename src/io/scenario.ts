/**
 * Loads a scenario from any supported format, chosen by file name: a SUMO `.sumocfg`, or a native
 * JSON scenario (`.json`).
 */
import { existsSync } from 'node:fs';
import type { ScenarioSpec } from './spec.js';
import { InputError } from '../errors.js';
import { loadSumoScenario } from './sumo/config.js';
import { loadJsonScenario } from './json/scenario.js';
import { loadSumoScenarioCached, type ScenarioCacheOptions } from './scenario-cache.js';

/** `cache`: SUMO scenarios are read through the scenario cache (scenario-cache.ts) in this place. */
export function loadScenario(path: string, cache?: ScenarioCacheOptions): ScenarioSpec {
  if (!existsSync(path)) throw new InputError(path, 'file not found');
  if (path.endsWith('.sumocfg') || path.endsWith('.sumo.cfg'))
    return cache ? loadSumoScenarioCached(path, cache) : loadSumoScenario(path);
  if (path.endsWith('.json')) return loadJsonScenario(path);
  throw new InputError(path, 'unknown scenario format: expected a SUMO .sumocfg or a TessDS .json scenario');
}
