/**
 * What TraCI's getters read of an engine between two steps: the vehicles by id and by lane, and the
 * departures and arrivals of the last step. Each is built on the first question after a step (one
 * pass over the vehicle slots, or the lane's own list) and reused until the next step: a client that
 * asks only for lane figures pays for no id index.
 *
 * A vehicle between two steps is either on its lane's list or in transit (it left a junction and is
 * placed on its next lane when the next step starts): both count as on that lane, as in SUMO where
 * the vehicle already is there. Teleporting vehicles are off the road: not listed (SUMO's isVisible).
 */
import type { Engine } from '../../sim/engine.js';

export class StepView {
  /** the step (and command generation) each lazily built part is valid for */
  private stamp = 0;
  private indexStamp = -1;
  private flowStamp = -1;
  /** demand index → vehicle slot, -1: not on the road */
  private slotOf = new Int32Array(0);
  /** the demand indices `slotOf` holds a slot for */
  private indexed: number[] = [];
  /** vehicles on the road, by id (SUMO's getIDList order: std::map) */
  private ids: string[] = [];
  private departed: number[] = [];
  private arrived: number[] = [];
  /** demand indices alive (on the road or teleporting) right before the last step */
  private prevAlive: number[] = [];
  private prevStep = -1;
  /** vehicles a command took off the road at this step boundary (they count as arrived now) */
  private removed: number[] = [];
  private lastStep = -1;

  constructor(private readonly e: Engine) {}

  /** A new stamp when the engine stepped (or a command changed the state) since the last question. */
  private current(): number {
    if (this.lastStep !== this.e.step) {
      this.lastStep = this.e.step;
      this.stamp++;
    }
    return this.stamp;
  }

  /** The slot index and the sorted id list. */
  private index(): void {
    const stamp = this.current();
    if (this.indexStamp === stamp) return;
    this.indexStamp = stamp;
    const e = this.e;
    const v = e.v;
    const d = e.demand;
    if (this.slotOf.length < d.count) {
      this.slotOf = new Int32Array(Math.max(d.count, this.slotOf.length * 2)).fill(-1);
      this.indexed = [];
    }
    // forget the last index (only its entries: the demand may be large)
    for (const vid of this.indexed) this.slotOf[vid] = -1;
    const indexed: number[] = [];
    for (let s = 0; s < v.used; s++) {
      const vid = v.vid[s]!;
      if (vid >= 0 && e.ownedLane[v.lane[s]!]) {
        this.slotOf[vid] = s;
        indexed.push(vid);
      }
    }
    // teleporting vehicles are off the road
    for (let k = 0; k < e.reinsertCount; k++) this.slotOf[v.vid[e.reinsert[k]!]!] = -1;
    this.indexed = indexed;
    const ids: string[] = [];
    for (const vid of indexed) if (this.slotOf[vid]! >= 0) ids.push(d.ids[vid]!);
    this.ids = ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The departures and arrivals of the last step. */
  private flows(): void {
    const stamp = this.current();
    if (this.flowStamp === stamp) return;
    this.flowStamp = stamp;
    const e = this.e;
    const v = e.v;
    const lastStep = e.step - 1;
    const departed: number[] = [];
    for (let s = 0; s < v.used; s++) {
      const vid = v.vid[s]!;
      if (vid >= 0 && e.ownedLane[v.lane[s]!] && e.trips.departStep[vid] === lastStep) departed.push(vid);
    }
    this.departed = departed.sort((a, b) => a - b);
    // arrivals are found among the vehicles alive before the last step, and those removed since
    const before = this.prevStep === e.step - 1 ? this.prevAlive : [];
    const arrived: number[] = [];
    for (const vid of before) if (e.trips.arrivalStep[vid] === e.step) arrived.push(vid);
    for (const vid of this.removed)
      if (e.trips.arrivalStep[vid] === e.step && !arrived.includes(vid)) arrived.push(vid);
    this.arrived = arrived.sort((a, b) => a - b);
  }

  /** Called right before a step: remembers who is alive, so the next view can tell who arrived. */
  beforeStep(): void {
    const e = this.e;
    const alive: number[] = [];
    const v = e.v;
    for (let s = 0; s < v.used; s++) if (v.vid[s]! >= 0 && e.ownedLane[v.lane[s]!]) alive.push(v.vid[s]!);
    this.prevAlive = alive;
    this.prevStep = e.step;
    this.removed = [];
  }

  /** A command changed the state at this boundary (`removed`: the vehicle it took off the road). */
  invalidate(removed?: number): void {
    if (removed !== undefined) this.removed.push(removed);
    this.stamp++;
  }

  vehicleIds(): string[] {
    this.index();
    return this.ids;
  }

  /** The slot of the vehicle with demand index `vid`, or -1 when it is not on the road. */
  slot(vid: number): number {
    this.index();
    return vid < this.slotOf.length ? this.slotOf[vid]! : -1;
  }

  /** Slots on `lane`, back to front (SUMO's order of a lane's vehicles), vehicles in transit onto it included. */
  onLane(lane: number): number[] {
    const e = this.e;
    const out: number[] = [];
    for (let s = e.laneBack[lane]!; s >= 0; s = e.v.ahead[s]!) out.push(s);
    let merged = false;
    for (let k = 0; k < e.transitCount; k++) {
      const s = e.transit[k]!;
      if (e.v.lane[s] === lane) {
        out.push(s);
        merged = true;
      }
    }
    if (merged) out.sort((a, b) => e.v.pos[a]! - e.v.pos[b]! || e.v.vid[a]! - e.v.vid[b]!);
    return out;
  }

  /** Demand indices of the vehicles that departed in the last step, ascending. */
  departedIndices(): readonly number[] {
    this.flows();
    return this.departed;
  }

  departedIds(): string[] {
    return this.departedIndices().map((vid) => this.e.demand.ids[vid]!);
  }

  /** Demand indices of the vehicles that arrived in the last step (or were removed since), ascending. */
  arrivedIndices(): readonly number[] {
    this.flows();
    return this.arrived;
  }

  arrivedIds(): string[] {
    return this.arrivedIndices().map((vid) => this.e.demand.ids[vid]!);
  }
}
