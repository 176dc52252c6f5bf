/**
 * Optional TLS for cluster links (master ↔ worker, worker ↔ worker), for links between hosts: a
 * certificate and key for this process and the CA that signed every peer's, from `--tls-cert`,
 * `--tls-key`, `--tls-ca` or TESSDS_TLS_CERT / TESSDS_TLS_KEY / TESSDS_TLS_CA (file paths). Both ends
 * present a certificate and check the other's against the CA (mutual TLS); the HMAC handshake of
 * link-auth.ts still runs inside. The paths travel to the worker processes a master starts in their
 * environment; the files' contents never appear in logs or messages.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { UsageError } from '../errors.js';

export const TLS_ENV = { cert: 'TESSDS_TLS_CERT', key: 'TESSDS_TLS_KEY', ca: 'TESSDS_TLS_CA' } as const;

export interface LinkTls {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export interface LinkTlsFiles {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

let loaded: LinkTls | null | undefined;

/**
 * Takes the TLS files from the flags (or else the environment), checks that all three are given and
 * readable (UsageError naming the flag), and publishes their paths in the environment so that worker
 * processes started from here use them too. No files: links stay plain TCP.
 */
export function configureLinkTls(o: LinkTlsFiles, env: NodeJS.ProcessEnv = process.env): void {
  const files = {
    cert: o.tlsCert ?? env[TLS_ENV.cert],
    key: o.tlsKey ?? env[TLS_ENV.key],
    ca: o.tlsCa ?? env[TLS_ENV.ca],
  };
  const given = Object.values(files).filter((f) => f !== undefined && f !== '').length;
  if (given === 0) {
    loaded = null;
    return;
  }
  if (given !== 3)
    throw new UsageError(
      "--tls-cert, --tls-key and --tls-ca go together: TLS needs this process's certificate and key and the CA of its peers",
    );
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new UsageError(`${flag} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const t = {
    cert: read('--tls-cert', files.cert!),
    key: read('--tls-key', files.key!),
    ca: read('--tls-ca', files.ca!),
  };
  // bad PEM or a key that is not the certificate's: one line now, not an error at the first link
  const usable = (flags: string, o: SecureContextOptions) => {
    try {
      // a CA that is no certificate would be dropped silently and fail every link later
      if (o.ca !== undefined) new X509Certificate(o.ca as Buffer);
      createSecureContext(o);
    } catch (e) {
      throw new UsageError(
        `${flags}: not usable (${(e as { reason?: string }).reason ?? (e as Error).message.split('\n')[0]})`,
      );
    }
  };
  usable(`--tls-ca ${files.ca}`, { ca: t.ca });
  usable(`--tls-cert ${files.cert} with --tls-key ${files.key}`, { cert: t.cert, key: t.key });
  loaded = t;
  env[TLS_ENV.cert] = files.cert;
  env[TLS_ENV.key] = files.key;
  env[TLS_ENV.ca] = files.ca;
}

/** The TLS material of this process's cluster links, or null for plain TCP (configured once, on first use from the environment). */
export function linkTls(): LinkTls | null {
  if (loaded === undefined) configureLinkTls({});
  return loaded ?? null;
}

/** For tests: use this material (or null: plain TCP) from now on in this process. */
export function setLinkTls(t: LinkTls | null): void {
  loaded = t;
}
