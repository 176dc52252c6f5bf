/**
 * A part of a partitioned run: which lanes this engine owns, and the border exchange with its
 * neighbour parts (DESIGN.md "How a step crosses a partition border").
 *
 * After each step a part sends every neighbour one message carrying
 *   - transits: vehicles that left one of its junctions onto a lane the neighbour owns, and
 *     teleporting vehicles that re-enter on an edge the neighbour owns (full state);
 *   - halo: the vehicles on its lanes the neighbour reads in its next step — the normal lanes its
 *     junctions lead into (lookahead, room behind the junction) and its junction paths leading into
 *     the neighbour's lanes (nobody cuts in front of a vehicle leaving a junction).
 * Before the next step the receiver places the transits (they enter at a step start in a whole-
 * network engine too) and copies the halo into read-only ghost lanes. A part's own transits onto a
 * neighbour's lane are added to its ghost copy of that lane, so its view equals the whole engine's.
 *
 * Pure data transformation: no I/O. The cluster layer moves the buffers.
 */
import type { Network } from './network.js';
import type { Demand } from './demand.js';
import type { Engine } from './engine.js';
import { VEHICLE_RECORD_BYTES, readVehicleRecord, writeVehicleRecord } from './dump.js';
import { InputError } from '../errors.js';
import { restore, snapshot } from './snapshot.js';
import { CRLL_LOOK_AHEAD } from './junction.js';

export interface PartLayout {
  part: number;
  parts: number;
  /** owning part of every lane */
  laneOwner: Int32Array;
  /** owning part of every edge (the part of the junction it drives into) */
  edgeOwner: Int32Array;
  /** parts this one exchanges messages with, ascending */
  neighbours: number[];
  /** per neighbour: the lanes whose vehicles it needs from us, ascending */
  haloOut: Map<number, Int32Array>;
  /** lanes of other parts we keep read-only copies of */
  ghostLanes: Int32Array;
  /**
   * per neighbour: lanes of a third part onto which our vehicles cross, that the neighbour keeps a
   * ghost of (a lane two junctions past one of its own): we send it copies of those transits
   */
  transitCopiesOut: Map<number, Set<number>>;
  /** demand indices that depart on an edge we own, in departure order */
  departures: Int32Array;
}

/** The longest lane past `link` beyond which roomBehind may still look, for the demand's longest vehicle, m. */
function lookAheadLength(net: Network, link: number, maxLength: number): number {
  return Math.max(CRLL_LOOK_AHEAD * maxLength, maxLength + net.laneLength[net.linkLane[link]!]!);
}

/** Lane ownership from a junction → part assignment: a lane belongs to the junction it drives into. */
export function laneOwnersFromJunctions(net: Network, junctionPart: Int32Array): Int32Array {
  const owner = new Int32Array(net.laneCount);
  for (let lane = 0; lane < net.laneCount; lane++) {
    owner[lane] =
      lane < net.normalLaneCount
        ? junctionPart[net.edgeTo[net.laneEdge[lane]!]!]!
        : junctionPart[net.linkJunction[net.laneLink[lane]!]!]!;
  }
  return owner;
}

