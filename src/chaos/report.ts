/**
 * The chaos report: what was injected, how each fault went, and whether the run under faults ended
 * exactly where the fault-free reference did. Written as `chaos-report.json` and `chaos-report.md`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from '../sim/summary.js';
import { median, timingSource, type FaultResult, type Snapshot } from './observe.js';

/** The summary fields compared between the reference and the run under faults. */
export const countFields = ['loaded', 'inserted', 'arrived', 'running', 'waiting'] as const;
export type Counts = Pick<Summary, (typeof countFields)[number] | 'stateHash' | 'steps' | 'ups'>;

export interface ChaosReport {
  scenario: string;
  /** the run under faults: an embedded cluster (`tessds run`, the default) or distributed mode (`--distributed`) */
  mode?: 'embedded' | 'distributed';
  seed: number;
  workers: number;
  checkpointEvery: number;
  realtimeFactor: number;
  store: string;
  heartbeatMs?: number;
  leaseMs?: number;
  /** where detection/recovery times come from (see observe.ts) */
  timing: 'events' | 'status-poll';
  faultsPlanned: number;
  faultsInjected: number;
  reference: Counts;
  /** undefined when the run under faults produced no summary */
  run?: Counts;
  runExitCode: number | null;
  /** lost workers the master replaced (its status file's count) */
  recoveries?: number;
  /** run − reference for each count */
  differences: Partial<Record<(typeof countFields)[number], number>>;
  /** vehicles in the reference (running + arrived) missing from the run */
  vehiclesLost: number;
  /** vehicles in the run (running + arrived) beyond the reference */
  vehiclesDuplicated: number;
  hashEqual: boolean;
  medianDetectMs?: number;
  medianRecoverMs?: number;
  /** the same medians for each fault kind injected, with its count */
  byKind: Partial<Record<FaultResult['kind'], { count: number; medianDetectMs?: number; medianRecoverMs?: number }>>;
  faults: FaultResult[];
  notes: string[];
  verdict: 'pass' | 'fail';
}

/** What a chaos runner knows once the run under faults is over; the report derives the rest. */
export interface ChaosOutcome {
  header: Pick<
    ChaosReport,
    | 'scenario'
    | 'mode'
    | 'seed'
    | 'workers'
    | 'checkpointEvery'
    | 'realtimeFactor'
    | 'store'
    | 'heartbeatMs'
    | 'leaseMs'
  >;
  snapshots: Snapshot[];
  faultsPlanned: number;
  injections: readonly { at?: number }[];
  reference: Counts;
  run?: Counts;
  runExitCode: number | null;
  recoveries?: number;
  faults: FaultResult[];
  notes: string[];
  /** the run completed, and whatever else the runner needs for a pass held */
  completed: boolean;
}

/** The report of both runners: counts compared with the reference, fault medians, the verdict. */
export function assembleReport(o: ChaosOutcome): ChaosReport {
  const cmp = compareCounts(o.reference, o.run);
  return {
    ...o.header,
    timing: timingSource(o.snapshots),
    faultsPlanned: o.faultsPlanned,
    faultsInjected: o.injections.filter((i) => i.at !== undefined).length,
    reference: o.reference,
    run: o.run,
    runExitCode: o.runExitCode,
    recoveries: o.recoveries,
    ...cmp,
    ...medians(o.faults),
    byKind: byKind(o.faults),
    faults: o.faults,
    notes: o.notes,
    verdict:
      o.completed &&
      cmp.hashEqual &&
      cmp.vehiclesLost === 0 &&
      cmp.vehiclesDuplicated === 0 &&
      Object.keys(cmp.differences).length === 0
        ? 'pass'
        : 'fail',
  };
}

export function compareCounts(
  reference: Counts,
  run: Counts | undefined,
): Pick<ChaosReport, 'differences' | 'vehiclesLost' | 'vehiclesDuplicated' | 'hashEqual'> {
  if (!run)
    return {
      differences: {},
      vehiclesLost: reference.running + reference.arrived,
      vehiclesDuplicated: 0,
      hashEqual: false,
    };
  const differences: ChaosReport['differences'] = {};
  for (const k of countFields) if (run[k] !== reference[k]) differences[k] = run[k] - reference[k];
  const present = (c: Counts) => c.running + c.arrived;
  return {
    differences,
    vehiclesLost: Math.max(0, present(reference) - present(run)),
    vehiclesDuplicated: Math.max(0, present(run) - present(reference)),
    hashEqual: run.stateHash === reference.stateHash,
  };
}

