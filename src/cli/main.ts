#!/usr/bin/env node
/**
 * The `tessds` command. User errors (bad input, bad flags) print one line and exit with code 2;
 * anything else is a bug: one line too, the stack only with TESSDS_DEBUG=1.
 *
 * Start-up time is paid by every run and every worker process, so this file defines the commands and
 * their options only (commander needs them for --help and parsing); each command's implementation is
 * imported inside its action. Keep it that way: a static import here loads its whole module graph
 * (HTTP server, metrics, Redis, ...) into every process, used or not.
 */
import { Command, CommanderError, Option } from 'commander';
import { UsageError, isUserError } from '../errors.js';
import { numberOption } from './options.js';
import { registerDistributed } from './distributed.js';
import { registerChaos } from './chaos.js';
import type { PreloadedScenario } from '../cluster/worker.js';

const program = new Command();
program
  .name('tessds')
  .description('TessDS: a distributed, fault-tolerant microscopic road-traffic simulator')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ outputError: () => {} });

program
  .command('run')
  .description(
    'simulate a scenario (SUMO .sumocfg or TessDS .json) in this process, or split into parts on worker processes (--workers, --parts)',
  )
  .argument('<scenario>', 'a SUMO .sumocfg file or a TessDS JSON scenario')
  .option('--begin <s>', 'simulation begin time, s (default: from the scenario, else 0)', numberOption())
  .option(
    '--end <s>',
    'simulation end time, s (default: from the scenario, else until every vehicle arrived)',
    numberOption(),
  )
  .option('--step <dt>', 'step length, s (default: from the scenario, else 1)', numberOption({ positive: true }))
  .option(
    '--seed <k>',
    'random seed, an integer (default: from the scenario, else 42)',
    numberOption({ integer: true }),
  )
  .option(
    '--time-to-teleport <s>',
    'teleport a vehicle stuck this long at the front of a lane; 0 disables (default 300)',
    numberOption({ min: 0 }),
  )
  .option('--summary <file>', "write the summary JSON to FILE ('-': print it instead of the report)")
  .option('--tripinfo <file>', 'write SUMO-compatible tripinfo XML to FILE')
  .option('--save-state <file>', 'write the final engine state (a snapshot) to FILE')
  .option('--load-state <file>', 'start from a snapshot written by --save-state for the same scenario')
  .option(
    '--workers <n>',
    'worker processes on this machine (an embedded cluster); default 1: this process',
    numberOption({ integer: true, positive: true }),
  )
  .option(
    '--parts <n>',
    'cut the network into N parts (default: one per worker)',
    numberOption({ integer: true, positive: true }),
  )
  .option(
    '--min-parts <n>',
    'least number of parts for the automatic choice (default 1)',
    numberOption({ integer: true, positive: true }),
  )
  .option(
    '--max-parts <n>',
    'largest number of parts for the automatic choice (default 8)',
    numberOption({ integer: true, positive: true }),
  )
  .option('--partition-map <file>', 'your own junction → part map: JSON {"junction": part} or lines "junction part"')
  .option(
    '--save-partition <file>',
    'write the junction → part map the run uses to FILE, as JSON that --partition-map reads (one process: every junction in part 0)',
  )
  .option(
    '--region <region>',
    'simulate only a sub-network: edge ids "e1,e2,...", a file of edge ids, or a box "x1,y1,x2,y2" (m)',
  )
  .option(
    '--checkpoint-every <steps>',
    'checkpoint every N steps; a lost worker is then replaced and the run goes on; in one process, tessds resume carries the run on after a crash (default 0: off)',
    numberOption({ integer: true, min: 0 }),
  )
  .option('--store <url>', 'where checkpoints go: file:DIR or redis://host:port (default: a temporary directory)')
  .option('--plan <name>', 'name of this run in the store (default: run-<pid>)')
  .option(
    '--commands <file>',
    'commands scheduled ahead, part of the run\'s inputs: a JSON list like [{"time": 120, "type": "closeLane", "lane": "e_0"}] ("time" in s or "step"; the commands of the HTTP API, plus "stop")',
  )
  .option(
    '--heartbeat-ms <ms>',
    'workers report to the master every MS milliseconds; 0: no heartbeats, a death is noticed only when a process exits (default 250)',
    numberOption({ integer: true, min: 0 }),
  )
  .option(
    '--lease-ms <ms>',
    'a worker not heard from for MS milliseconds is declared lost, killed and replaced (default 1000)',
    numberOption({ integer: true, positive: true }),
  )
  .addOption(
    new Option(
      '--inject-faults <file>',
      'chaos testing: JSON list of {step, worker, kind: cut|delay|drop, ms} network faults',
    ).hideHelp(),
  )
  .option(
    '--realtime-factor <f>',
    'simulate at most F simulated seconds per wall-clock second (default: as fast as possible)',
    numberOption({ positive: true }),
  )
  .option('--status-file <file>', 'keep FILE updated (at least every second) with {step, state, workers, leader}')
  .option(
    '--secret-file <file>',
    'the secret the links between master and workers prove they hold (default: $TESSDS_CLUSTER_SECRET, else one drawn for the run)',
  )
  .option(
    '--tls-cert <file>',
    "TLS for the links between master and workers (between hosts): this process's certificate (PEM); with --tls-key and --tls-ca (default: $TESSDS_TLS_CERT)",
  )
  .option('--tls-key <file>', 'the key of --tls-cert (PEM; default: $TESSDS_TLS_KEY)')
  .option('--tls-ca <file>', "the CA every peer's certificate must be signed by (PEM; default: $TESSDS_TLS_CA)")
  .option('--check', 'debug: after every step assert no vehicle is in two parts and inserted = running + arrived')
  .option(
    '--http <port>',
    'serve the control API, metrics and live viewer on PORT (0: any free port)',
    numberOption({ integer: true, min: 0 }),
  )
  .option(
    '--http-host <host>',
    'address the control server listens on (default 127.0.0.1; any other, e.g. 0.0.0.0, needs a token)',
  )
  .option(
    '--token-file <file>',
    'the bearer token every --http route but /metrics, /healthz, /readyz needs (default: $TESSDS_TOKEN; without either the API listens on loopback only)',
  )
  .option('--http-linger', 'keep the control server up after the run until Ctrl-C (SIGINT/SIGTERM)')
  .option('--log-file <file>', 'append JSON log lines (pino: time, level, plan, worker, step, msg) to FILE')
  .option('--log-json', 'write JSON log lines to stderr (default: no logs, only the progress line and report)')
  .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (default: $TESSDS_LOG_LEVEL, else info)')
  .option('--no-progress', 'no progress line on the terminal')
  .option('-q, --quiet', 'print nothing but errors and warnings')
  .action(async (scenario: string, opts: Record<string, unknown>) => {
    const { configureLinkTls } = await import('../cluster/link-tls.js');
    configureLinkTls(opts as { tlsCert?: string; tlsKey?: string; tlsCa?: string }); // before any worker starts
    const { formatSummary, runCommand } = await import('./run.js');
    await runCommand(scenario, {
      begin: opts.begin as number | undefined,
      end: opts.end as number | undefined,
      step: opts.step as number | undefined,
      seed: opts.seed as number | undefined,
      timeToTeleport: opts.timeToTeleport as number | undefined,
      summary: opts.summary as string | undefined,
      tripinfo: opts.tripinfo as string | undefined,
      saveState: opts.saveState as string | undefined,
      loadState: opts.loadState as string | undefined,
      workers: opts.workers as number | undefined,
      parts: opts.parts as number | undefined,
      minParts: opts.minParts as number | undefined,
      maxParts: opts.maxParts as number | undefined,
      partitionMap: opts.partitionMap as string | undefined,
      savePartition: opts.savePartition as string | undefined,
      region: opts.region as string | undefined,
      checkpointEvery: opts.checkpointEvery as number | undefined,
      store: opts.store as string | undefined,
      plan: opts.plan as string | undefined,
      realtimeFactor: opts.realtimeFactor as number | undefined,
      commands: opts.commands as string | undefined,
      heartbeatMs: opts.heartbeatMs as number | undefined,
      leaseMs: opts.leaseMs as number | undefined,
      injectFaults: opts.injectFaults as string | undefined,
      statusFile: opts.statusFile as string | undefined,
      secretFile: opts.secretFile as string | undefined,
      check: opts.check === true,
      progress: opts.progress !== false && !opts.quiet,
      http: opts.http as number | undefined,
      httpHost: opts.httpHost as string | undefined,
      tokenFile: opts.tokenFile as string | undefined,
      httpLinger: opts.httpLinger === true,
      logFile: opts.logFile as string | undefined,
      logJson: opts.logJson === true,
      logLevel: opts.logLevel as string | undefined,
      onListening: (url) => {
        if (!opts.quiet) process.stderr.write(`tessds: control API and viewer at ${url}\n`);
      },
      onSummary: (summary) => {
        if (opts.summary === '-') process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        else if (!opts.quiet) process.stdout.write(formatSummary(scenario, summary) + '\n');
      },
    });
  });

