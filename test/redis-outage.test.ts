/**
 * R12: Redis unavailable for 10 s in the middle of a checkpointed run on Redis. The run must neither
 * fail nor change its result: checkpoint writes wait and retry, and once Redis is back (restarted
 * from its AOF) commits resume; the run ends in the fault-free state hash. The outage is visible:
 * one store-down and one store-up in the status file's events (three workers notice it), and
 * tessds_store_up 0 then 1 in /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer, redisMissing } from '../src/cluster/store/redis-server.js';
import { parsePrometheusText } from '../src/control/prom-text.js';
import type { RunStatus } from '../src/cluster/status.js';
import { watch } from './watch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');
const END = '300';

test(
  'Redis down for 10 s mid-run: the run waits it out and ends in the fault-free hash',
  { skip: redisMissing() ?? false },
  async () => {
    const ref = spawnSync(process.execPath, [cli, 'run', cfg, '--end', END, '--summary', '-'], { encoding: 'utf8' });
    assert.equal(ref.status, 0, ref.stderr);
    const expected = JSON.parse(ref.stdout).stateHash as string;

    const redis = new RedisServer();
    await redis.start();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'tessds-outage-'));
      const statusFile = join(dir, 'status.json');
      const child = spawn(process.execPath, [
        cli,
        'run',
        cfg,
        '--end',
        END,
        '--workers',
        '3',
        '--checkpoint-every',
        '40',
        '--realtime-factor',
        '12',
        '--store',
        redis.url,
        '--plan',
        'outage',
        '--status-file',
        statusFile,
        '--summary',
        '-',
        '--no-progress',
        '--http',
        '0',
      ]);
      const { stdout, stderr, exited, status } = watch<RunStatus>(child, statusFile);
      const storeEvents = () =>
        (status()?.events ?? []).filter((e) => e.type === 'store-down' || e.type === 'store-up');
      const storeUp = async () => {
        const base = /control API and viewer at (http:\/\/\S+\/)/.exec(stderr())![1]!;
        const fams = parsePrometheusText(await (await fetch(`${base}metrics`)).text());
        return fams.get('tessds_store_up')?.samples.find((x) => x.labels.store === redis.url)?.value;
      };
      while ((status()?.committedCheckpoint ?? 0) < 40) await sleep(25);
      assert.equal(await storeUp(), 1);
      const killedAt = Date.now();
      await redis.kill();
      const downAt = status()!;
      // noticed during the outage (the times are checked at the end)
      while (storeEvents().length === 0 && Date.now() < killedAt + 10_000) await sleep(25);
      assert.deepEqual(
        storeEvents().map((e) => e.type),
        ['store-down'],
        'a store-down while Redis is down',
      );
      assert.equal(await storeUp(), 0, 'tessds_store_up while Redis is down');
      await sleep(Math.max(0, killedAt + 10_000 - Date.now()));
      const during = status()!;
      assert.ok(
        during.step > downAt.step,
        `the run stopped stepping while Redis was down (step ${downAt.step} → ${during.step})`,
      );
      const restartedAt = Date.now();
      await redis.start(); // same port and directory: the AOF brings the data back
      while (storeEvents().length < 2 && child.exitCode === null) await sleep(25);
      assert.equal(await storeUp(), 1, 'tessds_store_up once Redis is back');
      const code = await exited;
      const endedAt = Date.now();
      assert.equal(code, 0, `run failed: ${stderr()}`);
      assert.equal(JSON.parse(stdout()).stateHash, expected);
      assert.ok(
        (status()!.committedCheckpoint ?? 0) > (during.committedCheckpoint ?? 0),
        'no checkpoint was committed after Redis came back',
      );

      // one outage, told once although three workers (and the master) lost the store
      const [down, up, ...more] = storeEvents();
      assert.deepEqual(
        [down?.type, up?.type, more.length],
        ['store-down', 'store-up', 0],
        JSON.stringify(storeEvents()),
      );
      assert.ok(
        down!.at >= killedAt && down!.at <= restartedAt,
        `store-down at ${down!.at - killedAt} ms after the kill, Redis restarted after ${restartedAt - killedAt} ms`,
      );
      assert.ok(up!.at >= restartedAt && up!.at <= endedAt, `store-up at ${up!.at - restartedAt} ms after the restart`);
      assert.equal(typeof down!.step, 'number');
      assert.ok(up!.step! >= down!.step!);
      assert.equal(JSON.parse(down!.detail!).store, redis.url);
      assert.equal(typeof JSON.parse(down!.detail!).error, 'string');
      assert.deepEqual(JSON.parse(up!.detail!), { store: redis.url, downAt: down!.at, downMs: up!.at - down!.at });
    } finally {
      await redis.destroy();
    }
  },
);
