/**
 * The commands of distributed mode: processes on any hosts sharing a store (Redis, or file: on one
 * machine). `master` (run two or more: one leads), `worker`, `submit`, `status`, `wait`, `resume`.
 * Their options; what they do is in distributed-commands.ts, loaded only when one of them runs.
 */
import type { Command } from 'commander';
import { numberOption } from './options.js';

const LEASE_HELP =
  'lease of this process in the store, ms: it is declared dead this long after its last renewal (default 1000)';
const HEARTBEAT_HELP = 'renew the lease (and look for the leader) every this many ms (default 250)';

const SECRET_HELP =
  'the cluster secret every master and worker link proves it holds (default: $TESSDS_CLUSTER_SECRET; without either the links are not authenticated)';
const TOKEN_HELP =
  'the bearer token of the --http control API (default: $TESSDS_TOKEN; without either the API listens on loopback only)';

const commands = () => import('./distributed-commands.js');

export function registerDistributed(program: Command): void {
  program
    .command('master')
    .description('a master of distributed mode: run two or more; one leads (lease with epoch), the others stand by')
    .option('--store <url>', 'the shared store: redis://host:port (or file:DIR on one machine)')
    .option(
      '--listen <host[:port]>',
      'address workers reach this master on while it leads (default 127.0.0.1, any free port)',
      '127.0.0.1',
    )
    .option(
      '--http <port>',
      'serve the control API on this port: GET /api/status, /api/network, /api/timeline ?plan=NAME, GET /metrics and, while leading, POST /api/commands?plan=NAME',
      numberOption({ integer: true, min: 0 }),
    )
    .option('--lease-ms <ms>', LEASE_HELP, numberOption({ integer: true, positive: true }))
    .option('--heartbeat-ms <ms>', HEARTBEAT_HELP, numberOption({ integer: true, positive: true }))
    .option('--secret-file <file>', SECRET_HELP)
    .option(
      '--tls-cert <file>',
      "TLS for the links between master and workers (between hosts): this process's certificate (PEM); with --tls-key and --tls-ca (default: $TESSDS_TLS_CERT)",
    )
    .option('--tls-key <file>', 'the key of --tls-cert (PEM; default: $TESSDS_TLS_KEY)')
    .option('--tls-ca <file>', "the CA every peer's certificate must be signed by (PEM; default: $TESSDS_TLS_CA)")
    .option('--token-file <file>', TOKEN_HELP)
    .option(
      '--http-host <host>',
      'address the control API listens on (default: the --listen host; any other than loopback needs a token)',
    )
    .action(
      async (opts: {
        store?: string;
        listen: string;
        http?: number;
        leaseMs?: number;
        heartbeatMs?: number;
        secretFile?: string;
        tokenFile?: string;
        httpHost?: string;
        tlsCert?: string;
        tlsKey?: string;
        tlsCa?: string;
      }) => (await commands()).masterCommand(opts),
    );

  program
    .command('worker')
    .description('a worker of distributed mode: registers in the store, follows the leader, hosts parts it is given')
    .option('--store <url>', 'the shared store: redis://host:port (or file:DIR on one machine)')
    .option(
      '--listen <host[:port]>',
      'address other workers reach this one on; port for their border messages (default 127.0.0.1, any free port)',
      '127.0.0.1',
    )
    .option('--lease-ms <ms>', LEASE_HELP, numberOption({ integer: true, positive: true }))
    .option('--heartbeat-ms <ms>', HEARTBEAT_HELP, numberOption({ integer: true, positive: true }))
    .option('--secret-file <file>', SECRET_HELP)
    .option(
      '--tls-cert <file>',
      "TLS for the links between master and workers (between hosts): this process's certificate (PEM); with --tls-key and --tls-ca (default: $TESSDS_TLS_CERT)",
    )
    .option('--tls-key <file>', 'the key of --tls-cert (PEM; default: $TESSDS_TLS_KEY)')
    .option('--tls-ca <file>', "the CA every peer's certificate must be signed by (PEM; default: $TESSDS_TLS_CA)")
    .action(
      async (opts: {
        store?: string;
        listen: string;
        leaseMs?: number;
        heartbeatMs?: number;
        secretFile?: string;
        tlsCert?: string;
        tlsKey?: string;
        tlsCa?: string;
      }) => (await commands()).workerCommand(opts),
    );

  program
    .command('submit')
    .description('store a scenario as a plan for the masters to run (distributed mode)')
    .argument('<scenario>', 'a SUMO .sumocfg file or a TessDS JSON scenario')
    .option('--store <url>', 'the shared store: redis://host:port (or file:DIR)')
    .option('--plan <name>', 'name of the plan (letters, digits, "_", "-", ".")')
    .option('--workers <n>', 'workers to run it on (default 2)', numberOption({ integer: true, positive: true }))
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
    .option('--partition-map <file>', 'your own junction → part map')
    .option('--save-partition <file>', 'write the junction → part map of the plan (the --partition-map format)')
    .option('--region <region>', 'simulate only a sub-network (edge ids, a file of edge ids, or a box)')
    .option('--begin <s>', 'simulation begin time, s', numberOption())
    .option('--end <s>', 'simulation end time, s (required unless the scenario has one)', numberOption())
    .option('--step <dt>', 'step length, s', numberOption({ positive: true }))
    .option('--seed <k>', 'random seed, an integer', numberOption({ integer: true }))
    .option('--time-to-teleport <s>', 'teleport a vehicle stuck this long; 0 disables', numberOption({ min: 0 }))
    .option(
      '--checkpoint-every <steps>',
      'checkpoint every N steps (default 50)',
      numberOption({ integer: true, positive: true }),
    )
    .option(
      '--realtime-factor <f>',
      'simulate at most F simulated seconds per wall-clock second',
      numberOption({ positive: true }),
    )
    .action(async (scenario: string, opts: Record<string, unknown>) =>
      (await commands()).submitCommand(scenario, opts),
    );

  program
    .command('status')
    .description('the state of a plan: step, state, workers, leader')
    .option('--store <url>', 'the shared store')
    .option('--plan <name>', 'the plan')
    .option('--json', 'print the status JSON {step, state, workers, leader: {pid, host, epoch}}')
    .action(async (opts: { store?: string; plan?: string; json?: boolean }) => (await commands()).statusCommand(opts));

  const waitCommand = (name: 'wait' | 'resume', description: string) =>
    program
      .command(name)
      .description(description)
      .option('--store <url>', 'the shared store')
      .option('--plan <name>', 'the plan')
      .option('--summary <file>', "write the summary JSON to FILE ('-': print it instead of the report)")
      .action(async (opts: { store?: string; plan?: string; summary?: string }) =>
        (await commands()).waitCommand(name, opts),
      );
  waitCommand('wait', 'wait until a plan finishes; print or write its summary');
  waitCommand(
    'resume',
    'after a total crash (every worker gone): restart a plan from its last committed checkpoint, then wait',
  );
}