program
  .command('report')
  .description(
    'write DIR/report.html: plots from the outputs a run wrote into DIR (summary.json, tripinfo.xml, status.json, partition.json)',
  )
  .argument('<dir>', "directory with the run's outputs")
  .option(
    '--scenario <file>',
    "the run's scenario, to draw the (partition) map (default: DIR/scenario.json or the one .sumocfg in DIR)",
  )
  .option('-o, --output <file>', 'write the report here (default: DIR/report.html)')
  .action(async (dir: string, opts: { scenario?: string; output?: string }) => {
    const { reportCommand } = await import('./report.js');
    const out = reportCommand(dir, opts);
    process.stdout.write(`tessds: report written to ${out}\n`);
  });

registerDistributed(program);
registerChaos(program);

// internal: a worker of the embedded cluster, started by `run --workers N`
program
  .command('worker-embedded', { hidden: true })
  .requiredOption('--master <host:port>', 'the master to report to; "stdin": read it from stdin (a pre-started worker)')
  .requiredOption('--id <n>', 'worker id', numberOption({ integer: true, min: 0 }))
  .requiredOption('--plan <name>', 'the run its links are bound to (the secret comes in TESSDS_CLUSTER_SECRET)')
  .action(async (opts: { master: string; id: number; plan: string }) => {
    const { takeHandedSecret } = await import('../cluster/secret.js');
    const secret = takeHandedSecret();
    if (!secret) throw new UsageError('worker-embedded is started by tessds run, which hands it TESSDS_CLUSTER_SECRET');
    const auth = { secret, plan: opts.plan, epoch: 1 };
    // a pre-started worker loads its code while the master reads the scenario
    const modules = Promise.all([
      import('../cluster/worker.js'),
      import('../control/positions.js'),
      import('../control/log.js'),
    ]);
    const [{ runWorker, preloadScenario }, { makeFrameSampler }, { workerLogFactory }] = await modules;
    let preloaded: PreloadedScenario | undefined;
    let master = opts.master;
    if (master === 'stdin') {
      const { readMasterAddress, takeHandedScenario } = await import('../cluster/prestart.js');
      const address = await readMasterAddress((preload) => {
        const handed = takeHandedScenario(preload);
        if (handed) preloaded = preloadScenario(handed);
      });
      if (address === undefined) return; // the master went away, or did not need this worker
      master = address;
    }
    const [host, port] = master.split(':');
    await runWorker({
      masterHost: host!,
      masterPort: Number(port),
      slot: opts.id,
      listenHost: '127.0.0.1',
      masterAuth: auth,
      peerAuth: auth,
      sampleFrame: makeFrameSampler(),
      makeLog: workerLogFactory(),
      preloaded,
    });
    await new Promise(() => {}); // the worker exits when the master shuts it down
  });

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return 0;
      process.stderr.write(`tessds: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (isUserError(e)) {
      process.stderr.write(`tessds: ${e.message}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(
      `tessds: internal error: ${err?.message ?? String(e)}${process.env.TESSDS_DEBUG ? `\n${err?.stack}` : ' (set TESSDS_DEBUG=1 for details)'}\n`,
    );
    return 1;
  }
}

// Exit explicitly once a command is done: an embedded cluster's sockets and child processes are
// being torn down asynchronously and must not keep a finished run waiting. (Writes to pipes and files
// are synchronous on POSIX, so nothing printed is lost.)
void main(process.argv).then((code) => process.exit(code));
