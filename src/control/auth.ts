/**
 * Who may use the control API (`run --http`, `master --http`; DESIGN.md "Security"):
 *
 * - A bearer token from TESSDS_TOKEN or `--token-file FILE`: every route needs
 *   `Authorization: Bearer TOKEN` (401 without it or with another) but GET /metrics, /healthz,
 *   /readyz and the viewer's static files (which hold nothing of the run; the page asks for the
 *   token). Tokens are compared as SHA-256 digests with timingSafeEqual: constant time, equal lengths.
 * - Without a token the server listens on loopback only; another --http-host is refused at start.
 * - Whatever the token: a POST or WebSocket upgrade whose Origin is not this server's own is 403
 *   (a web page in the user's browser cannot steer the run), and a POST must say
 *   `content-type: application/json` (415): a cross-site form or `text/plain` fetch cannot.
 *
 * The token is never logged or echoed: errors say only that it is missing or wrong.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { RequestError, UsageError } from '../errors.js';
import { readCredential } from '../cluster/secret.js';

export const TOKEN_ENV = 'TESSDS_TOKEN';
export const MIN_TOKEN_CHARS = 16;

/** Routes anyone may GET: what Prometheus and Kubernetes probes read. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/metrics', '/healthz', '/readyz']);

/** The configured token (the file wins over the environment), or undefined; UsageError naming the source. */
export function controlToken(tokenFile?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const c = readCredential(
    { file: tokenFile, flag: '--token-file', envName: TOKEN_ENV, what: 'token', minChars: MIN_TOKEN_CHARS },
    env,
  );
  if (c === undefined) return undefined;
  if (!/^[\x21-\x7e]+$/.test(c.text))
    throw new UsageError(`${c.source}: the token must be printable ASCII without spaces`);
  return c.text;
}

/** Whether `host` (a --http-host value) is this machine's loopback. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Refuses to serve beyond loopback without a token (UsageError: one line, exit 2). */
export function checkBind(host: string, token: string | undefined, option = '--http-host'): void {
  if (token === undefined && !isLoopback(host)) {
    throw new UsageError(
      `${option} ${host}: without a token (${TOKEN_ENV} or --token-file) the control API listens on loopback only (127.0.0.1)`,
    );
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether `offered` is the token (constant time). */
export function tokenMatches(token: string, offered: string): boolean {
  return timingSafeEqual(digest(token), digest(offered));
}

/** The token a request offers in `Authorization: Bearer …`, if any. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** A cross-site Origin (a browser tells where the page that sent it came from): 403. */
export function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return; // not a browser (curl, a script): the token decides
  let host: string | undefined;
  try {
    host = origin === 'null' ? undefined : new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host.toLowerCase() !== (req.headers.host ?? '').toLowerCase()) {
    throw new RequestError(
      403,
      `Origin ${origin.slice(0, 100)} is not this server's: requests from other sites are refused`,
    );
  }
}

/** The guard every request passes before its route (RequestError 401, 403, 415). */
export function guardRequest(req: IncomingMessage, path: string, token: string | undefined, isStatic: boolean): void {
  const method = req.method ?? 'GET';
  if (method === 'POST') {
    checkOrigin(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json')
      throw new RequestError(415, `POST takes content-type application/json${type ? `, not ${type}` : ''}`);
  }
  if (token === undefined || isStatic || ((method === 'GET' || method === 'HEAD') && PUBLIC_ROUTES.has(path))) return;
  const offered = bearerOf(req);
  if (offered === undefined)
    throw new RequestError(
      401,
      'this API needs a token: send "Authorization: Bearer TOKEN" (the token is TESSDS_TOKEN or --token-file of the server)',
    );
  if (!tokenMatches(token, offered)) throw new RequestError(401, 'wrong token');
}

/** How long a request body may take to arrive, ms (a slow body is answered 408). */
export const BODY_TIMEOUT_MS = 10_000;
