/**
 * A one-process run kept as a plan in a store (issue 12): `tessds run --checkpoint-every N` without
 * --workers writes its run record (the scenario, the scheduled commands, its options) and, every N
 * steps, a snapshot of the engine at that step boundary (sealed: a damaged one is detected). After
 * the process died, `tessds resume --store URL --plan NAME` rebuilds the engine from the newest
 * checkpoint that reads back whole (the two newest are kept) and runs on: the state hash is that of
 * a run that never stopped, because the engine is deterministic and a snapshot holds exactly the
 * state the hash covers.
 */
import type { ScenarioSpec } from '../io/spec.js';
import { Engine } from '../sim/engine.js';
import { restore, snapshot } from '../sim/snapshot.js';
import type { ResolvedCommand } from '../sim/commands.js';
import { applyCommand } from '../sim/commands-apply.js';
import { checkpointKey, parseCheckpointKey } from './commits.js';
import { UsageError } from '../errors.js';
import type { LoggedCommand } from './protocol.js';
import { IntegrityError, seal, sealJson, unseal, unsealJson } from './integrity.js';
import type { Store } from './store/store.js';

/** What a one-process run needs to start again. */
export interface SoloRecord {
  kind: 'one-process';
  spec: ScenarioSpec;
  /** the commands scheduled ahead (`--commands`), resolved, in step order */
  scripted: ResolvedCommand[];
  checkpointEvery: number;
  realtimeFactor?: number;
}

/** What a partitioned run on this machine (`tessds run --workers N --checkpoint-every C`) needs to
 *  start again: its master rebuilt from this, every worker restored from the committed checkpoint. */
export interface PartitionedRecord {
  kind: 'partitioned';
  spec: ScenarioSpec;
  /** part of every junction (net.junctionIds order) */
  junctionPart: number[];
  workers: number;
  checkpointEvery: number;
  realtimeFactor?: number;
  heartbeatMs?: number;
  leaseMs?: number;
  /** when the plans went out (pacing origin), ms since epoch; 0: not yet */
  startedAt: number;
}

export type RunRecord = SoloRecord | PartitionedRecord;

const RECORD_KEY = 'run';
/** checkpoints kept: the newest, and the one before should the newest not read back */
const KEEP = 2;

/** The run record of a partitioned run, before its plans went out. */
export function partitionedRecord(
  spec: ScenarioSpec,
  junctionPart: ArrayLike<number>,
  o: Pick<PartitionedRecord, 'workers' | 'checkpointEvery' | 'realtimeFactor' | 'heartbeatMs' | 'leaseMs'>,
): PartitionedRecord {
  const { workers, checkpointEvery, realtimeFactor, heartbeatMs, leaseMs } = o;
  const junctions = Array.from(junctionPart);
  return {
    kind: 'partitioned',
    ...{ spec, junctionPart: junctions, workers, checkpointEvery, realtimeFactor, heartbeatMs, leaseMs },
    startedAt: 0,
  };
}

/**
 * Keeps a partitioned run in its store: a new run writes its record (again once its plans went out:
 * `started`, the pacing origin); a resumed one (`resume`) reads its committed checkpoint (the newest
 * every part wrote) and its command log, for the master to carry on from.
 */
export async function keepPartitioned(
  store: Store,
  rec: PartitionedRecord,
  parts: number,
  resume: { startedAt: number } | undefined,
  warn: (line: string) => void = (line) => process.stderr.write(`tessds: ${line}\n`),
): Promise<{
  committed?: number;
  restore?: { horizon: number; paused: boolean; log: LoggedCommand[] };
  started(at: number): Promise<boolean>;
}> {
  let recorded = resume !== undefined;
  const started = async (at: number) => {
    if (!recorded && at > 0) await writeRunRecord(store, { ...rec, startedAt: at });
    recorded ||= at > 0;
    return true;
  };
  if (!resume) {
    await writeRunRecord(store, rec);
    return { started };
  }
  const committed = await completeCheckpoint(store, parts, warn);
  const log = await readCommandLog(store);
  // without a control plane nothing waits for a grant: the horizon starts afresh
  return { committed, restore: { horizon: 0, paused: false, log }, started };
}

/**
 * The newest checkpoint a resume can start the parts from: every part wrote it and every part's seal
 * verifies. A store that lost its last writes (Redis at appendfsync everysec after a power loss) may
 * hold a newer one only some parts wrote, or one whose bytes were cut: then the one before counts
 * (the coordinator keeps the two newest committed ones); 0: none, the run starts again from step 0.
 */