export function makeLayout(
  net: Network,
  demand: Demand,
  laneOwner: Int32Array,
  part: number,
  parts: number,
): PartLayout {
  const edgeOwner = new Int32Array(net.edgeCount);
  for (let e = 0; e < net.edgeCount; e++) edgeOwner[e] = laneOwner[net.edgeFirstLane[e]!]!;
  const halo = new Map<number, Set<number>>();
  const ghosts = new Set<number>();
  const copies = new Map<number, Set<number>>();
  let maxLength = 0;
  for (const t of demand.types) if (t.length > maxLength) maxLength = t.length;
  const add = (to: number, lane: number) => {
    let set = halo.get(to);
    if (!set) halo.set(to, (set = new Set()));
    set.add(lane);
  };
  for (let lk = 0; lk < net.linkCount; lk++) {
    const via = net.linkLane[lk]!;
    const to = net.linkTo[lk]!;
    const junctionPart = laneOwner[via]!;
    const toPart = laneOwner[to]!;
    if (junctionPart === toPart) continue;
    // the junction's part reads the lane beyond; the lane's part reads the junction path into it
    if (toPart === part) add(junctionPart, to);
    if (junctionPart === part) add(toPart, via);
    if (junctionPart === part) ghosts.add(to);
    if (toPart === part) ghosts.add(via);
    if (net.laneLength[to]! <= lookAheadLength(net, lk, maxLength)) {
      // the junction's part looks past a short lane beyond it (junction.ts roomBehind, SUMO's
      // checkRewindLinkLanes): it reads the next junction's paths and the lanes they lead into, as
      // the whole engine sees them at the step's start — their owner's vehicles and those that
      // crossed onto them in the last step from the lane's part
      for (let k = net.laneOutStart[to]!, end = net.laneOutStart[to + 1]!; k < end; k++) {
        const next = net.laneOut[k]!;
        const via2 = net.linkLane[next]!;
        const beyond = net.linkTo[next]!;
        const beyondPart = laneOwner[beyond]!;
        if (toPart === part) add(junctionPart, via2);
        if (junctionPart === part) ghosts.add(via2);
        if (beyondPart === junctionPart) continue;
        if (beyondPart === part) add(junctionPart, beyond);
        if (junctionPart === part) ghosts.add(beyond);
        if (toPart === part) {
          let set = copies.get(junctionPart);
          if (!set) copies.set(junctionPart, (set = new Set()));
          set.add(beyond);
        }
      }
    }
  }
  const haloOut = new Map<number, Int32Array>();
  for (const [q, set] of halo) haloOut.set(q, Int32Array.from(set).sort());
  const neighbours = new Set<number>(haloOut.keys());
  for (const g of ghosts) neighbours.add(laneOwner[g]!);
  const departures: number[] = [];
  // the scenario's vehicles; those added by online commands are queued when the command applies
  for (let id = 0; id < demand.baseCount; id++) {
    const first = demand.routeEdges[demand.routeStart[demand.route[id]!]!]!;
    if (edgeOwner[first] === part) departures.push(id);
  }
  return {
    part,
    parts,
    laneOwner,
    edgeOwner,
    neighbours: [...neighbours].sort((a, b) => a - b),
    haloOut,
    ghostLanes: Int32Array.from(ghosts).sort(),
    transitCopiesOut: copies,
    departures: Int32Array.from(departures),
  };
}

const MAGIC = 0x54534242; // "TSBB": border message
const GHOST_BYTES = 4 + 8 + 8;

/** One outgoing vehicle (transit or reinsertion) waiting to be serialised for its receiver. */
export interface Outgoing {
  slot: number;
  /** receiving part */
  to: number;
  /** -2 - lane (transit) or -1 (re-insertion) */
  where: number;
}

/**
 * Builds this step's message to every neighbour and releases the slots of the vehicles that left.
 * Keeps ghost copies of our own transits for our next step's view, and the sent records for dumps.
 */
