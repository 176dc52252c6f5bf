/**
 * Issue 13's hostile neighbour: while a run steps, a stranger on the same machine connects to every
 * port its processes listen on (master, worker peer ports, the distributed leader, the agents' relay
 * ports, the control server) and sends what the issue found crashing or hanging them: random bytes,
 * four zero bytes, a huge length prefix, a control frame of bad JSON, forged peer / hello / done /
 * failed messages — without the secret, and, as an insider holding it, frames of the wrong shape
 * after a good handshake. Nothing may crash or hang, no worker may be lost, and the run must end in
 * the state hash of the same scenario run without the stranger — embedded and distributed, with and
 * without --checkpoint-every. Seeded (seed 13) and bounded (CASES_PER_RUN each); the count and the
 * time are printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { watch } from './watch.js';
import { FrameKind, connect } from '../src/cluster/frames.js';
import type { LinkAuth } from '../src/cluster/link-auth.js';
import { RedisServer, redisMissing } from '../src/cluster/store/redis-server.js';
import { openCluster, key, type LeaderRecord, type PlanState } from '../src/cluster/distributed/layout.js';
import { seededRandom } from '../src/chaos/schedule.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');
const END = '300';
const SECRET = 'stranger-test-secret-0123456789';
const SEED = 13;
const CASES_PER_RUN = 150;

let untouched: string | undefined;
/** The hash of the scenario run without any stranger (one process: every partition ends in it). */
function untouchedHash(): string {
  if (untouched) return untouched;
  const r = spawnSync(process.execPath, [cli, 'run', cfg, '--end', END, '--summary', '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return (untouched = JSON.parse(r.stdout).stateHash as string);
}

/** The TCP ports the processes `pids` listen on (from /proc: their socket inodes, the LISTEN table). */
function listeningPorts(pids: number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

function frame(kind: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(payload.length + 1, 0);
  head.writeUInt8(kind, 4);
  return Buffer.concat([head, payload]);
}
const control = (m: unknown) => frame(FrameKind.control, Buffer.from(typeof m === 'string' ? m : JSON.stringify(m)));

/** What a stranger sends: one case, drawn from `r`. `insider`: the bytes follow a good handshake. */
function drawCase(r: () => number, port: number): { name: string; bytes: Buffer; insider: boolean } {
  const int = (n: number) => Math.floor(r() * n);
  const random = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const huge = Buffer.alloc(9);
  huge.writeUInt32LE(0xfffffff0 + int(16), 0);
  const forged = [
    { type: 'peer', workerId: int(3) },
    { type: 'hello', workerId: int(3), pid: 1, host: 'evil', port },
    { type: 'done', workerId: int(3), stepSeconds: 1 },
    { type: 'failed', workerId: int(3), message: 'forged' },
    { type: 'agent', workerId: int(3), pid: 1, host: 'evil', listenHost: '127.0.0.1', epoch: 99 },
  ];
  const kinds: [string, () => Buffer][] = [
    ['random bytes', () => random(1 + int(3000))],
    ['four zero bytes', () => Buffer.alloc(4)],
    ['a huge length prefix', () => huge],
    ['a bad-JSON control frame', () => control('{"type": "peer", "workerId": ')],
    ['forged messages', () => Buffer.concat(forged.map(control))],
    ['a forged message', () => control(forged[int(forged.length)]!)],
    [
      'a nonce, then a random proof',
      () => Buffer.concat([frame(FrameKind.authNonce, random(32)), frame(FrameKind.authProof, random(32))]),
    ],
    [
      'a mutated frame',
      () => {
        const b = Buffer.concat([control(forged[int(forged.length)]!)]);
        for (let k = 0; k < 1 + int(4); k++) b[int(b.length)] = int(256);
        return b;
      },
    ],
  ];
  // an insider (holding the secret) sends frames of the wrong shape: never a well-formed message
  const insiderKinds: [string, () => Buffer][] = [
    ['insider: four zero bytes', () => Buffer.alloc(4)],
    ['insider: a huge length prefix', () => huge],
    ['insider: bad JSON', () => control('{"type":')],
    ['insider: deep JSON', () => control('['.repeat(10_000) + ']'.repeat(10_000))],
    [
      'insider: a wrong-shaped peer/hello/agent',
      () =>
        control(
          [{ type: 'peer', workerId: -1 }, { type: 'hello', workerId: 'x' }, { type: 'agent' }, { type: 'nonsense' }][
            int(4)
          ]!,
        ),
    ],
    ['insider: an unknown kind', () => frame(9 + int(200), random(int(100)))],
    ['insider: a short border message', () => frame(FrameKind.border, random(int(27)))],
    ['insider: random bytes', () => random(1 + int(500))],
  ];
  const insider = r() < 0.25;
  const [name, make] = (insider ? insiderKinds : kinds)[int(insider ? insiderKinds.length : kinds.length)]!;
  return { name, bytes: make(), insider };
}

/** Runs `count` stranger cases against `ports`, a few at a time; resolves with the count done. */
async function stranger(
  seed: number,
  count: number,
  ports: () => number[],
  auths: LinkAuth[],
): Promise<{ cases: number; byKind: Map<string, number> }> {
  const r = seededRandom(seed); // seeded, so a failing case can be replayed
  const byKind = new Map<string, number>();
  let started = 0;
  const one = async () => {
    const targets = ports();
    if (targets.length === 0) return;
    const port = targets[Math.floor(r() * targets.length)]!;
    const c = drawCase(r, port);
    const auth = auths[Math.floor(r() * auths.length)]!;
    byKind.set(c.name, (byKind.get(c.name) ?? 0) + 1);
    let sock: net.Socket | undefined;
    try {
      if (c.insider) {
        const fs = await connect('127.0.0.1', port, 300, auth).catch(() => undefined);
        sock = fs?.socket;
      }
      if (!sock) {
        sock = net.connect(port, '127.0.0.1');
        sock.on('error', () => undefined);
        await new Promise<void>((resolve) => {
          sock!.once('connect', () => resolve());
          sock!.once('error', () => resolve());
        });
      }
      sock.on('error', () => undefined);
      sock.resume();
      if (!sock.destroyed) sock.write(c.bytes);
      await Promise.race([new Promise((res) => sock!.once('close', res)), sleep(40)]);
    } finally {
      sock?.destroy();
    }
  };
  // six strangers at once
  const lanes = Array.from({ length: 6 }, async () => {
    while (started < count) {
      started++;
      await one();
    }
  });
  await Promise.all(lanes);
  return { cases: [...byKind.values()].reduce((a, b) => a + b, 0), byKind };
}

/** Resolves with 'hung' after `ms`, without keeping the process alive once the test is over. */
const hang = (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve('hung'), ms).unref());

interface Status {
  step: number;
  state: string;
  workers: { id: number; pid: number; step: number; state: string }[];
  recoveries?: number;
  events?: { type: string }[];
}

const report: string[] = [];
let totalCases = 0;
const t0 = Date.now();

async function embedded(checkpointEvery: number, seed: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-stranger-'));
  const statusFile = join(dir, 'status.json');
  const plan = `stranger-${checkpointEvery}`;
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      cfg,
      '--end',
      END,
      '--workers',
      '3',
      '--checkpoint-every',
      String(checkpointEvery),
      '--realtime-factor',
      '80',
      '--status-file',
      statusFile,
      '--plan',
      plan,
      '--summary',
      '-',
      '--no-progress',
      '--http',
      '0',
      ...(checkpointEvery ? ['--store', `file:${join(dir, 'store')}`] : []),
    ],
    { cwd: root, env: { ...process.env, TESSDS_CLUSTER_SECRET: SECRET } },
  );
  const w = watch<Status>(child, statusFile);
  try {
    for (let i = 0; i < 800 && !(w.status()?.state === 'running' && w.status()!.step > 5); i++) await sleep(25);
    const s = w.status();
    assert.ok(s && s.state === 'running', `the run did not start: ${w.stderr()}`);
    const pids = [child.pid!, ...s.workers.map((x) => x.pid)];
    const ports = listeningPorts(pids);
    assert.ok(ports.length >= 4, `master, http and the workers' peer ports: ${ports.join(',')}`);
    const auth: LinkAuth = { secret: Buffer.from(SECRET), plan, epoch: 1 };
    const r = await stranger(seed, CASES_PER_RUN, () => ports, [auth]);
    totalCases += r.cases;
    const code = await Promise.race([w.exited, hang(60_000)]);
    assert.equal(code, 0, `the run under the stranger: ${w.stderr()}`);
    assert.equal(JSON.parse(w.stdout()).stateHash, untouchedHash(), "the untouched run's hash");
    const end = w.status()!;
    assert.equal(end.state, 'finished');
    assert.ok(!end.recoveries, `no worker was lost: ${JSON.stringify(end.events)}`);
    const rejected = (w.stderr().match(/^tessds: closed a connection from /gm) ?? []).length;
    report.push(
      `embedded, --checkpoint-every ${checkpointEvery}: ${r.cases} cases on ${ports.length} ports, ${rejected} connections closed with a line`,
    );
  } finally {
    child.kill('SIGKILL');
  }
}

