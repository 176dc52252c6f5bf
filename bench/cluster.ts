/**
 * Partitioned runs: how much faster `--workers 2` is than one process on a 16×16 grid (whole
 * process, as a user sees it), whether both end in the same state hash, and what the border exchange
 * costs per step (serialising and applying the messages, measured in-process).
 *
 *   node dist/bench/cluster.js [--size 16] [--period 0.1] [--end 1800] [--repeat 5] [--workers 2]
 *                              [--hash-kinds grid,spider,rand] [--cfg scenario.sumocfg]
 *
 * --cfg runs a given scenario (e.g. a city built by ../shared/tools/sumo-osm-scenario) instead of the
 * grid, to --end. First it prints how much faster the scenario reader is than the full XML parser
 * alone (the reader before the scanner, src/io/xml-scan.ts) on that scenario, in-process.
 *
 * A shared 2-core machine: compare ratios within one invocation, not absolute times.
 */
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadSumoScenario } from '../src/io/sumo/config.js';
import { loadScenario } from '../src/io/scenario.js';
import { scenarioCache } from '../src/cli/prepare.js';
import { Engine } from '../src/sim/engine.js';
import { applyInbox, collectOutbox, makeLayout } from '../src/sim/partition.js';
import { makePartition } from '../src/partition/plan.js';
import { ensureScenario, missingSumoTools, ROOT, timedRun, type ScenarioSpec } from './scenarios.js';
import { median, table } from './table.js';

interface Run {
  seconds: number;
  hash: string;
  ups: number;
  /** partitioned runs (TESSDS_TIMING): ms from process start until every worker was ready */
  readyMs?: number;
  /** ms from the start signal until the last worker finished */
  runMs?: number;
  /** per worker: ms stepping (border exchange included) and ms idle waiting for neighbours */
  stepMs: number[];
  /** per worker: ms in the engine's own step, without the border exchange */
  doStepMs: number[];
  waitMs: number[];
}

function runCli(cfg: string, end: number, workers: number): Run {
  const { seconds, summary, stderr } = timedRun(cfg, end, workers, [], { ...process.env, TESSDS_TIMING: '1' });
  const ready = /\[timing\] all ready at (\d+) ms/.exec(stderr);
  const run = /\[timing\] run (\d+) ms/.exec(stderr);
  const workersTiming = [
    ...stderr.matchAll(/\[timing\] worker (\d+): stepping (\d+) ms \(doStep (\d+) ms\), waiting (\d+) ms/g),
  ].sort((a, b) => Number(a[1]) - Number(b[1]));
  const alone = /\[timing\] one process: stepping (\d+) ms/.exec(stderr);
  return {
    seconds,
    hash: summary.stateHash,
    ups: summary.ups,
    readyMs: ready ? Number(ready[1]) : undefined,
    runMs: run ? Number(run[1]) : undefined,
    stepMs: alone ? [Number(alone[1])] : workersTiming.map((m) => Number(m[2])),
    doStepMs: workersTiming.map((m) => Number(m[3])),
    waitMs: workersTiming.map((m) => Number(m[4])),
  };
}

/**
 * The scenario reader against the reader before the scanner (every file through the full XML
 * parser), and the read from the scenario cache: each a fresh process reading once, as a run does
 * (in one process, repeated reads measure the garbage collector of the reads before), interleaved,
 * medians of `rounds`.
 */
function readerSpeedUp(cfg: string, rounds: number, cacheDir: string | undefined) {
  const modes = ['full', 'scan', 'xml-full', 'xml-scan', ...(cacheDir ? ['cached'] : [])];
  const times = new Map<string, { ms: number; cpuMs: number }[]>(modes.map((m) => [m, []]));
  const script = join(ROOT, 'dist', 'bench', 'read-once.js');
  for (let i = 0; i < rounds; i++) {
    for (const mode of modes) {
      const r = spawnSync(process.execPath, [script, cfg, mode, cacheDir ?? ''], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`read-once ${mode}: ${r.stderr}`);
      times.get(mode)!.push(JSON.parse(r.stdout) as { ms: number; cpuMs: number });
    }
  }
  const ms = (mode: string) => median(times.get(mode)!.map((t) => t.ms));
  const cpu = (mode: string) => median(times.get(mode)!.map((t) => t.cpuMs));
  return {
    xmlFull: ms('xml-full'),
    xmlScan: ms('xml-scan'),
    xmlFullCpu: cpu('xml-full'),
    xmlScanCpu: cpu('xml-scan'),
    full: ms('full'),
    scan: ms('scan'),
    cached: cacheDir ? ms('cached') : NaN,
    fullCpu: cpu('full'),
    scanCpu: cpu('scan'),
    cachedCpu: cacheDir ? cpu('cached') : NaN,
  };
}

