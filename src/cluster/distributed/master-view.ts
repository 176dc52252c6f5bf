/**
 * What a `tessds master` shows the layer above. The control layer serves it over HTTP
 * (control/master-http.ts, control/master-metrics.ts); the CLI hands `runMaster` the function that
 * starts that server (`MasterOptions.serveHttp`), so cluster/ never imports control/.
 */
import type { Server } from 'node:net';
import type { Store } from '../store/store.js';
import { LEADER_LEASE, key, readJson, type LeaderRecord, type PlanRecord, type PlanState } from './layout.js';

/** The answer to a command posted for a plan (POST /api/commands?plan=NAME). */
export interface MasterCommandAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** One plan's figures as its leader knows them. */
export interface PlanFigures {
  plan: string;
  /** steps completed by the slowest slot */
  step: number;
  /** lost workers replaced so far */
  recoveries: number;
  paused: boolean;
  /** seconds since the leader last heard from each connected worker of the plan, by registry id */
  lastHeardSeconds: Map<number, number>;
}

/** A master as its control API sees it; every master has one, leading or not. */
export interface MasterView {
  /** the plan's status mirror with the leader as it is now (its `events` are the timeline);
   *  undefined: no such plan. Rejects when the store is unreachable. */
  status(plan: string): Promise<Record<string, unknown> | undefined>;
  /** the submitted plan (network and partition); undefined: no such plan */
  plan(plan: string): Promise<PlanRecord | undefined>;
  /** a command for the plan, as posted (checked here); a master that does not lead answers 409
   *  naming the leader */
  command(plan: string, body: unknown): Promise<MasterCommandAnswer>;
  /** the figures of every plan this master coordinates; undefined while it does not lead */
  figures(): PlanFigures[] | undefined;
  /** the store (as shown: no password) and whether it answers, as this master sees it */
  store(): { url: string; up: boolean };
}

/** Starts the control API of a master on top of its view; resolves once it listens. */
export type ServeMasterHttp = (view: MasterView) => Promise<Server>;

/** The status of plan `name`: the leader's mirror, with the leader as it is now. */
export async function readStatus(cluster: Store, name: string): Promise<Record<string, unknown> | undefined> {
  const rec = await cluster.get(key.plan(name));
  if (!rec) return undefined;
  const status = (await readJson<Record<string, unknown>>(cluster, key.status(name))) ?? {
    step: 0,
    state: 'submitted',
    workers: [],
  };
  const st = await readJson<PlanState>(cluster, key.state(name));
  if (st && (st.state === 'finished' || st.state === 'failed' || st.state === 'interrupted')) status.state = st.state;
  const lease = await cluster.readLease(LEADER_LEASE);
  const leader = await readJson<LeaderRecord>(cluster, key.leader);
  status.leader =
    lease && leader && leader.epoch === lease.epoch
      ? { pid: leader.pid, host: leader.host, epoch: leader.epoch }
      : null;
  if (st?.message) status.message = st.message;
  return status;
}
