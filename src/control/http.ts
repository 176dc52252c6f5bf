/**
 * The control server on the master (`tessds run --http PORT`): a JSON API, Prometheus metrics, a
 * WebSocket stream of vehicle positions and the viewer page, over node:http. It knows the run only
 * through `ControlBackend`.
 *
 *   GET  /                 the viewer (static files from ./viewer)
 *   GET  /api/status       the run's status object (DESIGN.md)
 *   GET  /api/network      lanes to draw: {lanes: [{id, internal, part, width, shape}], bounds, parts}
 *   GET  /api/timeline     events, oldest first: [{at, type, worker?, pid?, step?, detail?}]
 *   POST /api/commands     a command (JSON): 200/202 {id, type, effectiveStep}; 4xx {error}
 *   GET  /metrics          Prometheus text format
 *   GET  /healthz, /readyz the process serves; the run has not failed
 *   WS   /api/stream       send {"viewport": [x0, y0, x1, y1]} (or nothing: everything); receive binary
 *                          frames (backend.ts `encodeFrame`) about ten times a second
 * With a token (auth.ts) every route but /metrics, /healthz, /readyz and the viewer's files needs
 * `Authorization: Bearer TOKEN`; the stream takes it in that header or as its first message
 * {"token": "…"} (a browser cannot set headers on a WebSocket). Errors are JSON `{error}` with one
 * line naming the problem: 400 bad JSON or command (or nested too deep), 401 no or a wrong token,
 * 403 a cross-site Origin, 404 unknown route, 405 wrong method, 408 a body too slow to arrive, 413
 * body over 1 MB, 415 a POST that is not application/json, 500 a bug.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { RequestError, UsageError } from '../errors.js';
import { encodeFrame, type ControlBackend, type RunEvent, type Viewport } from './backend.js';
import type { Metrics } from './metrics.js';
import type { Logger } from './log.js';
import { API_ROUTES, MAX_BODY_BYTES, parseJson, readBody, sendJson } from './http-json.js';
import { bearerOf, checkBind, checkOrigin, guardRequest, tokenMatches } from './auth.js';

/** how long a stream waits for its token (the first message) before it closes */
const AUTH_WAIT_MS = 5000;

export interface ControlServerOptions {
  /** 0: any free port */
  port: number;
  /** default 127.0.0.1 */
  host?: string;
  backend: ControlBackend;
  metrics?: Metrics;
  log?: Logger;
  /** ms between WebSocket frames (default 100) */
  frameIntervalMs?: number;
  /** the bearer token (auth.ts); undefined: none, and the server must listen on loopback */
  token?: string;
  /** how long a request body may take to arrive (default BODY_TIMEOUT_MS) */
  bodyTimeoutMs?: number;
}

export interface ControlServer {
  /** the port actually listened on */
  port: number;
  host: string;
  close(): Promise<void>;
}

/** The viewer's files: next to this module when copied into dist/, else in the source tree. */
export function viewerDir(): string {
  const here = fileURLToPath(new URL('./viewer/', import.meta.url));
  if (existsSync(join(here, 'index.html'))) return here;
  return fileURLToPath(new URL('../../../src/control/viewer/', import.meta.url));
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/viewer.js': { file: 'viewer.js', type: 'text/javascript; charset=utf-8' },
  '/viewer.css': { file: 'viewer.css', type: 'text/css; charset=utf-8' },
};

/** Checks a viewport `[x0, y0, x1, y1]` sent by a client. */
export function parseViewport(v: unknown): Viewport {
  if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new RequestError(400, '"viewport" must be [x0, y0, x1, y1], four finite numbers (m)');
  }
  const [x0, y0, x1, y1] = v as number[];
  return [Math.min(x0!, x1!), Math.min(y0!, y1!), Math.max(x0!, x1!), Math.max(y0!, y1!)];
}

