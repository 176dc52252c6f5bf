/**
 * Length-prefixed frames over a TCP socket: [u32 length][u8 kind][payload]. Control messages are
 * JSON (kind CONTROL); border messages and state dumps travel as raw bytes. Nagle is off: a step
 * waits for its neighbours' messages, so every microsecond of latency is lost throughput.
 *
 * Hostile bytes (DESIGN.md "Security"): a length of zero or past the cap, a frame of an unknown
 * kind, or a frame whose handler throws (bad JSON, a message of the wrong shape) closes that
 * connection only — one line through `onReject`, never an exception out of the socket's 'data'.
 *
 * With `auth`, a connection starts with the mutual challenge–response of link-auth.ts, and nothing
 * but its two small frames is read before it succeeds: `listen` hands over a connection, and
 * `connect` resolves, only once both ends proved they hold the secret.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { linkTls } from './link-tls.js';
import { Handshake, HANDSHAKE_FRAME_BYTES, HANDSHAKE_TIMEOUT_MS, type LinkAuth } from './link-auth.js';

export const FrameKind = {
  control: 1,
  border: 2,
  dump: 3,
  check: 4,
  /** worker → master: [u32 request id][vehicle positions of its parts, as the sampler encodes them] */
  frame: 5,
  /** handshake (link-auth.ts): a fresh nonce, then the proof over both nonces */
  authNonce: 6,
  authProof: 7,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** The largest frame accepted once a connection is authenticated (a plan carries the scenario). */
export const MAX_FRAME_BYTES = 1 << 30;

/** Why a connection was closed on the receiving side: handed to `onReject`, one line. */
export type RejectHandler = (reason: string, remote: string) => void;

export interface FramedSocketEvents {
  frame: [kind: number, payload: Buffer];
  close: [];
  error: [err: Error];
  /** the handshake succeeded (with auth) */
  authenticated: [];
  /** this end closed the connection: a bad frame, a failed handshake, a handler that threw */
  rejected: [reason: string];
}

export interface FramedSocketOptions {
  /** authenticate the link first (link-auth.ts); `role` says which end this is */
  auth?: LinkAuth;
  role?: 'client' | 'server';
  /** default MAX_FRAME_BYTES */
  maxFrameBytes?: number;
}

/** The address of the other end, for messages ("127.0.0.1:53412"). */
export function remoteOf(socket: net.Socket): string {
  const a = socket.remoteAddress;
  return a === undefined ? 'an unknown address' : `${a.includes(':') ? `[${a}]` : a}:${socket.remotePort}`;
}

export class FramedSocket extends EventEmitter<FramedSocketEvents> {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** bytes the frame at the head of `pending` needs in all (0: not known yet) */
  private needed = 0;
  private handshake: Handshake | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private dead = false;
  private readonly maxFrameBytes: number;
  readonly remote: string;

  constructor(
    readonly socket: net.Socket,
    o: FramedSocketOptions = {},
  ) {
    super();
    this.remote = remoteOf(socket);
    this.maxFrameBytes = o.maxFrameBytes ?? MAX_FRAME_BYTES;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('close', () => {
      this.dead = true;
      clearTimeout(this.handshakeTimer);
      this.emit('close');
    });
    // a reset peer (e.g. a killed worker) also closes the socket: 'close' is where that is handled
    socket.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    if (o.auth) {
      const hs = new Handshake(o.auth, o.role ?? 'client');
      this.handshake = hs;
      this.handshakeTimer = setTimeout(
        () => this.reject(`no handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s`),
        HANDSHAKE_TIMEOUT_MS,
      );
      this.handshakeTimer.unref();
      this.rawSend(FrameKind.authNonce, hs.nonce);
    }
  }

  /** True once the handshake succeeded (or when there is none). */
  get authenticated(): boolean {
    return this.handshake === undefined;
  }

  send(kind: number, payload: Buffer): void {
    if (this.handshake) throw new Error('send before the link is authenticated');
    this.rawSend(kind, payload);
  }

  sendControl(message: object): void {
    this.send(FrameKind.control, Buffer.from(JSON.stringify(message)));
  }

  close(): void {
    this.socket.end();
  }

