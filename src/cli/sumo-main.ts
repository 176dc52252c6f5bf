#!/usr/bin/env node
/**
 * `tessds-sumo`: TessDS behind SUMO's command line and TraCI protocol, so that programs written for
 * SUMO (traci.start(["sumo", ...]), sumo-rl, RESCO) run on TessDS unchanged. Without --remote-port it
 * runs the scenario to its end, like `sumo`. Errors as in `tessds`: one line, exit code 2.
 */
import { writeFileSync } from 'node:fs';
import { isUserError, UsageError } from '../errors.js';
import { parseSumoArgs, sumoHelp, type SumoArgs } from './sumo-args.js';

async function main(argv: string[]): Promise<number> {
  try {
    const args = parseSumoArgs(argv);
    if (args.help) {
      process.stdout.write(sumoHelp());
      return 0;
    }
    if (args.version) {
      process.stdout.write('tessds-sumo 0.1.0 (TraCI API 20, as SUMO 1.15.0)\n');
      return 0;
    }
    for (const w of args.warnings) process.stderr.write(`tessds-sumo: warning: ${w}\n`);
    await run(args);
    return 0;
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`tessds-sumo: ${(e as Error).message}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(
      `tessds-sumo: internal error: ${err?.message ?? String(e)}${process.env.TESSDS_DEBUG ? `\n${err?.stack}` : ' (set TESSDS_DEBUG=1 for details)'}\n`,
    );
    return 1;
  }
}

async function run(args: SumoArgs): Promise<void> {
  const { loadSumoConfig, sumoScenario, SCENARIO_DEFAULTS } = await import('../io/sumo/config.js');
  const { prepareSpec } = await import('./prepare.js');
  const { checkOutputPath } = await import('../io/files.js');
  for (const [option, path] of [
    ['--tripinfo-output', args.tripinfoOutput],
    ['--summary-output', args.summaryOutput],
    ['--fcd-output', args.fcdOutput],
    ['--tessds-summary', args.tessdsSummary],
    ['--tessds-commands', args.tessdsCommands],
  ] as const)
    if (path !== undefined) checkOutputPath(path, option);
  if (args.numClients < 1) throw new UsageError(`option --num-clients: must be at least 1, got ${args.numClients}`);
  if (args.workers !== undefined && args.workers < 1)
    throw new UsageError(`option --workers: must be at least 1, got ${args.workers}`);
  if ((args.workers ?? 1) > 1) return runPartitioned(args);
  // the config file, then the command line's files over it (SUMO: the command line wins)
  let source: string;
  let cfg;
  if (args.configFile !== undefined) {
    cfg = loadSumoConfig(args.configFile);
    source = args.configFile;
  } else {
    if (args.netFile === undefined) throw new UsageError('give a configuration (-c FILE) or a network (-n FILE)');
    cfg = { netFile: args.netFile, routeFiles: [], additionalFiles: [], routeSteps: 200, ...SCENARIO_DEFAULTS };
    delete (cfg as { seed?: number }).seed;
    delete (cfg as { timeToTeleport?: number }).timeToTeleport;
    source = args.netFile;
  }
  if (args.netFile !== undefined) cfg.netFile = args.netFile;
  if (args.routeFiles !== undefined) cfg.routeFiles = args.routeFiles;
  if (args.additionalFiles !== undefined) cfg.additionalFiles = args.additionalFiles;
  if (args.begin !== undefined) cfg.begin = args.begin;
  const spec = prepareSpec(sumoScenario(cfg), source, {
    begin: args.begin,
    // SUMO's -1: no end
    end: args.end !== undefined && args.end >= 0 ? args.end : undefined,
    step: args.stepLength,
    seed: args.random ? Math.floor(Math.random() * 2 ** 31) : args.seed,
    timeToTeleport: args.timeToTeleport,
  });
  if (args.end !== undefined && args.end < 0) delete spec.end;
  const { Engine } = await import('../sim/engine.js');
  const t0 = performance.now();
  const engine = new Engine(spec);
  if (!args.noWarnings) {
    const warnings = engine.demand.warnings;
    for (const w of warnings.slice(0, 20)) process.stderr.write(`tessds-sumo: warning: ${w}\n`);
    if (warnings.length > 20) process.stderr.write(`tessds-sumo: warning: ... and ${warnings.length - 20} more\n`);
  }
  const { StepOutputs } = await import('../control/sumo-outputs.js');
  const files = { summary: args.summaryOutput, fcd: args.fcdOutput };
  const tStep = performance.now();
  let script: unknown[] = [];
  if (args.remotePort !== undefined) {
    const [{ serveTraci }, { TraciSession }] = await Promise.all([
      import('../control/traci/server.js'),
      import('../control/traci/session.js'),
    ]);
    const session = new TraciSession(engine);
    const outputs = new StepOutputs(engine, files, session.ctx.view);
    if (outputs.active)
      session.stepHook = { before: () => outputs.beforeStep(false), after: () => outputs.afterStep() };
    await serveTraci(session, {
      port: args.remotePort,
      numClients: args.numClients,
      warn: (line) => process.stderr.write(`tessds-sumo: ${line}\n`),
    });
    outputs.close();
    script = session.script;
  } else {
    const outputs = new StepOutputs(engine, files);
    if (outputs.active) {
      outputs.beforeStep();
      engine.run(() => {
        outputs.afterStep();
        outputs.beforeStep();
      });
    } else engine.run();
    outputs.close();
  }
  const stepSeconds = (performance.now() - tStep) / 1000;
  if (args.tessdsCommands !== undefined) writeFileSync(args.tessdsCommands, JSON.stringify(script, null, 1) + '\n');
  const { dumpState } = await import('../sim/dump.js');
  const dump = dumpState(engine);
  if (args.tripinfoOutput !== undefined) {
    const { writeTripinfo } = await import('../io/tripinfo.js');
    await writeTripinfo(
      { trips: dump.trips, demand: engine.demand, net: engine.net, begin: spec.begin, stepLength: spec.stepLength },
      args.tripinfoOutput,
    );
  }
  if (args.tessdsSummary !== undefined) {
    const { summarizeDump } = await import('../sim/summary.js');
    const summary = summarizeDump(dump, engine.demand, spec.stepLength, (performance.now() - t0) / 1000, stepSeconds);
    writeFileSync(args.tessdsSummary, JSON.stringify(summary, null, 2) + '\n');
  }
}

/**
 * `--workers N` without TraCI: the scenario on an embedded cluster, exactly as `tessds run CFG
 * --workers N` (same summary and state hash as one process). TraCI sessions and SUMO's per-step
 * outputs run in one process for now.
 */
async function runPartitioned(args: SumoArgs): Promise<void> {
  const unsupported = [
    ['--remote-port', args.remotePort],
    ['--summary-output', args.summaryOutput],
    ['--fcd-output', args.fcdOutput],
    ['--tessds-commands', args.tessdsCommands],
    ['-n', args.netFile],
    ['-r', args.routeFiles],
    ['-a', args.additionalFiles],
  ].filter(([, v]) => v !== undefined);
  if (unsupported.length > 0)
    throw new UsageError(
      `option --workers ${args.workers}: not yet with ${unsupported.map(([o]) => o).join(', ')} (a TraCI session runs in one process; a partitioned run takes -c FILE)`,
    );
  if (args.configFile === undefined) throw new UsageError('option --workers: give a configuration (-c FILE)');
  const { runCommand } = await import('./run.js');
  await runCommand(args.configFile, {
    begin: args.begin,
    end: args.end !== undefined && args.end >= 0 ? args.end : undefined,
    step: args.stepLength,
    seed: args.random ? Math.floor(Math.random() * 2 ** 31) : args.seed,
    timeToTeleport: args.timeToTeleport,
    tripinfo: args.tripinfoOutput,
    summary: args.tessdsSummary,
    workers: args.workers,
    progress: false,
  });
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
