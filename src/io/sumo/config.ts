/**
 * SUMO .sumocfg → file names and run options, and the whole scenario (net + demand + options).
 *
 * SUMO reads options by name wherever they sit: `<input><net-file value/></input>` and a flat
 * `<net-file value/>` mean the same, so options are collected from the whole tree.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { InputError } from '../../errors.js';
import type { ScenarioSpec } from '../spec.js';
import { parseXmlFile, type XmlElement } from '../xml.js';
import { fail, parseNumber } from './attrs.js';
import { loadSumoNet } from './net.js';
import { loadSumoRoutes } from './routes.js';

export interface SumoConfig {
  /** relative to the working directory when the config path was (keeps messages short), else absolute */
  netFile: string;
  routeFiles: string[];
  /** SUMO loads these before the route files: vTypes, routes, vehicles, flows, stopping places */
  additionalFiles: string[];
  /**
   * SUMO's --route-steps (default 200): reading route files in steps, it ignores a vehicle that
   * departs before one earlier in the same file; 0 reads them whole.
   */
  routeSteps: number;
  begin: number;
  end?: number;
  stepLength: number;
  seed?: number;
  timeToTeleport?: number;
}

/** Defaults of a TessDS run where the config says nothing (SUMO's, except the fixed seed). */
export const SCENARIO_DEFAULTS = { seed: 42, timeToTeleport: 300, begin: 0, stepLength: 1 } as const;

export function loadSumoConfig(path: string): SumoConfig {
  const root = parseXmlFile(path);
  if (root.name !== 'configuration') {
    throw new InputError(path, `expected a SUMO configuration (<configuration>), found <${root.name}>`, root.line);
  }
  const options = new Map<string, XmlElement>();
  collectOptions(root, options);
  const dir = dirname(path);

  const str = (name: string): string | undefined => options.get(name)?.attrs['value'];
  const number = (name: string): number | undefined => {
    const el = options.get(name);
    const v = el?.attrs['value'];
    if (el === undefined || v === undefined) return undefined;
    const n = parseNumber(v);
    if (n === undefined) throw fail(path, el, `value="${v}" is not a number`);
    return n;
  };

  const net = str('net-file');
  if (net === undefined || net.trim() === '') throw new InputError(path, 'no <net-file value="..."> given');
  // SUMO separates file lists with commas (or spaces)
  const files = (name: string) =>
    (str(name) ?? '')
      .split(/[,\s]+/)
      .map((f) => f.trim())
      .filter((f) => f !== '')
      .map((f) => near(dir, f));
  const routeFiles = files('route-files');
  const additionalFiles = files('additional-files');
  const routeSteps = number('route-steps') ?? 200;

  const begin = number('begin') ?? SCENARIO_DEFAULTS.begin;
  const endValue = number('end');
  const stepLength = number('step-length') ?? SCENARIO_DEFAULTS.stepLength;
  const seed = number('seed');
  const timeToTeleport = number('time-to-teleport');

  if (!(stepLength > 0)) throw fail(path, options.get('step-length')!, `step-length must be > 0, got ${stepLength}`);
  if (seed !== undefined && !Number.isInteger(seed))
    throw fail(path, options.get('seed')!, `seed must be an integer, got ${seed}`);
  const config: SumoConfig = {
    netFile: near(dir, net.trim()),
    routeFiles,
    additionalFiles,
    routeSteps,
    begin,
    stepLength,
  };
  // SUMO writes end=-1 for "no end"
  if (endValue !== undefined && endValue >= 0) {
    if (endValue < begin) throw fail(path, options.get('end')!, `end (${endValue}) is before begin (${begin})`);
    config.end = endValue;
  }
  if (seed !== undefined) config.seed = seed;
  if (timeToTeleport !== undefined) config.timeToTeleport = timeToTeleport;
  return config;
}

/** A path from the config, which SUMO reads relative to the config's directory. */
function near(dir: string, file: string): string {
  return isAbsolute(file) ? file : join(dir, file);
}

/** Every element with a value attribute, by name; a later repeat wins as in SUMO. */
function collectOptions(el: XmlElement, into: Map<string, XmlElement>): void {
  for (const child of el.children) {
    if (child.attrs['value'] !== undefined) into.set(child.name, child);
    collectOptions(child, into);
  }
}

/** Loads a .sumocfg with its net and route files into one scenario. */
export function loadSumoScenario(cfgPath: string): ScenarioSpec {
  return sumoScenario(loadSumoConfig(cfgPath));
}

/** The scenario of a SUMO configuration (a .sumocfg read, or one SUMO's command line put together). */
export function sumoScenario(cfg: SumoConfig): ScenarioSpec {
  const net = loadSumoNet(cfg.netFile);
  const demand = loadSumoRoutes(cfg.routeFiles, net, cfg.additionalFiles, {
    sorted: cfg.routeSteps > 0,
    begin: cfg.begin,
  });
  const scenario: ScenarioSpec = {
    net,
    demand,
    begin: cfg.begin,
    stepLength: cfg.stepLength,
    seed: cfg.seed ?? SCENARIO_DEFAULTS.seed,
    timeToTeleport: cfg.timeToTeleport ?? SCENARIO_DEFAULTS.timeToTeleport,
  };
  if (cfg.end !== undefined) scenario.end = cfg.end;
  return scenario;
}
