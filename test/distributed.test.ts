/**
 * Distributed mode on a real redis-server (started here on a free port, AOF with fsync always) with
 * real `tessds master` and `tessds worker` processes, killed with SIGKILL or paused with SIGSTOP.
 * Golden value: the state hash of `tessds run` on the same scenario in one process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { RedisServer, freePort, redisMissing } from '../src/cluster/store/redis-server.js';
import {
  openCluster,
  key,
  readPlanRecord,
  type LeaderRecord,
  type PlanState,
} from '../src/cluster/distributed/layout.js';
import type { Store } from '../src/cluster/store/store.js';
import { parsePrometheusText } from '../src/control/prom-text.js';
import { Network } from '../src/sim/network.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');
const END = '300';
const skip = redisMissing() ?? false;

let expectedHash: string | undefined;
function faultFreeHash(): string {
  if (expectedHash) return expectedHash;
  const r = spawnSync(process.execPath, [cli, 'run', cfg, '--end', END, '--summary', '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return (expectedHash = JSON.parse(r.stdout).stateHash as string);
}

interface Proc {
  child: ChildProcess;
  pid: number;
  log: () => string;
  exited: Promise<number | null>;
}

interface Status {
  step: number;
  state: string;
  events?: { at: number; type: string; worker?: number; detail?: string }[];
  workers: { id: number; pid: number; step: number; state: string }[];
  leader: { pid: number; host: string; epoch: number } | null;
}

/** A cluster of processes on one Redis; everything it started is SIGKILLed by close(). */
class Cluster {
  readonly redis = new RedisServer();
  readonly procs: Proc[] = [];
  store!: Store;

  async start(masters: number, workers: number): Promise<void> {
    await this.redis.start();
    this.store = await openCluster(this.redis.url);
    for (let i = 0; i < masters; i++) this.master();
    for (let i = 0; i < workers; i++) this.worker();
  }

