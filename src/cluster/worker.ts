/**
 * A worker process: hosts one or more parts of a run, exchanges border messages with the workers
 * hosting neighbour parts (directly, TCP), and reports to the master (which is off the data path).
 *
 * A part computes step t as soon as it holds every neighbour's message of step t-1: no global
 * barrier. Messages are keyed by (from part, step) and a duplicate is ignored.
 */
import os from 'node:os';
import type { Server } from 'node:net';
import { Engine } from '../sim/engine.js';
import { Network } from '../sim/network.js';
import { scenarioDemand, type Demand } from '../sim/demand.js';
import type { ScenarioSpec } from '../io/spec.js';
import { dumpState } from '../sim/dump.js';
import {
  applyInbox,
  collectOutbox,
  laneOwnersFromJunctions,
  makeLayout,
  restorePart,
  snapshotPart,
  type PartLayout,
} from '../sim/partition.js';
import { openStore, type Store } from './store/store.js';
import { checkpointKey } from './commits.js';
import { FrameKind, FramedSocket, connect, listen, rejectLogger } from './frames.js';
import type { LinkAuth } from './link-auth.js';
import { seal, unseal } from './integrity.js';
import { BORDER_HEAD_BYTES, readMasterMessage, readPeerMessage, WireError } from './validate.js';
import {
  assertNever,
  encodeDump,
  type LoggedCommand,
  type FrameSampler,
  type WorkerLog,
  type WorkerLogFactory,
  type MasterMessage,
  type NetFault,
  type Pace,
  type PeerMessage,
} from './protocol.js';
import { applyLoggedSimCommand } from './commands.js';
import { sinceStart, timing } from '../timing.js';

interface Part {
  id: number;
  engine: Engine;
  layout: PartLayout;
  /** step → (from part → message) */
  inbox: Map<number, Map<number, Buffer>>;
  /** sender-based log: messages sent since the last committed checkpoint, to part → step → message */
  log: Map<number, Map<number, Buffer>>;
  /** border messages and bytes this part sent (for metrics) */
  sentMessages: number;
  sentBytes: number;
  /** the command log entries for this part, in log order; `nextCommand` is the first not yet applied */
  commands: LoggedCommand[];
  nextCommand: number;
}

export interface WorkerOptions {
  masterHost: string;
  masterPort: number;
  /**
   * This process's number in the plan: its index in the plan's `partWorker` and `peers`, and the
   * `workerId` of every message it sends. The embedded cluster's worker index; in distributed mode
   * the plan slot the session hosts (not the registered worker's id, which the plan never names).
   */
  slot: number;
  listenHost: string;
  /** port for border messages from peers (default 0: any free port) */
  listenPort?: number;
  /** the link to the master and those with peers start with the handshake of link-auth.ts */
  masterAuth: LinkAuth;
  peerAuth: LinkAuth;
  /** running inside the master's process: never exit the process, report failures by throwing */
  inProcess?: boolean;
  /** encodes vehicle positions for the viewer (absent: frame requests go unanswered) */
  sampleFrame?: FrameSampler;
  /** makes the worker's JSON logger when the plan asks for logs */
  makeLog?: WorkerLogFactory;
  /** in the master's process: hands the master a way to pass messages without the socket (nothing is
   *  serialised and parsed within one process) */
  direct?: (receive: (m: MasterMessage) => void) => void;
  /** the scenario this worker got before its plan (a pre-started worker; worker 0 gets the master's,
   *  and its network, which no run changes). A plan without a scenario uses it when its `scenarioId`
   *  is this one's `id`. */
  preloaded?: PreloadedScenario;
}

export interface PreloadedScenario {
  spec: ScenarioSpec;
  id: string;
  net?: Network;
  demand?: Demand;
}

/** A pre-started worker's scenario, as the master handed it (prestart.ts `takeHandedScenario`), with
 *  its network and demand built; undefined when it cannot be built (the master, building the same,
 *  reports what is wrong with it). */
export function preloadScenario(handed: { id: string; spec: ScenarioSpec }): PreloadedScenario | undefined {
  try {
    const pre: PreloadedScenario = { ...handed, ...build(handed.spec) };
    timing(() => `worker: scenario built at ${sinceStart()}`);
    return pre;
  } catch {
    return undefined;
  }
}

