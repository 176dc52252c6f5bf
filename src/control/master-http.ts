/**
 * The control API of `tessds master --http PORT`, served on top of the master's view
 * (cluster/distributed/master-view.ts; the CLI hands `runMaster` this server). Every master serves it,
 * leading or not; what only the leader knows (commands, the plan figures in /metrics) is the leader's,
 * the rest comes from the store:
 *
 *   GET  /api/status?plan=NAME    the plan's status mirror, with the leader as it is now
 *   GET  /api/network?plan=NAME   lanes to draw (control/positions.ts `networkView`, parts from the
 *                                 submitted partition): {lanes: [{id, internal, part, width, shape}], bounds, parts}
 *   GET  /api/timeline?plan=NAME  the plan's events, oldest first: [{at, type, worker?, pid?, step?, detail?}]
 *   POST /api/commands?plan=NAME  a command (JSON); a master that does not lead answers 409
 *   GET  /metrics                 Prometheus text (master-metrics.ts)
 *   GET  /healthz, /readyz        the process serves; it reaches the store (503 when not)
 * With a token (auth.ts) every route but /metrics, /healthz and /readyz needs
 * `Authorization: Bearer TOKEN`. Errors are JSON `{error}` naming the problem: 400 no plan or bad
 * JSON, 401 no or a wrong token, 403 a cross-site Origin, 404 unknown plan or route, 405 wrong
 * method, 408 a body too slow to arrive, 413 body over 1 MB, 415 a POST that is not
 * application/json, 503 the store is unreachable.
 */
import http from 'node:http';
import type { MasterView } from '../cluster/distributed/master-view.js';
import { createMasterMetrics, type MasterMetrics } from './master-metrics.js';
import { Network } from '../sim/network.js';
import { laneOwnersFromJunctions } from '../sim/partition.js';
import { networkView } from './positions.js';
import type { NetworkView } from './backend.js';
import { API_ROUTES, parseJson, readBody } from './http-json.js';
import { RequestError } from '../errors.js';
import { checkBind, guardRequest } from './auth.js';

export interface MasterHttpOptions {
  view: MasterView;
  port: number;
  host: string;
  /** the bearer token (auth.ts); undefined: none, and `host` must be loopback */
  token?: string;
}

/** Networks drawn, by plan name (a plan record is written once, so its drawing never changes). */
const VIEWS_KEPT = 8;

export async function serveMasterHttp(o: MasterHttpOptions): Promise<http.Server> {
  const { view: master } = o;
  checkBind(o.host, o.token);
  const metrics = createMasterMetrics(
    () => master.figures(),
    () => master.store(),
  );
  const views = new Map<string, string>();
  const network = async (plan: string): Promise<string | undefined> => {
    const known = views.get(plan);
    if (known) return known;
    const rec = await master.plan(plan);
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
    const reply = (code: number, body: unknown) => {
      if (code === 401) res.setHeader('www-authenticate', 'Bearer realm="tessds"');
      send(code, JSON.stringify(body) + '\n');
    };
    const failed = (err: Error) => reply(503, { error: err.message });
    try {
      guardRequest(req, url.pathname, o.token, false);
    } catch (e) {
      if (e instanceof RequestError) return reply(e.status, { error: e.message });
      throw e;
    }
    const method = API_ROUTES[url.pathname];
    if (!method)
      return reply(404, { error: `no such resource ${url.pathname}; try ${Object.keys(API_ROUTES).join(', ')}` });
    if (req.method !== method) {
      res.setHeader('allow', method);
      return reply(405, { error: `${url.pathname} takes ${method}, not ${req.method}` });
    }
    if (url.pathname === '/metrics') {
      metrics.registry.metrics().then((text) => send(200, text, metrics.registry.contentType), failed);
      return;
    }
    if (url.pathname === '/healthz') return reply(200, { ok: true });
    if (url.pathname === '/readyz') {
      const up = master.store().up;
      return reply(up ? 200 : 503, { ready: up, store: up ? 'reachable' : 'unreachable' });
    }
    const plan = url.searchParams.get('plan');
    if (!plan) return reply(400, { error: `missing query parameter plan (${url.pathname}?plan=NAME)` });
    switch (url.pathname) {
      case '/api/commands':
        return void readCommand(
          req,
          plan,
          master,
          metrics,
          Object.assign(reply, { close: () => res.setHeader('connection', 'close') }),
        ).catch((err: Error) => reply(500, { error: err.message }));
      case '/api/network':
        network(plan).then((text) => (text ? send(200, text) : reply(404, { error: `no plan ${plan}` })), failed);
        return;
      case '/api/timeline':
        master
          .status(plan)
          .then((s) => (s ? reply(200, s.events ?? []) : reply(404, { error: `no plan ${plan}` })), failed);
        return;
      default:
        master.status(plan).then((s) => (s ? reply(200, s) : reply(404, { error: `no plan ${plan}` })), failed);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host === '0.0.0.0' ? undefined : o.host, resolve);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 20_000;
  return server;
}

async function readCommand(
  req: http.IncomingMessage,
  plan: string,
  master: MasterView,
  metrics: MasterMetrics,
  reply: ((code: number, body: unknown) => void) & { close: () => void },
): Promise<void> {
  let body: unknown;
  try {
    body = parseJson(await readBody(req), 'request body');
  } catch (e) {
    if (e instanceof RequestError) {
      if (e.status === 408) reply.close();
      return reply(e.status, { error: e.message });
    }
    throw e;
  }
  try {
    const a = await master.command(plan, body);
    const type = a.body.type;
    if (a.status < 300 && typeof type === 'string') metrics.commands.inc({ plan, type });
    reply(a.status, a.body);
  } catch (err) {
    reply(500, { error: (err as Error).message });
  }
}
