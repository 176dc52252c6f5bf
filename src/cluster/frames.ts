/**
 * Length-prefixed frames over a TCP socket: [u32 length][u8 kind][payload]. Control messages are
 * JSON (kind CONTROL); border messages and state dumps travel as raw bytes. Nagle is off: a step
 * waits for its neighbours' messages, so every microsecond of latency is lost throughput.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';

export const FrameKind = {
  control: 1,
  border: 2,
  dump: 3,
  check: 4,
  /** worker → master: [u32 request id][vehicle positions of its parts, as the sampler encodes them] */
  frame: 5,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface FramedSocketEvents {
  frame: [kind: number, payload: Buffer];
  close: [];
  error: [err: Error];
}

export class FramedSocket extends EventEmitter<FramedSocketEvents> {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** bytes the frame at the head of `pending` needs in all (0: not known yet) */
  private needed = 0;

  constructor(readonly socket: net.Socket) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('close', () => this.emit('close'));
    // a reset peer (e.g. a killed worker) also closes the socket: 'close' is where that is handled
    socket.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  send(kind: number, payload: Buffer): void {
    const head = Buffer.alloc(5);
    head.writeUInt32LE(payload.length + 1, 0);
    head.writeUInt8(kind, 4);
    this.socket.write(Buffer.concat([head, payload]));
  }

  sendControl(message: object): void {
    this.send(FrameKind.control, Buffer.from(JSON.stringify(message)));
  }

  close(): void {
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    for (;;) {
      if (this.pendingBytes < 4) return;
      // a large frame (a plan carries the scenario) comes in many chunks: join them once it is whole,
      // not at every chunk (that copied megabytes hundreds of times)
      if (this.needed > this.pendingBytes) return;
      let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [buf];
      const len = buf.readUInt32LE(0);
      this.needed = 4 + len;
      if (buf.length < 4 + len) return;
      this.needed = 0;
      const kind = buf.readUInt8(4);
      const payload = buf.subarray(5, 4 + len);
      buf = buf.subarray(4 + len);
      this.pending = buf.length ? [buf] : [];
      this.pendingBytes = buf.length;
      this.emit('frame', kind, payload);
    }
  }
}

/** Connects to host:port, retrying for `timeoutMs` (the peer may still be starting). */
export function connect(host: string, port: number, timeoutMs = 10_000): Promise<FramedSocket> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new FramedSocket(socket));
      });
      socket.once('error', (err) => {
        socket.destroy();
        if (Date.now() > deadline) reject(err);
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Listens on host (port 0: any free port); resolves with the server and its port. */
export function listen(host: string, port: number, onSocket: (s: FramedSocket) => void): Promise<{ server: net.Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => onSocket(new FramedSocket(socket)));
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
  });
}
