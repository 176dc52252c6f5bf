/**
 * What the two control servers share — `tessds run --http` (http.ts) and `tessds master --http`
 * (master-http.ts): the API routes and their methods, JSON answers, and request bodies read with a
 * size limit and parsed with one-line errors (RequestError: 400, 413).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestError } from '../errors.js';
import { jsonDepth } from '../cluster/validate.js';
import { BODY_TIMEOUT_MS } from './auth.js';

/** The largest request body accepted (a command is a few hundred bytes). */
export const MAX_BODY_BYTES = 1 << 20;

/** The API routes and the method each takes. */
export const API_ROUTES: Readonly<Record<string, 'GET' | 'POST'>> = {
  '/api/status': 'GET',
  '/api/network': 'GET',
  '/api/timeline': 'GET',
  '/api/commands': 'POST',
  '/metrics': 'GET',
  '/healthz': 'GET',
  '/readyz': 'GET',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...(status === 401 ? { 'www-authenticate': 'Bearer realm="tessds"' } : {}),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

/** Commands nest two or three levels: deeper is refused before parsing (whatever walks the result
 *  recursively, a log line's JSON.stringify, would overflow the stack on 100 000 levels). */
export const MAX_JSON_DEPTH = 32;

/** The request body as text; rejects with RequestError 413 past MAX_BODY_BYTES, 408 when it takes
 *  longer than `timeoutMs` to arrive (a slow client holds no connection for minutes). */
export function readBody(req: IncomingMessage, timeoutMs = BODY_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.removeAllListeners('data');
      req.resume();
      // (the answer says connection: close: the rest of the body is not waited for)
      reject(
        Object.assign(new RequestError(408, `request body did not arrive within ${timeoutMs / 1000} s`), {
          closeConnection: true,
        }),
      );
    }, timeoutMs);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        // discard the rest rather than destroy the socket: the 413 answer must still reach the client
        clearTimeout(timer);
        req.removeAllListeners('data');
        req.resume();
        reject(new RequestError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Parses JSON sent by a client; `what` names it in the one-line RequestError 400. */
export function parseJson(text: string, what: string): unknown {
  if (text.trim() === '') throw new RequestError(400, `${what} is empty; send a JSON object`);
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    throw new RequestError(400, `${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RequestError(400, `${what} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}