test(
  'embedded, without --checkpoint-every: a stranger on every port changes nothing',
  { timeout: 90_000 },
  async () => {
    await embedded(0, SEED);
  },
);

test('embedded, with --checkpoint-every: a stranger on every port changes nothing', { timeout: 90_000 }, async () => {
  await embedded(40, SEED + 1);
});

test(
  'distributed (with and without --checkpoint-every given): a stranger on the leader, relay and peer ports changes nothing',
  { skip: redisMissing() ?? false, timeout: 150_000 },
  async () => {
    const redis = new RedisServer();
    await redis.start();
    const procs: ChildProcess[] = [];
    const env = { ...process.env, TESSDS_CLUSTER_SECRET: SECRET };
    const logs: (() => string)[] = [];
    const start = (args: string[]) => {
      const child = spawn(
        process.execPath,
        [cli, ...args, '--store', redis.url, '--lease-ms', '1000', '--heartbeat-ms', '250'],
        { env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      logs.push(() => err);
      procs.push(child);
      return child;
    };
    const store = await openCluster(redis.url);
    try {
      start(['master']);
      for (let i = 0; i < 3; i++) start(['worker']);
      for (const [plan, extra, seed] of [
        ['s-cp', ['--checkpoint-every', '40'], SEED + 2],
        ['s-default', [], SEED + 3],
      ] as const) {
        const sub = spawnSync(
          process.execPath,
          [
            cli,
            'submit',
            cfg,
            '--end',
            END,
            '--plan',
            plan,
            '--workers',
            '3',
            '--realtime-factor',
            '40',
            ...extra,
            '--store',
            redis.url,
          ],
          { encoding: 'utf8', env },
        );
        assert.equal(sub.status, 0, sub.stderr);
        const waiter = spawn(process.execPath, [cli, 'wait', '--plan', plan, '--summary', '-', '--store', redis.url], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        procs.push(waiter);
        const ww = watch(waiter);
        for (let i = 0; i < 1200; i++) {
          const b = await store.get(key.state(plan));
          const st = b ? (JSON.parse(b.toString()) as PlanState) : undefined;
          if (st && st.state === 'running' && st.startedAt > 0 && Date.now() > st.startedAt + 500) break;
          await sleep(25);
        }
        const leader = JSON.parse((await store.get(key.leader))!.toString()) as LeaderRecord;
        const pids = procs.slice(0, 4).map((p) => p.pid!);
        const auths: LinkAuth[] = [
          { secret: Buffer.from(SECRET), plan: '_cluster', epoch: leader.epoch },
          { secret: Buffer.from(SECRET), plan, epoch: 0 },
        ];
        // the ports as they are now (sessions listen on new ports per plan)
        const ports = listeningPorts(pids);
        assert.ok(ports.length >= 7, `leader, 3 relays, 3 peer ports: ${ports.join(',')}`);
        const r = await stranger(seed, CASES_PER_RUN, () => ports, auths);
        totalCases += r.cases;
        const code = await Promise.race([ww.exited, hang(90_000)]);
        assert.equal(code, 0, `tessds wait: ${ww.stderr()}\n${logs.map((l) => l()).join('\n')}`);
        assert.equal(JSON.parse(ww.stdout()).stateHash, untouchedHash(), "the untouched run's hash");
        const status = JSON.parse((await store.get(key.status(plan)))!.toString()) as Status;
        assert.ok(
          !status.events?.some((e) => e.type === 'worker-lost'),
          `no worker was lost: ${JSON.stringify(status.events)}`,
        );
        report.push(`distributed ${plan}: ${r.cases} cases on ${ports.length} ports`);
      }
      for (const p of procs.slice(0, 4)) assert.equal(p.exitCode, null, 'every master and worker still runs');
    } finally {
      for (const p of procs) p.kill('SIGKILL');
      await store.close();
      await redis.destroy();
    }
  },
);

test('the count', () => {
  const line = `[stranger] seed ${SEED}: ${totalCases} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${report.join('; ')}`;
  process.stdout.write(`# ${line}\n`);
  assert.ok(totalCases > 0);
});
