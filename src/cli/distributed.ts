/**
 * The commands of distributed mode: processes on any hosts sharing a store (Redis, or file: on one
 * machine). `master` (run two or more: one leads), `worker`, `submit`, `status`, `wait`, `resume`.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadScenario } from '../io/scenario.js';
import { Network } from '../sim/network.js';
import { Demand } from '../sim/demand.js';
import type { Summary } from '../sim/summary.js';
import { loadPartitionMap, makePartition } from '../partition/plan.js';
import { applyRegion, parseRegion } from '../partition/region.js';
import { StoreError, type Store } from '../cluster/store/store.js';
import { checkPlanName, json, key, openCluster, readJson, type PlanRecord, type PlanState } from '../cluster/distributed/layout.js';
import { readStatus, runMaster } from '../cluster/distributed/master.js';
import type { MasterView } from '../cluster/distributed/master-view.js';
import { runAgent } from '../cluster/distributed/agent.js';
import type { DeskCommand } from '../cluster/command-desk.js';
import { parseCommand } from '../control/run-control.js';
import { serveMasterHttp } from '../control/master-http.js';
import { simCommandParser } from '../control/sim-commands.js';
import { numberOption } from './options.js';
import { formatSummary } from './run.js';

const LEASE_HELP = 'lease of this process in the store, ms: it is declared dead this long after its last renewal (default 1000)';
const HEARTBEAT_HELP = 'renew the lease (and look for the leader) every this many ms (default 250)';

/** Opens the cluster namespace; an unreachable store is the user's to fix (one line, exit 2). */
async function open(url: string | undefined): Promise<Store> {
  if (!url) throw new UsageError('--store is required: file:DIR or redis://host:port');
  try {
    return await openCluster(url, 5000);
  } catch (e) {
    if (e instanceof StoreError) throw new UsageError(`--store ${url}: ${e.message}`);
    throw e;
  }
}

function timings(opts: { leaseMs?: number; heartbeatMs?: number }): { leaseMs: number; heartbeatMs: number } {
  const leaseMs = opts.leaseMs ?? 1000;
  const heartbeatMs = opts.heartbeatMs ?? Math.min(250, Math.floor(leaseMs / 4));
  if (heartbeatMs >= leaseMs) throw new UsageError(`--heartbeat-ms ${heartbeatMs} must be below --lease-ms ${leaseMs}`);
  return { leaseMs, heartbeatMs };
}

/** A posted command body as the leader's desk takes it (throws RequestError naming what is wrong). */
function deskCommand(body: unknown): DeskCommand {
  const p = parseCommand(body, simCommandParser);
  return p.kind === 'sim' ? { type: 'sim', command: p.command } : p.command;
}

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

