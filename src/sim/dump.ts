/**
 * The canonical state of a run, as data that can be split and merged: every process holding a part
 * of the network dumps its share, the dumps merge by demand index, and the merged dump hashes to the
 * same bytes as the dump of a single engine holding everything (DESIGN.md: the state hash is the
 * same for 1..N workers). Summaries and tripinfo are computed from merged dumps too.
 */
import { createHash } from 'node:crypto';
import type { Engine } from './engine.js';
import { TripRecords } from './trips.js';
import { commandDumpBytes, dumpCommandState, mergeCommandDumps, type CommandDump } from './commands-apply.js';
import { actuatedBytes, dumpActuated, mergeActuated } from './actuated-run.js';

/** Bytes of one vehicle record: where (i32) + the fields of `writeVehicleRecord`. */
export const VEHICLE_RECORD_BYTES = 4 + 4 + 8 + 8 + 4 * 4 + 8 + 8 + 4 * 3 + 8 + 8 + 4 + 8 + 8;

export interface StateDump {
  step: number;
  inserted: number;
  arrived: number;
  teleports: number;
  running: number;
  vehicleUpdates: number;
  /** demand indices waiting for insertion, ascending */
  pending: Int32Array;
  /** vehicles ascending by demand index, VEHICLE_RECORD_BYTES each */
  vehicleIds: Int32Array;
  vehicles: Buffer;
  /** trip records of the vehicles this dump knows (departed or arrived here), full size */
  trips: TripRecords;
  /** state changed by online commands (owned lanes and lights only); absent when none changed anything */
  commands?: CommandDump;
  /** actuated lights owned here and their loops (actuated-run.ts dumpActuated); absent without actuated programs */
  actuated?: number[][];
}

/** Where a vehicle is: a lane index, -2 - lane while leaving a junction, -1 while teleporting. */
export function writeVehicleRecord(buf: Buffer, off: number, e: Engine, s: number, where: number): number {
  const v = e.v;
  off = buf.writeInt32LE(where, off);
  off = buf.writeInt32LE(v.vid[s]!, off);
  off = buf.writeDoubleLE(v.pos[s]!, off);
  off = buf.writeDoubleLE(v.speed[s]!, off);
  off = buf.writeInt32LE(v.routeIdx[s]!, off);
  off = buf.writeInt32LE(v.waitSteps[s]!, off);
  off = buf.writeInt32LE(v.waitTotal[s]!, off);
  off = buf.writeInt32LE(v.waitCount[s]!, off);
  off = buf.writeDoubleLE(v.timeLoss[s]!, off);
  off = buf.writeDoubleLE(v.odometer[s]!, off);
  off = buf.writeInt32LE(v.lastLaneChange[s]!, off);
  off = buf.writeInt32LE(v.willPass[s]!, off);
  off = buf.writeInt32LE(v.teleports[s]!, off);
  off = buf.writeDoubleLE(v.lcGain[s]!, off);
  off = buf.writeDoubleLE(v.lcKeepRight[s]!, off);
  off = buf.writeInt32LE(v.stopNext[s]!, off);
  off = buf.writeDoubleLE(v.stopEnd[s]!, off);
  off = buf.writeDoubleLE(v.stopTime[s]!, off);
  return off;
}

/** Reads a record written by `writeVehicleRecord` into slot `s`; returns `where`. */
export function readVehicleRecord(buf: Buffer, off: number, e: Engine, s: number): number {
  const v = e.v;
  const where = buf.readInt32LE(off);
  v.vid[s] = buf.readInt32LE(off + 4);
  v.pos[s] = buf.readDoubleLE(off + 8);
  v.speed[s] = buf.readDoubleLE(off + 16);
  v.routeIdx[s] = buf.readInt32LE(off + 24);
  v.waitSteps[s] = buf.readInt32LE(off + 28);
  v.waitTotal[s] = buf.readInt32LE(off + 32);
  v.waitCount[s] = buf.readInt32LE(off + 36);
  v.timeLoss[s] = buf.readDoubleLE(off + 40);
  v.odometer[s] = buf.readDoubleLE(off + 48);
  v.lastLaneChange[s] = buf.readInt32LE(off + 56);
  v.willPass[s] = buf.readInt32LE(off + 60);
  v.teleports[s] = buf.readInt32LE(off + 64);
  v.lcGain[s] = buf.readDoubleLE(off + 68);
  v.lcKeepRight[s] = buf.readDoubleLE(off + 76);
  v.stopNext[s] = buf.readInt32LE(off + 84);
  v.stopEnd[s] = buf.readDoubleLE(off + 88);
  v.stopTime[s] = buf.readDoubleLE(off + 96);
  return where;
}

