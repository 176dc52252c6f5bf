/**
 * `tessds chaos <scenario>`: a fault-free reference run, then the same run on an embedded cluster
 * under a seeded schedule of faults; compares state hashes and vehicle counts and writes
 * chaos-report.json and chaos-report.md. Exit 0 when the run under faults ended exactly where the
 * reference did, 1 when not, 2 on bad flags. `--distributed`: the run under faults is a plan on
 * 2 masters and N + 1 workers instead (src/chaos/distributed.ts), with leader kills.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import { FaultKinds, type FaultKind } from '../chaos/schedule.js';
import { numberOption } from './options.js';

function kindsOption(value: string): FaultKind[] {
  const kinds = value
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  for (const k of kinds)
    if (!(FaultKinds as readonly string[]).includes(k))
      throw new InvalidArgumentError(`"${k}" is not a fault kind (${FaultKinds.join(', ')}).`);
  if (kinds.length === 0) throw new InvalidArgumentError('give at least one fault kind.');
  return kinds as FaultKind[];
}

export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description(
      'run a scenario fault-free and under a seeded schedule of faults; compare state hashes and report every fault',
    )
    .argument('<scenario>', 'a SUMO .sumocfg file or a TessDS JSON scenario')
    .option(
      '--workers <n>',
      'worker processes of the run under faults, ≥ 2 (default 3)',
      numberOption({ integer: true, min: 2 }),
      3,
    )
    .option('--faults <k>', 'number of faults to inject (default 10)', numberOption({ integer: true, min: 0 }), 10)
    .option('--seed <s>', 'seed of the fault schedule (default 1)', numberOption({ integer: true }), 1)
    .option(
      '--store <url>',
      'checkpoint store: file:DIR or redis://host:port (default: a redis-server of our own if installed, so Redis can be restarted; else a temporary file store)',
    )
    .option(
      '--checkpoint-every <steps>',
      'checkpoint every N steps; 0 = no recovery (a fault then fails the run) (default 40)',
      numberOption({ integer: true, min: 0 }),
      40,
    )
    .option(
      '--report <dir>',
      'write chaos-report.json and chaos-report.md into DIR (default: the current directory)',
      '.',
    )
    .option('--end <s>', 'simulation end time, s (default: from the scenario)', numberOption())
    .option(
      '--realtime-factor <f>',
      'pace of the run under faults, simulated s per wall s (default: chosen so the run lasts as long as the schedule)',
      numberOption({ positive: true }),
    )
    .option(
      '--spacing-ms <ms>',
      'least quiet time after each fault before the next, ms (default 4000)',
      numberOption({ integer: true, min: 0 }),
      4000,
    )
    .option(
      '--kinds <list>',
      `only these fault kinds, comma-separated: ${FaultKinds.join(', ')} (default: every kind available)`,
      kindsOption,
    )
    .option(
      '--max-kill <n>',
      'most workers SIGKILLed at once (default min(2, workers − 1))',
      numberOption({ integer: true, positive: true }),
    )
    .option(
      '--heartbeat-ms <ms>',
      'worker heartbeat interval passed to the run (default 250)',
      numberOption({ integer: true, min: 0 }),
    )
    .option(
      '--lease-ms <ms>',
      'worker lease passed to the run (default 1000)',
      numberOption({ integer: true, positive: true }),
    )
    .option(
      '--distributed',
      'run under faults in distributed mode: its own redis-server, 2 `tessds master` + workers + 1 spare `tessds worker`; kinds kill-workers, stop-worker, kill-leader, restart-store',
    )
    .option('-q, --quiet', 'print only the verdict line')
    .action(async (scenario: string, opts: Record<string, unknown>) => {
      const quiet = opts.quiet === true;
      // loaded here, not at the top: every tessds process imports this file for the options only
      const [{ runChaos }, { runDistributedChaos }, { markdownTable }] = await Promise.all([
        import('../chaos/runner.js'),
        import('../chaos/distributed.js'),
        import('../chaos/report.js'),
      ]);
      const { report, files } = await (opts.distributed === true ? runDistributedChaos : runChaos)({
        scenario,
        workers: opts.workers as number,
        faults: opts.faults as number,
        seed: opts.seed as number,
        store: opts.store as string | undefined,
        checkpointEvery: opts.checkpointEvery as number,
        reportDir: resolve(opts.report as string),
        end: opts.end as number | undefined,
        realtimeFactor: opts.realtimeFactor as number | undefined,
        spacingMs: opts.spacingMs as number,
        kinds: opts.kinds as FaultKind[] | undefined,
        maxSimultaneousKills: opts.maxKill as number | undefined,
        heartbeatMs: opts.heartbeatMs as number | undefined,
        leaseMs: opts.leaseMs as number | undefined,
        cli: process.argv[1]!,
        log: (line) => {
          if (!quiet) process.stderr.write(`tessds chaos: ${line}\n`);
        },
      });
      const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
      if (!quiet) {
        process.stdout.write(markdownTable(report.faults) + '\n\n');
        for (const [k, v] of Object.entries(report.byKind))
          process.stdout.write(
            `${k}: ${v.count} injected, median detect ${s(v.medianDetectMs)}, median recover ${s(v.medianRecoverMs)}\n`,
          );
        for (const n of report.notes) process.stdout.write(`note: ${n}\n`);
        process.stdout.write(`report: ${files.json}, ${files.md}\n`);
      }
      process.stdout.write(
        `${report.verdict.toUpperCase()}: ${report.faultsInjected}/${report.faultsPlanned} faults, hashes ${report.hashEqual ? 'equal' : 'DIFFERENT'}, ` +
          `${report.vehiclesLost} vehicles lost, ${report.vehiclesDuplicated} duplicated, median detect ${s(report.medianDetectMs)}, median recover ${s(report.medianRecoverMs)}\n`,
      );
      if (report.verdict !== 'pass') process.exit(1);
    });
}
