/**
 * `npm run bench`: TessDS against SUMO on identical SUMO-generated scenarios.
 *
 *  1. fidelity + speed: grid/spider/rand, SUMO and TessDS one after the other, figures side by side;
 *  2. scale: a 30×30 grid with a vehicle every 0.02 s for an hour, TessDS only unless --scale-sumo;
 *  3. real: the real networks of ../shared/scenarios (RESCO, Monaco from OSM) as shipped (real.ts).
 *
 * Progress goes to stderr and the tables to stdout, so `npm run bench > report.txt` keeps just the report.
 * It reports and never fails on timings (the machine is shared); the exit code is 2 only when it could
 * not run (SUMO missing, a child failed).
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  BenchError,
  ensureScenario,
  hasGnuTime,
  missingSumoTools,
  runSumo,
  runTessds,
  sumoVersion,
  type RunResult,
  type ScenarioSpec,
} from './scenarios.js';
import { kib, median, num, pct, relErr, table, ups } from './table.js';
import { realGroup } from './real.js';

const SIZES: Record<string, number> = { grid: 10, spider: 8, rand: 8 };
const DEFAULTS = { period: 0.2, seed: 42, step: 0.5 };
const SCALE: ScenarioSpec = { kind: 'grid', size: 30, period: 0.02, end: 3600, seed: 42, step: 0.5 };
/** Acceptance: these figures within 10% of SUMO, and TessDS at least 5× SUMO's updates per second. */
const FIDELITY_FIGURES = ['arrived', 'meanDuration', 'meanRouteLength'];
const FIDELITY_TOLERANCE = 10;
const SPEEDUP_TARGET = 5;
const FIGURES = [
  'arrived',
  'inserted',
  'meanDuration',
  'meanRouteLength',
  'meanTimeLoss',
  'meanWaitingTime',
  'meanSpeed',
];

interface Options {
  kinds: string[];
  end: number;
  repeat: number;
  skipScale?: boolean;
  onlyScale?: boolean;
  scaleSumo?: boolean;
  skipReal?: boolean;
  onlyReal?: boolean;
  json?: string;
}

interface ScenarioResult {
  spec: ScenarioSpec;
  cfg: string;
  sumo: RunResult[];
  tessds: RunResult[];
  /** per-figure relative error of TessDS vs SUMO in % (first run: both engines are deterministic) */
  errors: Record<string, number | null>;
  fidelityOk: boolean;
  medianUps: { sumo: number | null; tessds: number };
  /** median over the repeats of TessDS UPS / SUMO UPS of the same pair */
  medianRatio: number | null;
  speedOk: boolean | null;
}

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const out = (s = '') => process.stdout.write(s + '\n');

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function kindList(v: string): string[] {
  const kinds = v
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const bad = kinds.filter((k) => !(k in SIZES));
  if (bad.length || !kinds.length) throw new InvalidArgumentError(`kinds are ${Object.keys(SIZES).join(', ')}`);
  return kinds;
}

function parseOptions(): Options {
  const program = new Command('bench')
    .description('TessDS vs SUMO: fidelity and speed on identical scenarios, plus a scale run')
    .addOption(
      new Option('--kinds <list>', 'scenario kinds, comma-separated')
        .argParser(kindList)
        .default(Object.keys(SIZES), Object.keys(SIZES).join(',')),
    )
    .option('--end <s>', 'simulated seconds of the fidelity scenarios', positiveNumber, 600)
    .option('--repeat <n>', 'run each SUMO/TessDS pair N times and report the median ratio', positiveInt, 1)
    .option('--skip-scale', 'skip the 30×30 scale run')
    .option('--only-scale', 'run only the 30×30 scale run')
    .option('--scale-sumo', 'also run SUMO on the scale scenario (takes very long)')
    .option('--skip-real', 'skip the real networks of ../shared/scenarios')
    .option('--only-real', 'run only the real networks of ../shared/scenarios')
    .option('--json <file>', 'also write all results as JSON to FILE')
    .showHelpAfterError('(bench --help for usage)')
    // bad input exits 2, as everywhere in TessDS (commander's default is 1)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .parse();
  const o = program.opts<Options>();
  if (o.skipScale && o.onlyScale) program.error('--skip-scale and --only-scale exclude each other');
  if (o.onlyReal && (o.onlyScale || o.skipReal)) program.error('--only-real excludes --only-scale and --skip-real');
  return o;
}