/** This engine's share of the state (all of it for a whole-network engine). */
export function dumpState(e: Engine): StateDump {
  const v = e.v;
  const slots: number[] = [];
  const where: number[] = [];
  const n = e.collectActive(0, e.net.laneCount);
  for (let i = 0; i < n; i++) {
    const lane = e.activeList[i]!;
    for (let s = e.laneFront[lane]!; s >= 0; s = v.behind[s]!) {
      slots.push(s);
      where.push(lane);
    }
  }
  for (let k = 0; k < e.transitCount; k++) {
    slots.push(e.transit[k]!);
    where.push(-2 - v.lane[e.transit[k]!]!);
  }
  for (let k = 0; k < e.reinsertCount; k++) {
    slots.push(e.reinsert[k]!);
    where.push(-1);
  }
  // records of every vehicle, plus those sent to other parts and not yet received (in flight)
  const records = Buffer.alloc(slots.length * VEHICLE_RECORD_BYTES);
  slots.forEach((s, k) => writeVehicleRecord(records, k * VEHICLE_RECORD_BYTES, e, s, where[k]!));
  const parts = [records, ...e.inFlight()];
  const refs: { id: number; buf: Buffer; off: number }[] = [];
  for (const buf of parts) {
    for (let off = 0; off < buf.length; off += VEHICLE_RECORD_BYTES)
      refs.push({ id: buf.readInt32LE(off + 4), buf, off });
  }
  refs.sort((a, b) => a.id - b.id);
  const vehicleIds = Int32Array.from(refs.map((r) => r.id));
  const vehicles = Buffer.alloc(refs.length * VEHICLE_RECORD_BYTES);
  refs.forEach((r, k) => r.buf.copy(vehicles, k * VEHICLE_RECORD_BYTES, r.off, r.off + VEHICLE_RECORD_BYTES));
  const pending = Int32Array.from(e.pending.subarray(0, e.pendingCount)).sort();
  const commands = dumpCommandState(e);
  const actuated = dumpActuated(e);
  return {
    step: e.step,
    inserted: e.inserted,
    arrived: e.arrived,
    teleports: e.teleports,
    // vehicles in flight to another part count here until the receiver places them
    running: e.running + e.inFlight().reduce((n, b) => n + b.length / VEHICLE_RECORD_BYTES, 0),
    vehicleUpdates: e.vehicleUpdates,
    pending,
    vehicleIds,
    vehicles,
    trips: e.trips,
    ...(commands ? { commands } : {}),
    ...(actuated ? { actuated } : {}),
  };
}

/** Merges the dumps of the parts of one run at one step. */
export function mergeDumps(dumps: StateDump[], demandCount: number): StateDump {
  const first = dumps[0]!;
  // online commands may have added vehicles the caller's demand does not know yet
  for (const d of dumps) if (d.trips.count > demandCount) demandCount = d.trips.count;
  const trips = new TripRecords(demandCount);
  const cols = trips.columns();
  // columns 0..3 are written at departure, the rest at arrival
  for (const d of dumps) {
    const src = d.trips.columns();
    for (let id = 0; id < demandCount; id++) {
      if (d.trips.departStep[id]! >= 0) for (let c = 0; c < 4; c++) cols[c]![id] = src[c]![id]!;
      if (d.trips.arrivalStep[id]! >= 0) for (let c = 4; c < cols.length; c++) cols[c]![id] = src[c]![id]!;
    }
  }
  const ids: { id: number; d: StateDump; k: number }[] = [];
  for (const d of dumps) d.vehicleIds.forEach((id, k) => ids.push({ id, d, k }));
  ids.sort((a, b) => a.id - b.id);
  const vehicles = Buffer.alloc(ids.length * VEHICLE_RECORD_BYTES);
  ids.forEach((x, k) =>
    x.d.vehicles.copy(vehicles, k * VEHICLE_RECORD_BYTES, x.k * VEHICLE_RECORD_BYTES, (x.k + 1) * VEHICLE_RECORD_BYTES),
  );
  const pending = new Int32Array(dumps.reduce((n, d) => n + d.pending.length, 0));
  let o = 0;
  for (const d of dumps) {
    pending.set(d.pending, o);
    o += d.pending.length;
  }
  pending.sort();
  const sum = (f: (d: StateDump) => number) => dumps.reduce((a, d) => a + f(d), 0);
  const commands = mergeCommandDumps(dumps.map((d) => d.commands));
  const actuated = mergeActuated(dumps.map((d) => d.actuated));
  return {
    step: first.step,
    inserted: sum((d) => d.inserted),
    arrived: sum((d) => d.arrived),
    teleports: sum((d) => d.teleports),
    running: sum((d) => d.running),
    vehicleUpdates: sum((d) => d.vehicleUpdates),
    pending,
    vehicleIds: Int32Array.from(ids.map((x) => x.id)),
    vehicles,
    trips,
    ...(commands ? { commands } : {}),
    ...(actuated ? { actuated } : {}),
  };
}

/**
 * The canonical state hash (hex SHA-256): step, counters, insertion queue, every vehicle by demand
 * index (where it is and every field in binary), and the trip record of every departed vehicle.
 * Signal states are a function of the step and of the command state, which is covered when present.
 */
export function hashDump(d: StateDump): string {
  const h = createHash('sha256');
  const head = Buffer.alloc(8 * 6);
  head.writeInt32LE(d.step, 0);
  head.writeInt32LE(d.inserted, 4);
  head.writeInt32LE(d.arrived, 8);
  head.writeInt32LE(d.teleports, 12);
  head.writeInt32LE(d.running, 16);
  head.writeDoubleLE(d.vehicleUpdates, 20);
  head.writeInt32LE(d.pending.length, 28);
  head.writeInt32LE(d.vehicleIds.length, 32);
  h.update(head);
  h.update(Buffer.from(d.pending.buffer, d.pending.byteOffset, d.pending.byteLength));
  h.update(d.vehicles);
  const t = d.trips;
  const cols = t.columns();
  const rec = Buffer.alloc(4 + cols.length * 8);
  for (let id = 0; id < t.count; id++) {
    if (t.departStep[id]! < 0) continue;
    rec.writeInt32LE(id, 0);
    cols.forEach((c, i) => rec.writeDoubleLE(c[id]!, 4 + 8 * i));
    h.update(rec);
  }
  // only when a command changed something, so that a run without commands keeps its hash
  if (d.commands) h.update(commandDumpBytes(d.commands));
  // only for networks with actuated programs: their phases depend on the loops, not on the step alone
  if (d.actuated) h.update(actuatedBytes(d.actuated));
  return h.digest('hex');
}

/** The state hash of one engine holding the whole network. */
export function stateHash(e: Engine): string {
  return hashDump(dumpState(e));
}
