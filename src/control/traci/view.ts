/**
 * What TraCI's getters read of an engine between two steps: the vehicles by id and by lane, and the
 * departures and arrivals of the last step, built once per step on the first question (one pass over
 * the vehicle slots) and reused until the next step.
 *
 * A vehicle between two steps is either on its lane's list or in transit (it left a junction and is
 * placed on its next lane when the next step starts): both count as on that lane, as in SUMO where
 * the vehicle already is there. Teleporting vehicles are off the road: not listed (SUMO's isVisible).
 */
import type { Engine } from '../../sim/engine.js';

export class StepView {
  private step = -1;
  /** demand index → vehicle slot, -1: not on the road */
  private slotOf = new Int32Array(0);
  /** vehicles on the road, by id (SUMO's getIDList order: std::map) */
  private ids: string[] = [];
  /** per lane: slots from back to front (SUMO's order of a lane's vehicles) */
  private byLane = new Map<number, number[]>();
  private departed: number[] = [];
  private arrived: number[] = [];
  /** demand indices alive (on the road or teleporting) now, and right before the last step */
  private alive: number[] = [];
  private prevAlive: number[] = [];
  private prevStep = -1;
  /** vehicles a command took off the road at this step boundary (they count as arrived now) */
  private removed: number[] = [];

  constructor(private readonly e: Engine) {}

  /** Rebuilds the view when the engine has stepped since. */
  private fresh(): void {
    const e = this.e;
    if (this.step === e.step) return;
    // arrivals are found among the vehicles alive before the last step, and those removed since
    const before = this.prevStep === e.step - 1 ? this.prevAlive : [];
    this.step = e.step;
    const v = e.v;
    const d = e.demand;
    if (this.slotOf.length < d.count) this.slotOf = new Int32Array(Math.max(d.count, this.slotOf.length * 2));
    this.slotOf.fill(-1);
    const teleporting = new Set<number>();
    for (let k = 0; k < e.reinsertCount; k++) teleporting.add(e.reinsert[k]!);
    const byLane = new Map<number, number[]>();
    const alive: number[] = [];
    const departed: number[] = [];
    const lastStep = e.step - 1;
    for (let s = 0; s < v.used; s++) {
      const vid = v.vid[s]!;
      if (vid < 0 || !e.ownedLane[v.lane[s]!]) continue;
      alive.push(vid);
      if (e.trips.departStep[vid] === lastStep) departed.push(vid);
      if (teleporting.has(s)) continue;
      this.slotOf[vid] = s;
      let list = byLane.get(v.lane[s]!);
      if (!list) byLane.set(v.lane[s]!, (list = []));
      list.push(s);
    }
    for (const list of byLane.values()) list.sort((a, b) => v.pos[a]! - v.pos[b]! || v.vid[a]! - v.vid[b]!);
    this.byLane = byLane;
    this.ids = alive
      .filter((vid) => this.slotOf[vid]! >= 0)
      .map((vid) => d.ids[vid]!)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const candidates = new Set([...before, ...this.removed]);
    this.arrived = [...candidates].filter((vid) => e.trips.arrivalStep[vid] === e.step).sort((a, b) => a - b);
    this.departed = departed.sort((a, b) => a - b);
    this.alive = alive;
  }

  /** Called right before a step: remembers who is alive, so the next view can tell who arrived. */
  beforeStep(): void {
    const e = this.e;
    if (this.step === e.step) this.prevAlive = this.alive;
    else {
      // nobody asked since the last step: only who is alive (the lanes and ids wait for a question)
      const alive: number[] = [];
      const v = e.v;
      for (let s = 0; s < v.used; s++) if (v.vid[s]! >= 0 && e.ownedLane[v.lane[s]!]) alive.push(v.vid[s]!);
      this.prevAlive = alive;
    }
    this.prevStep = this.e.step;
    this.removed = [];
  }

  /** A command changed the state at this boundary (`removed`: the vehicle it took off the road). */
  invalidate(removed?: number): void {
    if (removed !== undefined) this.removed.push(removed);
    this.step = -1;
  }

  vehicleIds(): string[] {
    this.fresh();
    return this.ids;
  }

  /** The slot of the vehicle with demand index `vid`, or -1 when it is not on the road. */
  slot(vid: number): number {
    this.fresh();
    return vid < this.slotOf.length ? this.slotOf[vid]! : -1;
  }

  /** Slots on `lane`, back to front. */
  onLane(lane: number): readonly number[] {
    this.fresh();
    return this.byLane.get(lane) ?? [];
  }

  departedIds(): string[] {
    this.fresh();
    return this.departed.map((vid) => this.e.demand.ids[vid]!);
  }

  /** Demand indices of the vehicles that arrived in the last step (or were removed since), ascending. */
  arrivedIndices(): readonly number[] {
    this.fresh();
    return this.arrived;
  }

  arrivedIds(): string[] {
    this.fresh();
    return this.arrived.map((vid) => this.e.demand.ids[vid]!);
  }
}