  /** Closes the connection because of what the other end sent (one 'rejected' event, once). */
  reject(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.handshakeTimer);
    this.pending = [];
    this.pendingBytes = 0;
    this.socket.destroy();
    this.emit('rejected', reason);
  }

  private rawSend(kind: number, payload: Buffer): void {
    if (this.socket.destroyed) return;
    const head = Buffer.alloc(5);
    head.writeUInt32LE(payload.length + 1, 0);
    head.writeUInt8(kind, 4);
    this.socket.write(Buffer.concat([head, payload]));
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    for (;;) {
      if (this.dead || this.pendingBytes < 4) return;
      // a large frame (a plan carries the scenario) comes in many chunks: join them once it is whole,
      // not at every chunk (that copied megabytes hundreds of times)
      if (this.needed > this.pendingBytes) return;
      let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [buf];
      const len = buf.readUInt32LE(0);
      const cap = this.handshake ? HANDSHAKE_FRAME_BYTES : this.maxFrameBytes;
      if (len === 0) return this.reject('a frame of length 0');
      if (len > cap)
        return this.reject(`a frame of ${len} bytes (at most ${cap}${this.handshake ? ' before the handshake' : ''})`);
      this.needed = 4 + len;
      if (buf.length < 4 + len) return;
      this.needed = 0;
      const kind = buf.readUInt8(4);
      const payload = buf.subarray(5, 4 + len);
      buf = buf.subarray(4 + len);
      this.pending = buf.length ? [buf] : [];
      this.pendingBytes = buf.length;
      if (this.handshake) {
        this.onHandshakeFrame(kind, payload);
        continue;
      }
      if (kind === FrameKind.authNonce || kind === FrameKind.authProof || !KINDS.has(kind))
        return this.reject(`a frame of unknown kind ${kind}`);
      try {
        this.emit('frame', kind, payload);
      } catch (e) {
        // a handler could not take it (bad JSON, a message of the wrong shape): this connection only
        return this.reject(
          `a bad ${KIND_NAMES[kind] ?? ''} frame: ${(e as Error)?.message ?? String(e)}`.slice(0, 300),
        );
      }
    }
  }

  private onHandshakeFrame(kind: number, payload: Buffer): void {
    const hs = this.handshake!;
    const r = hs.receive(kind, payload);
    if (r.error) return this.reject(`handshake failed: ${r.error}`);
    if (r.send) this.rawSend(r.send.kind, r.send.payload);
    if (r.done) {
      this.handshake = undefined;
      clearTimeout(this.handshakeTimer);
      this.emit('authenticated');
    }
  }
}

const KINDS: ReadonlySet<number> = new Set([
  FrameKind.control,
  FrameKind.border,
  FrameKind.dump,
  FrameKind.check,
  FrameKind.frame,
]);
const KIND_NAMES: Record<number, string> = { 1: 'control', 2: 'border', 3: 'dump', 4: 'check', 5: 'frame' };

/** A connection was refused at the handshake: retrying does not help. */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
}

/** Connects to host:port, retrying for `timeoutMs` (the peer may still be starting); with `auth`,
 *  resolves once the handshake succeeded and rejects (HandshakeError) when it fails. */
export function connect(host: string, port: number, timeoutMs = 10_000, auth?: LinkAuth): Promise<FramedSocket> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const t = linkTls();
    const attempt = () => {
      // with TLS (link-tls.ts) the link is mutual TLS, and the handshake below runs inside it
      const socket = t
        ? tls.connect({ host, port, cert: t.cert, key: t.key, ca: t.ca, servername: net.isIP(host) ? undefined : host })
        : net.connect({ host, port });
      socket.once(t ? 'secureConnect' : 'connect', () => {
        socket.removeAllListeners('error');
        const fs = new FramedSocket(socket, { auth, role: 'client' });
        if (!auth) return resolve(fs);
        const fail = (why: string) => {
          fs.removeAllListeners('authenticated');
          reject(new HandshakeError(`${host}:${port}: ${why}`));
        };
        fs.once('authenticated', () => {
          fs.removeAllListeners('rejected');
          fs.removeAllListeners('close');
          resolve(fs);
        });
        fs.once('rejected', fail);
        fs.once('close', () => fail('closed during the handshake'));
      });
      socket.once('error', (err) => {
        socket.destroy();
        // a certificate the CA did not sign (or for another host) stays so: no retry
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (t && /CERT|SIGNATURE|SELF_SIGNED|ALTNAME|UNABLE_TO/.test(code))
          reject(new HandshakeError(`${host}:${port}: TLS: ${err.message}`));
        else if (Date.now() > deadline) reject(err);
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export interface ListenOptions {
  /** every connection must pass the handshake before `onSocket` sees it */
  auth?: LinkAuth;
  /** told of every connection this end closed (failed handshake, bad frame): one line each */
  onReject?: RejectHandler;
}

/** Listens on host (port 0: any free port); resolves with the server and its port. With `auth`,
 *  `onSocket` gets only authenticated connections. */
export function listen(
  host: string,
  port: number,
  onSocket: (s: FramedSocket) => void,
  o: ListenOptions = {},
): Promise<{ server: net.Server; port: number }> {
  return new Promise((resolve, reject) => {
    const onConnection = (socket: net.Socket) => {
      const fs = new FramedSocket(socket, { auth: o.auth, role: 'server' });
      fs.on('rejected', (why) => o.onReject?.(why, fs.remote));
      if (!o.auth) return onSocket(fs);
      fs.once('authenticated', () => onSocket(fs));
    };
    const t = linkTls();
    const server: net.Server = t
      ? tls.createServer(
          {
            cert: t.cert,
            key: t.key,
            ca: t.ca,
            requestCert: true,
            rejectUnauthorized: true,
            handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
          },
          onConnection,
        )
      : net.createServer(onConnection);
    // a client that fails the TLS handshake (no certificate, another CA, plain bytes): that connection only
    if (t)
      server.on('tlsClientError', (err, socket) => {
        o.onReject?.(
          `TLS: ${(err as { reason?: string }).reason ?? err.message.split('\n')[0]}`,
          remoteOf(socket as net.Socket),
        );
        socket.destroy();
      });
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      // after listening (e.g. EMFILE on accept): nothing to do but keep serving
      server.on('error', () => undefined);
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
  });
}

/** One line on stderr for a connection this process closed (the run goes on). */
export function rejectLogger(where: string): RejectHandler {
  return (reason, remote) =>
    process.stderr.write(`tessds: closed a connection from ${remote} to ${where}: ${reason}\n`);
}
