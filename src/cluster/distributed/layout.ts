/**
 * Where distributed mode keeps things in the store. Cluster-wide keys live in the reserved namespace
 * {project 'tessds', plan '_cluster'}; the leader lease `leader` of that namespace fences every master
 * write (putFenced with the leader's epoch), and each worker's lease `worker-<id>` fences that worker's
 * writes (its final part dumps). Checkpoints stay in the plan's own namespace, written by the workers.
 *
 *   lease leader                    the leader lease; its epoch is the fencing token of masters
 *   leader                          LeaderRecord: who leads and where workers reach it (fenced)
 *   log worker-ids                  appended once per worker process: its index is the worker id
 *   worker/<id>                     WorkerRecord (written by the worker when it registers)
 *   lease worker-<id>               the worker's liveness (renewed every heartbeat); a leader that
 *                                   finds it expired takes it, so a paused worker is fenced out
 *   plans/<name>                    PlanRecord: the submitted scenario and its partition (once)
 *   plan/<name>/state               PlanState: state, committed checkpoint, slot assignment (fenced)
 *   plan/<name>/status              RunStatus mirror for `tessds status` (fenced)
 *   plan/<name>/dump/part-<p>       a part's final state dump (fenced by the writing worker's lease)
 *   plan/<name>/summary             the run summary JSON, written with state 'finished' (fenced)
 *   plan/<name>/resume              a resume request after a total crash (written by `tessds resume`)
 *   plan/<name>/desk                DeskState: the largest horizon granted, pause, pacing (fenced;
 *                                   written before a grant goes out, so a new leader grants no less)
 *   plan/<name>/command/<seq>       the command log, one entry per key (fenced; written before the
 *                                   command is sent or acknowledged; seq zero-padded to 8 digits)
 */
import type { ScenarioSpec } from '../../io/spec.js';
import type { LoggedCommand, Pace } from '../protocol.js';
import { sealJson, unsealJson } from '../integrity.js';
import { UsageError } from '../../errors.js';
import { openStore, type Store } from '../store/store.js';

export const PROJECT = 'tessds';
export const CLUSTER_NS = { project: PROJECT, plan: '_cluster' } as const;
export const LEADER_LEASE = 'leader';

export const key = {
  leader: 'leader',
  workerIds: 'worker-ids',
  worker: (id: number) => `worker/${id}`,
  workerLease: (id: number) => `worker-${id}`,
  plan: (name: string) => `plans/${name}`,
  state: (name: string) => `plan/${name}/state`,
  status: (name: string) => `plan/${name}/status`,
  dumps: (name: string) => `plan/${name}/dump/`,
  dump: (name: string, part: number) => `plan/${name}/dump/part-${part}`,
  summary: (name: string) => `plan/${name}/summary`,
  resume: (name: string) => `plan/${name}/resume`,
  desk: (name: string) => `plan/${name}/desk`,
  commands: (name: string) => `plan/${name}/command/`,
  command: (name: string, seq: number) => `plan/${name}/command/${String(seq).padStart(8, '0')}`,
} as const;

export interface LeaderRecord {
  epoch: number;
  pid: number;
  host: string;
  /** where workers connect (the leader's control port) */
  address: { host: string; port: number };
}

export interface WorkerRecord {
  id: number;
  pid: number;
  host: string;
  registeredAt: number;
}

/** What `tessds submit` stores: everything a leader needs to run the plan, partition included. */
export interface PlanRecord {
  name: string;
  spec: ScenarioSpec;
  /** worker slots: parts are dealt to slots, each slot is hosted by one registered worker */
  slots: number;
  parts: number;
  junctionPart: number[];
  /** slot of every part */
  partSlot: number[];
  checkpointEvery: number;
  realtimeFactor?: number;
  submittedAt: number;
}

export type PlanStateName = 'submitted' | 'running' | 'interrupted' | 'finished' | 'failed';

/** The coordination state a new leader reads to carry on (written by the leader, fenced). */
export interface PlanState {
  state: PlanStateName;
  /** last committed checkpoint step (0: none) */
  committed: number;
  /** registry id of the worker hosting each slot (-1: none yet) */
  slotWorker: number[];
  /** the border-message address of each slot's current worker process */
  slotAddress: ({ host: string; port: number } | null)[];
  /** wall-clock origin of --realtime-factor pacing, ms since epoch (0: not started) */
  startedAt: number;
  /** when each slot's session was last sent its plan (ms since epoch; 0: never): it builds or
   *  restores its parts then, and may miss heartbeats meanwhile */
  slotPlannedAt?: number[];
  /** leader epoch that wrote this */
  epoch: number;
  message?: string;
}

/** The leader's command desk state of a plan (fenced): a new leader carries on from it. */
export interface DeskState {
  /** the largest horizon any leader granted (or was about to): no part has completed more steps */
  horizon: number;
  paused: boolean;
  pace?: Pace;
}

export const json = (x: unknown): Buffer => Buffer.from(JSON.stringify(x));

export async function readJson<T>(store: Store, k: string): Promise<T | undefined> {
  const b = await store.get(k);
  return b ? (JSON.parse(b.toString()) as T) : undefined;
}

/** A plan record (the stored scenario), sealed with its checksum (integrity.ts). */
export const planRecordValue = (rec: PlanRecord): Buffer => sealJson(rec);

/** The stored scenario of plan `name`, its checksum checked (IntegrityError naming it), or undefined. */
export async function readPlanRecord(store: Store, name: string): Promise<PlanRecord | undefined> {
  const b = await store.get(key.plan(name));
  return b
    ? unsealJson<PlanRecord>(b, `the stored scenario of plan ${name} (${key.plan(name)} in ${store.url})`)
    : undefined;
}

/** A command log entry as stored, sealed. */
export const commandValue = (entry: LoggedCommand): Buffer => sealJson(entry);

/** A stored command log entry, its checksum checked. */
export async function readCommand(store: Store, k: string): Promise<LoggedCommand | undefined> {
  const b = await store.get(k);
  return b ? unsealJson<LoggedCommand>(b, `command log entry ${k} in ${store.url}`) : undefined;
}

/** Opens the cluster namespace of the store at `url`. */
export function openCluster(url: string, connectTimeoutMs?: number): Promise<Store> {
  return openStore(url, CLUSTER_NS, { connectTimeoutMs });
}

/** Checks a plan name given on the command line (names starting with "_" are reserved). */
export function checkPlanName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(name)) {
    throw new UsageError(
      `bad --plan "${name}": use letters, digits, "_", "-" and "." (a letter or digit first), at most 100`,
    );
  }
  return name;
}