export function registerDistributed(program: Command): void {
  program
    .command('master')
    .description('a master of distributed mode: run two or more; one leads (lease with epoch), the others stand by')
    .option('--store <url>', 'the shared store: redis://host:port (or file:DIR on one machine)')
    .option('--listen <host[:port]>', 'address workers reach this master on while it leads (default 127.0.0.1, any free port)', '127.0.0.1')
    .option('--http <port>', 'serve the control API on this port: GET /api/status, /api/network, /api/timeline ?plan=NAME, GET /metrics and, while leading, POST /api/commands?plan=NAME', numberOption({ integer: true, min: 0 }))
    .option('--lease-ms <ms>', LEASE_HELP, numberOption({ integer: true, positive: true }))
    .option('--heartbeat-ms <ms>', HEARTBEAT_HELP, numberOption({ integer: true, positive: true }))
    .action(async (opts: { store?: string; listen: string; http?: number; leaseMs?: number; heartbeatMs?: number }) => {
      const t = timings(opts);
      const { host, port } = hostPort(opts.listen);
      const cluster = await open(opts.store);
      const http = opts.http;
      const serveHttp = http === undefined ? undefined : (view: MasterView) => serveMasterHttp({ view, port: http, host });
      const stop = await runMaster({ cluster, storeUrl: opts.store!, listenHost: host, listenPort: port, ...t, log, serveHttp, parseCommand: deskCommand });
      // SIGTERM/SIGINT (a rolling update, ^C): hand leadership over at once instead of after the lease
      const quit = () => void stop().finally(() => process.exit(0));
      process.once('SIGTERM', quit);
      process.once('SIGINT', quit);
      await new Promise(() => {}); // runs until stopped
    });

  program
    .command('worker')
    .description('a worker of distributed mode: registers in the store, follows the leader, hosts parts it is given')
    .option('--store <url>', 'the shared store: redis://host:port (or file:DIR on one machine)')
    .option('--listen <host[:port]>', 'address other workers reach this one on; port for their border messages (default 127.0.0.1, any free port)', '127.0.0.1')
    .option('--lease-ms <ms>', LEASE_HELP, numberOption({ integer: true, positive: true }))
    .option('--heartbeat-ms <ms>', HEARTBEAT_HELP, numberOption({ integer: true, positive: true }))
    .action(async (opts: { store?: string; listen: string; leaseMs?: number; heartbeatMs?: number }) => {
      const t = timings(opts);
      const { host, port } = hostPort(opts.listen);
      const cluster = await open(opts.store);
      await runAgent({ cluster, listenHost: host, listenPort: port, ...t, log });
      await new Promise(() => {});
    });

  program
    .command('submit')
    .description('store a scenario as a plan for the masters to run (distributed mode)')
    .argument('<scenario>', 'a SUMO .sumocfg file or a TessDS JSON scenario')
    .option('--store <url>', 'the shared store: redis://host:port (or file:DIR)')
    .option('--plan <name>', 'name of the plan (letters, digits, "_", "-", ".")')
    .option('--workers <n>', 'workers to run it on (default 2)', numberOption({ integer: true, positive: true }))
    .option('--parts <n>', 'cut the network into N parts (default: chosen from network size and workers)', numberOption({ integer: true, positive: true }))
    .option('--min-parts <n>', 'least number of parts for the automatic choice (default 1)', numberOption({ integer: true, positive: true }))
    .option('--max-parts <n>', 'largest number of parts for the automatic choice (default 8)', numberOption({ integer: true, positive: true }))
    .option('--partition-map <file>', 'your own junction → part map')
    .option('--region <region>', 'simulate only a sub-network (edge ids, a file of edge ids, or a box)')
    .option('--begin <s>', 'simulation begin time, s', numberOption())
    .option('--end <s>', 'simulation end time, s (required unless the scenario has one)', numberOption())
    .option('--step <dt>', 'step length, s', numberOption({ positive: true }))
    .option('--seed <k>', 'random seed, an integer', numberOption({ integer: true }))
    .option('--time-to-teleport <s>', 'teleport a vehicle stuck this long; 0 disables', numberOption({ min: 0 }))
    .option('--checkpoint-every <steps>', 'checkpoint every N steps (default 50)', numberOption({ integer: true, positive: true }))
    .option('--realtime-factor <f>', 'simulate at most F simulated seconds per wall-clock second', numberOption({ positive: true }))
    .action(async (scenario: string, opts: Record<string, unknown>) => {
      const plan = required(opts.plan as string | undefined, '--plan');
      checkPlanName(plan);
      let spec = loadScenario(scenario);
      if (opts.begin !== undefined) spec.begin = opts.begin as number;
      if (opts.end !== undefined) spec.end = opts.end as number;
      if (opts.step !== undefined) spec.stepLength = opts.step as number;
      if (opts.seed !== undefined) spec.seed = opts.seed as number;
      if (opts.timeToTeleport !== undefined) spec.timeToTeleport = opts.timeToTeleport as number;
      if (spec.end === undefined) throw new UsageError('a plan needs an end time: give --end (or <end> in the scenario)');
      if (spec.end < spec.begin) throw new UsageError(`--end ${spec.end} is before the begin time ${spec.begin}`);
      if (opts.region !== undefined) spec = applyRegion(spec, parseRegion(opts.region as string));
      const workers = (opts.workers as number | undefined) ?? 2;
      const net = new Network(spec.net);
      const demand = new Demand(spec.demand, net, { stepLength: spec.stepLength, begin: spec.begin, end: spec.end, seed: spec.seed });
      const p = makePartition(net, demand, {
        workers,
        parts: opts.parts as number | undefined,
        minParts: opts.minParts as number | undefined,
        maxParts: opts.maxParts as number | undefined,
        map: opts.partitionMap ? loadPartitionMap(opts.partitionMap as string) : undefined,
      });
      const slots = Math.min(workers, p.parts);
      const rec: PlanRecord = {
        name: plan,
        spec,
        slots,
        parts: p.parts,
        junctionPart: Array.from(p.junctionPart),
        partSlot: Array.from({ length: p.parts }, (_, q) => q % slots),
        checkpointEvery: (opts.checkpointEvery as number | undefined) ?? 50,
        realtimeFactor: opts.realtimeFactor as number | undefined,
        submittedAt: Date.now(),
      };
      const cluster = await open(opts.store as string | undefined);
      try {
        if (await cluster.get(key.plan(plan))) throw new UsageError(`--plan ${plan}: a plan of that name exists in ${cluster.url} already`);
        await cluster.put(key.plan(plan), json(rec));
      } finally {
        await cluster.close();
      }
      process.stdout.write(`submitted plan ${plan}: ${p.parts} part(s) on ${slots} worker(s)\n`);
    });

  program
    .command('status')
    .description('the state of a plan: step, state, workers, leader')
    .option('--store <url>', 'the shared store')
    .option('--plan <name>', 'the plan')
    .option('--json', 'print the status JSON {step, state, workers, leader: {pid, host, epoch}}')
    .action(async (opts: { store?: string; plan?: string; json?: boolean }) => {
      const plan = checkPlanName(required(opts.plan, '--plan'));
      const cluster = await open(opts.store);
      try {
        const s = await readStatus(cluster, plan);
        if (!s) throw new UsageError(`--plan ${plan}: no such plan in ${cluster.url}`);
        if (opts.json) return void process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        const leader = s.leader as { pid: number; host: string; epoch: number } | null;
        const lines = [
          `plan ${plan}: ${String(s.state)} at step ${String(s.step)}${s.message ? ` (${String(s.message)})` : ''}`,
          `  leader: ${leader ? `pid ${leader.pid} on ${leader.host}, epoch ${leader.epoch}` : 'none'}`,
          ...((s.workers as { id: number; pid: number; host: string; parts: number[]; step: number; state: string }[]) ?? []).map(
            (w) => `  worker ${w.id} (pid ${w.pid} on ${w.host}): parts ${w.parts.join(',')}, step ${w.step}, ${w.state}`,
          ),
        ];
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        await cluster.close();
      }
    });

  const waitCommand = (name: 'wait' | 'resume', description: string) =>
    program
      .command(name)
      .description(description)
      .option('--store <url>', 'the shared store')
      .option('--plan <name>', 'the plan')
      .option('--summary <file>', "write the summary JSON to FILE ('-': print it instead of the report)")
      .action(async (opts: { store?: string; plan?: string; summary?: string }) => {
        const plan = checkPlanName(required(opts.plan, '--plan'));
        const cluster = await open(opts.store);
        try {
          if (!(await cluster.get(key.plan(plan)))) throw new UsageError(`--plan ${plan}: no such plan in ${cluster.url}`);
          if (name === 'resume') await cluster.put(key.resume(plan), json({ at: Date.now() }));
          const summary = await waitFor(cluster, plan);
          if (opts.summary === '-') process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
          else {
            if (opts.summary) writeFileSync(opts.summary, JSON.stringify(summary, null, 2) + '\n');
            process.stdout.write(formatSummary(`plan ${plan}`, summary) + '\n');
          }
        } finally {
          await cluster.close();
        }
      });
  waitCommand('wait', 'wait until a plan finishes; print or write its summary');
  waitCommand('resume', 'after a total crash (every worker gone): restart a plan from its last committed checkpoint, then wait');
}

