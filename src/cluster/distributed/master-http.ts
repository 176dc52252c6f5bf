/**
 * The control API of `tessds master --http PORT`. Every master serves it, leading or not; what only
 * the leader knows (commands, the plan figures in /metrics) is the leader's, the rest comes from the
 * store:
 *
 *   GET  /api/status?plan=NAME    the plan's status mirror, with the leader as it is now
 *   GET  /api/network?plan=NAME   lanes to draw (control/positions.ts `networkView`, parts from the
 *                                 submitted partition): {lanes: [{id, internal, part, width, shape}], bounds, parts}
 *   GET  /api/timeline?plan=NAME  the plan's events, oldest first: [{at, type, worker?, pid?, step?, detail?}]
 *   POST /api/commands?plan=NAME  a command (JSON); a master that does not lead answers 409
 *   GET  /metrics                 Prometheus text (master-metrics.ts)
 * Errors are JSON `{error}` naming the problem: 400 no plan or bad JSON, 404 unknown plan or route,
 * 405 wrong method, 413 body over 1 MB, 503 the store is unreachable.
 */
import http from 'node:http';
import type { Store } from '../store/store.js';
import { LEADER_LEASE, key, readJson, type LeaderRecord, type PlanRecord, type PlanState } from './layout.js';
import type { MasterMetrics } from './master-metrics.js';
import { Network } from '../../sim/network.js';
import { laneOwnersFromJunctions } from '../../sim/partition.js';
import { networkView } from '../../control/positions.js';
import type { NetworkView } from '../../control/backend.js';
import { API_ROUTES, parseJson, readBody } from '../../control/http-json.js';
import { RequestError } from '../../errors.js';

/** The answer to POST /api/commands?plan=NAME. */
export interface MasterCommandAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface MasterHttpOptions {
  cluster: Store;
  port: number;
  host: string;
  command: (plan: string, body: unknown) => Promise<MasterCommandAnswer>;
  metrics: MasterMetrics;
}

/** Networks drawn, by plan name (a plan record is written once, so its drawing never changes). */
const VIEWS_KEPT = 8;

export async function serveMasterHttp(o: MasterHttpOptions): Promise<http.Server> {
  const { cluster } = o;
  const views = new Map<string, string>();
  const network = async (plan: string): Promise<string | undefined> => {
    const known = views.get(plan);
    if (known) return known;
    const rec = await readJson<PlanRecord>(cluster, key.plan(plan));
    if (!rec) return undefined;
    const net = new Network(rec.spec.net);
    const view: NetworkView = networkView(net, laneOwnersFromJunctions(net, Int32Array.from(rec.junctionPart)));
    const text = JSON.stringify(view);
    if (views.size >= VIEWS_KEPT) views.delete(views.keys().next().value!);
    views.set(plan, text);
    return text;
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (code: number, text: string, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(text);
    };
    const reply = (code: number, body: unknown) => send(code, JSON.stringify(body) + '\n');
    const failed = (err: Error) => reply(503, { error: err.message });
    const method = API_ROUTES[url.pathname];
    if (!method) return reply(404, { error: `no such resource ${url.pathname}; try ${Object.keys(API_ROUTES).join(', ')}` });
    if (req.method !== method) {
      res.setHeader('allow', method);
      return reply(405, { error: `${url.pathname} takes ${method}, not ${req.method}` });
    }
    if (url.pathname === '/metrics') {
      o.metrics.registry.metrics().then((text) => send(200, text, o.metrics.registry.contentType), failed);
      return;
    }
    const plan = url.searchParams.get('plan');
    if (!plan) return reply(400, { error: `missing query parameter plan (${url.pathname}?plan=NAME)` });
    switch (url.pathname) {
      case '/api/commands':
        return void readCommand(req, plan, o, reply).catch((err: Error) => reply(500, { error: err.message }));
      case '/api/network':
        network(plan).then((text) => (text ? send(200, text) : reply(404, { error: `no plan ${plan}` })), failed);
        return;
      case '/api/timeline':
        readStatus(cluster, plan).then((s) => (s ? reply(200, s.events ?? []) : reply(404, { error: `no plan ${plan}` })), failed);
        return;
      default:
        readStatus(cluster, plan).then((s) => (s ? reply(200, s) : reply(404, { error: `no plan ${plan}` })), failed);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host === '0.0.0.0' ? undefined : o.host, resolve);
  });
  return server;
}

async function readCommand(req: http.IncomingMessage, plan: string, o: MasterHttpOptions, reply: (code: number, body: unknown) => void): Promise<void> {
  let body: unknown;
  try {
    body = parseJson(await readBody(req), 'request body');
  } catch (e) {
    if (e instanceof RequestError) return reply(e.status, { error: e.message });
    throw e;
  }
  try {
    const a = await o.command(plan, body);
    const type = a.body.type;
    if (a.status < 300 && typeof type === 'string') o.metrics.commands.inc({ plan, type });
    reply(a.status, a.body);
  } catch (err) {
    reply(500, { error: (err as Error).message });
  }
}

/** The status of plan `name`: the leader's mirror, with the leader as it is now. */
export async function readStatus(cluster: Store, name: string): Promise<Record<string, unknown> | undefined> {
  const rec = await cluster.get(key.plan(name));
  if (!rec) return undefined;
  const status = (await readJson<Record<string, unknown>>(cluster, key.status(name))) ?? { step: 0, state: 'submitted', workers: [] };
  const st = await readJson<PlanState>(cluster, key.state(name));
  if (st && (st.state === 'finished' || st.state === 'failed' || st.state === 'interrupted')) status.state = st.state;
  const lease = await cluster.readLease(LEADER_LEASE);
  const leader = await readJson<LeaderRecord>(cluster, key.leader);
  status.leader = lease && leader && leader.epoch === lease.epoch ? { pid: leader.pid, host: leader.host, epoch: leader.epoch } : null;
  if (st?.message) status.message = st.message;
  return status;
}
