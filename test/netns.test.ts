/**
 * Workers in Linux network namespaces with `tc netem` delay and loss on their links (the ChaosBlade
 * technique of seed 003): a distributed run must end in the same state hash as one process, with and
 * without a worker SIGKILLed and replaced inside its namespace.
 *
 * Skipped with a message where this cannot run: not root, no `ip`/`tc`, no permission to create
 * namespaces, or no distributed mode (`tessds master`, `worker`, `submit`, `wait`, `status`) in this
 * build. The lab itself (namespaces, veth, bridge, netem) is checked whenever root can build it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer, redisServerAvailable } from '../src/cluster/store/redis-server.js';
import { createLab, netemUnavailable, netnsUnavailable, type NetnsLab } from './netns-harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');
const noLab = netnsUnavailable();
const noNetem = noLab ?? netemUnavailable();
/** netem arguments on every worker link; none where the kernel has no netem (the lab still isolates) */
const NETEM = noNetem ? [] : ['delay', '20ms', 'loss', '1%'];

/** the distributed commands this suite drives, missing ones named (read off `tessds --help`) */
function distributedMissing(): string | undefined {
  const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }).stdout;
  const missing = ['master', 'worker', 'submit', 'wait', 'status'].filter(
    (c) => !new RegExp(`^  ${c} `, 'm').test(help),
  );
  return missing.length > 0
    ? `distributed mode is not in this build: no \`tessds ${missing.join('`, `tessds ')}\``
    : undefined;
}
const noDistributed =
  noLab ?? distributedMissing() ?? (redisServerAvailable() ? undefined : 'redis-server is not installed');
if (noLab) process.stderr.write(`netns suite skipped: ${noLab}\n`);
else {
  if (noNetem) process.stderr.write(`netns suite: links without delay and loss: ${noNetem}\n`);
  if (noDistributed) process.stderr.write(`netns suite: distributed runs skipped: ${noDistributed}\n`);
}

describe('network namespace lab', { skip: noLab ?? false }, () => {
  let lab: NetnsLab | undefined;
  after(() => lab?.destroy());

  test('each worker namespace has netem delay and loss on its link and reaches the host through the bridge', async (t) => {
    const l = (lab = createLab(2, NETEM));
    if (noNetem) t.diagnostic(`netem part skipped: ${noNetem}`);
    for (let i = 0; i < 2 && !noNetem; i++) {
      const q: { status: number | null; stdout: string; stderr: string } = l.runIn(i, 'tc', [
        'qdisc',
        'show',
        'dev',
        'eth0',
      ]);
      assert.equal(q.status, 0, q.stderr);
      assert.match(q.stdout, /netem/);
      assert.match(q.stdout, /delay 20ms/);
      assert.match(q.stdout, /loss 1%/);
    }
    // a TCP server on the bridge address, a client inside each namespace
    const server = createServer((s) => s.on('data', (d) => s.end(`echo:${d}`)));
    await new Promise<void>((r) => server.listen(0, l.hostIp, r));
    const port = (server.address() as { port: number }).port;
    try {
      for (let i = 0; i < 2; i++) {
        const client = `const s=require('net').connect(${port},'${l.hostIp}',()=>s.write('ns${i}'));let b='';s.on('data',d=>b+=d);s.on('end',()=>{console.log(b);process.exit(0)});s.on('error',e=>{console.error(e.message);process.exit(1)})`;
        const child = l.spawnIn(i, process.execPath, ['-e', client]);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        const code = await new Promise((r) => child.on('exit', r));
        assert.equal(code, 0);
        assert.equal(out.trim(), `echo:ns${i}`);
      }
    } finally {
      server.close();
    }
  });
});

describe('distributed run with workers in network namespaces under netem', { skip: noDistributed ?? false }, () => {
  const WORKERS = 3;
  const procs: ChildProcess[] = [];
  let lab: NetnsLab | undefined;
  let redis: RedisServer | undefined;
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await redis?.destroy();
    lab?.destroy();
  });

  function oneProcessHash(): string {
    const r = spawnSync(process.execPath, [cli, 'run', cfg, '--summary', '-'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).stateHash;
  }

  /** master in the root namespace, one worker per namespace, all on a Redis at the bridge address */
  async function cluster(): Promise<{ store: string; startWorker: (i: number) => ChildProcess }> {
    lab ??= createLab(WORKERS, NETEM);
    if (!redis) {
      redis = new RedisServer(lab.hostIp);
      await redis.start();
    }
    const store = redis.url;
    procs.push(
      spawn(process.execPath, [cli, 'master', '--store', store, '--listen', `${lab.hostIp}:0`], { stdio: 'inherit' }),
    );
    const startWorker = (i: number) => {
      const w = lab!.spawnIn(
        i,
        process.execPath,
        [cli, 'worker', '--store', store, '--listen', `${lab!.workerIps[i]}:0`],
        { stdio: 'inherit' },
      );
      procs.push(w);
      return w;
    };
    return { store, startWorker };
  }

  async function submitAndWait(store: string, plan: string, during?: () => Promise<void>): Promise<string> {
    const sub = spawnSync(process.execPath, [cli, 'submit', cfg, '--store', store, '--plan', plan], {
      encoding: 'utf8',
    });
    assert.equal(sub.status, 0, sub.stderr);
    const summary = join(mkdtempSync(join(tmpdir(), 'tessds-netns-')), 'summary.json');
    const wait = spawn(process.execPath, [cli, 'wait', '--store', store, '--plan', plan, '--summary', summary], {
      stdio: 'inherit',
    });
    procs.push(wait);
    const done = new Promise((r) => wait.on('exit', r));
    await during?.();
    assert.equal(await done, 0);
    return JSON.parse(readFileSync(summary, 'utf8')).stateHash;
  }

  function statusStep(store: string, plan: string): number {
    const r = spawnSync(process.execPath, [cli, 'status', '--store', store, '--plan', plan, '--json'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) return -1;
    return (JSON.parse(r.stdout) as { step: number }).step;
  }

  test('20 ms delay and 1% loss on every worker link: the same state hash as one process', async () => {
    const expected = oneProcessHash();
    const { store, startWorker } = await cluster();
    for (let i = 0; i < WORKERS; i++) startWorker(i);
    assert.equal(await submitAndWait(store, 'netns-clean'), expected);
  });

  test('a worker SIGKILLed inside its namespace and a new one started there: the same state hash', async () => {
    const expected = oneProcessHash();
    const { store, startWorker } = await cluster();
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(i));
    const hash = await submitAndWait(store, 'netns-kill', async () => {
      while (statusStep(store, 'netns-kill') < 200) await sleep(100);
      // `ip netns exec` execs the command: the child's pid is the worker's own
      workers[1]!.kill('SIGKILL');
      startWorker(1);
    });
    assert.equal(hash, expected);
  });
});
