/**
 * `tessds worker`: a worker process of distributed mode. It registers in the store (a fresh id from
 * the `worker-ids` log, a record, and a lease renewed every heartbeat: its liveness), discovers the
 * leader by reading the leader record (it never chooses one), and hosts one plan session at a time
 * when the leader assigns it a slot.
 *
 * The session is the same worker code as the embedded cluster's (worker.ts), connected to a relay in
 * this process instead of to a master: the relay forwards its messages to whoever leads now and the
 * leader's messages to it. So the session keeps stepping while there is no leader (the master is off
 * the data path); the relay drops messages from an older epoch, writes the session's final part dumps
 * into the store itself (fenced by this worker's lease, so a finish during a leader gap is not lost),
 * and puts the scenario, read from the store, into the plan message (R5).
 *
 * A worker whose lease renewal fails was declared dead and replaced: it exits at once (fencing).
 */
import os from 'node:os';
import { FrameKind, connect, listen, rejectLogger, type FramedSocket } from '../frames.js';
import { decodeDump, type WorkerMessage } from '../protocol.js';
import { readToAgent, readWorkerMessage } from '../validate.js';
import { runWorker } from '../worker.js';
import type { Store } from '../store/store.js';
import {
  LEADER_TYPES,
  type FromAgent,
  type LeaderMessage,
  type PlanWithoutSpec,
  type SessionInfo,
  type ToAgent,
} from './messages.js';
import {
  CLUSTER_NS,
  json,
  key,
  readJson,
  readPlanRecord,
  type LeaderRecord,
  type PlanRecord,
  type WorkerRecord,
} from './layout.js';
import { randomSecret } from '../secret.js';
import { seal } from '../integrity.js';
import type { LinkAuth } from '../link-auth.js';

export interface AgentOptions {
  /** the cluster namespace of the store */
  cluster: Store;
  /** address peers reach this worker's border-message port on */
  listenHost: string;
  /** port for border messages (default 0: a free port per plan session) */
  listenPort?: number;
  leaseMs: number;
  heartbeatMs: number;
  log: (line: string) => void;
  /** the cluster secret (secret.ts; PUBLIC_KEY when none is configured): links to the leader and
   *  between plan sessions prove they hold it */
  secret: Buffer;
}

interface Session {
  plan: string;
  slot: number;
  /** the session's connection to the relay */
  local?: FramedSocket;
  hello?: Extract<WorkerMessage, { type: 'hello' }>;
  planned: boolean;
  ready: boolean;
  started: boolean;
  done: boolean;
  /** dump writes in flight: 'done' is relayed after them */
  writes: Promise<unknown>;
}

