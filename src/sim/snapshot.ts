/**
 * Snapshot and restore of the whole engine state, at a step boundary, to and from bytes; and the
 * canonical state hash. The snapshot lists vehicles lane by lane, front to back, so a restored engine
 * rebuilds exactly the same lane orders; the hash lists them by demand index, so that any set of
 * processes holding parts of the state can produce the same hash.
 */
import type { Engine } from './engine.js';
import { InputError } from '../errors.js';
import { readCommandState, writeCommandState } from './commands-apply.js';
import { readActuatedState, writeActuatedState } from './actuated-run.js';

const MAGIC = 0x54534453; // "TSDS"
/** 5: the state changed by online commands (commands-apply.ts) follows the fingerprint; 6: then the actuated lights' state; 7: vehicles' stops */
const VERSION = 7;

class Writer {
  private buf = Buffer.alloc(1 << 16);
  private off = 0;
  private ensure(n: number) {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const b = Buffer.alloc(size);
    this.buf.copy(b, 0, 0, this.off);
    this.buf = b;
  }
  i32(x: number) {
    this.ensure(4);
    this.buf.writeInt32LE(x, this.off);
    this.off += 4;
  }
  f64(x: number) {
    this.ensure(8);
    this.buf.writeDoubleLE(x, this.off);
    this.off += 8;
  }
  /** Length-prefixed bytes. */
  blob(b: Buffer) {
    this.i32(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.off);
    this.off += b.length;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

class Reader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  i32(): number {
    const x = this.buf.readInt32LE(this.off);
    this.off += 4;
    return x;
  }
  f64(): number {
    const x = this.buf.readDoubleLE(this.off);
    this.off += 8;
    return x;
  }
  blob(): Buffer {
    const n = this.i32();
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
}

/** Identifies the scenario a snapshot belongs to (a snapshot only restores into the same one). */
function fingerprint(e: Engine): number[] {
  // the scenario's demand: commands may have added vehicles (restored from the command state)
  return [e.demand.baseCount, e.net.laneCount, e.net.linkCount, Math.round(e.cfg.stepLength * 1e6), e.cfg.seed | 0];
}

/** Per-vehicle fields in a fixed order (lane and lane order are written separately). */
function writeVehicle(w: Writer, e: Engine, s: number): void {
  const v = e.v;
  w.i32(v.vid[s]!);
  w.f64(v.pos[s]!);
  w.f64(v.speed[s]!);
  w.i32(v.routeIdx[s]!);
  w.i32(v.waitSteps[s]!);
  w.i32(v.waitTotal[s]!);
  w.i32(v.waitCount[s]!);
  w.f64(v.timeLoss[s]!);
  w.f64(v.odometer[s]!);
  w.i32(v.lastLaneChange[s]!);
  w.i32(v.willPass[s]!);
  w.i32(v.teleports[s]!);
  w.f64(v.lcGain[s]!);
  w.f64(v.lcKeepRight[s]!);
  w.i32(v.stopNext[s]!);
  w.f64(v.stopEnd[s]!);
  w.f64(v.stopTime[s]!);
}

/** Reads what `writeVehicle` wrote into a newly allocated slot. */
function readVehicle(r: Reader, e: Engine): number {
  const v = e.v;
  const s = v.alloc();
  v.vid[s] = r.i32();
  v.pos[s] = r.f64();
  v.speed[s] = r.f64();
  v.routeIdx[s] = r.i32();
  v.waitSteps[s] = r.i32();
  v.waitTotal[s] = r.i32();
  v.waitCount[s] = r.i32();
  v.timeLoss[s] = r.f64();
  v.odometer[s] = r.f64();
  v.lastLaneChange[s] = r.i32();
  v.willPass[s] = r.i32();
  v.teleports[s] = r.i32();
  v.lcGain[s] = r.f64();
  v.lcKeepRight[s] = r.f64();
  v.stopNext[s] = r.i32();
  v.stopEnd[s] = r.f64();
  v.stopTime[s] = r.f64();
  return s;
}

function writeCommon(w: Writer, e: Engine): void {
  w.i32(e.step);
  w.i32(e.nextDeparture);
  w.i32(e.inserted);
  w.i32(e.arrived);
  w.i32(e.teleports);
  w.i32(e.running);
  w.f64(e.vehicleUpdates);
  w.i32(e.pendingCount);
  for (let k = 0; k < e.pendingCount; k++) w.i32(e.pending[k]!);
  // trip records of every vehicle that departed or arrived here
  const ids: number[] = [];
  for (let id = 0; id < e.trips.count; id++)
    if (e.trips.departStep[id]! >= 0 || e.trips.arrivalStep[id]! >= 0) ids.push(id);
  w.i32(ids.length);
  for (const id of ids) {
    w.i32(id);
    for (const col of e.trips.columns()) {
      if (col instanceof Float64Array) w.f64(col[id]!);
      else w.i32(col[id]!);
    }
  }
}

export function snapshot(e: Engine): Buffer {
  const w = new Writer();
  w.i32(MAGIC);
  w.i32(VERSION);
  for (const x of fingerprint(e)) w.i32(x);
  w.blob(writeCommandState(e));
  w.blob(writeActuatedState(e));
  writeCommon(w, e);
  for (let lane = 0; lane < e.net.laneCount; lane++) {
    const n = e.laneVehicles[lane]!;
    if (n === 0 || !e.ownedLane[lane]) continue; // ghost lanes are rebuilt from the neighbours
    w.i32(lane);
    w.i32(n);
    for (let s = e.laneFront[lane]!; s >= 0; s = e.v.behind[s]!) writeVehicle(w, e, s);
  }
  w.i32(-1);
  // vehicles between lanes: leaving a junction (with the lane they enter), and teleporting
  w.i32(e.transitCount);
  for (let k = 0; k < e.transitCount; k++) {
    const s = e.transit[k]!;
    w.i32(e.v.lane[s]!);
    writeVehicle(w, e, s);
  }
  w.i32(e.reinsertCount);
  for (let k = 0; k < e.reinsertCount; k++) writeVehicle(w, e, e.reinsert[k]!);
  return w.bytes();
}

/** Replaces the state of `e` (built from the same scenario) with the snapshot's. */
export function restore(e: Engine, bytes: Buffer, source = 'snapshot'): void {
  const r = new Reader(bytes);
  if (r.i32() !== MAGIC) throw new InputError(source, 'not a TessDS snapshot');
  const version = r.i32();
  if (version !== VERSION)
    throw new InputError(source, `snapshot version ${version} is not supported (expected ${VERSION})`);
  for (const x of fingerprint(e)) {
    if (r.i32() !== x) throw new InputError(source, 'snapshot belongs to another scenario or configuration');
  }
  const v = e.v;
  v.clear();
  e.clearLanes();
  // first: the demand grows to hold the commands' vehicles, and links depend on closed lanes
  readCommandState(e, r.blob());
  readActuatedState(e, r.blob());
  e.step = r.i32();
  e.nextDeparture = r.i32();
  e.inserted = r.i32();
  e.arrived = r.i32();
  e.teleports = r.i32();
  e.running = r.i32();
  e.vehicleUpdates = r.f64();
  e.pendingCount = r.i32();
  if (e.pending.length < e.pendingCount) e.pending = new Int32Array(e.pendingCount * 2);
  for (let k = 0; k < e.pendingCount; k++) e.pending[k] = r.i32();
  for (const col of e.trips.columns())
    col.fill(
      col === e.trips.departStep ||
        col === e.trips.departLane ||
        col === e.trips.arrivalStep ||
        col === e.trips.arrivalLane
        ? -1
        : 0,
    );
  for (let k = 0, n = r.i32(); k < n; k++) {
    const id = r.i32();
    for (const col of e.trips.columns()) col[id] = col instanceof Float64Array ? r.f64() : r.i32();
  }
  e.edgeBlocked.fill(-1);
  for (let lane = r.i32(); lane >= 0; lane = r.i32()) {
    const n = r.i32();
    for (let k = 0; k < n; k++) {
      const s = readVehicle(r, e);
      e.appendBack(s, lane);
      v.link[s] = lane < e.net.normalLaneCount ? e.computeLink(s, lane) : e.net.laneLink[lane]!;
    }
  }
  e.transitCount = 0;
  for (let k = 0, n = r.i32(); k < n; k++) {
    const lane = r.i32();
    const s = readVehicle(r, e);
    v.lane[s] = lane;
    e.addTransit(s);
  }
  e.reinsertCount = 0;
  for (let k = 0, n = r.i32(); k < n; k++) e.requestReinsertion(readVehicle(r, e));
}

export { stateHash } from './dump.js';