/** Run SUMO then TessDS (never both at once: 2 shared cores), `repeat` times. */
function runPair(cfg: string, end: number, repeat: number, withSumo: boolean, rss: boolean, label: string) {
  const sumo: RunResult[] = [];
  const tessds: RunResult[] = [];
  for (let i = 0; i < repeat; i++) {
    const n = repeat > 1 ? ` (${i + 1}/${repeat})` : '';
    if (withSumo) {
      log(`${label}: SUMO${n}`);
      sumo.push(runSumo(cfg, end));
    }
    log(`${label}: TessDS${n}`);
    tessds.push(runTessds(cfg, end, rss));
  }
  return { sumo, tessds };
}

function compare(spec: ScenarioSpec, cfg: string, sumo: RunResult[], tessds: RunResult[]): ScenarioResult {
  const s0 = sumo[0];
  const t0 = tessds[0]!;
  const errors: Record<string, number | null> = {};
  for (const f of FIGURES) errors[f] = s0 ? (relErr(t0[f] as number, s0[f] as number) ?? null) : null;
  const fidelityOk =
    !!s0 && FIDELITY_FIGURES.every((f) => errors[f] !== null && Math.abs(errors[f]!) <= FIDELITY_TOLERANCE);
  const ratios = sumo.map((s, i) => tessds[i]!.ups / s.ups).filter(Number.isFinite);
  const medianRatio = ratios.length ? median(ratios) : null;
  return {
    spec,
    cfg,
    sumo,
    tessds,
    errors,
    fidelityOk,
    medianUps: { sumo: sumo.length ? median(sumo.map((r) => r.ups)) : null, tessds: median(tessds.map((r) => r.ups)) },
    medianRatio,
    speedOk: medianRatio === null ? null : medianRatio >= SPEEDUP_TARGET,
  };
}

function printComparison(r: ScenarioResult): void {
  const { spec } = r;
  const s = r.sumo[0]!;
  const t = r.tessds[0]!;
  out(
    `== ${spec.kind} size ${spec.size}: period ${spec.period} s, end ${spec.end} s, step ${spec.step} s, seed ${spec.seed}`,
  );
  const rows = [['figure', 'SUMO', 'TessDS', 'rel.err', 'within 10%']];
  for (const f of FIGURES) {
    const e = r.errors[f] ?? undefined;
    const gate = FIDELITY_FIGURES.includes(f);
    rows.push([
      f,
      num(s[f] as number),
      num(t[f] as number),
      pct(e),
      gate ? (e !== undefined && Math.abs(e) <= FIDELITY_TOLERANCE ? '✓' : '✗') : '',
    ]);
  }
  out(table(rows, ['l', 'r', 'r', 'r', 'l']));
  out();
  const runs = r.sumo.length > 1 ? ` (median of ${r.sumo.length})` : '';
  const speed = [
    ['speed' + runs, 'SUMO', 'TessDS', 'TessDS/SUMO', `≥ ${SPEEDUP_TARGET}×`],
    [
      'updates/s',
      ups(r.medianUps.sumo ?? NaN),
      ups(r.medianUps.tessds),
      `${r.medianRatio!.toFixed(2)}×`,
      r.speedOk ? '✓' : '✗',
    ],
    ['wall s', num(median(r.sumo.map((x) => x.wallSeconds))), num(median(r.tessds.map((x) => x.wallSeconds))), '', ''],
  ];
  out(table(speed, ['l', 'r', 'r', 'r', 'l']));
  out();
}

function fidelity(o: Options, rss: boolean): ScenarioResult[] {
  const results: ScenarioResult[] = [];
  for (const kind of o.kinds) {
    const spec: ScenarioSpec = { kind, size: SIZES[kind]!, end: o.end, ...DEFAULTS };
    const { cfg, built, seconds } = ensureScenario(spec, log);
    if (built) log(`built in ${seconds.toFixed(1)} s`);
    const { sumo, tessds } = runPair(cfg, spec.end, o.repeat, true, rss, `${kind}-${spec.size}`);
    const r = compare(spec, cfg, sumo, tessds);
    printComparison(r);
    results.push(r);
  }
  return results;
}

