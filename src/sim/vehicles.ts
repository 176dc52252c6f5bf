/**
 * Vehicle state as a structure of typed arrays, indexed by slot. Slots are reused; nothing in the
 * model depends on slot numbers (iteration is by lane order, ties by demand index), so a restored
 * engine that places vehicles in other slots behaves identically.
 *
 * Lanes hold their vehicles in a doubly linked list ordered front (largest position) to back.
 */

/** linkOpen of a vehicle that may enter its cont link but must stop at the wait point inside. */
export const WAIT_INSIDE = 2;

export class Vehicles {
  capacity = 0;
  /** slots ever used; slots >= used are free */
  used = 0;
  private freeSlots: number[] = [];

  // -- state covered by the state hash --
  /** demand index, -1 for a free slot */
  vid = new Int32Array(0);
  lane = new Int32Array(0);
  /** position of the front bumper on the lane, m */
  pos = new Float64Array(0);
  speed = new Float64Array(0);
  /** index in the route of the edge the vehicle is on (on an internal lane: the edge it came from) */
  routeIdx = new Int32Array(0);
  /** steps in a row with speed < 0.1 m/s */
  waitSteps = new Int32Array(0);
  /** total steps with speed < 0.1 m/s */
  waitTotal = new Int32Array(0);
  /** times the vehicle came to a halt */
  waitCount = new Int32Array(0);
  timeLoss = new Float64Array(0);
  /** distance driven since departure, m */
  odometer = new Float64Array(0);
  /** step of the last lane change (-1e9: never) */
  lastLaneChange = new Int32Array(0);
  /** whether the vehicle meant to pass its next link in the last step (junction approach info) */
  willPass = new Uint8Array(0);
  /** times the vehicle was teleported */
  teleports = new Int32Array(0);
  /** LC2013 speed-gain motivation: > 0 toward the left lane, < 0 toward the right */
  lcGain = new Float64Array(0);
  /** seconds the right lane has allowed full speed (keep-right motivation) */
  lcKeepRight = new Float64Array(0);
  /** the vehicle's next stop in the demand's stop table, -1: none left */
  stopNext = new Int32Array(0);
  /** while it stands at that stop: the time the stop ends, s; -1: not stopped */
  stopEnd = new Float64Array(0);
  /** s stood at stops so far (SUMO's stopTime: the step that brings it to a halt there, and each it stays) */
  stopTime = new Float64Array(0);

  // -- derived or per-step buffers, not part of the state --
  /** vehicle ahead on the same lane, -1 if front */
  ahead = new Int32Array(0);
  /** vehicle behind on the same lane, -1 if back */
  behind = new Int32Array(0);
  /** link the vehicle will take at the end of its lane: >= 0, NO_LINK (wrong lane), or ROUTE_END */
  link = new Int32Array(0);
  /** per step: the link decision of a front vehicle (1 = may pass, WAIT_INSIDE, 0 = may not) */
  linkOpen = new Uint8Array(0);
  /** per step: the speed chosen for the end of the step */
  nextSpeed = new Float64Array(0);
  /** per step: the uniform draw in [0, 1) of the vehicle's Krauss dawdling (follow.ts) */
  dawdle = new Float64Array(0);
  /** per step: the lane a vehicle wants to change to, -1 none */
  lcTarget = new Int32Array(0);
  /** per step: a vehicle on another lane this one should leave room for, -1 none */
  yieldTo = new Int32Array(0);
  /**
   * Lane-change cache (lanechange.ts): the continuations of the lanes of the edge the vehicle was last
   * decided on, `CONT_CACHE_WIDTH` per slot, valid while the key — demand index, route position and
   * next stop, the only inputs besides closed lanes (a change of those empties the cache) — is the
   * same; `contVid` -1: empty. A function of the state, so never part of it.
   */
  contVid = new Int32Array(0);
  contRouteIdx = new Int32Array(0);
  contStop = new Int32Array(0);
  contBest = new Float64Array(0);
  contLanes = new Float64Array(0);
  /**
   * Cache of Engine.linkBeyond: the link at the end of lane `beyondLane` toward the route, valid for
   * demand index `beyondVid` at route position `beyondRouteIdx` (-1: empty).
   */
  beyondVid = new Int32Array(0);
  beyondRouteIdx = new Int32Array(0);
  beyondLane = new Int32Array(0);
  beyondLink = new Int32Array(0);

  alloc(): number {
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    if (this.used === this.capacity) this.grow(Math.max(1024, this.capacity * 2));
    return this.used++;
  }

  release(slot: number): void {
    this.vid[slot] = -1;
    this.freeSlots.push(slot);
  }

  /** Drops every vehicle (used before a restore). */
  clear(): void {
    this.vid.fill(-1);
    this.contVid.fill(-1);
    this.beyondVid.fill(-1);
    this.used = 0;
    this.freeSlots = [];
  }

  private grow(cap: number): void {
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T, fill = 0): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      if (fill !== 0) b.fill(fill, a.length);
      return b;
    };
    this.vid = g(this.vid, -1);
    this.lane = g(this.lane);
    this.pos = g(this.pos);
    this.speed = g(this.speed);
    this.routeIdx = g(this.routeIdx);
    this.waitSteps = g(this.waitSteps);
    this.waitTotal = g(this.waitTotal);
    this.waitCount = g(this.waitCount);
    this.timeLoss = g(this.timeLoss);
    this.odometer = g(this.odometer);
    this.lastLaneChange = g(this.lastLaneChange);
    this.willPass = g(this.willPass);
    this.teleports = g(this.teleports);
    this.lcGain = g(this.lcGain);
    this.lcKeepRight = g(this.lcKeepRight);
    this.stopNext = g(this.stopNext, -1);
    this.stopEnd = g(this.stopEnd, -1);
    this.stopTime = g(this.stopTime);
    this.ahead = g(this.ahead);
    this.behind = g(this.behind);
    this.link = g(this.link);
    this.linkOpen = g(this.linkOpen);
    this.nextSpeed = g(this.nextSpeed);
    this.dawdle = g(this.dawdle);
    this.lcTarget = g(this.lcTarget, -1);
    this.yieldTo = g(this.yieldTo, -1);
    this.contVid = g(this.contVid, -1);
    this.contRouteIdx = g(this.contRouteIdx);
    this.contStop = g(this.contStop);
    this.contBest = g(this.contBest);
    this.beyondVid = g(this.beyondVid, -1);
    this.beyondRouteIdx = g(this.beyondRouteIdx);
    this.beyondLane = g(this.beyondLane);
    this.beyondLink = g(this.beyondLink);
    const lanes = new Float64Array(cap * CONT_CACHE_WIDTH);
    lanes.set(this.contLanes);
    this.contLanes = lanes;
    this.capacity = cap;
  }
}

/** Lanes per slot in the lane-change cache (`contLanes`); wider edges are computed every time. */
export const CONT_CACHE_WIDTH = 8;

export const NO_LINK = -1;
export const ROUTE_END = -2;
