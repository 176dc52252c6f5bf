/**
 * The shared secret of cluster links (link-auth.ts): from `--secret-file FILE` or
 * TESSDS_CLUSTER_SECRET. An embedded run without one draws a random secret for the run and hands it
 * to the worker processes it starts in their environment (readable by the same user only, unlike
 * arguments, which `ps` shows everyone); distributed mode without one still runs the handshake, with
 * a key everyone knows, and says once that its links are not authenticated.
 *
 * The secret never appears in logs, status, reports or error messages: only its source does.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export const SECRET_ENV = 'TESSDS_CLUSTER_SECRET';
export const MIN_SECRET_CHARS = 16;

/** Distributed mode without a configured secret: the handshake runs, but proves nothing. */
export const PUBLIC_KEY = Buffer.from('tessds: no cluster secret configured');

/** A credential read for this process: its trimmed text and where it came from (for messages, never the text). */
export interface Credential {
  text: string;
  source: string;
}

/**
 * A credential from `--<flag> FILE` (the file wins) or the environment variable `envName`, trimmed,
 * at least `minChars` long; undefined if neither is set. UsageError naming the source, never the value.
 */
export function readCredential(
  o: { file?: string; flag: string; envName: string; what: string; minChars: number },
  env: NodeJS.ProcessEnv,
): Credential | undefined {
  let text: string;
  let source: string;
  if (o.file !== undefined) {
    source = `${o.flag} ${o.file}`;
    try {
      text = readFileSync(o.file, 'utf8');
    } catch (e) {
      throw new UsageError(`${source}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else {
    const v = env[o.envName];
    if (v === undefined || v === '') return undefined;
    source = o.envName;
    text = v;
  }
  text = text.trim();
  if (text.length < o.minChars)
    throw new UsageError(
      `${source}: the ${o.what} is ${text.length} characters; use at least ${o.minChars} (e.g. openssl rand -hex 32)`,
    );
  return { text, source };
}

/** The configured secret (the file wins over the environment), or undefined; UsageError naming the source. */
export function configuredSecret(secretFile?: string, env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const c = readCredential(
    { file: secretFile, flag: '--secret-file', envName: SECRET_ENV, what: 'secret', minChars: MIN_SECRET_CHARS },
    env,
  );
  return c === undefined ? undefined : Buffer.from(c.text, 'utf8');
}

/** A fresh secret for one embedded run (64 hex characters). */
export function randomSecret(): Buffer {
  return Buffer.from(randomBytes(32).toString('hex'), 'utf8');
}

/** The environment of a worker process this one starts: its own, with the secret. */
export function workerEnv(secret: Buffer): NodeJS.ProcessEnv {
  return { ...process.env, [SECRET_ENV]: secret.toString('utf8') };
}

/** In a worker process started by a master: the secret it was handed, taken out of the environment. */
export function takeHandedSecret(): Buffer | undefined {
  const s = configuredSecret();
  delete process.env[SECRET_ENV];
  return s;
}

/** The one line distributed mode prints without a secret. */
export const NO_SECRET_WARNING = `tessds: warning: no cluster secret (${SECRET_ENV} or --secret-file): links between masters and workers are not authenticated; anyone who reaches their ports can pose as one`;