export async function runAgent(o: AgentOptions): Promise<void> {
  const { cluster } = o;
  const host = os.hostname();
  const workerId = await cluster.append(key.workerIds, json({ pid: process.pid, host }));
  const owner = `${host}:${process.pid}`;
  const lease = await cluster.acquireLease(key.workerLease(workerId), owner, o.leaseMs);
  if (!lease) throw new Error(`worker id ${workerId} is already taken`);
  const leaseEpoch = lease.epoch;
  await cluster.put(
    key.worker(workerId),
    json({ id: workerId, pid: process.pid, host, registeredAt: Date.now() } satisfies WorkerRecord),
  );
  o.log(`worker ${workerId} registered (pid ${process.pid})`);

  /** one line per distinct message (not one per heartbeat) */
  const said = new Set<string>();
  const once = (line: string) => {
    if (said.has(line)) return;
    said.add(line);
    o.log(line);
  };

  const fenced = (reason: string): never => {
    o.log(`worker ${workerId}: fenced out (${reason}); exiting`);
    process.exit(3);
  };

  // ---- liveness: the lease is the heartbeat ----
  const renew = async () => {
    const t0 = Date.now();
    try {
      const ok = await cluster.renewLease(key.workerLease(workerId), owner, leaseEpoch, o.leaseMs);
      if (!ok) fenced('its lease was taken: the leader declared it dead');
    } catch (e) {
      // the store is unreachable: keep going; the lease decides when it is back. Anything else (a
      // key of the wrong type) is said, once
      const m = (e as Error).message;
      if (!/cannot reach|ECONNREFUSED|ECONNRESET|ETIMEDOUT|closed|EPIPE|ENOTFOUND/.test(m))
        once(`worker ${workerId}: cannot renew its lease: ${m}`);
    }
    setTimeout(() => void renew(), Math.max(0, o.heartbeatMs - (Date.now() - t0)));
  };
  void renew();

  // ---- the leader connection ----
  let leader: { sock: FramedSocket; epoch: number } | undefined;
  /** highest leader epoch seen: control from an older one is ignored */
  let maxEpoch = 0;
  let connecting = false;
  let session: Session | undefined;
  const specs = new Map<string, PlanRecord>();

  const toLeader = (m: FromAgent) => leader?.sock.sendControl(m);
  const sessionInfo = (): SessionInfo | undefined =>
    session && {
      plan: session.plan,
      slot: session.slot,
      port: session.hello?.port,
      hello: session.hello,
      planned: session.planned,
      ready: session.ready,
      started: session.started,
      done: session.done,
    };

  const discover = async () => {
    if (connecting) return;
    connecting = true;
    try {
      const rec = await readJson<LeaderRecord>(cluster, key.leader);
      if (rec && rec.epoch < maxEpoch)
        once(
          `worker ${workerId}: the leader record names epoch ${rec.epoch}, below epoch ${maxEpoch} this worker followed: not followed (the store lost its history?)`,
        );
      if (!rec || rec.epoch < maxEpoch || (leader && leader.epoch >= rec.epoch)) return;
      const sock = await connect(rec.address.host, rec.address.port, 1000, {
        secret: o.secret,
        plan: CLUSTER_NS.plan,
        epoch: rec.epoch,
      });
      maxEpoch = Math.max(maxEpoch, rec.epoch);
      if (rec.epoch < maxEpoch) return sock.close();
      const old = leader;
      leader = { sock, epoch: rec.epoch };
      old?.sock.socket.destroy();
      sock.on('frame', (kind, payload) => onLeaderFrame(sock, rec.epoch, kind, payload));
      sock.on('close', () => {
        if (leader?.sock === sock) leader = undefined;
      });
      o.log(`worker ${workerId}: following leader epoch ${rec.epoch} (pid ${rec.pid} on ${rec.host})`);
      toLeader({
        type: 'agent',
        workerId,
        pid: process.pid,
        host,
        listenHost: o.listenHost,
        epoch: rec.epoch,
        session: sessionInfo(),
      });
    } catch {
      // no leader yet, or it died: try again at the next heartbeat
    } finally {
      connecting = false;
    }
  };
  setInterval(() => {
    toLeader({ type: 'heartbeat', workerId });
    void discover();
  }, o.heartbeatMs);
  void discover();

  const onLeaderFrame = (sock: FramedSocket, epoch: number, kind: number, payload: Buffer) => {
    if (kind !== FrameKind.control) return;
    if (epoch < maxEpoch || leader?.sock !== sock) return void sock.socket.destroy(); // an old leader
    const m = readToAgent(payload);
    if (LEADER_TYPES.has(m.type)) {
      if (m.type === 'fenced') fenced(m.reason);
      else if (m.type === 'assign') void startSession(m.plan, m.slot);
      return;
    }
    const mm = m as Exclude<ToAgent, LeaderMessage>;
    if (!session?.local) return;
    if (mm.type === 'plan') {
      const s = session;
      return void sendPlan(s, mm).catch((err: Error) => {
        o.log(`worker ${workerId}: session of ${s.plan} failed: ${err.message}`);
        toLeader({ type: 'failed', workerId: s.slot, message: err.message });
      });
    }
    if (mm.type === 'start') session.started = true;
    session.local.sendControl(mm);
  };

  const sendPlan = async (s: Session, m: PlanWithoutSpec) => {
    let rec = specs.get(s.plan);
    if (!rec) {
      rec = await readPlanRecord(cluster, s.plan);
      if (!rec) return o.log(`worker ${workerId}: plan ${s.plan} is missing from the store`);
      specs.set(s.plan, rec);
    }
    s.planned = true;
    if (m.recoverFrom !== undefined) s.started = true; // a restored session starts by itself
    s.local?.sendControl({ ...m, spec: rec.spec });
  };

  // ---- the relay the session connects to, and the session ----
  // the session runs in this process: its link to the relay proves a secret drawn here, which no
  // other process knows (the relay port is open to anyone on this machine)
  const relayAuth: LinkAuth = { secret: randomSecret(), plan: '_relay', epoch: 0 };
  const relay = await listen(
    '127.0.0.1',
    0,
    (local) => {
      const s = session;
      if (!s || s.local) return local.close();
      s.local = local;
      local.on('frame', (kind, payload) => {
        if (kind === FrameKind.dump) {
          const part = decodeDump(payload).part;
          s.writes = s.writes.then(async () => {
            const ok = await cluster.putFenced(key.workerLease(workerId), leaseEpoch, [
              { key: key.dump(s.plan, part), value: seal(payload) },
            ]);
            if (!ok) fenced('writing a final dump: its lease was taken');
          });
          return;
        }
        if (kind !== FrameKind.control) return; // debug checks are not relayed
        const m = readWorkerMessage(payload);
        if (m.type === 'hello') s.hello = m;
        if (m.type === 'ready') s.ready = true;
        if (m.type === 'done') {
          void s.writes.then(
            () => {
              s.done = true;
              toLeader(m);
            },
            (err: Error) =>
              toLeader({ type: 'failed', workerId: s.slot, message: `writing final dumps: ${err.message}` }),
          );
          return;
        }
        toLeader(m);
      });
      local.on('close', () => {
        if (session !== s) return;
        session = undefined;
        toLeader({ type: 'idle', workerId });
      });
    },
    { auth: relayAuth, onReject: rejectLogger(`worker ${workerId}'s relay port`) },
  );

  const startSession = async (plan: string, slot: number) => {
    if (session) {
      if (session.plan === plan && session.slot === slot) return;
      return o.log(
        `worker ${workerId}: assigned ${plan} slot ${slot} while hosting ${session.plan} slot ${session.slot}; ignored`,
      );
    }
    const s: Session = {
      plan,
      slot,
      planned: false,
      ready: false,
      started: false,
      done: false,
      writes: Promise.resolve(),
    };
    session = s;
    o.log(`worker ${workerId}: hosting slot ${slot} of plan ${plan}`);
    // the sessions of one plan link up whatever leader gave them their plans: bound to the plan, epoch 0
    const peerAuth: LinkAuth = { secret: o.secret, plan, epoch: 0 };
    runWorker({
      masterHost: '127.0.0.1',
      masterPort: relay.port,
      slot,
      listenHost: o.listenHost,
      listenPort: o.listenPort,
      inProcess: true,
      masterAuth: relayAuth,
      peerAuth,
    }).catch((err: Error) => {
      o.log(`worker ${workerId}: session of ${plan} failed: ${err.message}`);
      toLeader({ type: 'failed', workerId: slot, message: err.message });
    });
  };
}