/** Medians over the faults that have the figure. */
export function medians(faults: FaultResult[]): { medianDetectMs?: number; medianRecoverMs?: number } {
  return {
    medianDetectMs: median(faults.flatMap((f) => (f.detectMs !== undefined ? [f.detectMs] : []))),
    medianRecoverMs: median(faults.flatMap((f) => (f.recoverMs !== undefined ? [f.recoverMs] : []))),
  };
}

/** Count and medians for each kind of fault injected (skipped ones left out). */
export function byKind(faults: FaultResult[]): ChaosReport['byKind'] {
  const out: ChaosReport['byKind'] = {};
  for (const kind of new Set(faults.filter((f) => f.outcome !== 'skipped').map((f) => f.kind))) {
    const of = faults.filter((f) => f.kind === kind && f.outcome !== 'skipped');
    out[kind] = { count: of.length, ...medians(of) };
  }
  return out;
}

const secs = (ms: number | undefined) => (ms === undefined ? '—' : (ms / 1000).toFixed(2));

export function markdownTable(faults: FaultResult[]): string {
  const rows = [
    '| # | at (s) | step | fault | target | detect (s) | recover (s) | steps replayed | outcome |',
    '|---:|---:|---:|---|---|---:|---:|---:|---|',
    ...faults.map(
      (f) =>
        `| ${f.index + 1} | ${f.atSeconds?.toFixed(1) ?? '—'} | ${f.step ?? '—'} | ${f.kind} | ${f.target} | ${secs(f.detectMs)} | ${secs(f.recoverMs)} | ${f.replayedSteps ?? '—'} | ${f.outcome}${f.note ? ` (${f.note})` : ''} |`,
    ),
  ];
  return rows.join('\n');
}

export function markdownReport(r: ChaosReport): string {
  const counts = (c: Counts | undefined) =>
    c
      ? `${c.loaded} loaded, ${c.inserted} inserted, ${c.arrived} arrived, ${c.running} running, ${c.waiting} waiting`
      : 'no summary';
  return [
    `# Chaos report: ${r.scenario}`,
    '',
    `${r.mode === 'distributed' ? 'Distributed mode (2 masters, workers + 1 spare). ' : ''}Seed ${r.seed}, ${r.workers} workers, checkpoint every ${r.checkpointEvery} steps, realtime factor ${r.realtimeFactor}, store ${r.store}` +
      `${r.heartbeatMs !== undefined ? `, heartbeat ${r.heartbeatMs} ms` : ''}${r.leaseMs !== undefined ? `, lease ${r.leaseMs} ms` : ''}.`,
    `Faults: ${r.faultsInjected} injected of ${r.faultsPlanned} planned; timings from ${r.timing === 'events' ? "the master's events" : 'status polling (coarse)'}.`,
    '',
    markdownTable(r.faults),
    '',
    `- reference: ${counts(r.reference)}; state hash ${r.reference.stateHash}`,
    `- under faults: ${counts(r.run)}; state hash ${r.run?.stateHash ?? '—'} (exit code ${r.runExitCode})`,
    `- vehicles lost ${r.vehiclesLost}, duplicated ${r.vehiclesDuplicated}; hashes ${r.hashEqual ? 'equal' : 'DIFFERENT'}`,
    `- median time to detect ${secs(r.medianDetectMs)} s, median time to recover ${secs(r.medianRecoverMs)} s`,
    ...Object.entries(r.byKind).map(
      ([k, v]) =>
        `  - ${k}: ${v.count} injected, median detect ${secs(v.medianDetectMs)} s, median recover ${secs(v.medianRecoverMs)} s`,
    ),
    ...r.notes.map((n) => `- note: ${n}`),
    '',
    `**Verdict: ${r.verdict.toUpperCase()}**`,
    '',
  ].join('\n');
}

export function writeReport(dir: string, r: ChaosReport): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'chaos-report.json');
  const md = join(dir, 'chaos-report.md');
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(md, markdownReport(r));
  return { json, md };
}

/** The figures of a summary that the reference and the run under faults must share. */
export function counts(s: Summary): Counts {
  return {
    loaded: s.loaded,
    inserted: s.inserted,
    arrived: s.arrived,
    running: s.running,
    waiting: s.waiting,
    steps: s.steps,
    stateHash: s.stateHash,
    ups: s.ups,
  };
}
