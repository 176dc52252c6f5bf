/**
 * A real redis-server we start ourselves (the chaos runner's Redis-restart fault, and every test that
 * needs Redis — never a mock): a free port (on 127.0.0.1 unless told otherwise), AOF on
 * (fsync every write unless told otherwise) in a temporary directory, so the runner can SIGKILL it and start it again on
 * the same port and data — the Redis-restart fault (R12, and Disque's lesson of seed 002: without an append-only log a
 * restarted node comes back empty).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when a redis-server binary can be started. */
export function redisServerAvailable(): boolean {
  return !spawnSync('redis-server', ['--version']).error;
}

export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'tessds-redis-'));
  port = 0;
  private child: ChildProcess | undefined;

  /**
   * @param host address to listen on (another one than 127.0.0.1 for workers in network namespaces)
   * @param appendfsync Redis's AOF fsync policy: `always` (the default here: nothing acknowledged is
   *   lost) or Redis's own default `everysec` (a power loss may take the last second of writes)
   */
  constructor(
    readonly host = '127.0.0.1',
    readonly appendfsync: 'always' | 'everysec' = 'always',
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort(this.host);
    const args = [
      '--port',
      String(this.port),
      '--bind',
      this.host,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      this.appendfsync,
      '--dir',
      this.dir,
    ];
    // without a password Redis answers other addresses than loopback with DENIED (protected mode);
    // a test server bound to a lab address must accept its namespaces
    if (this.host !== '127.0.0.1') args.push('--protected-mode', 'no');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    child.on('error', () => undefined); // reported by waitUntilListening
    await waitUntilListening(this.host, this.port, child);
  }

  /** SIGKILL: no shutdown, no final fsync; only what the AOF already holds survives. */
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

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

/** Resolves once `port` accepts connections; rejects if the server exits first or after 10 s. */
async function waitUntilListening(host: string, port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} (port ${port})`);
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on port ${port} within 10 s`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection(port, host);
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(20);
  }
}

/** Why tests that need a real Redis must be skipped here, or undefined when redis-server exists.
 *  (A function: every tessds process imports this module, and none should start a redis-server
 *  --version to find out something only tests ask.) */
export function redisMissing(): string | undefined {
  return redisServerAvailable()
    ? undefined
    : 'redis-server is not installed (Debian: apt-get install redis-server); Redis tests skipped';
}