/** In-process: two parts stepping in lockstep, timing the exchange apart from the stepping. */
function exchangeCost(cfg: string, end: number, parts: number) {
  const spec = loadSumoScenario(cfg);
  spec.end = end;
  const probe = new Engine(spec);
  const plan = makePartition(probe.net, probe.demand, { parts });
  const engines = Array.from({ length: parts }, () => new Engine(spec, probe.net, probe.demand));
  const layouts = engines.map((e, p) => makeLayout(e.net, e.demand, plan.laneOwner, p, parts));
  engines.forEach((e, p) => e.setLayout(layouts[p]!));
  let inbox: Buffer[][] = engines.map(() => []);
  let exchange = 0;
  let stepping = 0;
  let bytes = 0;
  let messages = 0;
  const steps = probe.endStep!;
  for (let t = 0; t < steps; t++) {
    const next: Buffer[][] = engines.map(() => []);
    engines.forEach((e, p) => {
      const t0 = performance.now();
      applyInbox(e, layouts[p]!, inbox[p]!);
      const t1 = performance.now();
      e.doStep();
      const t2 = performance.now();
      const out = collectOutbox(e, layouts[p]!, e.outgoing);
      e.outgoing = [];
      exchange += t1 - t0 + (performance.now() - t2);
      stepping += t2 - t1;
      for (const [q, b] of out) {
        next[q]!.push(b);
        bytes += b.length;
        messages++;
      }
    });
    inbox = next;
  }
  return {
    perStepUs: (exchange * 1000) / steps / parts,
    share: exchange / (exchange + stepping),
    bytesPerStep: bytes / steps,
    messagesPerStep: messages / steps,
  };
}