async function completeCheckpoint(store: Store, parts: number, warn: (line: string) => void): Promise<number> {
  const byStep = new Map<number, Set<number>>();
  for (const k of await store.list('checkpoint/')) {
    const c = parseCheckpointKey(k);
    if (c && c.part < parts) byStep.set(c.step, (byStep.get(c.step) ?? new Set()).add(c.part));
  }
  const steps = [...byStep.keys()].sort((a, b) => b - a);
  for (const step of steps) {
    const have = byStep.get(step)!;
    if (have.size < parts) continue; // never committed (or lost parts): not a candidate
    try {
      for (let part = 0; part < parts; part++) {
        const k = checkpointKey(step, part);
        const b = await store.get(k);
        if (!b) throw new IntegrityError(`checkpoint ${k} in ${store.url}: missing`);
        unseal(b, `checkpoint ${k} in ${store.url}`);
      }
      return step;
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      warn(`${err.message}; trying the checkpoint before it`);
    }
  }
  if (steps.length > 0) warn(`no complete checkpoint in ${store.url}; starting again from step 0`);
  return 0;
}

/**
 * The plan's command log, every entry sealed and in order; a resume that cannot have every entry
 * (one cut or missing in the middle: the store lost writes) refuses in one line naming them — a
 * run restored without a command it already applied would end in another state.
 */
async function readCommandLog(store: Store): Promise<LoggedCommand[]> {
  const entries = await store.readLog('commands');
  const log: LoggedCommand[] = [];
  for (const [i, b] of entries.entries()) {
    let c: LoggedCommand;
    try {
      c = unsealJson<LoggedCommand>(b, `command ${i} of the command log in ${store.url}`);
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      throw new UsageError(`cannot resume: ${err.message} (the store lost writes)`);
    }
    if (c.seq !== i)
      throw new UsageError(
        `cannot resume: the command log in ${store.url} lost commands ${i}..${c.seq - 1} (the store lost writes)`,
      );
    log.push(c);
  }
  return log;
}

export async function writeRunRecord(store: Store, rec: RunRecord): Promise<void> {
  await store.put(RECORD_KEY, sealJson(rec));
}

/** The run record of the plan `store` is opened on; undefined: no run of this machine's kept there. */
export async function readRunRecord(store: Store): Promise<RunRecord | undefined> {
  const b = await store.get(RECORD_KEY);
  return b ? unsealJson<RunRecord>(b, `the run record in ${store.url}`) : undefined;
}

/** An engine for the run, at its newest checkpoint that reads back (at step 0 without one). */
export async function restoreSolo(
  store: Store,
  rec: SoloRecord,
  warn: (line: string) => void,
): Promise<{ engine: Engine; from: number }> {
  const steps = (await store.list('checkpoint/'))
    .map(parseCheckpointKey)
    .flatMap((c) => (c && c.part === 0 ? [c.step] : []))
    .sort((a, b) => b - a);
  for (const step of steps) {
    const k = checkpointKey(step, 0);
    const engine = new Engine(rec.spec);
    try {
      const b = await store.get(k);
      if (!b) continue;
      restore(engine, unseal(b, `checkpoint ${k} in ${store.url}`), k);
      return { engine, from: step };
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      warn(`${err.message}; trying the checkpoint before it`);
    }
  }
  if (steps.length > 0) warn(`no checkpoint in ${store.url} reads back; starting again from the beginning`);
  return { engine: new Engine(rec.spec), from: 0 };
}

/**
 * Steps `engine` to its end, applying the scheduled commands at their steps and writing a checkpoint
 * every `checkpointEvery` steps (one write in flight at a time; the two newest are kept).
 */
export async function runSolo(
  engine: Engine,
  rec: SoloRecord,
  store: Store,
  onStep: (e: Engine) => void,
): Promise<void> {
  const scripted = rec.scripted;
  // commands at or after the step we start from (a checkpoint holds the effect of earlier ones)
  let next = scripted.findIndex((c) => c.effectiveStep >= engine.step);
  if (next < 0) next = scripted.length;
  const applyDue = (e: Engine) => {
    while (next < scripted.length && scripted[next]!.effectiveStep === e.step) applyCommand(e, scripted[next++]!);
  };
  const end = engine.endStep!;
  const from = engine.step;
  const paceStart = Date.now();
  let writing: Promise<void> = Promise.resolve();
  applyDue(engine);
  while (engine.step < end) {
    engine.doStep();
    // the snapshot is of the step boundary, before that step's commands (a resume applies them)
    if (engine.step % rec.checkpointEvery === 0 && engine.step < end) {
      await writing;
      writing = writeCheckpoint(store, engine.step, snapshot(engine));
    }
    applyDue(engine);
    onStep(engine);
    if (rec.realtimeFactor) {
      const due = paceStart + (((engine.step - from) * rec.spec.stepLength) / rec.realtimeFactor) * 1000;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
  }
  await writing;
}

async function writeCheckpoint(store: Store, step: number, bytes: Buffer): Promise<void> {
  await store.put(checkpointKey(step, 0), seal(bytes));
  const old = (await store.list('checkpoint/'))
    .map((k) => ({ k, c: parseCheckpointKey(k) }))
    .filter((x) => x.c !== undefined)
    .sort((a, b) => b.c!.step - a.c!.step)
    .slice(KEEP)
    .map((x) => x.k);
  if (old.length > 0) await store.delete(old);
}