/** The network and demand of a scenario, but for those already built (a worker's parts share them). */
function build(spec: ScenarioSpec, built: { net?: Network; demand?: Demand } = {}): { net: Network; demand: Demand } {
  const net = built.net ?? new Network(spec.net);
  return { net, demand: built.demand ?? scenarioDemand(spec, net) };
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const master = await connect(o.masterHost, o.masterPort, undefined, o.masterAuth);
  const peers = new Map<number, FramedSocket>();
  const parts = new Map<number, Part>();
  let plan: (Extract<MasterMessage, { type: 'plan' }> & { spec: ScenarioSpec }) | undefined;
  /** the preloaded scenario, until a plan takes it (its demand then gets the run's added vehicles) */
  let preloaded = o.preloaded;
  const neededPeers = new Set<number>();
  let started = false;
  let endStep = 0;
  let stepSeconds = 0;
  let waitSeconds = 0;
  let doStepSeconds = 0;
  let idleSince = 0;
  let pumping = false;
  let finished = false;
  /** the master said shutdown (or went away): links closing now are not to be repaired */
  let closing = false;
  let statusTimer: NodeJS.Timeout | undefined;
  let store: Store | undefined;
  /** injected network faults still to come, by step (chaos testing) */
  let faults: NetFault[] = [];
  /** while Date.now() < delayUntil, outgoing border messages are held back `delayMs` (injected fault) */
  let delayUntil = 0;
  let delayMs = 0;
  /** peers whose next border message is lost (injected fault) */
  const dropNext = new Set<number>();
  /** peers we are (re)connecting to: the lower worker id opens each connection, and reopens it */
  const connecting = new Set<number>();
  /** with a control plane, the master grants steps up to here (commands are scheduled beyond it) */
  let horizon = Infinity;
  let askedFor = -1;
  /** every command log entry received, in log order (parts created later pick theirs from here) */
  const commandLog: LoggedCommand[] = [];
  /** steps after which a checkpoint was requested (the `checkpoint` command) */
  const forcedCheckpoints = new Set<number>();
  let pace: Pace | undefined;
  const quiet: WorkerLog = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  let log: WorkerLog = quiet;
  const slowestStep = () => {
    let step = Infinity;
    for (const p of parts.values()) step = Math.min(step, p.engine.step);
    return step === Infinity ? 0 : step;
  };
  /** durations of the checkpoints written since the last status (for metrics) */
  const checkpointSeconds: number[] = [];
  /** the hosted parts exist (until then, sim commands wait in commandLog) */
  let partsBuilt = false;

  /** Takes a command log entry (live, or from the plan of a replacement). */
  const addCommand = (c: LoggedCommand) => {
    if (commandLog.length > 0 && c.seq <= commandLog[commandLog.length - 1]!.seq) return; // already have it
    commandLog.push(c);
    switch (c.command.type) {
      case 'stop':
        endStep = Math.min(endStep, c.step);
        break;
      case 'checkpoint':
        forcedCheckpoints.add(c.step);
        break;
      case 'sim':
        if (partsBuilt)
          for (const part of parts.values()) if (c.parts === 'all' || c.parts.includes(part.id)) part.commands.push(c);
        break;
      default:
        assertNever(c.command);
    }
    schedule();
  }; /** after a restore: the messages our parts had sent at the checkpoint (neighbours may lack them) */
  let restoredOutboxes: [number, Buffer][] | undefined;

  const fail = (message: string) => {
    master.sendControl({ type: 'failed', workerId: o.slot, message });
    if (!o.inProcess) setTimeout(() => process.exit(1), 100);
  };

  const onBorder = (buf: Buffer) => {
    if (buf.length < BORDER_HEAD_BYTES) throw new WireError(`a ${buf.length}-byte border message`);
    if (!planned) {
      early.push(buf); // a replacement: peers resend before our parts are restored
      return;
    }
    const to = buf.readInt32LE(8);
    const part = parts.get(to);
    if (!part) return fail(`border message for part ${to}, which this worker does not host`);
    const from = buf.readInt32LE(4);
    const step = buf.readInt32LE(12);
    // a message must come from a neighbour: the inbox counts one per neighbour
    if (!part.layout.neighbours.includes(from))
      throw new WireError(`a border message for part ${to} from part ${from}, not its neighbour`);
    if (step < part.engine.step) return; // a re-sent message this part already used
    let m = part.inbox.get(step);
    if (!m) part.inbox.set(step, (m = new Map()));
    if (!m.has(from)) m.set(from, buf); // idempotent receipt
    schedule();
  };

  const attachPeer = (sock: FramedSocket, workerId: number) => {
    peers.set(workerId, sock);
    sock.on('frame', (kind, payload) => {
      if (kind === FrameKind.border) onBorder(payload);
    });
    sock.on('close', () => {
      if (peers.get(workerId) !== sock) return;
      peers.delete(workerId);
      if (closing) return;
      (finished ? log.debug : log.warn).call(log, { peer: workerId }, 'peer link lost');
      // without checkpoints there are no logs to repair a broken link from
      if (!plan?.checkpointEvery) {
        if (!finished) fail(`lost the connection to worker ${workerId}`);
        return;
      }
      // (even when our parts are done: a neighbour replaced in the last steps needs our logs)
      // The peer died (the master replaces it and sends its new address: peer-restart) or only the
      // link broke: either way the lower id reconnects, and the log is resent on reconnection.
      if (o.slot < workerId) reconnect(workerId);
    });
    // Whatever the peer lacks — messages lost with a broken link, or everything since the checkpoint
    // a replacement restarts from — is in our logs: resend them all; the receiver drops duplicates.
    if (planned) resendTo(workerId, 0);
    if (planned) sendRestored(workerId);
    maybeReady();
  };

  /** Keeps trying to connect to worker `w` (at its latest address) until linked or shut down. */
  const reconnect = (w: number) => {
    if (connecting.has(w)) return;
    connecting.add(w);
    const attempt = () => {
      if (closing || peers.has(w) || !addresses.has(w)) return connecting.delete(w);
      connectTo(w, 500).then(
        () => connecting.delete(w),
        () => setTimeout(attempt, 100),
      );
    };
    attempt();
  };

  /** A restored part's messages of the checkpoint boundary, to the parts worker `w` hosts. */
  const sendRestored = (w: number) => {
    const sock = peers.get(w);
    if (!restoredOutboxes || !sock) return;
    for (const [to, buf] of restoredOutboxes) if (plan!.partWorker[to] === w) sock.send(FrameKind.border, buf);
  };

  /** Sends worker `w`'s parts every logged message from `step` on (they restart from a checkpoint). */
  const resendTo = (w: number, step: number) => {
    const sock = peers.get(w);
    if (!sock) return;
    for (const part of parts.values()) {
      for (const [to, byStep] of part.log) {
        if (plan!.partWorker[to] !== w) continue;
        for (const [h, buf] of [...byStep].sort((a, b) => a[0] - b[0])) if (h >= step) sock.send(FrameKind.border, buf);
      }
    }
  };

  const { server, port } = await listen(
    o.listenHost,
    o.listenPort ?? 0,
    (sock) => {
      sock.once('frame', (kind, payload) => {
        if (kind !== FrameKind.control) throw new WireError(`a frame of kind ${kind} before the peer message`);
        const m = readPeerMessage(payload);
        if (m.workerId === o.slot) throw new WireError(`a peer calling itself worker ${m.workerId}, this worker's id`);
        if (plan && m.workerId >= plan.partWorker.length)
          throw new WireError(
            `a peer calling itself worker ${m.workerId}; the run has ${plan.partWorker.length} parts`,
          );
        attachPeer(sock, m.workerId);
      });
    },
    { auth: o.peerAuth, onReject: rejectLogger(`worker ${o.slot}'s peer port`) },
  );

  const maybeReady = () => {
    if (!plan || started || !planned) return;
    for (const w of neededPeers) if (!peers.has(w)) return;
    master.sendControl({ type: 'ready', workerId: o.slot });
    if (plan.recoverFrom !== undefined) start();
  };
  let planned = false;
  const early: Buffer[] = [];
  /** latest known address of every worker (replacements listen on new ports) */
  const addresses = new Map<number, { workerId: number; host: string; port: number }>();
  const connectTo = async (w: number, timeoutMs?: number) => {
    const a = addresses.get(w)!;
    const sock = await connect(a.host, a.port, timeoutMs, o.peerAuth);
    sock.sendControl({ type: 'peer', workerId: o.slot } satisfies PeerMessage);
    attachPeer(sock, w);
  };

  const start = () => {
    if (started || !planned) return;
    started = true;
    statusTimer = setInterval(sendStatus, plan!.heartbeatMs || 250);
    schedule();
  };

  const onPlan = async (message: Extract<MasterMessage, { type: 'plan' }>) => {
    const pre = preloaded;
    preloaded = undefined;
    const spec = message.spec ?? (pre && pre.id === message.scenarioId ? pre.spec : undefined);
    if (!spec) throw new Error('the plan carries no scenario, and this worker read none or another one');
    const p = (plan = { ...message, spec });
    if (p.log && o.makeLog) log = o.makeLog(p.log, o.slot, slowestStep);
    log.info(
      { parts: p.hosted, recoverFrom: p.recoverFrom ?? null },
      p.recoverFrom !== undefined ? 'replacement: restoring parts' : 'plan received',
    );
    faults = (p.faults ?? []).filter((f) => f.worker === o.slot).sort((a, b) => a.step - b.step);
    const tb = performance.now();
    const { net, demand } = build(spec, spec === pre?.spec ? pre : {});
    const owners = laneOwnersFromJunctions(net, Int32Array.from(p.junctionPart));
    if (p.store) {
      store = await openStore(p.store.url, { project: p.store.project, plan: p.store.plan });
      store.watch?.((a) => storeNews(a.up, a.up ? undefined : a.error));
    }
    for (const id of p.hosted) {
      const engine = new Engine(p.spec, net, demand);
      const layout = makeLayout(net, demand, owners, id, p.parts);
      engine.setLayout(layout);
      const part: Part = {
        id,
        engine,
        layout,
        inbox: new Map(),
        log: new Map(),
        commands: [],
        nextCommand: 0,
        sentMessages: 0,
        sentBytes: 0,
      };
      parts.set(id, part);
      if (p.recoverFrom !== undefined && p.recoverFrom > 0) {
        const key = checkpointKey(p.recoverFrom, id);
        const sealed = await store!.get(key);
        if (!sealed) throw new Error(`checkpoint ${key} is missing from ${store!.url}`);
        // a flipped bit or a cut-short checkpoint is named here, not restored into another state
        const bytes = unseal(sealed, `checkpoint ${key} in ${store!.url}`);
        const outbox = restorePart(engine, bytes, key);
        log.info({ part: id, checkpoint: p.recoverFrom }, 'part restored from checkpoint');
        restoredOutboxes = [...(restoredOutboxes ?? []), ...outbox];
        for (const [to, buf] of outbox) logMessage(part, to, buf);
      }
      for (const q of layout.neighbours) {
        const w = p.partWorker[q]!;
        if (w !== o.slot) neededPeers.add(w);
      }
      endStep = Math.min(endStep || Infinity, engine.endStep!);
    }
    // a grant that came while the parts were being built may be beyond the plan's horizon: keep it
    horizon = p.horizon === undefined ? Infinity : Math.max(p.horizon, horizon === Infinity ? 0 : horizon);
    pace =
      p.pace ??
      (p.realtimeFactor && p.startedAt
        ? { factor: p.realtimeFactor, anchorStep: 0, anchorAt: p.startedAt }
        : undefined);
    // the plan's log and whatever came while the parts were being built, in log order, once each
    partsBuilt = true;
    const known = [...(p.commands ?? []), ...commandLog.splice(0)].sort((a, b) => a.seq - b.seq);
    for (const c of known) addCommand(c);
    // the worker with the lower id opens each peer connection
    for (const a of p.peers) if (!addresses.has(a.workerId)) addresses.set(a.workerId, a);
    // the worker with the lower id opens each connection; a peer being replaced too has no address
    // yet: its peer-restart brings it
    // A peer may die (or be fenced) between the master's plan and our connect: with checkpoints that
    // is not fatal, keep trying — the master replaces it and its peer-restart brings the new address.
    const connectOrRetry = (w: number) =>
      connectTo(w).catch((err: Error) => {
        if (!p.checkpointEvery) throw err;
        reconnect(w);
      });
    await Promise.all(
      [...neededPeers].filter((w) => w > o.slot && addresses.has(w) && !peers.has(w)).map(connectOrRetry),
    );
    planned = true;
    timing(() => `worker ${o.slot}: parts built in ${(performance.now() - tb).toFixed(0)} ms`);
    for (const w of peers.keys()) sendRestored(w); // peers that connected while we were restoring
    // addresses that came in while we were restoring
    for (const w of neededPeers) {
      if (w > o.slot && addresses.has(w) && !peers.has(w))
        connectOrRetry(w).catch((err: Error) => fail(`connecting to worker ${w}: ${err.message}`));
    }
    for (const buf of early.splice(0)) {
      try {
        onBorder(buf);
      } catch (e) {
        log.warn({ error: (e as Error).message }, 'dropped a border message that came before the plan');
      }
    }
    // local neighbours get the restored boundary messages directly
    if (restoredOutboxes) for (const [to, buf] of restoredOutboxes) if (parts.has(to)) onBorder(buf);
    maybeReady();
  };

  const logMessage = (part: Part, to: number, buf: Buffer) => {
    if (!plan!.checkpointEvery) return;
    let byStep = part.log.get(to);
    if (!byStep) part.log.set(to, (byStep = new Map()));
    byStep.set(buf.readInt32LE(12), buf);
  };

  const deliver = (from: Part, to: number, buf: Buffer) => {
    logMessage(from, to, buf);
    from.sentMessages++;
    from.sentBytes += buf.length;
    if (parts.has(to)) return onBorder(buf);
    const w = plan!.partWorker[to]!;
    if (dropNext.delete(w)) return; // injected loss: the message is logged, the reconnection resends it
    if (Date.now() < delayUntil) {
      setTimeout(() => peers.get(w)?.send(FrameKind.border, buf), delayMs);
      return;
    }
    peers.get(w)?.send(FrameKind.border, buf); // absent: link down or peer being replaced; resent on reconnection
  };

  /** Injects the network faults due at the slowest part's step (chaos testing). */
  const injectFaults = () => {
    let step = Infinity;
    for (const p of parts.values()) step = Math.min(step, p.engine.step);
    while (faults.length > 0 && faults[0]!.step <= step) {
      const f = faults.shift()!;
      process.stderr.write(`[fault] worker ${o.slot} at step ${step}: ${f.kind}${f.ms ? ` ${f.ms} ms` : ''}\n`);
      log.warn({ fault: f.kind, ms: f.ms ?? null }, 'injected network fault');
      switch (f.kind) {
        case 'cut':
          for (const sock of peers.values()) sock.socket.destroy();
          break;
        case 'delay':
          delayMs = f.ms ?? 200;
          delayUntil = Date.now() + delayMs * 5;
          break;
        case 'drop':
          for (const w of peers.keys()) dropNext.add(w);
          // the cut makes the reconnection resend what was dropped; a drop still armed after it would
          // lose a message sent on the new link, which nothing resends (a slow step under load)
          setTimeout(() => {
            dropNext.clear();
            for (const sock of peers.values()) sock.socket.destroy();
          }, 50);
          break;
        default:
          assertNever(f.kind);
      }
    }
  };

  /** the last step the wall clock allows (pacing with --realtime-factor), or Infinity */
  const pacedLimit = () => {
    if (!pace?.factor) return Infinity;
    return pace.anchorStep + Math.floor((((Date.now() - pace.anchorAt) / 1000) * pace.factor) / plan!.spec.stepLength);
  };
  let paceTimer: NodeJS.Timeout | undefined;

  const ready = (part: Part) => {
    const step = part.engine.step;
    if (step >= endStep) return false;
    if (step >= horizon) {
      // at the granted horizon: say where we are now rather than at the next heartbeat
      if (askedFor !== horizon) {
        askedFor = horizon;
        sendStatus();
      }
      return false;
    }
    if (step >= pacedLimit()) {
      // ahead of the wall clock: come back when the next step is due
      if (!paceTimer) paceTimer = setTimeout(() => ((paceTimer = undefined), schedule()), 5);
      return false;
    }
    if (step === 0) return true;
    return (part.inbox.get(step)?.size ?? 0) === part.layout.neighbours.length;
  };

  const pump = () => {
    pumping = false;
    const t0 = performance.now();
    if (idleSince > 0) waitSeconds += (t0 - idleSince) / 1000;
    idleSince = 0;
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const part of parts.values()) {
        if (!ready(part)) continue;
        const e = part.engine;
        const msgs = part.inbox.get(e.step);
        part.inbox.delete(e.step);
        const s0 = performance.now();
        applyInbox(e, part.layout, msgs ? [...msgs.values()] : []);
        // commands due now: after the border messages of the last step, before this step's phases
        while (part.nextCommand < part.commands.length && part.commands[part.nextCommand]!.step <= e.step) {
          const c = part.commands[part.nextCommand++]!;
          if (c.step === e.step && c.command.type === 'sim') applyLoggedSimCommand(e, c.command.resolved);
        }
        const s1 = performance.now();
        e.doStep();
        doStepSeconds += (performance.now() - s1) / 1000;
        const out = collectOutbox(e, part.layout, e.outgoing);
        e.outgoing = [];
        stepSeconds += (performance.now() - s0) / 1000;
        for (const [q, buf] of out) deliver(part, q, buf);
        if (store && (e.step % plan!.checkpointEvery === 0 || forcedCheckpoints.has(e.step)) && e.step < endStep)
          writeCheckpoint(part, snapshotPart(e, out), e.step);
        if (plan!.check) sendCheck(part);
        progressed = true;
      }
      if (faults.length > 0) injectFaults();
      // let socket I/O in now and then
      if (performance.now() - t0 > 50) return schedule();
    }
    if (!finished && [...parts.values()].every((p) => p.engine.step >= endStep)) finish();
    else idleSince = performance.now();
  };

  const schedule = () => {
    if (pumping || !started) return;
    pumping = true;
    setImmediate(pump);
  };

  /** the store is unreachable as far as this worker knows (told to the master at each change) */
  let storeDown = false;
  /** The store was lost (its connection closed, a write failed) or reached again: the master keeps
   *  the run's timeline of outages (store-down, store-up events). */
  const storeNews = (up: boolean, error?: string) => {
    if (up !== storeDown || closing) return;
    storeDown = !up;
    log[up ? 'info' : 'warn']({ error: error ?? null }, up ? 'store reachable again' : 'store unreachable');
    master.sendControl({
      type: 'store',
      workerId: o.slot,
      up,
      at: Date.now(),
      step: slowestStep(),
      ...(error !== undefined ? { error } : {}),
    });
  };

  /** Writes a checkpoint, retrying while the store is unreachable: the run goes on meanwhile (the
   *  logs just grow until the master can commit), and fails only after STORE_GIVE_UP_MS of errors. */
  const writeCheckpoint = (part: Part, bytes: Buffer, step: number, since = Date.now()) => {
    const t0 = performance.now();
    store!
      .put(checkpointKey(step, part.id), seal(bytes))
      .then(() => {
        storeNews(true);
        checkpointSeconds.push((performance.now() - t0) / 1000);
        log.debug({ part: part.id, checkpoint: step, bytes: bytes.length }, 'checkpoint written');
        master.sendControl({ type: 'checkpoint', workerId: o.slot, part: part.id, step });
      })
      .catch((err: Error) => {
        if (finished) return;
        storeNews(false, err.message);
        if (Date.now() - since > STORE_GIVE_UP_MS)
          return fail(`writing checkpoint ${step} of part ${part.id}: ${err.message}`);
        setTimeout(() => writeCheckpoint(part, bytes, step, since), 500);
      });
  };

  const sendCheck = (part: Part) => {
    const d = dumpState(part.engine);
    const head = Buffer.alloc(24);
    head.writeInt32LE(part.id, 0);
    head.writeInt32LE(d.step, 4);
    head.writeInt32LE(d.inserted, 8);
    head.writeInt32LE(d.arrived, 12);
    head.writeInt32LE(d.running, 16);
    head.writeInt32LE(d.vehicleIds.length, 20);
    master.send(
      FrameKind.check,
      Buffer.concat([head, Buffer.from(d.vehicleIds.buffer, d.vehicleIds.byteOffset, d.vehicleIds.byteLength)]),
    );
  };

  let lastSteps = '';
  let stalledSince = 0;
  const sendStatus = () => {
    if (process.env.TESSDS_DEBUG_STALL) {
      const steps = [...parts.values()].map((p) => p.engine.step).join(',');
      if (steps !== lastSteps) {
        lastSteps = steps;
        stalledSince = Date.now();
      } else if (Date.now() - stalledSince > 2000) {
        for (const p of parts.values()) {
          process.stderr.write(
            `[stall w${o.slot}] part ${p.id} step ${p.engine.step} needs ${p.layout.neighbours} inbox ${[...p.inbox].map(([h, m]) => `${h}:[${[...m.keys()]}]`).join(' ')} peers ${[...peers.keys()]} needed ${[...neededPeers]} connecting ${[...connecting]}\n`,
          );
        }
        stalledSince = Date.now();
      }
    }
    let running = 0;
    let arrived = 0;
    for (const p of parts.values()) {
      running += p.engine.running;
      arrived += p.engine.arrived;
    }
    master.sendControl({
      type: 'status',
      workerId: o.slot,
      parts: [...parts.values()].map((p) => ({
        part: p.id,
        step: p.engine.step,
        sentMessages: p.sentMessages,
        sentBytes: p.sentBytes,
      })),
      running,
      arrived,
      checkpointSeconds: checkpointSeconds.splice(0),
    });
  };

  const finish = () => {
    finished = true;
    log.info({ parts: [...parts.keys()] }, 'parts finished');
    timing(
      () =>
        `worker ${o.slot}: stepping ${(stepSeconds * 1000).toFixed(0)} ms (doStep ${(doStepSeconds * 1000).toFixed(0)} ms), waiting ${(waitSeconds * 1000).toFixed(0)} ms`,
    );
    if (statusTimer) clearInterval(statusTimer);
    sendStatus();
    for (const p of parts.values()) master.send(FrameKind.dump, encodeDump(p.id, dumpState(p.engine)));
    master.sendControl({ type: 'done', workerId: o.slot, stepSeconds });
  };

  const onMaster = (m: MasterMessage) => {
    switch (m.type) {
      case 'plan':
        onPlan(m).catch((err: Error) => fail(err.message));
        break;
      case 'start':
        start();
        break;
      case 'grant':
        horizon = Math.max(horizon === Infinity ? 0 : horizon, m.horizon);
        schedule();
        break;
      case 'command':
        if (partsBuilt) addCommand(m.entry);
        else commandLog.push(m.entry); // the parts are not built yet: onPlan takes these
        break;
      case 'pace':
        pace = m.pace;
        schedule();
        break;
      case 'frame-request': {
        if (!o.sampleFrame || !partsBuilt) break;
        const id = Buffer.alloc(4);
        id.writeUInt32LE(m.id, 0);
        master.send(
          FrameKind.frame,
          Buffer.concat([
            id,
            o.sampleFrame(
              [...parts.values()].map((p) => p.engine),
              m.viewport,
            ),
          ]),
        );
        break;
      }
      case 'committed':
        for (const part of parts.values())
          for (const byStep of part.log.values()) for (const h of [...byStep.keys()]) if (h < m.step) byStep.delete(h);
        break;
      case 'peer-restart': {
        // the replacement's new address; whoever connects resends its logs on attach (attachPeer)
        addresses.set(m.workerId, { workerId: m.workerId, host: m.host, port: m.port });
        // before our own plan is in, onPlan connects (with this address)
        if (planned && o.slot < m.workerId && neededPeers.has(m.workerId)) {
          const old = peers.get(m.workerId);
          if (old)
            old.socket.destroy(); // the dead process's link, not yet noticed: its close reconnects
          else reconnect(m.workerId);
        }
        break;
      }
      case 'shutdown':
        shutdown(server);
        break;
      default:
        assertNever(m);
    }
  };
  master.on('frame', (kind, payload) => {
    if (kind === FrameKind.control) onMaster(readMasterMessage(payload));
  });
  master.on('rejected', (why) =>
    process.stderr.write(`tessds: worker ${o.slot} closed its connection to the master: ${why}\n`),
  );
  o.direct?.(onMaster);
  master.on('close', () => shutdown(server));
  master.sendControl({
    type: 'hello',
    workerId: o.slot,
    pid: process.pid,
    host: os.hostname(),
    port,
    ...(preloaded ? { preloaded: preloaded.id } : {}),
  });
  // while the master partitions: build what the plan will need (unless the plan came first)
  if (preloaded) {
    const pre = preloaded;
    setImmediate(() => {
      if (preloaded === pre) Object.assign(pre, build(pre.spec, pre));
    });
  }

  function shutdown(s: Server) {
    closing = true;
    if (statusTimer) clearInterval(statusTimer);
    for (const p of peers.values()) p.socket.destroy();
    s.close();
    master.socket.destroy();
    if (!o.inProcess) process.exit(finished ? 0 : 1);
  }
}

/** how long checkpoint writes may keep failing (store unreachable) before the worker gives up */
const STORE_GIVE_UP_MS = 120_000;

export { checkpointKey };