  spawn(args: string[]): Proc {
    const child = spawn(process.execPath, [cli, ...args, '--store', this.redis.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const p = {
      child,
      pid: child.pid!,
      log: () => out,
      exited: new Promise<number | null>((r) => child.on('exit', (code) => r(code))),
    };
    this.procs.push(p);
    return p;
  }

  master(extra: string[] = []): Proc {
    return this.spawn(['master', '--lease-ms', '1000', '--heartbeat-ms', '250', ...extra]);
  }

  worker(): Proc {
    return this.spawn(['worker', '--lease-ms', '1000', '--heartbeat-ms', '250']);
  }

  cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    return spawnSync(process.execPath, [cli, ...args, '--store', this.redis.url], { encoding: 'utf8' });
  }

  submit(plan: string, workers: number): void {
    const r = this.cli([
      'submit',
      cfg,
      '--end',
      END,
      '--plan',
      plan,
      '--workers',
      String(workers),
      '--checkpoint-every',
      '40',
      '--realtime-factor',
      '30',
    ]);
    assert.equal(r.status, 0, r.stderr);
  }

  async status(plan: string): Promise<Status | undefined> {
    const b = await this.store.get(key.status(plan));
    return b ? (JSON.parse(b.toString()) as Status) : undefined;
  }

  async state(plan: string): Promise<PlanState | undefined> {
    const b = await this.store.get(key.state(plan));
    return b ? (JSON.parse(b.toString()) as PlanState) : undefined;
  }

  async leader(): Promise<LeaderRecord | undefined> {
    const lease = await this.store.readLease('leader');
    const b = await this.store.get(key.leader);
    const rec = b ? (JSON.parse(b.toString()) as LeaderRecord) : undefined;
    return lease && rec && rec.epoch === lease.epoch ? rec : undefined;
  }

  async waitStep(plan: string, step: number): Promise<Status> {
    for (let i = 0; i < 2400; i++) {
      const s = await this.status(plan);
      if (s && s.state === 'running' && s.step >= step) return s;
      await sleep(25);
    }
    throw new Error(`plan ${plan} did not reach step ${step}\n${this.logs()}`);
  }

  async waitResult(plan: string, command: 'wait' | 'resume' = 'wait'): Promise<string> {
    const p = spawn(process.execPath, [cli, command, '--plan', plan, '--summary', '-', '--store', this.redis.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    clearTimeout(timer);
    assert.equal(code, 0, `tessds ${command} failed: ${err}\n${this.logs()}`);
    return JSON.parse(out).stateHash as string;
  }

  logs(): string {
    return this.procs.map((p) => `--- pid ${p.pid}\n${p.log()}`).join('\n');
  }

  killAll(): Promise<unknown> {
    return Promise.all(
      this.procs.map((p) => {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
        return p.exited;
      }),
    );
  }

  async close(): Promise<void> {
    await this.killAll();
    await this.store?.close();
    await this.redis.destroy();
  }
}

test(
  'two masters, three workers: the leader SIGKILLed mid-run, the standby leads within 3 s; a woken old leader is fenced; fault-free hash',
  { skip, timeout: 180_000 },
  async () => {
    const expected = faultFreeHash();
    const c = new Cluster();
    try {
      await c.start(2, 3);
      c.submit('failover', 3);
      await c.waitStep('failover', 120);

      // the CLI's status JSON names the leader
      const st = c.cli(['status', '--plan', 'failover', '--json']);
      assert.equal(st.status, 0, st.stderr);
      const s = JSON.parse(st.stdout) as Status;
      assert.equal(s.state, 'running');
      assert.equal(s.workers.length, 3);
      assert.ok(s.leader, 'status names a leader');
      const old = s.leader;
      assert.ok(c.procs.some((p) => p.pid === old.pid));

      process.kill(old.pid, 'SIGKILL');
      const killedAt = Date.now();
      let next: LeaderRecord | undefined;
      while (!(next = await c.leader()) || next.epoch <= old.epoch) await sleep(10);
      const takeoverMs = Date.now() - killedAt;
      process.stderr.write(
        `[distributed] takeover after leader SIGKILL: ${takeoverMs} ms (epoch ${old.epoch} → ${next.epoch})\n`,
      );
      assert.ok(takeoverMs < 3000, `the standby took ${takeoverMs} ms to lead`);
      assert.notEqual(next.pid, old.pid);

      // pause the new leader past its lease; a third master takes over; the paused one, woken, must not write
      const third = c.master();
      await sleep(500); // let it start competing
      const stepBefore = (await c.status('failover'))!.step;
      process.kill(next.pid, 'SIGSTOP');
      let newest: LeaderRecord | undefined;
      while (!(newest = await c.leader()) || newest.epoch <= next.epoch) await sleep(10);
      assert.equal(newest.pid, third.pid);
      process.kill(next.pid, 'SIGCONT');
      const paused = c.procs.find((p) => p.pid === next!.pid)!;
      while (!paused.log().includes(`lost leadership of epoch ${next.epoch}`)) await sleep(25);
      // everything the plan wrote since is the newest leader's
      await sleep(1000);
      const after = (await c.status('failover'))!;
      assert.equal(after.leader?.epoch, newest.epoch, 'the status mirror was written by the old leader');
      assert.ok(after.step > stepBefore || after.state === 'finished');
      assert.equal((await c.state('failover'))!.epoch, newest.epoch);

      assert.equal(await c.waitResult('failover'), expected);
      const leaders = (await c.status('failover'))!
        .events!.filter((e) => e.type === 'leader')
        .map((e) => JSON.parse(e.detail!).epoch as number);
      assert.deepEqual(leaders, [old.epoch, next.epoch, newest.epoch], 'the timeline records each leader');
    } finally {
      await c.close();
    }
  },
);

test(
  'the leader SIGKILLed while the plan starts (workers assigned, not yet stepping): the standby starts it; fault-free hash',
  { skip, timeout: 180_000 },
  async () => {
    const expected = faultFreeHash();
    const c = new Cluster();
    try {
      await c.start(2, 3);
      let leader: LeaderRecord | undefined;
      while (!(leader = await c.leader())) await sleep(10);
      c.submit('startup', 3);
      for (;;) {
        const st = await c.state('startup');
        if (st?.state === 'running') break;
        await sleep(5);
      }
      process.kill(leader.pid, 'SIGKILL');
      const s = (await c.status('startup'))!;
      assert.ok(
        s.step === 0,
        `the plan was already stepping (step ${s.step}): the kill came too late to test the start`,
      );
      assert.equal(await c.waitResult('startup'), expected);
    } finally {
      await c.close();
    }
  },
);

test(
  'a worker SIGKILLed mid-run: an idle registered worker takes its parts; fault-free hash',
  { skip, timeout: 180_000 },
  async () => {
    const expected = faultFreeHash();
    const c = new Cluster();
    try {
      const httpPort = await freePort();
      await c.start(0, 4);
      c.master(['--http', String(httpPort)]);
      c.submit('workerloss', 3);
      const s = await c.waitStep('workerloss', 150);
      // the same status over HTTP
      const api = async (q: string) => {
        for (;;) {
          try {
            return await fetch(`http://127.0.0.1:${httpPort}/api/status${q}`);
          } catch {
            await sleep(50); // still starting
          }
        }
      };
      const res = await api('?plan=workerloss');
      assert.equal(res.status, 200);
      const viaHttp = (await res.json()) as Status;
      assert.equal(viaHttp.workers.length, 3);
      assert.equal(typeof viaHttp.step, 'number');
      assert.ok(viaHttp.leader && viaHttp.leader.epoch >= 1);
      assert.equal((await api('?plan=nope')).status, 404);
      assert.equal((await api('')).status, 400);
      const ids = s.workers.map((w) => w.id);
      const victim = s.workers[1]!;
      process.kill(victim.pid, 'SIGKILL');
      const killedAt = Date.now();
      assert.equal(await c.waitResult('workerloss'), expected);
      const end = (await c.status('workerloss'))!;
      const replacement = end.workers[1]!;
      assert.notEqual(replacement.id, victim.id);
      assert.ok(!ids.includes(replacement.id), 'the replacement was the idle worker');
      const types = end.events!.map((e) => `${e.type}:${e.worker ?? ''}`);
      assert.ok(types.includes(`worker-lost:${victim.id}`), types.join(' '));
      assert.ok(types.includes(`worker-recovered:${replacement.id}`), types.join(' '));
      const lostAt = end.events!.find((e) => e.type === 'worker-lost')!.at;
      const recoveredAt = end.events!.find((e) => e.type === 'worker-recovered')!.at;
      process.stderr.write(
        `[distributed] worker SIGKILL: declared lost after ${lostAt - killedAt} ms, caught up ${recoveredAt - killedAt} ms after the kill\n`,
      );
      assert.ok(lostAt - killedAt < 3000, `detection took ${lostAt - killedAt} ms`);
      // the registry forgets the dead worker, keeps the others
      while ((await c.store.get(key.worker(victim.id))) !== undefined) await sleep(50);
      for (const w of end.workers) assert.ok(await c.store.get(key.worker(w.id)), `worker ${w.id} left the registry`);
    } finally {
      await c.close();
    }
  },
);

test(
  'a worker SIGKILLed with no idle worker left: the plan waits for a restarted one, which takes its parts; fault-free hash',
  { skip, timeout: 180_000 },
  async () => {
    const expected = faultFreeHash();
    const c = new Cluster();
    try {
      await c.start(1, 3);
      c.submit('restart', 3);
      const s = await c.waitStep('restart', 150);
      const victim = s.workers[2]!;
      process.kill(victim.pid, 'SIGKILL');
      // lost, and nobody to take over: the slot waits
      for (;;) {
        const st = await c.status('restart');
        if (st?.events?.some((e) => e.type === 'worker-lost')) break;
        await sleep(25);
      }
      await sleep(1000);
      assert.equal((await c.status('restart'))!.workers[2]!.state, 'recovering');
      assert.equal((await c.state('restart'))!.slotWorker[2], victim.id, 'the slot moved although no worker was idle');
      const restarted = c.worker();
      assert.equal(await c.waitResult('restart'), expected);
      assert.equal((await c.status('restart'))!.workers[2]!.pid, restarted.pid);
    } finally {
      await c.close();
    }
  },
);

test(
  'a worker paused (SIGSTOP) longer than its lease is replaced and, woken, fenced out; fault-free hash',
  { skip, timeout: 180_000 },
  async () => {
    const expected = faultFreeHash();
    const c = new Cluster();
    try {
      await c.start(1, 4);
      c.submit('paused', 3);
      const s = await c.waitStep('paused', 150);
      const victim = s.workers[0]!;
      process.kill(victim.pid, 'SIGSTOP');
      // replaced: slot 0 is hosted by another worker
      for (;;) {
        const now = (await c.state('paused'))!;
        if (now.slotWorker[0] !== victim.id) break;
        await sleep(25);
      }
      process.kill(victim.pid, 'SIGCONT');
      const proc = c.procs.find((p) => p.pid === victim.pid)!;
      assert.equal(await proc.exited, 3, 'the woken worker exits: fenced');
      assert.match(proc.log(), /fenced out/);
      assert.equal(await c.waitResult('paused'), expected);
    } finally {
      await c.close();
    }
  },
);

test(
  'total crash: every process and Redis SIGKILLed, Redis restarted from its AOF, processes restarted, resume: fault-free hash',
  { skip, timeout: 180_000 },
  async () => {
    const expected = faultFreeHash();
    const c = new Cluster();
    try {
      await c.start(2, 3);
      c.submit('crash', 3);
      for (;;) {
        const st = await c.state('crash');
        if (st && st.committed >= 80) break;
        await sleep(25);
      }
      const before = (await c.status('crash'))!;
      assert.ok(before.step < 600, 'the plan ended before the crash');
      await Promise.all([c.killAll(), c.redis.kill()]);

      await c.redis.start(); // same port and directory: the AOF is replayed
      c.master();
      c.master();
      for (let i = 0; i < 3; i++) c.worker();
      // the new leader finds every worker of the plan gone and waits for resume
      for (;;) {
        const st = await c.state('crash');
        if (st?.state === 'interrupted') break;
        await sleep(50);
      }
      assert.equal(await c.waitResult('crash', 'resume'), expected);
    } finally {
      await c.close();
    }
  },
);

test(
  'Redis SIGKILLed for 5 s mid-run and restarted from its AOF: nobody is fenced, the plan ends in the fault-free hash; one store-down, one store-up',
  { skip, timeout: 180_000 },
  async () => {
    const expected = faultFreeHash();
    const c = new Cluster();
    try {
      await c.start(2, 3);
      c.submit('outage', 3);
      for (;;) {
        const st = await c.state('outage');
        if (st && st.committed >= 40) break;
        await sleep(25);
      }
      const killedAt = Date.now();
      await c.redis.kill();
      await sleep(5000);
      const restartedAt = Date.now();
      await c.redis.start();
      assert.equal(await c.waitResult('outage'), expected);
      const endedAt = Date.now();
      for (const p of c.procs) assert.equal(p.child.exitCode, null, `pid ${p.pid} exited:\n${p.log()}`);
      assert.doesNotMatch(c.logs(), /fenced out|is dead/);
      // the leader wrote the outage into the timeline once Redis was back: one store-down, one store-up
      // (both masters and every worker noticed it), with the times it began and ended
      const events = ((await c.status('outage'))!.events ?? []).filter(
        (e) => e.type === 'store-down' || e.type === 'store-up',
      );
      const [down, up, ...more] = events;
      assert.deepEqual([down?.type, up?.type, more.length], ['store-down', 'store-up', 0], JSON.stringify(events));
      assert.ok(
        down!.at >= killedAt && down!.at <= restartedAt,
        `store-down at ${down!.at - killedAt} ms after the kill, Redis restarted after ${restartedAt - killedAt} ms`,
      );
      assert.ok(up!.at >= restartedAt && up!.at <= endedAt, `store-up at ${up!.at - restartedAt} ms after the restart`);
      assert.equal(JSON.parse(down!.detail!).store, c.redis.url);
    } finally {
      await c.close();
    }
  },
);

test(
  'two plans at once share the registered workers; each ends in the fault-free hash',
  { skip, timeout: 180_000 },
  async () => {
    const expected = faultFreeHash();
    const c = new Cluster();
    try {
      await c.start(1, 4);
      c.submit('first', 2);
      c.submit('second', 2);
      const [a, b] = await Promise.all([c.waitResult('first'), c.waitResult('second')]);
      assert.equal(a, expected);
      assert.equal(b, expected);
      const ids = [...(await c.status('first'))!.workers, ...(await c.status('second'))!.workers].map((w) => w.id);
      assert.equal(new Set(ids).size, 4, `one plan per worker at a time: ${ids.join(',')}`);
    } finally {
      await c.close();
    }
  },
);

test(
  'a leader stopped with SIGTERM hands over at once: it releases the lease, exits 0, the standby leads',
  { skip, timeout: 60_000 },
  async () => {
    const c = new Cluster();
    try {
      await c.start(2, 0);
      let first: LeaderRecord | undefined;
      while (!(first = await c.leader())) await sleep(10);
      const proc = c.procs.find((p) => p.pid === first!.pid)!;
      process.kill(first.pid, 'SIGTERM');
      assert.equal(await proc.exited, 0);
      let next: LeaderRecord | undefined;
      while (!(next = await c.leader()) || next.epoch <= first.epoch) await sleep(10);
      assert.notEqual(next.pid, first.pid);
      assert.match(proc.log(), new RegExp(`lost leadership of epoch ${first.epoch}: stopped`));
    } finally {
      await c.close();
    }
  },
);

test(
  "commands through the leader's HTTP API (404, closeLane, setSpeedLimit, addVehicle, pause; /metrics, /api/network, /api/timeline while paused), the leader SIGKILLed while paused: the new one stays paused, takes more commands, resumes; the hash of one process replaying the answered steps",
  { skip, timeout: 180_000 },
  async () => {
    const grid = join(root, 'test/fixtures/grid4/scenario.sumocfg');
    const c = new Cluster();
    try {
      await c.start(0, 3);
      const httpPort = new Map<number, number>();
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        httpPort.set(c.master(['--http', String(port)]).pid, port);
      }
      const r = c.cli([
        'submit',
        grid,
        '--end',
        END,
        '--plan',
        'cmds',
        '--workers',
        '3',
        '--checkpoint-every',
        '40',
        '--realtime-factor',
        '15',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const api = async (port: number, body: object) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/commands?plan=cmds`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as { effectiveStep: number; error?: string } };
      };
      const step = async () => (await c.status('cmds'))?.step ?? 0;
      const until = async (what: string, cond: () => Promise<boolean>) => {
        for (let i = 0; i < 2400; i++) {
          if (await cond()) return;
          await sleep(25);
        }
        throw new Error(`timed out waiting for ${what}\n${c.logs()}`);
      };
      await c.waitStep('cmds', 30);
      const leader = (await c.leader())!;
      const port = httpPort.get(leader.pid)!;
      const standby = [...httpPort].find(([pid]) => pid !== leader.pid)![1];

      const notLeader = await api(standby, { type: 'pause' });
      assert.equal(notLeader.status, 409, 'a standby takes no commands');
      assert.match(notLeader.body.error!, /does not lead/);
      const bad = await api(port, { type: 'closeLane', lane: 'nowhere_0' });
      assert.equal(bad.status, 404);
      assert.match(bad.body.error!, /nowhere_0/);
      assert.equal((await api(port, { type: 'jump' })).status, 400);

      const replay: Record<string, unknown>[] = [];
      const sent = async (to: number, body: Record<string, unknown>, replayed = body) => {
        const a = await api(to, body);
        assert.equal(a.status, 202, JSON.stringify(a.body));
        assert.ok(a.body.effectiveStep >= 30);
        replay.push({ ...replayed, step: a.body.effectiveStep });
      };
      await sent(port, { type: 'closeLane', lane: 'B0C0_0' });
      await sent(
        port,
        { type1: 'down', type2: 'setSpeedLimit', param: [{ edge: 'A0B0', speed: '6' }] },
        { type: 'setSpeedLimit', edge: 'A0B0', speed: 6 },
      );
      await sent(port, { type: 'addVehicle', id: 'early1', from: 'A0B0', to: 'C0D0' });

      // pause: the parts finish the steps granted (the answer's effectiveStep) and stop there
      const p = await api(port, { type: 'pause' });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      await until('the pause step', async () => (await step()) >= p.body.effectiveStep);
      const s1 = await step();
      assert.equal(s1, p.body.effectiveStep, 'the run pauses at the step the answer named');

      // the rest of the control API while paused: /metrics (the leader's plan figures; none on the
      // standby), /api/network (any master, from the submitted plan), /api/timeline (the status mirror's events)
      const get = async (to: number, path: string) => {
        const res = await fetch(`http://127.0.0.1:${to}${path}`);
        return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
      };
      const scrape = async (to: number) => {
        const m = await get(to, '/metrics');
        assert.equal(m.status, 200);
        assert.match(m.type, /^text\/plain/);
        const fams = parsePrometheusText(m.text);
        return (name: string, labels: Record<string, string> = {}) =>
          fams
            .get(name)
            ?.samples.filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))
            .map((x) => x.value) ?? [];
      };
      const lm = await scrape(port);
      assert.deepEqual(lm('tessds_master_leading'), [1]);
      assert.deepEqual(lm('tessds_step', { plan: 'cmds' }), [s1]);
      assert.deepEqual(lm('tessds_paused', { plan: 'cmds' }), [1]);
      assert.deepEqual(lm('tessds_recoveries_total', { plan: 'cmds' }), [0]);
      assert.deepEqual(lm('tessds_commands_total', { plan: 'cmds', type: 'closeLane' }), [1]);
      assert.deepEqual(lm('tessds_commands_total', { plan: 'cmds', type: 'pause' }), [1]);
      assert.equal(lm('tessds_worker_last_heard_seconds', { plan: 'cmds' }).length, 3, 'one age per worker');
      const sm = await scrape(standby);
      assert.deepEqual(sm('tessds_master_leading'), [0]);
      assert.deepEqual(sm('tessds_step'), [], 'a standby has no plan figures');
      // the network: the normal lanes are exactly the net file's non-internal lanes, dealt to the 3 parts
      const netXml = readFileSync(join(root, 'test/fixtures/grid4/net.net.xml'), 'utf8');
      const xmlLanes = [...netXml.matchAll(/<lane id="([^"]+)"/g)]
        .map((x) => x[1]!)
        .filter((id) => !id.startsWith(':'));
      const nw = await get(standby, '/api/network?plan=cmds');
      assert.equal(nw.status, 200, nw.text);
      const view = JSON.parse(nw.text) as {
        lanes: { id: string; internal: boolean; part: number; shape: number[] }[];
        bounds: number[];
        parts: number;
      };
      assert.deepEqual(
        view.lanes
          .filter((l) => !l.internal)
          .map((l) => l.id)
          .sort(),
        xmlLanes.sort(),
      );
      assert.equal(view.parts, 3);
      assert.deepEqual([...new Set(view.lanes.map((l) => l.part))].sort(), [0, 1, 2]);
      assert.equal(view.bounds.length, 4);
      const tl = await get(port, '/api/timeline?plan=cmds');
      assert.equal(tl.status, 200, tl.text);
      const events = JSON.parse(tl.text) as { type: string; step?: number; detail?: string }[];
      assert.ok(
        events.some((e) => e.type === 'leader'),
        tl.text,
      );
      assert.ok(
        events.some((e) => e.type === 'command' && e.detail === 'closeLane'),
        tl.text,
      );
      assert.ok(
        events.some((e) => e.type === 'paused' && e.step === p.body.effectiveStep),
        tl.text,
      );
      assert.equal((await get(port, '/api/network?plan=nope')).status, 404);
      assert.equal((await get(standby, '/api/timeline?plan=nope')).status, 404);
      assert.equal((await get(port, '/api/timeline')).status, 400);
      assert.equal((await get(port, '/api/nothing')).status, 404);

      // the leader dies while the plan is paused; the new one rebuilds the desk from the store: the plan
      // stays paused, takes commands and resumes
      process.kill(leader.pid, 'SIGKILL');
      let next: LeaderRecord | undefined;
      while (!(next = await c.leader()) || next.epoch <= leader.epoch) await sleep(10);
      const port2 = httpPort.get(next.pid)!;
      await until(
        "the new leader's status mirror",
        async () => (await c.status('cmds'))?.leader?.epoch === next!.epoch,
      );
      await sleep(1000);
      const paused = (await c.status('cmds'))!;
      assert.equal(paused.step, s1, `still paused under the new leader\n${c.logs()}`);
      assert.equal((paused as unknown as { paused: boolean }).paused, true);
      let late: { status: number; body: { effectiveStep: number; error?: string } };
      const addVehicle = { type: 'addVehicle', id: 'late1', from: 'A0B0', to: 'C0D0' };
      for (;;) {
        late = await api(port2, addVehicle);
        if (late.status !== 503 && late.status !== 409) break;
        await sleep(50);
      }
      assert.equal(late.status, 202, JSON.stringify(late.body));
      assert.ok(late.body.effectiveStep >= s1, 'not before a step the parts may have reached');
      replay.push({ ...addVehicle, step: late.body.effectiveStep });
      assert.equal((await api(port2, { type: 'resume' })).status, 200);
      await until('steps after resume', async () => (await step()) > s1 + 20);
      await sent(port2, { type: 'openLane', lane: 'B0C0_0' });
      // the new leader rebuilt the log: the old leader's vehicle id is taken (and late1's demand index follows it)
      const twice = await api(port2, { type: 'addVehicle', id: 'early1', from: 'A0B0', to: 'C0D0' });
      assert.ok(twice.status >= 400 && twice.status < 500, JSON.stringify(twice.body));
      assert.match(twice.body.error!, /early1/);
      process.stderr.write(`[distributed] commands answered at steps ${replay.map((x) => x.step).join(', ')}\n`);

      const hash = await c.waitResult('cmds');
      const file = join(mkdtempSync(join(tmpdir(), 'tessds-dcmds-')), 'commands.json');
      writeFileSync(file, JSON.stringify(replay));
      const one = spawnSync(
        process.execPath,
        [cli, 'run', grid, '--end', END, '--summary', '-', '--no-progress', '--commands', file],
        { encoding: 'utf8' },
      );
      assert.equal(one.status, 0, one.stderr);
      const plain = spawnSync(process.execPath, [cli, 'run', grid, '--end', END, '--summary', '-', '--no-progress'], {
        encoding: 'utf8',
      });
      assert.notEqual(JSON.parse(plain.stdout).stateHash, hash, 'the commands must change the run');
      assert.equal(hash, JSON.parse(one.stdout).stateHash, 'one process, the same commands from a file, no failover');
    } finally {
      await c.close();
    }
  },
);

test('CLI: bad flags and an unreachable store are one line and exit 2', { skip }, async () => {
  const c = new Cluster();
  try {
    await c.redis.start();
    const bad = (args: string[], pattern: RegExp) => {
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    };
    bad(
      ['status', '--plan', 'x', '--store', 'redis://127.0.0.1:1'],
      /^tessds: --store redis:\/\/127\.0\.0\.1:1: cannot reach/,
    );
    bad(['status', '--plan', 'nope', '--store', c.redis.url], /no such plan/);
    bad(['status', '--plan', '_cluster', '--store', c.redis.url], /bad --plan "_cluster"/);
    bad(['submit', cfg, '--store', c.redis.url], /--plan is required/);
    bad(
      ['master', '--store', c.redis.url, '--lease-ms', '100', '--heartbeat-ms', '200'],
      /--heartbeat-ms 200 must be below --lease-ms 100/,
    );
    bad(['worker', '--store', 'ftp://x'], /bad store URL/);
    bad(
      ['worker', '--store', c.redis.url, '--listen', 'host:99999'],
      /--listen host:99999: expected HOST or HOST:PORT/,
    );
    const map = join(mkdtempSync(join(tmpdir(), 'tessds-dmap-')), 'partition.json');
    bad(
      [
        'submit',
        cfg,
        '--end',
        '10',
        '--plan',
        'nomap',
        '--store',
        c.redis.url,
        '--save-partition',
        join(map, 'x', 'y.json'),
      ],
      /--save-partition/,
    );
    const ok = c.cli(['submit', cfg, '--end', '10', '--plan', 'dup', '--workers', '3', '--save-partition', map]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /3 part\(s\) on 3 worker\(s\)/);
    // the map of the plan as stored, in the --partition-map format
    const saved = JSON.parse(readFileSync(map, 'utf8')) as Record<string, number>;
    const store = await openCluster(c.redis.url);
    try {
      const rec = (await readPlanRecord(store, 'dup'))!;
      const ids = new Network(rec.spec.net).junctionIds;
      assert.deepEqual(Object.keys(saved).sort(), [...ids].sort(), 'every junction once');
      assert.deepEqual(
        ids.map((id) => saved[id]),
        rec.junctionPart,
      );
      assert.deepEqual(new Set(rec.junctionPart), new Set([0, 1, 2]));
    } finally {
      await store.close();
    }
    bad(['submit', cfg, '--end', '10', '--plan', 'dup', '--store', c.redis.url], /a plan of that name exists/);
  } finally {
    await c.close();
  }
});

test('--help documents every option of the distributed commands', () => {
  const options: Record<string, string[]> = {
    master: ['--store', '--listen', '--http', '--lease-ms', '--heartbeat-ms'],
    worker: ['--store', '--listen', '--lease-ms', '--heartbeat-ms'],
    submit: [
      '--store',
      '--plan',
      '--workers',
      '--parts',
      '--min-parts',
      '--max-parts',
      '--partition-map',
      '--save-partition',
      '--region',
      '--begin',
      '--end',
      '--step',
      '--seed',
      '--time-to-teleport',
      '--checkpoint-every',
      '--realtime-factor',
    ],
    status: ['--store', '--plan', '--json'],
    wait: ['--store', '--plan', '--summary'],
    resume: ['--store', '--plan', '--summary'],
  };
  for (const [command, flags] of Object.entries(options)) {
    const r = spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const f of flags) assert.match(r.stdout, new RegExp(`${f}\\b`), `${command} --help lacks ${f}`);
  }
});
