/**
 * What checkpoints cost: throughput of a partitioned run with `--checkpoint-every 100` against the
 * same run without checkpoints (issue 4: at least 95%). Runs alternate (A B A B ...) so that the
 * machine's drift hits both alike; throughput = vehicle updates per second of the whole process,
 * as a user sees it; the figure is the ratio of the medians. Both must end in the same state hash.
 *
 *   node dist/bench/checkpoint.js [--size 16] [--period 0.1] [--end 1800] [--repeat 5] [--workers 2]
 *                                 [--every 100] [--store file:DIR | redis://...]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ensureScenario, missingSumoTools, timedRun, type ScenarioSpec } from './scenarios.js';
import { median, table } from './table.js';

interface Run {
  seconds: number;
  updates: number;
  hash: string;
}

function run(cfg: string, end: number, workers: number, extra: string[]): Run {
  const { seconds, summary } = timedRun(cfg, end, workers, extra);
  return { seconds, updates: Number(summary['vehicleUpdates']), hash: summary.stateHash };
}

function main(): number {
  const opts = new Command()
    .option('--size <n>', 'grid size', '16')
    .option('--period <s>', 'seconds between trips', '0.1')
    .option('--end <s>', 'simulated seconds', '1800')
    .option('--repeat <n>', 'pairs of runs (medians compared)', '5')
    .option('--workers <n>', 'workers', '2')
    .option('--every <steps>', 'checkpoint interval', '100')
    .option('--store <url>', 'store for the checkpoints (default: a fresh file: directory per run)')
    .parse()
    .opts<{
      size: string;
      period: string;
      end: string;
      repeat: string;
      workers: string;
      every: string;
      store?: string;
    }>();
  const missing = missingSumoTools();
  if (missing.length) {
    process.stderr.write(`bench: missing ${missing.join(', ')}: install with: apt-get install -y sumo sumo-tools\n`);
    return 2;
  }
  const spec: ScenarioSpec = {
    kind: 'grid',
    size: Number(opts.size),
    period: Number(opts.period),
    end: Number(opts.end),
    seed: 42,
    step: 0.5,
  };
  const { cfg } = ensureScenario(spec, (m) => process.stderr.write(m + '\n'));
  const workers = Number(opts.workers);
  console.log(
    `checkpoint overhead: grid ${spec.size}×${spec.size}, ${spec.end} s, ${workers} workers, --checkpoint-every ${opts.every} (shared machine: compare the ratio)`,
  );
  const plain: Run[] = [];
  const ckpt: Run[] = [];
  for (let i = 0; i < Number(opts.repeat); i++) {
    plain.push(run(cfg, spec.end, workers, []));
    const dir = mkdtempSync(join(tmpdir(), 'tessds-bench-ckpt-'));
    try {
      ckpt.push(
        run(cfg, spec.end, workers, [
          '--checkpoint-every',
          opts.every,
          '--store',
          opts.store ?? `file:${dir}`,
          '--plan',
          `bench-${process.pid}-${i}`,
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const tput = (r: Run) => r.updates / r.seconds;
  const a = median(plain.map(tput));
  const b = median(ckpt.map(tput));
  const equal = [...plain, ...ckpt].every((r) => r.hash === plain[0]!.hash);
  console.log(
    table(
      [
        ['run', 'wall s (each)', 'updates/s (median)', 'relative'],
        ['no checkpoints', plain.map((r) => r.seconds.toFixed(1)).join(' '), a.toFixed(0), '100.0%'],
        [
          `every ${opts.every} steps`,
          ckpt.map((r) => r.seconds.toFixed(1)).join(' '),
          b.toFixed(0),
          `${((100 * b) / a).toFixed(1)}%`,
        ],
      ],
      ['l', 'l', 'r', 'r'],
    ),
  );
  console.log(
    `state hashes equal across all ${plain.length + ckpt.length} runs: ${equal ? 'yes' : 'NO'}   (acceptance: ≥ 95% of the throughput without checkpoints)`,
  );
  return equal ? 0 : 1;
}

process.exitCode = main();
