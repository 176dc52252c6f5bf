/**
 * What the commands of distributed mode do (their options are in distributed.ts, which every tessds
 * process loads; this file and the store, master and HTTP code behind it only when such a command runs).
 */
import { writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { Network } from '../sim/network.js';
import { scenarioDemand } from '../sim/demand.js';
import type { Summary } from '../sim/summary.js';
import { loadPartitionMap, makePartition } from '../partition/plan.js';
import { savePartitionMap } from '../partition/mapfile.js';
import { prepareScenario, type ScenarioOverrides } from './prepare.js';
import { checkOutputPath } from '../io/files.js';
import { StoreError, redactUrl, type Store } from '../cluster/store/store.js';
import {
  checkPlanName,
  json,
  key,
  openCluster,
  planRecordValue,
  readJson,
  type PlanRecord,
  type PlanState,
} from '../cluster/distributed/layout.js';
import { readStatus, runMaster } from '../cluster/distributed/master.js';
import type { MasterView } from '../cluster/distributed/master-view.js';
import { runAgent } from '../cluster/distributed/agent.js';
import type { DeskCommand } from '../cluster/command-desk.js';
import { parseCommand } from '../control/run-control.js';
import { serveMasterHttp } from '../control/master-http.js';
import { simCommandParser } from '../control/sim-commands.js';
import { formatSummary } from './run.js';
import { configuredSecret, NO_SECRET_WARNING, PUBLIC_KEY } from '../cluster/secret.js';
import { checkBind, controlToken } from '../control/auth.js';
import { configureLinkTls, type LinkTlsFiles } from '../cluster/link-tls.js';

/** Opens the cluster namespace; an unreachable store is the user's to fix (one line, exit 2). */
async function open(url: string | undefined): Promise<Store> {
  if (!url) throw new UsageError('--store is required: file:DIR or redis://host:port');
  try {
    return await openCluster(url, 5000);
  } catch (e) {
    if (e instanceof StoreError) throw new UsageError(`--store ${redactUrl(url)}: ${e.message}`);
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

/** The cluster secret; without one, distributed links are not authenticated: said once (after the
 *  store opened, so that a bad flag or store stays the one line it is). */
function secretOrWarn(secretFile: string | undefined): Buffer {
  const s = configuredSecret(secretFile);
  if (s) return s;
  process.stderr.write(`${NO_SECRET_WARNING}\n`);
  return PUBLIC_KEY;
}

export async function masterCommand(
  opts: {
    store?: string;
    listen: string;
    http?: number;
    leaseMs?: number;
    heartbeatMs?: number;
    secretFile?: string;
    tokenFile?: string;
    httpHost?: string;
  } & LinkTlsFiles,
): Promise<void> {
  const t = timings(opts);
  const { host, port } = hostPort(opts.listen);
  configuredSecret(opts.secretFile); // a bad secret file is a bad flag: before anything
  configureLinkTls(opts);
  const http = opts.http;
  const token = http === undefined ? undefined : controlToken(opts.tokenFile);
  // the control API: on the --listen host with a token, else on loopback (checkBind refuses more)
  const httpHost = opts.httpHost ?? (token !== undefined ? host : '127.0.0.1');
  if (http !== undefined) checkBind(httpHost, token);
  const cluster = await open(opts.store);
  const secret = secretOrWarn(opts.secretFile);
  const serveHttp =
    http === undefined ? undefined : (view: MasterView) => serveMasterHttp({ view, port: http, host: httpHost, token });
  const stop = await runMaster({
    cluster,
    storeUrl: opts.store!,
    listenHost: host,
    listenPort: port,
    ...t,
    log,
    serveHttp,
    parseCommand: deskCommand,
    secret,
  });
  // SIGTERM/SIGINT (a rolling update, ^C): hand leadership over at once instead of after the lease
  const quit = () => void stop().finally(() => process.exit(0));
  process.once('SIGTERM', quit);
  process.once('SIGINT', quit);
  await new Promise(() => {}); // runs until stopped
}

export async function workerCommand(
  opts: { store?: string; listen: string; leaseMs?: number; heartbeatMs?: number; secretFile?: string } & LinkTlsFiles,
): Promise<void> {
  const t = timings(opts);
  const { host, port } = hostPort(opts.listen);
  configuredSecret(opts.secretFile);
  configureLinkTls(opts);
  const cluster = await open(opts.store);
  const secret = secretOrWarn(opts.secretFile);
  await runAgent({ cluster, listenHost: host, listenPort: port, ...t, log, secret });
  await new Promise(() => {});
}

export async function submitCommand(scenario: string, opts: Record<string, unknown>): Promise<void> {
  const plan = required(opts.plan as string | undefined, '--plan');
  checkPlanName(plan);
  const savePartition = opts.savePartition as string | undefined;
  if (savePartition !== undefined) checkOutputPath(savePartition, '--save-partition');
  const spec = prepareScenario(scenario, opts as ScenarioOverrides);
  if (spec.end === undefined) throw new UsageError('a plan needs an end time: give --end (or <end> in the scenario)');
  const workers = (opts.workers as number | undefined) ?? 2;
  const net = new Network(spec.net);
  const demand = scenarioDemand(spec, net);
  const p = makePartition(net, demand, {
    workers,
    parts: opts.parts as number | undefined,
    minParts: opts.minParts as number | undefined,
    maxParts: opts.maxParts as number | undefined,
    map: opts.partitionMap ? loadPartitionMap(opts.partitionMap as string) : undefined,
  });
  if (savePartition !== undefined) savePartitionMap(savePartition, net.junctionIds, p.junctionPart);
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
    if (await cluster.get(key.plan(plan)))
      throw new UsageError(`--plan ${plan}: a plan of that name exists in ${cluster.url} already`);
    await cluster.put(key.plan(plan), planRecordValue(rec));
  } finally {
    await cluster.close();
  }
  process.stdout.write(`submitted plan ${plan}: ${p.parts} part(s) on ${slots} worker(s)\n`);
}

export async function statusCommand(opts: { store?: string; plan?: string; json?: boolean }): Promise<void> {
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
      ...(
        (s.workers as { id: number; pid: number; host: string; parts: number[]; step: number; state: string }[]) ?? []
      ).map(
        (w) => `  worker ${w.id} (pid ${w.pid} on ${w.host}): parts ${w.parts.join(',')}, step ${w.step}, ${w.state}`,
      ),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await cluster.close();
  }
}

/** `wait`, and `resume`, which first asks the masters to restart the plan. */
export async function waitCommand(
  name: 'wait' | 'resume',
  opts: { store?: string; plan?: string; summary?: string },
): Promise<void> {
  const plan = checkPlanName(required(opts.plan, '--plan'));
  const cluster = await open(opts.store);
  try {
    if (!(await cluster.get(key.plan(plan)))) {
      // a run of this machine kept in the store (tessds run --checkpoint-every): resumed in this process
      const { resumeRun } = await import('./run.js');
      if (name === 'resume' && (await resumeRun(opts.store!, plan, opts.summary))) return;
      throw new UsageError(`--plan ${plan}: no such plan in ${cluster.url}`);
    }
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
}

/** "host" or "host:port" (port 0..65535; 0 as none: any free port). */
function hostPort(v: string): { host: string; port?: number } {
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(v);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || (port !== undefined && !(port >= 0 && port <= 65535)))
    throw new UsageError(`--listen ${v}: expected HOST or HOST:PORT (PORT 0: any free port)`);
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
      process.stderr.write(
        `tessds: plan ${plan} is interrupted (every worker was lost); waiting for "tessds resume --plan ${plan}"\n`,
      );
      told = true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
