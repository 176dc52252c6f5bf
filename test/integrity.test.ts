/**
 * Checkpoint integrity end to end: a committed checkpoint in the file store has one bit flipped (or
 * is cut short) and a worker is SIGKILLed, so its replacement must restore from it: the damage is
 * detected and named in one line — the checkpoint's key and store — instead of a silent restore into
 * another state or "offset out of range". (Falling back to the previous checkpoint is issue 12's.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { watch } from './watch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const cfg = join(root, 'test/fixtures/rand4/scenario.sumocfg');

interface Status {
  step: number;
  state: string;
  committedCheckpoint?: number;
  workers: { id: number; pid: number }[];
  error?: string;
}

async function damagedRestore(
  damage: (b: Buffer) => Buffer,
): Promise<{ code: number | null; stderr: string; status?: Status }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-integrity-'));
  const statusFile = join(dir, 'status.json');
  const store = join(dir, 'store');
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      cfg,
      '--end',
      '300',
      '--workers',
      '2',
      '--checkpoint-every',
      '100',
      '--realtime-factor',
      '25',
      '--status-file',
      statusFile,
      '--store',
      `file:${store}`,
      '--plan',
      'integrity',
      '--no-progress',
      '--summary',
      join(dir, 's.json'),
    ],
    { cwd: root },
  );
  const w = watch<Status>(child, statusFile);
  try {
    let s: Status | undefined;
    for (let i = 0; i < 800; i++) {
      s = w.status();
      if (s?.committedCheckpoint === 100) break;
      await sleep(25);
    }
    assert.equal(s?.committedCheckpoint, 100, `no committed checkpoint: ${w.stderr()}`);
    // every part's checkpoint at step 100: whichever the replacement restores is damaged
    const kv = join(store, 'tessds', 'integrity', 'kv');
    const files = readdirSync(kv, { recursive: true })
      .map(String)
      .filter((f) => /checkpoint%2F000000100%2Fpart-/.test(f));
    assert.ok(files.length >= 2, `checkpoint files: ${readdirSync(kv, { recursive: true }).join(', ')}`);
    for (const f of files) writeFileSync(join(kv, f), damage(readFileSync(join(kv, f))));
    process.kill(s!.workers.find((x) => x.id === 1)!.pid, 'SIGKILL');
    const code = await w.exited;
    return { code, stderr: w.stderr(), status: w.status() };
  } finally {
    child.kill('SIGKILL');
  }
}

for (const [name, damage, pattern] of [
  ['a flipped bit', (b: Buffer) => ((b[b.length - 17]! ^= 0x10), b), /checksum mismatch/],
  ['a cut', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2)), /truncated/],
] as const) {
  test(
    `a committed checkpoint with ${name} is detected at restore and named in one line`,
    { timeout: 60_000 },
    async () => {
      const r = await damagedRestore(damage);
      assert.notEqual(r.code, 0, 'the run does not end as if nothing happened');
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /checkpoint checkpoint\/000000100\/part-\d+ in file:\S+: /);
      assert.match(lines[0]!, pattern);
      assert.doesNotMatch(r.stderr, /out of range|at .*\.js:\d+/);
      assert.match(r.status?.error ?? '', /checkpoint checkpoint\/000000100\/part-\d+/);
    },
  );
}
