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
import { Demand } from '../sim/demand.js';
import { dumpState } from '../sim/dump.js';
import { applyInbox, collectOutbox, laneOwnersFromJunctions, makeLayout, type PartLayout } from '../sim/partition.js';
import { FrameKind, FramedSocket, connect, listen } from './frames.js';
import { assertNever, encodeDump, type MasterMessage, type PeerMessage } from './protocol.js';

interface Part {
  id: number;
  engine: Engine;
  layout: PartLayout;
  /** step → (from part → message) */
  inbox: Map<number, Map<number, Buffer>>;
}

export interface WorkerOptions {
  masterHost: string;
  masterPort: number;
  workerId: number;
  listenHost: string;
  /** running inside the master's process: never exit the process, report failures by throwing */
  inProcess?: boolean;
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const master = await connect(o.masterHost, o.masterPort);
  const peers = new Map<number, FramedSocket>();
  const parts = new Map<number, Part>();
  let plan: Extract<MasterMessage, { type: 'plan' }> | undefined;
  let neededPeers = new Set<number>();
  let started = false;
  let endStep = 0;
  let stepSeconds = 0;
  let waitSeconds = 0;
  let doStepSeconds = 0;
  let idleSince = 0;
  let pumping = false;
  let finished = false;
  let statusTimer: NodeJS.Timeout | undefined;

  const fail = (message: string) => {
    master.sendControl({ type: 'failed', workerId: o.workerId, message });
    if (!o.inProcess) setTimeout(() => process.exit(1), 100);
  };

  const onBorder = (buf: Buffer) => {
    const to = buf.readInt32LE(8);
    const part = parts.get(to);
    if (!part) return fail(`border message for part ${to}, which this worker does not host`);
    const from = buf.readInt32LE(4);
    const step = buf.readInt32LE(12);
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
      if (!finished) fail(`lost the connection to worker ${workerId}`);
    });
    maybeReady();
  };

  const { server, port } = await listen(o.listenHost, 0, (sock) => {
    sock.once('frame', (kind, payload) => {
      if (kind !== FrameKind.control) return sock.close();
      const m = JSON.parse(payload.toString()) as PeerMessage;
      attachPeer(sock, m.workerId);
    });
  });

  const maybeReady = () => {
    if (!plan || started) return;
    for (const w of neededPeers) if (!peers.has(w)) return;
    master.sendControl({ type: 'ready', workerId: o.workerId });
  };

  const onPlan = async (p: Extract<MasterMessage, { type: 'plan' }>) => {
    plan = p;
    const net = new Network(p.spec.net);
    const demand = new Demand(p.spec.demand, net, { stepLength: p.spec.stepLength, begin: p.spec.begin, end: p.spec.end, seed: p.spec.seed });
    const owners = laneOwnersFromJunctions(net, Int32Array.from(p.junctionPart));
    for (const id of p.hosted) {
      const engine = new Engine(p.spec, net, demand);
      const layout = makeLayout(net, demand, owners, id, p.parts);
      engine.setLayout(layout);
      parts.set(id, { id, engine, layout, inbox: new Map() });
      for (const q of layout.neighbours) {
        const w = p.partWorker[q]!;
        if (w !== o.workerId) neededPeers.add(w);
      }
      endStep = engine.endStep!;
    }
    // the worker with the lower id opens each peer connection
    for (const w of neededPeers) {
      if (w < o.workerId) continue;
      const addr = p.peers.find((x) => x.workerId === w)!;
      const sock = await connect(addr.host, addr.port);
      sock.sendControl({ type: 'peer', workerId: o.workerId } satisfies PeerMessage);
      attachPeer(sock, w);
    }
    maybeReady();
  };

  const deliver = (to: number, buf: Buffer) => {
    if (parts.has(to)) onBorder(buf);
    else peers.get(plan!.partWorker[to]!)!.send(FrameKind.border, buf);
  };

  const ready = (part: Part) => {
    const step = part.engine.step;
    if (step >= endStep) return false;
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
        const s1 = performance.now();
        e.doStep();
        doStepSeconds += (performance.now() - s1) / 1000;
        const out = collectOutbox(e, part.layout, e.outgoing);
        e.outgoing = [];
        stepSeconds += (performance.now() - s0) / 1000;
        for (const [q, buf] of out) deliver(q, buf);
        if (plan!.check) sendCheck(part);
        progressed = true;
      }
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

  const sendCheck = (part: Part) => {
    const d = dumpState(part.engine);
    const head = Buffer.alloc(24);
    head.writeInt32LE(part.id, 0);
    head.writeInt32LE(d.step, 4);
    head.writeInt32LE(d.inserted, 8);
    head.writeInt32LE(d.arrived, 12);
    head.writeInt32LE(d.running, 16);
    head.writeInt32LE(d.vehicleIds.length, 20);
    master.send(FrameKind.check, Buffer.concat([head, Buffer.from(d.vehicleIds.buffer, d.vehicleIds.byteOffset, d.vehicleIds.byteLength)]));
  };

  const sendStatus = () => {
    let running = 0;
    let arrived = 0;
    for (const p of parts.values()) {
      running += p.engine.running;
      arrived += p.engine.arrived;
    }
    master.sendControl({
      type: 'status',
      workerId: o.workerId,
      parts: [...parts.values()].map((p) => ({ part: p.id, step: p.engine.step })),
      running,
      arrived,
    });
  };

  const finish = () => {
    finished = true;
    if (process.env.TESSDS_TIMING) process.stderr.write(`[timing] worker ${o.workerId}: stepping ${(stepSeconds * 1000).toFixed(0)} ms (doStep ${(doStepSeconds * 1000).toFixed(0)} ms), waiting ${(waitSeconds * 1000).toFixed(0)} ms\n`);
    if (statusTimer) clearInterval(statusTimer);
    sendStatus();
    for (const p of parts.values()) master.send(FrameKind.dump, encodeDump(p.id, dumpState(p.engine)));
    master.sendControl({ type: 'done', workerId: o.workerId, stepSeconds });
  };

  master.on('frame', (kind, payload) => {
    if (kind !== FrameKind.control) return;
    const m = JSON.parse(payload.toString()) as MasterMessage;
    switch (m.type) {
      case 'plan':
        onPlan(m).catch((err: Error) => fail(err.message));
        break;
      case 'start':
        started = true;
        statusTimer = setInterval(sendStatus, 250);
        schedule();
        break;
      case 'shutdown':
        shutdown(server);
        break;
      default:
        assertNever(m);
    }
  });
  master.on('close', () => shutdown(server));
  master.sendControl({ type: 'hello', workerId: o.workerId, pid: process.pid, host: os.hostname(), port });

  function shutdown(s: Server) {
    if (statusTimer) clearInterval(statusTimer);
    for (const p of peers.values()) p.socket.destroy();
    s.close();
    master.socket.destroy();
    if (!o.inProcess) process.exit(finished ? 0 : 1);
  }
}
