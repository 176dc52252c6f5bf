/**
 * The endurance matrix of R15 (seed 001): {no recovery, recovery} × {heartbeat off, on} ×
 * {faults off, on}, each cell a long paced run of the same scenario on an embedded cluster, compared
 * with one fault-free reference. Prints a table: cell, faults injected, recoveries, outcome, hash
 * equal to the reference, UPS.
 *
 *   node dist/bench/endurance.js [--scenario FILE] [--minutes M | --quick] [--workers N] [--seed S]
 *                                [--spacing-ms MS] [--report DIR]
 *
 * "No recovery" is `--checkpoint-every 0`: the first fault then fails the run — the expected,
 * reported outcome. "Heartbeat off" is `--heartbeat-ms 0`: deaths are noticed by process exit only
 * and a paused worker is never fenced. Faults are the chaos tool's kinds (SIGKILL, SIGSTOP, network
 * faults, Redis restarts when redis-server is installed), one every spacing + jitter.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadScenario } from '../src/io/scenario.js';
import { referenceRun, runChaos } from '../src/chaos/runner.js';
import { scheduleDefaults } from '../src/chaos/schedule.js';
import { table } from './table.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: join(root, 'test/fixtures/rand4/scenario.sumocfg') },
    minutes: { type: 'string', default: '10' },
    quick: { type: 'boolean', default: false },
    workers: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    'spacing-ms': { type: 'string', default: '4000' },
    report: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node dist/bench/endurance.js [--scenario FILE] [--minutes M | --quick (30 s a cell)] [--workers N] [--seed S] [--spacing-ms MS] [--report DIR]\n',
  );
  process.exit(0);
}
const num = (name: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`endurance: --${name} must be a number ≥ ${min}, got "${v}"\n`);
    process.exit(2);
  }
  return n;
};
const cellSeconds = values.quick ? 30 : num('minutes', values.minutes!, 0.1) * 60;
const workers = num('workers', values.workers!, 2);
const seed = num('seed', values.seed!, 0);
const spacingMs = num('spacing-ms', values['spacing-ms']!, 0);
const reportRoot = resolve(values.report ?? mkdtempSync(join(tmpdir(), 'tessds-endurance-')));
mkdirSync(reportRoot, { recursive: true });
const scenario = resolve(values.scenario!);

let spec;
try {
  spec = loadScenario(scenario);
} catch (e) {
  process.stderr.write(`endurance: ${(e as Error).message}\n`);
  process.exit(2);
}
if (spec.end === undefined) {
  process.stderr.write(`endurance: ${scenario} has no end time\n`);
  process.exit(2);
}
const simSeconds = spec.end - spec.begin;
// faults that fit into one cell: lead, then one every spacing + mean jitter (SIGSTOP holds make it a bit fewer)
const faultsPerCell = Math.max(
  1,
  Math.floor(
    (cellSeconds * 1000 - scheduleDefaults.leadMs - spacingMs - 2000) /
      (spacingMs * (1 + scheduleDefaults.jitter / 2) + 500),
  ),
);
const realtimeFactor = Math.round((simSeconds / cellSeconds) * 1000) / 1000;
const log = (line: string) => process.stderr.write(`endurance: ${line}\n`);

const reference = await referenceRun(new Set(), cli, scenario, spec.end, reportRoot, log);
log(
  `${scenario}: ${simSeconds} s simulated per cell at realtime factor ${realtimeFactor} (${cellSeconds} s wall), ${faultsPerCell} faults in the faulty cells; reports in ${reportRoot}`,
);

const rows: string[][] = [];
for (const recovery of [false, true]) {
  for (const heartbeat of [false, true]) {
    for (const faulty of [false, true]) {
      const cell = `${recovery ? 'recovery' : 'no recovery'} / heartbeat ${heartbeat ? 'on' : 'off'} / faults ${faulty ? 'on' : 'off'}`;
      log(`cell: ${cell}`);
      const { report } = await runChaos({
        scenario,
        workers,
        faults: faulty ? faultsPerCell : 0,
        seed,
        checkpointEvery: recovery ? 40 : 0,
        reportDir: join(reportRoot, cell.replace(/[ /]+/g, '-')),
        realtimeFactor,
        spacingMs,
        heartbeatMs: heartbeat ? 250 : 0,
        leaseMs: 1000,
        reference,
        cli,
        log: () => {},
      });
      rows.push([
        cell,
        String(report.faultsInjected),
        String(report.recoveries ?? 0),
        report.runExitCode === 0 ? 'completed' : 'failed',
        report.hashEqual ? 'yes' : 'no',
        report.run ? `${(report.run.ups / 1000).toFixed(1)}k` : '—',
      ]);
      log(`  ${rows[rows.length - 1]!.join(' | ')}`);
    }
  }
}
process.stdout.write(
  table(
    [['cell', 'faults injected', 'recoveries', 'outcome', 'hash equal', 'UPS'], ...rows],
    ['l', 'r', 'r', 'l', 'l', 'r'],
  ) + '\n',
);