function scale(o: Options, rss: boolean) {
  const spec = SCALE;
  const trips = Math.round(spec.end / spec.period);
  log(
    `scale scenario: ${spec.size}×${spec.size} grid, a trip every ${spec.period} s for ${spec.end} s (${trips} trips)`,
  );
  const { cfg, built, seconds } = ensureScenario(spec, (m) => {
    log(m);
    log(`netgenerate, then randomTrips + duarouter routing ${trips} trips: ~10 min on 2 cores, once (cached)`);
  });
  if (built) log(`built in ${seconds.toFixed(1)} s`);
  else log(`using cached ${cfg}`);
  const { sumo, tessds } = runPair(cfg, spec.end, 1, !!o.scaleSumo, rss, `scale ${spec.kind}-${spec.size}`);
  const t = tessds[0]!;
  out(
    `== scale: ${spec.kind} ${spec.size}×${spec.size}, period ${spec.period} s, end ${spec.end} s, step ${spec.step} s, seed ${spec.seed}`,
  );
  const rows = [
    ['scale run', 'TessDS'],
    ['vehicles loaded / inserted', `${t.loaded} / ${t.inserted}`],
    ['arrived / running / waiting', `${t.arrived} / ${t.running} / ${t.waiting}`],
    ['vehicle updates', num(t.vehicleUpdates as number)],
    ['updates/s', ups(t.ups)],
    ['wall s (load + run)', num(t.wallSeconds)],
    ['wall s (process)', num(t.processSeconds)],
    ['peak RSS', rss ? kib(t.peakRssKiB) : "n/a (install the 'time' package)"],
  ];
  out(table(rows, ['l', 'r']));
  out();
  if (!sumo.length) return { spec, cfg, tessds: t };
  const r = compare(spec, cfg, sumo, tessds);
  printComparison(r);
  return { spec, cfg, tessds: t, comparison: r };
}

function main(): void {
  const o = parseOptions();
  const missing = missingSumoTools();
  if (missing.length) {
    process.stderr.write(`bench: ${missing.join(', ')} not found; install with: apt-get install -y sumo sumo-tools\n`);
    process.exit(2);
  }
  const rss = hasGnuTime();
  out(`TessDS bench — ${new Date().toISOString()}, node ${process.version}, ${sumoVersion()}, ${cpus().length} CPUs`);
  out('shared 2-core machine: compare ratios, not absolute times');
  out(
    `acceptance: arrived, meanDuration, meanRouteLength within ${FIDELITY_TOLERANCE}% of SUMO; updates/s ≥ ${SPEEDUP_TARGET}× SUMO`,
  );
  out();

  const scenarios = o.onlyScale || o.onlyReal ? [] : fidelity(o, rss);
  const real = o.onlyScale || o.skipReal ? [] : realGroup(out, log, rss);
  const scaleResult = o.skipScale || o.onlyReal ? undefined : scale(o, rss);

  if (scenarios.length) {
    const rows = [['scenario', `fidelity ≤ ${FIDELITY_TOLERANCE}%`, 'TessDS/SUMO', `≥ ${SPEEDUP_TARGET}×`]];
    for (const r of scenarios) {
      rows.push([
        `${r.spec.kind}-${r.spec.size}`,
        r.fidelityOk ? '✓' : '✗',
        `${r.medianRatio!.toFixed(2)}×`,
        r.speedOk ? '✓' : '✗',
      ]);
    }
    out('== acceptance');
    out(table(rows, ['l', 'l', 'r', 'l']));
    out();
  }
  if (o.json) {
    const doc = {
      date: new Date().toISOString(),
      node: process.version,
      sumo: sumoVersion(),
      cpus: cpus().length,
      options: o,
      scenarios,
      real,
      scale: scaleResult,
    };
    writeFileSync(o.json, JSON.stringify(doc, null, 2) + '\n');
    log(`wrote ${o.json}`);
  }
}

try {
  main();
} catch (e) {
  if (!(e instanceof BenchError)) throw e;
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(2);
}
