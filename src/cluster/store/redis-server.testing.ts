/**
 * A real redis-server for tests (never a mock): its own free port and directory, AOF on with fsync on
 * every write, killable with SIGKILL and restartable on the same port and data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Why Redis tests must be skipped here, or undefined when redis-server is installed. */
export const redisMissing = spawnSync('redis-server', ['--version']).error
  ? 'redis-server is not installed (Debian: apt-get install redis-server); Redis tests skipped'
  : undefined;

export /** A redis-server on a free port with AOF in its own directory; restartable on the same port and data. */
class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'tessds-redis-'));
  port = 0;
  private child: ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'always', '--dir', this.dir];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    child.on('error', () => undefined); // reported through waitUntilListening
    await waitUntilListening(this.port, child);
  }

  /** kill -9: no shutdown, no final fsync; only what AOF already has survives. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilListening(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} (port ${port})`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(20);
  }
}