export async function startControlServer(o: ControlServerOptions): Promise<ControlServer> {
  const { backend, metrics, log, token } = o;
  const host = o.host ?? '127.0.0.1';
  checkBind(host, token);
  const dir = viewerDir();
  let networkJson: string | undefined;

  const timeline = (): RunEvent[] => backend.timeline?.() ?? (backend.status() as { events?: RunEvent[] }).events ?? [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const file = STATIC[path];
    guardRequest(req, path, token, file !== undefined);
    if (file) {
      if (method !== 'GET' && method !== 'HEAD') throw new RequestError(405, `${path} takes GET, not ${method}`);
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : readFileSync(join(dir, file.file)));
      return;
    }
    const allowed = API_ROUTES[path];
    if (!allowed) throw new RequestError(404, `no route ${method} ${path}`);
    if (method !== allowed) {
      res.setHeader('allow', allowed);
      throw new RequestError(405, `${path} takes ${allowed}, not ${method}`);
    }
    switch (path) {
      case '/api/status':
        return sendJson(res, 200, backend.status());
      case '/api/network':
        networkJson ??= JSON.stringify(backend.network());
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(networkJson);
        return;
      case '/api/timeline':
        return sendJson(res, 200, timeline());
      case '/healthz':
        return sendJson(res, 200, { ok: true });
      case '/readyz': {
        const state = (backend.status() as { state?: string }).state;
        return sendJson(res, state === 'failed' ? 503 : 200, { ready: state !== 'failed', state });
      }
      case '/metrics': {
        if (!metrics) throw new RequestError(404, 'this server has no metrics');
        metrics.beforeScrape?.();
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
        return;
      }
      case '/api/commands': {
        const body = parseJson(await readBody(req, o.bodyTimeoutMs), 'request body');
        const answer = await backend.command(body);
        if (answer.status < 300 && 'type' in answer.body) metrics?.commands.inc({ type: answer.body.type });
        log?.info({ command: body, status: answer.status, answer: answer.body }, 'command');
        return sendJson(res, answer.status, answer.body);
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof RequestError) {
        log?.debug({ url: req.url, status: e.status, error: e.message }, 'request rejected');
        sendJson(res, e.status, { error: e.message }, e.status === 408);
      } else {
        log?.error({ url: req.url, err: e }, 'control request failed');
        sendJson(res, 500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
      }
    });
  });

  // ---- WebSocket stream of vehicle frames ----
  // ws is loaded here, not at the top: a run without --http should not pay for it at start-up
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const streams = new Set<NodeJS.Timeout>();
  server.on('upgrade', (req, socket, head) => {
    // a reset before or during the upgrade: this connection only
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refuse = (status: string, why: string) => {
      const body = JSON.stringify({ error: why });
      socket.end(
        `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (path !== '/api/stream') return refuse('404 Not Found', `no route ${path}`);
    try {
      checkOrigin(req);
    } catch (e) {
      return refuse('403 Forbidden', (e as Error).message);
    }
    // the token in a header (a script); a browser sends it as the first message instead
    const offered = bearerOf(req);
    if (token !== undefined && offered !== undefined && !tokenMatches(token, offered))
      return refuse('401 Unauthorized', 'wrong token');
    wss.handleUpgrade(req, socket, head, (ws) => stream(ws, token === undefined || offered !== undefined));
  });

  function stream(ws: WebSocket, authorized: boolean): void {
    let viewport: Viewport | undefined;
    let busy = false;
    // a bad frame (unmasked, a reserved bit, an unknown opcode, bad UTF-8, past 64 KiB): ws closes
    // this socket with the right code and tells here; nothing else is affected
    ws.on('error', (e) => log?.debug({ error: e.message }, 'stream closed: bad WebSocket frame'));
    const authTimer = authorized ? undefined : setTimeout(() => ws.close(4401, 'no token'), AUTH_WAIT_MS);
    ws.on('message', (data, isBinary) => {
      try {
        if (isBinary) throw new RequestError(400, 'send JSON text, e.g. {"viewport": [x0, y0, x1, y1]}');
        const msg = parseJson(String(data), 'stream message');
        if (typeof msg !== 'object' || msg === null)
          throw new RequestError(400, 'stream message must be a JSON object');
        if (!authorized) {
          const t = (msg as { token?: unknown }).token;
          if (typeof t !== 'string' || !tokenMatches(token!, t))
            return void ws.close(4401, typeof t === 'string' ? 'wrong token' : 'send {"token": "…"} first');
          authorized = true;
          clearTimeout(authTimer);
          void send();
        }
        if ('token' in (msg as object) && !('viewport' in (msg as object))) return;
        const v = (msg as { viewport?: unknown }).viewport;
        viewport = v === undefined || v === null ? undefined : parseViewport(v);
      } catch (e) {
        ws.send(JSON.stringify({ error: (e as Error).message }));
      }
    });
    const send = async () => {
      if (!authorized || busy || ws.readyState !== ws.OPEN || ws.bufferedAmount > 4 * MAX_BODY_BYTES) return;
      busy = true;
      try {
        const f = await backend.frame(viewport);
        if (ws.readyState === ws.OPEN) ws.send(encodeFrame(f));
      } catch (e) {
        log?.error({ err: e }, 'frame failed');
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void send(), o.frameIntervalMs ?? 100);
    streams.add(timer);
    ws.on('close', () => {
      clearTimeout(authTimer);
      clearInterval(timer);
      streams.delete(timer);
    });
    void send();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new UsageError(`--http: port ${o.port} on ${host} is already in use`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND')
        reject(new UsageError(`--http-host: cannot listen on "${host}"`));
      else if (e.code === 'EACCES') reject(new UsageError(`--http: no permission to listen on port ${o.port}`));
      else reject(e);
    });
    server.listen(o.port, host, () => resolve());
  });
  // a client that sends its headers or body slowly holds no connection for minutes
  server.headersTimeout = 10_000;
  server.requestTimeout = 20_000;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  log?.info({ host, port }, 'control server listening');

  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of streams) clearInterval(t);
        streams.clear();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