/** "host" or "host:port" (port 0..65535; 0 as none: any free port). */
function hostPort(v: string): { host: string; port?: number } {
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(v);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || (port !== undefined && !(port >= 0 && port <= 65535))) throw new UsageError(`--listen ${v}: expected HOST or HOST:PORT (PORT 0: any free port)`);
  if (port === 0) return { host: m[1]! };
  return { host: m[1]!, port };
}

function required(v: string | undefined, flag: string): string {
  if (v === undefined) throw new UsageError(`${flag} is required`);
  return v;
}

/** Polls the plan state until finished (its summary) or failed (an error, exit 1). */
async function waitFor(cluster: Store, plan: string): Promise<Summary> {
  let told = false;
  for (;;) {
    const st = await readJson<PlanState>(cluster, key.state(plan));
    if (st?.state === 'finished') {
      const s = await readJson<Summary>(cluster, key.summary(plan));
      if (s) return s;
    }
    if (st?.state === 'failed') {
      process.stderr.write(`tessds: plan ${plan} failed: ${st.message ?? 'no reason recorded'}\n`);
      process.exit(1);
    }
    if (st?.state === 'interrupted' && !told) {
      process.stderr.write(`tessds: plan ${plan} is interrupted (every worker was lost); waiting for "tessds resume --plan ${plan}"\n`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