function main(): number {
  const opts = new Command()
    .option('--size <n>', 'grid size', '16')
    .option('--period <s>', 'seconds between trips', '0.1')
    .option('--end <s>', 'simulated seconds', '1800')
    .option('--repeat <n>', 'pairs of runs (median reported)', '5')
    .option('--workers <n>', 'workers of the partitioned run', '2')
    .option(
      '--hash-kinds <kinds>',
      'also compare state hashes for 1..4 workers on these 600 s scenarios',
      'grid,spider,rand',
    )
    .option('--cfg <file>', 'a SUMO scenario to run instead of the grid (to --end)')
    .parse()
    .opts<{
      size: string;
      period: string;
      end: string;
      repeat: string;
      workers: string;
      hashKinds: string;
      cfg?: string;
    }>();
  const missing = missingSumoTools();
  if (missing.length) {
    process.stderr.write(`bench: missing ${missing.join(', ')}: install with: apt-get install -y sumo sumo-tools\n`);
    return 2;
  }
  const spec: ScenarioSpec = {
    kind: 'grid',
    size: Number(opts.size),
    period: Number(opts.period),
    end: Number(opts.end),
    seed: 42,
    step: 0.5,
  };
  const cfg = opts.cfg ?? ensureScenario(spec, (m) => process.stderr.write(m + '\n')).cfg;
  const workers = Number(opts.workers);
  const what = opts.cfg ?? `grid ${spec.size}×${spec.size}, a trip every ${spec.period} s`;
  console.log(`partitioned runs: ${what}, ${spec.end} s (shared 2-core machine: compare ratios, not absolute times)`);
  // the runs read the scenario through the scenario cache (unless TESSDS_SCENARIO_CACHE=off): fill it
  // first, or the first run alone would pay for writing it
  const cache = scenarioCache();
  if (cache) loadScenario(cfg, cache);
  console.log(`scenario cache: ${cache ? cache.dir : 'off'}`);
  const r = readerSpeedUp(cfg, 5, cache?.dir);
  const times = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(
    `scenario reader, one read in a fresh process (medians of 5 interleaved rounds, wall / CPU ms): ` +
      `full XML parser (the reader before) ${r.full.toFixed(0)} / ${r.fullCpu.toFixed(0)}; ` +
      `scanner ${r.scan.toFixed(0)} / ${r.scanCpu.toFixed(0)} (${times(r.full, r.scan)} / ${times(r.fullCpu, r.scanCpu)} faster)` +
      `; the XML alone ${r.xmlFull.toFixed(0)} / ${r.xmlFullCpu.toFixed(0)} → ${r.xmlScan.toFixed(0)} / ${r.xmlScanCpu.toFixed(0)} ` +
      `(${times(r.xmlFull, r.xmlScan)} / ${times(r.xmlFullCpu, r.xmlScanCpu)})` +
      (cache
        ? `; from the cache ${r.cached.toFixed(0)} / ${r.cachedCpu.toFixed(0)} (${times(r.full, r.cached)} / ${times(r.fullCpu, r.cachedCpu)})`
        : ''),
  );
  const one: Run[] = [];
  const many: Run[] = [];
  for (let i = 0; i < Number(opts.repeat); i++) {
    one.push(runCli(cfg, spec.end, 1));
    many.push(runCli(cfg, spec.end, workers));
  }
  const hashesEqual = [...one, ...many].every((r) => r.hash === one[0]!.hash);
  const t1 = median(one.map((r) => r.seconds));
  const tn = median(many.map((r) => r.seconds));
  console.log(
    table(
      [
        ['workers', 'wall s (median)', 'speed-up', 'state hash'],
        ['1', t1.toFixed(2), '1.00×', one[0]!.hash.slice(0, 16)],
        [String(workers), tn.toFixed(2), `${(t1 / tn).toFixed(2)}×`, many[0]!.hash.slice(0, 16)],
      ],
      ['r', 'r', 'r', 'l'],
    ),
  );
  // the machine's speed drifts within minutes: each pair of back-to-back runs gives one ratio
  const paired = one.map((r, i) => r.seconds / many[i]!.seconds);
  console.log(
    `speed-up of each back-to-back pair: ${paired.map((x) => x.toFixed(2)).join(' ')} (median ${median(paired).toFixed(2)}×)`,
  );
  console.log(
    `hashes equal across all ${one.length + many.length} runs: ${hashesEqual ? 'yes' : 'NO'}   (acceptance: speed-up ≥ 1.6× with 2 workers)`,
  );
  // where the partitioned run's time goes (medians over the runs)
  const m = (f: (r: Run) => number | undefined) => median(many.map(f).filter((x): x is number => x !== undefined));
  console.log(
    `${workers} workers, medians: all ready ${m((r) => r.readyMs).toFixed(0)} ms after the process started; ` +
      `run ${m((r) => r.runMs).toFixed(0)} ms, of which the busiest worker stepped ${m((r) => Math.max(...r.stepMs)).toFixed(0)} ms ` +
      `and the workers waited for neighbours ${m((r) => Math.min(...r.waitMs)).toFixed(0)}–${m((r) => Math.max(...r.waitMs)).toFixed(0)} ms`,
  );
  const perWorker = Array.from(
    { length: workers },
    (_, w) =>
      `worker ${w} stepped ${m((r) => r.stepMs[w]).toFixed(0)} ms (engine ${m((r) => r.doStepMs[w]).toFixed(0)}), waited ${m((r) => r.waitMs[w]).toFixed(0)} ms`,
  );
  const oneStep = median(one.map((r) => r.stepMs[0]).filter((x): x is number => x !== undefined));
  console.log(
    `per worker (medians): ${perWorker.join('; ')}${Number.isFinite(oneStep) ? `; one process stepped ${oneStep.toFixed(0)} ms` : ''}`,
  );
  // longer runs than CI's fixtures: the hash must not depend on the number of workers
  let allEqual = hashesEqual;
  if (opts.hashKinds) {
    const rows = [['scenario', 'workers 1', 'workers 2', 'workers 3', 'workers 4', 'equal']];
    for (const kind of opts.hashKinds.split(',')) {
      const s: ScenarioSpec = { kind, size: kind === 'grid' ? 10 : 8, period: 0.2, end: 600, seed: 42, step: 0.5 };
      const c = ensureScenario(s, (m) => process.stderr.write(m + '\n')).cfg;
      const hashes = [1, 2, 3, 4].map((w) => runCli(c, s.end, w).hash);
      const equal = hashes.every((h) => h === hashes[0]);
      allEqual &&= equal;
      rows.push([`${kind}-${s.size} 600 s`, ...hashes.map((h) => h.slice(0, 12)), equal ? 'yes' : 'NO'] as string[]);
    }
    console.log(table(rows, ['l', 'l', 'l', 'l', 'l', 'l']));
  }
  const x = exchangeCost(cfg, spec.end, workers);
  console.log(
    `border exchange per part and step: ${x.perStepUs.toFixed(0)} µs (${(100 * x.share).toFixed(1)}% of stepping), ` +
      `${(x.bytesPerStep / 1024).toFixed(1)} KiB and ${x.messagesPerStep.toFixed(1)} messages per step`,
  );
  return allEqual ? 0 : 1;
}

process.exitCode = main();