export function collectOutbox(e: Engine, layout: PartLayout, outgoing: Outgoing[]): Map<number, Buffer> {
  const v = e.v;
  const out = new Map<number, Buffer>();
  const inFlight: Buffer[] = [];
  e.ghostCopies.length = 0;
  // the next step's phase of our actuated lights: a neighbour's vehicles may look at them
  const actuated: number[] = [];
  if (e.hasActuated) for (let tl = 0; tl < e.tlAct.length; tl++) if (e.tlOwned[tl] && e.tlAct[tl]) actuated.push(tl);
  for (const q of layout.neighbours) {
    const mine = outgoing.filter((o) => o.to === q);
    const transits = mine.filter((o) => o.where !== -1);
    const reinserts = mine.filter((o) => o.where === -1);
    const haloLanes = layout.haloOut.get(q) ?? new Int32Array(0);
    let haloVehicles = 0;
    for (const lane of haloLanes) haloVehicles += e.laneVehicles[lane]!;
    const copyLanes = layout.transitCopiesOut.get(q);
    // (onto a third part's lane: they are in `outgoing`; onto our own: in the engine's transits, placed
    // at our next step's start, so that our halo of the lane does not have them either)
    const copies: { lane: number; slot: number }[] = [];
    if (copyLanes) {
      for (const o of outgoing)
        if (o.where !== -1 && copyLanes.has(-2 - o.where)) copies.push({ lane: -2 - o.where, slot: o.slot });
      for (let k = 0; k < e.transitCount; k++) {
        const slot = e.transit[k]!;
        if (copyLanes.has(v.lane[slot]!)) copies.push({ lane: v.lane[slot]!, slot });
      }
    }
    const size =
      4 * 7 +
      mine.length * VEHICLE_RECORD_BYTES +
      haloLanes.length * 8 +
      haloVehicles * GHOST_BYTES +
      4 +
      actuated.length * 8 +
      4 +
      copies.length * (4 + GHOST_BYTES);
    const buf = Buffer.alloc(size);
    let off = 0;
    off = buf.writeUInt32LE(MAGIC, off);
    off = buf.writeInt32LE(layout.part, off);
    off = buf.writeInt32LE(q, off);
    off = buf.writeInt32LE(e.step, off);
    off = buf.writeInt32LE(transits.length, off);
    off = buf.writeInt32LE(reinserts.length, off);
    off = buf.writeInt32LE(haloLanes.length, off);
    const recordsStart = off;
    for (const o of [...transits, ...reinserts]) {
      off = writeVehicleRecord(buf, off, e, o.slot, o.where);
      if (o.where !== -1)
        e.ghostCopies.push({ lane: -2 - o.where, vid: v.vid[o.slot]!, pos: v.pos[o.slot]!, speed: v.speed[o.slot]! });
    }
    inFlight.push(buf.subarray(recordsStart, off));
    for (const lane of haloLanes) {
      off = buf.writeInt32LE(lane, off);
      off = buf.writeInt32LE(e.laneVehicles[lane]!, off);
      for (let s = e.laneFront[lane]!; s >= 0; s = v.behind[s]!) {
        off = buf.writeInt32LE(v.vid[s]!, off);
        off = buf.writeDoubleLE(v.pos[s]!, off);
        off = buf.writeDoubleLE(v.speed[s]!, off);
      }
    }
    off = buf.writeInt32LE(actuated.length, off);
    for (const tl of actuated) {
      off = buf.writeInt32LE(tl, off);
      off = buf.writeInt32LE(e.tlActPhase[tl]!, off);
    }
    // our vehicles that crossed onto a third part's lane the neighbour keeps a ghost of
    off = buf.writeInt32LE(copies.length, off);
    for (const o of copies) {
      off = buf.writeInt32LE(o.lane, off);
      off = buf.writeInt32LE(v.vid[o.slot]!, off);
      off = buf.writeDoubleLE(v.pos[o.slot]!, off);
      off = buf.writeDoubleLE(v.speed[o.slot]!, off);
    }
    out.set(q, buf);
  }
  for (const o of outgoing) {
    v.release(o.slot);
    e.running--;
  }
  e.inFlightRecords = inFlight;
  return out;
}

