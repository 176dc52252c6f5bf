/**
 * R12: Redis unavailable for 10 s in the middle of a checkpointed run on Redis. The run must neither
 * fail nor change its result: checkpoint writes wait and retry, and once Redis is back (restarted
 * from its AOF) commits resume; the run ends in the fault-free state hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer, redisMissing } from '../src/cluster/store/redis-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');
const END = '300';

test('Redis down for 10 s mid-run: the run waits it out and ends in the fault-free hash', { skip: redisMissing() ?? false }, async () => {
  const ref = spawnSync(process.execPath, [cli, 'run', cfg, '--end', END, '--summary', '-'], { encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);
  const expected = JSON.parse(ref.stdout).stateHash as string;

  const redis = new RedisServer();
  await redis.start();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'tessds-outage-'));
    const statusFile = join(dir, 'status.json');
    const child = spawn(process.execPath, [cli, 'run', cfg, '--end', END, '--workers', '3', '--checkpoint-every', '40', '--realtime-factor', '12', '--store', redis.url, '--plan', 'outage', '--status-file', statusFile, '--summary', '-', '--no-progress']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const status = () => {
      try {
        return existsSync(statusFile) ? (JSON.parse(readFileSync(statusFile, 'utf8')) as { step: number; committedCheckpoint?: number }) : undefined;
      } catch {
        return undefined;
      }
    };
    while ((status()?.committedCheckpoint ?? 0) < 40) await sleep(25);
    await redis.kill();
    const downAt = status()!;
    await sleep(10_000);
    const during = status()!;
    assert.ok(during.step > downAt.step, `the run stopped stepping while Redis was down (step ${downAt.step} → ${during.step})`);
    await redis.start(); // same port and directory: the AOF brings the data back
    const code = await exited;
    assert.equal(code, 0, `run failed: ${stderr}`);
    assert.equal(JSON.parse(stdout).stateHash, expected);
    assert.ok((status()!.committedCheckpoint ?? 0) > (during.committedCheckpoint ?? 0), 'no checkpoint was committed after Redis came back');
  } finally {
    await redis.destroy();
  }
});