/** Applies the neighbours' messages of the last step before this engine's next step. */
export function applyInbox(e: Engine, layout: PartLayout, messages: Buffer[], source = 'border message'): void {
  const v = e.v;
  e.clearGhosts(layout.ghostLanes);
  // messages are applied in sender order; placement itself is order-independent (sorted lanes)
  const sorted = [...messages].sort((a, b) => a.readInt32LE(4) - b.readInt32LE(4));
  // transit copies join their ghost lanes after every halo (they enter at the lane's start, sorted)
  const copies: { lane: number; vid: number; pos: number; speed: number }[] = [];
  for (const buf of sorted) {
    let off = 0;
    if (buf.readUInt32LE(off) !== MAGIC) throw new InputError(source, 'not a TessDS border message');
    const to = buf.readInt32LE(8);
    if (to !== layout.part) throw new InputError(source, `message for part ${to} delivered to part ${layout.part}`);
    const nTransit = buf.readInt32LE(16);
    const nReinsert = buf.readInt32LE(20);
    const nHalo = buf.readInt32LE(24);
    off = 28;
    for (let k = 0; k < nTransit + nReinsert; k++) {
      const s = v.alloc();
      const where = readVehicleRecord(buf, off, e, s);
      off += VEHICLE_RECORD_BYTES;
      e.running++;
      if (where === -1) {
        e.requestReinsertion(s);
      } else {
        v.lane[s] = -2 - where;
        e.addTransit(s);
      }
    }
    for (let h = 0; h < nHalo; h++) {
      const lane = buf.readInt32LE(off);
      const n = buf.readInt32LE(off + 4);
      off += 8;
      for (let k = 0; k < n; k++) {
        e.addGhost(lane, buf.readInt32LE(off), buf.readDoubleLE(off + 4), buf.readDoubleLE(off + 12), false);
        off += GHOST_BYTES;
      }
    }
    // the phases of the sender's actuated lights in the step about to begin
    if (off + 4 <= buf.length) {
      const n = buf.readInt32LE(off);
      off += 4;
      for (let k = 0; k < n; k++, off += 8) e.tlActPhase[buf.readInt32LE(off)] = buf.readInt32LE(off + 4);
    }
    if (off + 4 <= buf.length) {
      const n = buf.readInt32LE(off);
      off += 4;
      for (let k = 0; k < n; k++, off += 4 + GHOST_BYTES)
        copies.push({
          lane: buf.readInt32LE(off),
          vid: buf.readInt32LE(off + 4),
          pos: buf.readDoubleLE(off + 8),
          speed: buf.readDoubleLE(off + 16),
        });
    }
  }
  for (const g of e.ghostCopies) e.addGhost(g.lane, g.vid, g.pos, g.speed, true);
  for (const g of copies) e.addGhost(g.lane, g.vid, g.pos, g.speed, true);
}

/**
 * A checkpoint of one part at a step boundary: its engine state and the messages it sent at that
 * boundary (neighbours may not have them yet; they also yield the part's in-flight vehicles and the
 * ghost copies of its own transits).
 */
export function snapshotPart(e: Engine, outbox: Map<number, Buffer>): Buffer {
  const state = snapshot(e);
  const parts: Buffer[] = [Buffer.alloc(8), state];
  parts[0]!.writeUInt32LE(state.length, 0);
  parts[0]!.writeUInt32LE(outbox.size, 4);
  for (const [to, buf] of [...outbox].sort((a, b) => a[0] - b[0])) {
    const head = Buffer.alloc(8);
    head.writeInt32LE(to, 0);
    head.writeUInt32LE(buf.length, 4);
    parts.push(head, buf);
  }
  return Buffer.concat(parts);
}

/** Restores a part from `snapshotPart`; returns the messages it had sent at that boundary. */
export function restorePart(e: Engine, bytes: Buffer, source = 'checkpoint'): Map<number, Buffer> {
  const stateLen = bytes.readUInt32LE(0);
  const n = bytes.readUInt32LE(4);
  restore(e, bytes.subarray(8, 8 + stateLen), source);
  const outbox = new Map<number, Buffer>();
  let off = 8 + stateLen;
  for (let k = 0; k < n; k++) {
    const to = bytes.readInt32LE(off);
    const len = bytes.readUInt32LE(off + 4);
    outbox.set(to, Buffer.from(bytes.subarray(off + 8, off + 8 + len)));
    off += 8 + len;
  }
  // what collectOutbox kept besides the messages: in-flight records and ghost copies of our transits
  const inFlight: Buffer[] = [];
  for (const buf of outbox.values()) {
    const count = buf.readInt32LE(16) + buf.readInt32LE(20);
    inFlight.push(buf.subarray(28, 28 + count * VEHICLE_RECORD_BYTES));
    for (let k = 0; k < count; k++) {
      const off = 28 + k * VEHICLE_RECORD_BYTES;
      const where = buf.readInt32LE(off);
      if (where !== -1)
        e.ghostCopies.push({
          lane: -2 - where,
          vid: buf.readInt32LE(off + 4),
          pos: buf.readDoubleLE(off + 8),
          speed: buf.readDoubleLE(off + 16),
        });
    }
  }
  e.inFlightRecords = inFlight;
  return outbox;
}
