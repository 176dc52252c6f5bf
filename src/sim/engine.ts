/**
 * The simulation engine: one step is a list of named phases (CityFlow style), each reading the state
 * the previous phases committed and writing into per-step buffers that are committed at the end of
 * the phase. Nothing depends on the order in which vehicles are visited beyond the canonical orders
 * of DESIGN.md (lanes by index, vehicles on a lane front to back, ties by demand index).
 *
 *   signals → lane changes → junction requests → car following → movement → teleports → insertion
 */
import type { ScenarioSpec } from '../io/spec.js';
import { UsageError } from '../errors.js';
import { ArrivalPosCode, Demand, POS_KEYWORD } from './demand.js';
import { hashPrefix, Purpose, uniform } from './rng.js';
import { Network, programPhaseAt, type TlProgram } from './network.js';
import { TripRecords } from './trips.js';
import { Vehicles, NO_LINK, ROUTE_END } from './vehicles.js';
import { laneChangePhase } from './lanechange.js';
import { junctionPhase } from './junction.js';
import { followPhase } from './follow.js';
import { movePhase, teleportPhase } from './move.js';
import { insertionPhase } from './insertion.js';
import { detectorPhase, startActuated, trySwitch } from './actuated-run.js';
import { secureGapOf } from './cfmodel.js';
import type { Outgoing, PartLayout } from './partition.js';
import type { ResolvedCommand } from './commands.js';

export interface EngineConfig {
  /** s, > 0 */
  stepLength: number;
  /** simulation time of step 0, s */
  begin: number;
  /** s; undefined: until every vehicle has arrived */
  end?: number;
  seed: number;
  /** s a vehicle may stand still at the front of a lane before it is teleported; <= 0: never */
  timeToTeleport: number;
}

export class Engine {
  readonly net: Network;
  readonly demand: Demand;
  readonly cfg: EngineConfig;
  readonly v = new Vehicles();
  /** per demand index; replaced by a bigger copy when an online command adds vehicles */
  trips: TripRecords;

  /** steps completed; the next step moves from time(step) to time(step + 1) */
  step = 0;

  /** per lane: front vehicle, back vehicle, vehicle count */
  readonly laneFront: Int32Array;
  readonly laneBack: Int32Array;
  readonly laneVehicles: Int32Array;
  /** one bit per lane with vehicles, so that phases visit only active lanes, in index order (SUMO) */
  readonly activeBits: Uint32Array;
  /** scratch: the result of `collectActive` */
  readonly activeList: Int32Array;
  /** bumped whenever `activeBits` changes, so that `collectActive` can hand back its last list */
  private activeVersion = 0;
  /** what `activeList` holds: lanes [collectedFrom, collectedTo) at `collectedVersion`, `collectedCount` of them */
  private collectedFrom = -1;
  private collectedTo = -1;
  private collectedVersion = -1;
  private collectedCount = 0;

  /** per traffic light: the phase in force during the current step (-1: the light is off) */
  readonly tlPhase: Int32Array;

  // ---- state changed by online commands (src/sim/commands*.ts); defaults = the network's ----
  /** per lane: speed limit, m/s (a copy of the network's; the Network is shared and immutable) */
  readonly laneSpeed: Float64Array;
  /** per lane: 1 when closed (no vehicle may enter it: insertion, lane change, junction link) */
  readonly laneClosed: Uint8Array;
  /** how many lanes `laneClosed` closes (commands-apply.ts keeps it) */
  closedLaneCount = 0;
  /** per traffic light: 1 when a command changed its program or phase (else the network's program runs) */
  readonly tlCustom: Uint8Array;
  /** per traffic light: index into its `programs`, or TL_OFF */
  readonly tlProgram: Int32Array;
  /** per traffic light: the phase states of the program in force */
  readonly tlStates: Uint8Array[][];
  /** per traffic light: time at which the program in force started a cycle, s */
  readonly tlAnchor: Float64Array;
  /** per traffic light: programs commands gave (setSignalLogic), numbered after the network's (`program`) */
  readonly tlExtra: TlProgram[][];
  /** per traffic light: a phase held until `tlHoldUntil` (s) by setPhase with a duration, or -1 */
  readonly tlHoldPhase: Int32Array;
  readonly tlHoldUntil: Float64Array;
  // ---- actuated lights (actuated.ts, actuated-run.ts): part of the state (snapshot, hash) ----
  /** per traffic light: 1 while the program in force is actuated */
  readonly tlAct: Uint8Array;
  /** per traffic light: the phase of its actuated program */
  readonly tlActPhase: Int32Array;
  /** per traffic light: when its phase started and when its next switch event is due, ms (SUMOTime) */
  readonly tlLastSwitch: Float64Array;
  readonly tlNextSwitch: Float64Array;
  /** per traffic light: 1 when the next event switches regardless of detectors (setPhase with a duration; SUMO's myTraCISwitch) */
  readonly tlForce: Uint8Array;
  /** per traffic light: 1 when this engine keeps its state (it owns the light's links) */
  readonly tlOwned: Uint8Array;
  /** per induction loop: time the last vehicle left it, s; 1 while a vehicle is on it */
  readonly detLastLeave: Float64Array;
  readonly detOccupied: Uint8Array;
  /** per induction loop (copies of the network's, typed for the hot path): lane, position, max-gap, light */
  readonly detLane: Int32Array;
  readonly detPos: Float64Array;
  readonly detMaxGap: Float64Array;
  readonly detTl: Int32Array;
  /** whether any light has an actuated program */
  readonly hasActuated: boolean;
  /** vehicles added by commands (addVehicle, setFlow) that depart on this engine's edges, by (depart step, index) */
  extraDepartures: number[] = [];
  /** first index into `extraDepartures` not yet moved to `pending` */
  nextExtra = 0;
  /** the commands that changed the demand, in the order applied (a restore re-applies them to the demand) */
  demandCommands: ResolvedCommand[] = [];

  /** per link, this step's approaching front vehicle (SUMO's approach information) */
  readonly apprStamp: Int32Array;
  readonly apprArrive: Float64Array;
  readonly apprLeave: Float64Array;
  readonly apprWill: Uint8Array;
  /** per link, the window spanning every later announcer (see junction.ts `announce`) */
  readonly apprArrive2: Float64Array;
  /** per link: when the first announcer (and, spanned, the later ones) would arrive if it braked now (right before left, all-way stops) */
  readonly apprArriveBraking: Float64Array;
  readonly apprArriveBraking2: Float64Array;
  /** per link: the first announcer's (and the earliest later one's) distance to the link and deceleration (SUMO's avi.dist, for the foe's arrival when it brakes) */
  readonly apprDist: Float64Array;
  readonly apprDist2: Float64Array;
  readonly apprDecel: Float64Array;
  readonly apprDecel2: Float64Array;
  /** steps the first announcer has been waiting (an all-way stop lets the longest waiting go first) */
  readonly apprWait: Int32Array;
  readonly apprLeave2: Float64Array;

  /** the part of a partitioned run this engine simulates (undefined: the whole network) */
  layout?: PartLayout;
  /** 1 for lanes this engine simulates; the others are read-only ghost copies of other parts' lanes */
  ownedLane: Uint8Array;
  /** demand indices departing on this engine's edges, in departure order */
  departures: Int32Array;
  /** vehicles leaving for other parts at the end of this step */
  outgoing: Outgoing[] = [];
  /** copies of our own transits onto other parts' lanes, for our ghost lanes next step */
  ghostCopies: { lane: number; vid: number; pos: number; speed: number }[] = [];
  /** vehicle records sent in the last border messages (in flight until applied) */
  inFlightRecords: Buffer[] = [];
  private ghostSlots: number[] = [];

  /** demand indices whose depart step has come and that are not yet inserted, in departure order */
  pending: Int32Array;
  pendingCount = 0;
  /** first index into `departures` not yet moved to `pending` */
  nextDeparture = 0;
  /** per edge: the step in which an insertion on it last failed (later vehicles wait, as in SUMO) */
  readonly edgeBlocked: Int32Array;

  /** lane-change scratch (lanechange.ts): per lane, the room its vehicles take, valid while `laneOccStamp` is `lcRound` */
  readonly laneOcc: Float64Array;
  readonly laneOccStamp: Int32Array;
  /** lane-change phases run by this engine (never reset, so a stamp never comes back) */
  lcRound = 0;

  /** per demand index: the (seed, index) part of the hash of its dawdling draws (rng.ts hashPrefix) */
  dawdleKeys = new Int32Array(0);
  /** per demand index: its type's maxSpeed (maxSpeedOn reads it without the type lookup), m/s */
  vidMaxSpeed = new Float64Array(0);

  /** scratch: vehicles leaving their lane in this step */
  scratch = new Int32Array(1024);
  /** vehicles that left a junction in the last step, placed on their next lane at the start of this one */
  transit = new Int32Array(256);
  transitCount = 0;
  /** teleported vehicles waiting to be re-inserted on the edge at their routeIdx */
  reinsert = new Int32Array(64);
  reinsertCount = 0;

  /**
   * The view of each normal lane's last vehicle at the start of the step (after transits were
   * placed): what vehicles behind a junction see of the lanes beyond it. A part of a partitioned run
   * receives exactly this from its neighbours, so every cross-junction read goes through it.
   */
  readonly viewStamp: Int32Array;
  readonly viewPos: Float64Array;
  readonly viewSpeed: Float64Array;
  readonly viewLength: Float64Array;
  /** the deceleration the last vehicle's followers assume (its type's apparentDecel), m/s² */
  readonly viewDecel: Float64Array;
  /**
   * Room on the lane as SUMO's getSpaceTillLastStanding counts it: from the lane's start to its last
   * standing vehicle (or its end), less the length-with-gap of every moving vehicle before that.
   */
  readonly viewSpace: Float64Array;
  /** 1 when the view found a standing vehicle on the lane (its space ends there), else 0 */
  readonly viewStanding: Uint8Array;

  inserted = 0;
  arrived = 0;
  teleports = 0;
  running = 0;
  /** sum over steps of vehicles moved (SUMO's vehicle updates) */
  vehicleUpdates = 0;

  /** `net` and `demand` may be shared by several engines of the same scenario (parts of a run). */
  constructor(spec: ScenarioSpec, net?: Network, demand?: Demand) {
    if (!(spec.stepLength > 0) || !Number.isFinite(spec.stepLength)) {
      throw new UsageError(`step length must be a positive number of seconds, got ${spec.stepLength}`);
    }
    this.cfg = {
      stepLength: spec.stepLength,
      begin: spec.begin,
      end: spec.end,
      seed: spec.seed,
      timeToTeleport: spec.timeToTeleport,
    };
    this.net = net ?? new Network(spec.net);
    this.demand = demand ?? new Demand(spec.demand, this.net, this.cfg);
    this.trips = new TripRecords(this.demand.baseCount);
    const L = this.net.laneCount;
    this.laneFront = new Int32Array(L).fill(-1);
    this.laneBack = new Int32Array(L).fill(-1);
    this.laneVehicles = new Int32Array(L);
    this.activeBits = new Uint32Array((L + 31) >>> 5);
    this.activeList = new Int32Array(L);
    this.laneOcc = new Float64Array(L);
    this.laneOccStamp = new Int32Array(L);
    this.tlPhase = new Int32Array(this.net.trafficLights.length);
    this.laneSpeed = Float64Array.from(this.net.laneSpeed);
    this.laneClosed = new Uint8Array(L);
    const nTl = this.net.trafficLights.length;
    this.tlCustom = new Uint8Array(nTl);
    this.tlProgram = new Int32Array(nTl);
    this.tlStates = this.net.trafficLights.map((tl) => tl.states);
    this.tlAnchor = new Float64Array(nTl);
    this.tlExtra = this.net.trafficLights.map(() => []);
    this.tlHoldPhase = new Int32Array(nTl).fill(-1);
    this.tlHoldUntil = new Float64Array(nTl);
    this.tlAct = new Uint8Array(nTl);
    this.tlActPhase = new Int32Array(nTl);
    this.tlLastSwitch = new Float64Array(nTl);
    this.tlNextSwitch = new Float64Array(nTl);
    this.tlForce = new Uint8Array(nTl);
    this.tlOwned = new Uint8Array(nTl).fill(1);
    const dets = this.net.detectors;
    this.detLane = Int32Array.from(dets.lane);
    this.detPos = Float64Array.from(dets.pos);
    this.detMaxGap = Float64Array.from(dets.maxGap);
    this.detTl = Int32Array.from(dets.tl);
    this.detLastLeave = new Float64Array(dets.count).fill(this.cfg.begin);
    this.detOccupied = new Uint8Array(dets.count);
    for (let tl = 0; tl < nTl; tl++) if (this.net.trafficLights[tl]!.act) startActuated(this, tl, true);
    /** the owned actuated lights, for the end-of-step events */
    this.hasActuated = this.net.trafficLights.some((t) => t.programs.some((p) => p.act !== undefined));
    if (this.hasActuated) this.runActuatedEvents();
    const nl = this.net.linkCount;
    this.apprStamp = new Int32Array(nl);
    this.apprArrive = new Float64Array(nl);
    this.apprLeave = new Float64Array(nl);
    this.apprWill = new Uint8Array(nl);
    this.apprArrive2 = new Float64Array(nl);
    this.apprArriveBraking = new Float64Array(nl);
    this.apprArriveBraking2 = new Float64Array(nl);
    this.apprDist = new Float64Array(nl);
    this.apprDist2 = new Float64Array(nl);
    this.apprDecel = new Float64Array(nl);
    this.apprDecel2 = new Float64Array(nl);
    this.apprWait = new Int32Array(nl);
    this.apprLeave2 = new Float64Array(nl);
    const nn = this.net.normalLaneCount;
    this.viewStamp = new Int32Array(nn);
    this.viewPos = new Float64Array(nn);
    this.viewSpeed = new Float64Array(nn);
    this.viewLength = new Float64Array(nn);
    this.viewDecel = new Float64Array(nn);
    this.viewSpace = new Float64Array(nn);
    this.viewStanding = new Uint8Array(nn);
    this.pending = new Int32Array(Math.max(16, Math.min(this.demand.count, 4096)));
    this.ownedLane = new Uint8Array(L).fill(1);
    // the scenario's vehicles (a demand shared with other engines may already hold commands' vehicles)
    this.departures = new Int32Array(this.demand.baseCount);
    for (let i = 0; i < this.demand.baseCount; i++) this.departures[i] = i;
    this.edgeBlocked = new Int32Array(this.net.edgeCount).fill(-1);
  }

  /** Simulation time at the start of step `k`, s. */
  time(k = this.step): number {
    return this.cfg.begin + k * this.cfg.stepLength;
  }

  /** Number of steps a run to `cfg.end` takes, or undefined without an end. */
  get endStep(): number | undefined {
    const { end, begin, stepLength } = this.cfg;
    return end === undefined ? undefined : Math.max(0, Math.ceil((end - begin) / stepLength - 1e-9));
  }

  /** True when there is nothing left to simulate here (all vehicles departed and arrived). */
  get finished(): boolean {
    return (
      this.running === 0 &&
      this.pendingCount === 0 &&
      this.nextDeparture >= this.departures.length &&
      this.nextExtra >= this.extraDepartures.length
    );
  }

  /** Restricts this engine to one part of a partitioned run (before the first step). */
  setLayout(layout: PartLayout): void {
    this.layout = layout;
    for (let lane = 0; lane < this.net.laneCount; lane++)
      this.ownedLane[lane] = layout.laneOwner[lane] === layout.part ? 1 : 0;
    this.departures = layout.departures;
    // a light belongs to the part of its first link (a light without links to part 0)
    for (let tl = 0; tl < this.tlOwned.length; tl++) {
      const first = this.net.tlFirstLink[tl]!;
      this.tlOwned[tl] = (first >= 0 ? this.ownedLane[this.net.linkLane[first]!] : layout.part === 0 ? 1 : 0)!;
    }
  }

  /** Advances the simulation by one step. */
  doStep(): void {
    if (this.dawdleKeys.length < this.demand.count) this.growPerVehicle();
    this.placeTransits();
    this.takeView();
    insertionPhase(this);
    laneChangePhase(this);
    this.updateSignals();
    junctionPhase(this);
    followPhase(this);
    movePhase(this);
    if (this.detLane.length > 0) detectorPhase(this);
    teleportPhase(this);
    this.step++;
    // the actuated lights decide the next step's phase now, from the loops as this step left them
    // (SUMO: the switch events at the next step's begin); parts send it to their neighbours
    if (this.hasActuated) this.runActuatedEvents();
  }

  /** Places the vehicles that left a junction in the last step on their lanes. */
  private placeTransits(): void {
    for (let k = 0; k < this.transitCount; k++) {
      const s = this.transit[k]!;
      const lane = this.v.lane[s]!;
      this.insertSorted(s, lane);
      this.v.link[s] = this.computeLink(s, lane);
    }
    this.transitCount = 0;
  }

  /** Records the last vehicle of every occupied normal lane (see `viewStamp`). */
  private takeView(): void {
    const stamp = this.step + 1;
    const n = this.collectActive(0, this.net.normalLaneCount);
    const v = this.v;
    const ghosts = this.layout?.ghostLanes;
    const total = n + (ghosts ? ghosts.length : 0);
    for (let i = 0; i < total; i++) {
      const lane = i < n ? this.activeList[i]! : ghosts![i - n]!;
      if (lane >= this.net.normalLaneCount) continue;
      const b = this.laneBack[lane]!;
      if (b < 0) continue;
      this.viewStamp[lane] = stamp;
      this.viewPos[lane] = v.pos[b]!;
      this.viewSpeed[lane] = v.speed[b]!;
      const bt = this.demand.types[this.demand.type[v.vid[b]!]!]!;
      this.viewLength[lane] = bt.length;
      this.viewDecel[lane] = bt.apparentDecel;
      let lengths = 0;
      let space = this.net.laneLength[lane]!;
      let standing = 0;
      for (let x = b; x >= 0; x = v.ahead[x]!) {
        const t = this.demand.types[this.demand.type[v.vid[x]!]!]!;
        if (v.speed[x]! < 0.1) {
          space = v.pos[x]! - t.length - t.minGap;
          standing = 1;
          break;
        }
        lengths += t.length + t.minGap;
      }
      this.viewSpace[lane] = space - lengths;
      this.viewStanding[lane] = standing;
    }
  }

  /** Does the view of this step show a vehicle on normal lane `lane`? */
  viewHas(lane: number): boolean {
    return this.viewStamp[lane] === this.step + 1;
  }

  /** Vehicle `s` (off its lanes, lane/pos set to where it enters) joins next step's transits. */
  addTransit(s: number): void {
    const lane = this.v.lane[s]!;
    if (!this.ownedLane[lane]) {
      this.outgoing.push({ slot: s, to: this.layout!.laneOwner[lane]!, where: -2 - lane });
      return;
    }
    if (this.transitCount === this.transit.length) this.transit = grow(this.transit);
    this.transit[this.transitCount++] = s;
  }

  /** Teleported vehicle `s` (off its lanes) is re-inserted on its route's edge `routeIdx` next step. */
  requestReinsertion(s: number): void {
    if (this.routeEdge(s, 0) < 0) {
      // nothing left of its route: the vehicle arrives (SUMO: teleported to its end)
      this.arrive(s, this.v.pos[s]!, 0);
      return;
    }
    const edge = this.routeEdge(s, 0);
    if (this.layout && this.layout.edgeOwner[edge] !== this.layout.part) {
      this.outgoing.push({ slot: s, to: this.layout.edgeOwner[edge]!, where: -1 });
      return;
    }
    if (this.reinsertCount === this.reinsert.length) this.reinsert = grow(this.reinsert);
    this.reinsert[this.reinsertCount++] = s;
  }

  /** Vehicle records sent to other parts and not yet applied there (partitioned runs). */
  inFlight(): Buffer[] {
    return this.inFlightRecords;
  }

  /** Extends the per-vehicle constants (`dawdleKeys`, `vidMaxSpeed`) to every vehicle of the demand (online commands add vehicles). */
  growPerVehicle(): void {
    const d = this.demand;
    const from = this.dawdleKeys.length;
    const keys = new Int32Array(d.count);
    keys.set(this.dawdleKeys);
    const vmax = new Float64Array(d.count);
    vmax.set(this.vidMaxSpeed);
    for (let i = from; i < d.count; i++) {
      keys[i] = hashPrefix(this.cfg.seed, i);
      vmax[i] = d.types[d.type[i]!]!.maxSpeed;
    }
    this.dawdleKeys = keys;
    this.vidMaxSpeed = vmax;
  }

  growScratch(): void {
    this.scratch = grow(this.scratch);
  }

  /** Runs until `endStep` (or until finished when there is no end); calls `onStep` after each step. */
  run(onStep?: (e: Engine) => void): void {
    const endStep = this.endStep;
    while (endStep !== undefined ? this.step < endStep : !this.finished || this.step === 0) {
      this.doStep();
      onStep?.(this);
    }
  }

  private updateSignals(): void {
    const t = this.time();
    for (let i = 0; i < this.tlPhase.length; i++) {
      if (this.tlAct[i]) this.tlPhase[i] = this.actuatedPhase(i);
      else this.tlPhase[i] = this.tlCustom[i] ? this.commandedPhase(i, t) : this.net.tlPhaseAt(i, t);
    }
  }

  /** Current time in integer milliseconds (SUMO's SUMOTime), for the actuated lights' events. */
  timeMs(k = this.step): number {
    return Math.round(this.time(k) * 1000);
  }

  /** The phase of actuated light `tl` in this step (decided at the end of the last step, or received from its part). */
  private actuatedPhase(tl: number): number {
    return this.tlActPhase[tl]!;
  }

  /**
   * Runs the switch events of the owned actuated lights due in the step about to begin (SUMO's
   * MSEventControl::execute runs every event due before the step's end, at the step's time).
   */
  runActuatedEvents(): void {
    const now = this.timeMs();
    const end = now + Math.round(this.cfg.stepLength * 1000);
    for (let tl = 0; tl < this.tlAct.length; tl++) {
      if (!this.tlAct[tl] || !this.tlOwned[tl]) continue;
      for (let guard = 0; this.tlNextSwitch[tl]! < end && guard < 1000; guard++)
        this.tlNextSwitch[tl] = now + trySwitch(this, tl, now);
    }
  }

  /** The actuated program in force at light `tl` (undefined: it runs a fixed-time program or is off). */
  actuatedProgram(tl: number) {
    const p = this.tlCustom[tl] ? this.tlProgram[tl]! : 0;
    return p < 0 ? undefined : this.program(tl, p).act;
  }

  /** Program `k` of light `tl`: one of the network's, or after them one a command gave. */
  program(tl: number, k: number): TlProgram {
    const own = this.net.trafficLights[tl]!.programs;
    return k < own.length ? own[k]! : this.tlExtra[tl]![k - own.length]!;
  }

  /** The phase of a traffic light whose program or phase a command changed, at time t (s); -1: off. */
  private commandedPhase(tl: number, t: number): number {
    const prog = this.tlProgram[tl]!;
    if (prog === TL_OFF) return -1;
    if (this.tlHoldPhase[tl]! >= 0 && t < this.tlHoldUntil[tl]!) return this.tlHoldPhase[tl]!;
    return programPhaseAt(this.program(tl, prog), t - this.tlAnchor[tl]!);
  }

  /** Signal state (char code) of a link during the current step. */
  linkState(link: number): number {
    const net = this.net;
    const tl = net.linkTl[link]!;
    if (tl < 0) return net.linkStaticState[link]!;
    const phase = this.tlPhase[tl]!;
    // a light switched off by a command: the junction's priority rules apply (SUMO's "off")
    if (phase < 0) return net.linkStaticState[link]!;
    return this.tlStates[tl]![phase]![net.linkTlIndex[link]!]!;
  }

  // ---- lane lists ----

  /** Links `s` into `lane` at its position, keeping front-to-back order (ties: lower demand index first). */
  insertSorted(s: number, lane: number): void {
    const v = this.v;
    const p = v.pos[s]!;
    const id = v.vid[s]!;
    // walk from the back: most insertions happen at the back of a lane
    let b = this.laneBack[lane]!;
    while (b >= 0 && (v.pos[b]! < p || (v.pos[b] === p && v.vid[b]! > id))) b = v.ahead[b]!;
    // s goes right behind b (b = -1: s becomes the front)
    const after = b >= 0 ? v.behind[b]! : this.laneFront[lane]!;
    v.ahead[s] = b;
    v.behind[s] = after;
    if (b >= 0) v.behind[b] = s;
    else this.laneFront[lane] = s;
    if (after >= 0) v.ahead[after] = s;
    else this.laneBack[lane] = s;
    v.lane[s] = lane;
    if (this.laneVehicles[lane]!++ === 0 && this.ownedLane[lane]) this.setActive(lane);
  }

  /** Appends `s` at the back of `lane` (restore: the snapshot lists lanes front to back). */
  appendBack(s: number, lane: number): void {
    const v = this.v;
    const back = this.laneBack[lane]!;
    v.ahead[s] = back;
    v.behind[s] = -1;
    if (back >= 0) v.behind[back] = s;
    else this.laneFront[lane] = s;
    this.laneBack[lane] = s;
    v.lane[s] = lane;
    if (this.laneVehicles[lane]!++ === 0 && this.ownedLane[lane]) this.setActive(lane);
  }

  /** Empties the ghost lanes (before this step's halo is copied in). */
  clearGhosts(lanes: Int32Array): void {
    for (const s of this.ghostSlots) this.v.release(s);
    this.ghostSlots.length = 0;
    for (const lane of lanes) {
      this.laneFront[lane] = -1;
      this.laneBack[lane] = -1;
      this.laneVehicles[lane] = 0;
    }
  }

  /** Adds a read-only copy of another part's vehicle to ghost lane `lane`. */
  addGhost(lane: number, vid: number, pos: number, speed: number, sorted: boolean): void {
    const v = this.v;
    const s = v.alloc();
    this.ghostSlots.push(s);
    v.vid[s] = vid;
    v.pos[s] = pos;
    v.speed[s] = speed;
    if (sorted) this.insertSorted(s, lane);
    else this.appendBack(s, lane);
  }

  /** Empties every lane and forgets vehicles between parts (restore: all slots were freed). */
  clearLanes(): void {
    this.ghostSlots.length = 0;
    this.outgoing = [];
    this.ghostCopies = [];
    this.inFlightRecords = [];
    this.laneFront.fill(-1);
    this.laneBack.fill(-1);
    this.laneVehicles.fill(0);
    this.activeBits.fill(0);
    this.activeVersion++;
  }

  /**
   * Lists the lanes in [from, to) that hold vehicles, in index order, into `activeList`; returns how
   * many. A phase collects once and then visits the list (lanes it empties stay listed, harmlessly).
   */
  collectActive(from: number, to: number): number {
    // the phases between which no lane fills or empties (junction, follow, move) share one list
    if (from === this.collectedFrom && to === this.collectedTo && this.activeVersion === this.collectedVersion)
      return this.collectedCount;
    const bits = this.activeBits;
    const out = this.activeList;
    let n = 0;
    for (let w = from >>> 5, wEnd = (to + 31) >>> 5; w < wEnd; w++) {
      let word = bits[w]! | 0;
      while (word !== 0) {
        const low = word & -word;
        const lane = (w << 5) + 31 - Math.clz32(low);
        word ^= low;
        if (lane >= from && lane < to) out[n++] = lane;
      }
    }
    this.collectedFrom = from;
    this.collectedTo = to;
    this.collectedVersion = this.activeVersion;
    this.collectedCount = n;
    return n;
  }

  private setActive(lane: number): void {
    this.activeBits[lane >>> 5]! |= 1 << (lane & 31);
    this.activeVersion++;
  }

  private clearActive(lane: number): void {
    this.activeBits[lane >>> 5]! &= ~(1 << (lane & 31));
    this.activeVersion++;
  }

  unlink(s: number): void {
    const v = this.v;
    const lane = v.lane[s]!;
    const a = v.ahead[s]!;
    const b = v.behind[s]!;
    if (a >= 0) v.behind[a] = b;
    else this.laneFront[lane] = b;
    if (b >= 0) v.ahead[b] = a;
    else this.laneBack[lane] = a;
    v.ahead[s] = -1;
    v.behind[s] = -1;
    if (--this.laneVehicles[lane]! === 0 && this.ownedLane[lane]) this.clearActive(lane);
  }

  /** Scratch results of `neighbours` and `neighboursAt`. */
  nbLeader = -1;
  nbFollower = -1;

  /** Finds the vehicles on `lane` just ahead of and just behind vehicle `self` (at its position). */
  neighbours(lane: number, self: number): void {
    // the position is read here rather than passed: a number passed to a function V8 does not
    // inline is boxed (a heap allocation per call, per vehicle and step)
    const v = this.v;
    const p = v.pos[self]!;
    let follower = -1;
    let x = this.laneBack[lane]!;
    while (x >= 0 && (v.pos[x]! <= p || x === self)) {
      if (x !== self) follower = x;
      x = v.ahead[x]!;
    }
    this.nbLeader = x;
    this.nbFollower = follower;
  }

  /** Finds the vehicles on `lane` just ahead of and just behind position `p` (insertion). */
  neighboursAt(lane: number, p: number): void {
    const v = this.v;
    let follower = -1;
    let x = this.laneBack[lane]!;
    while (x >= 0 && v.pos[x]! <= p) {
      follower = x;
      x = v.ahead[x]!;
    }
    this.nbLeader = x;
    this.nbFollower = follower;
  }

  /**
   * May a vehicle of `length` m at `speed` take position `p` on normal lane `lane` without cutting
   * off a vehicle about to leave a junction onto that lane? The front vehicle of each internal lane
   * into `lane` is treated as a follower standing short of the lane's start.
   */
  upstreamClear(lane: number, p: number, length: number, speed: number): boolean {
    const { net, v, demand } = this;
    for (let k = net.laneInStart[lane]!, end = net.laneInStart[lane + 1]!; k < end; k++) {
      const via = net.linkLane[net.laneIn[k]!]!;
      const x = this.laneFront[via]!;
      if (x < 0) continue;
      const xt = demand.types[demand.type[v.vid[x]!]!]!;
      const gap = p - length + (v.pos[x]! - net.laneLength[via]!) - xt.minGap;
      // (the newcomer's deceleration is not known here: the follower's own counts, SUMO's lower bound)
      if (gap < 0 || gap < secureGapOf(xt, v.speed[x]!, speed, xt.decel, this.cfg.stepLength)) return false;
    }
    return true;
  }

  // ---- routes ----

  /**
   * The link vehicle `s` will take at the end of normal lane `lane` (or NO_LINK / ROUTE_END): of the
   * links onto its next edge that its class may use, into a lane not closed by a command, the one
   * whose target lane continues furthest along the route (SUMO's bestLanes); none open: NO_LINK (the
   * vehicle waits at the line).
   */
  computeLink(s: number, lane: number): number {
    const d = this.demand;
    const vid = this.v.vid[s]!;
    const r = d.route[vid]!;
    const start = d.routeStart[r]!;
    const len = d.routeStart[r + 1]! - start;
    const ri = this.v.routeIdx[s]!;
    if (ri >= len - 1) return ROUTE_END;
    const next = d.routeEdges[start + ri + 1]!;
    const net = this.net;
    const cls = d.types[d.type[vid]!]!.vClass;
    const c = d.continuation(d.type[vid]!, r);
    const base = c.start[ri + 1]! - net.edgeFirstLane[next]!;
    let best = NO_LINK;
    let bestCont = -1;
    for (let k = net.laneOutStart[lane]!, end = net.laneOutStart[lane + 1]!; k < end; k++) {
      const lk = net.laneOut[k]!;
      if (net.linkToEdge[lk] !== next || (net.lanePerm[net.linkLane[lk]!]! & cls) === 0) continue;
      const to = net.linkTo[lk]!;
      if (this.laneClosed[to] !== 0) continue;
      const ct = c.cont[base + to]!;
      if (ct > bestCont) {
        best = lk;
        bestCont = ct;
      }
    }
    return best;
  }

  /**
   * How far vehicle `s` could drive along its route from the start of `lane` (a lane of its current
   * edge) without changing lanes, m (SUMO's bestLanes length; bestlanes.ts). A lane whose way on is
   * closed by a command ends with its edge; a lane the class may not use or closed: -1.
   */
  laneContinuation(s: number, lane: number): number {
    const d = this.demand;
    const vid = this.v.vid[s]!;
    const type = d.type[vid]!;
    if (!this.laneOpenFor(lane, d.types[type]!.vClass)) return -1;
    const r = d.route[vid]!;
    const ri = this.v.routeIdx[s]!;
    const net = this.net;
    const edge = net.laneEdge[lane]!;
    const c = d.continuation(type, r);
    const ct = c.cont[c.start[ri]! + lane - net.edgeFirstLane[edge]!]!;
    const next = this.routeEdge(s, 1);
    // a closure on the way on: the lane ends with its edge
    if (
      next >= 0 &&
      ct > net.edgeLength[edge]! &&
      !net.hasLinkToEdge(lane, next, this.laneClosed, d.types[type]!.vClass)
    )
      return net.edgeLength[edge]!;
    // a stop on this edge, or the arrival lane on the last: the other lanes end there, at the stop's
    // start (SUMO's bestLanes: nextStopPos is the stop's startPos)
    const k = this.v.stopNext[s]!;
    if (k >= 0 && d.stops.routeIdx[k] === ri && d.stops.lane[k] !== lane) {
      const p = d.stops.startPos[k]!;
      return p < ct ? p : ct;
    }
    const al = d.arrivalLane[vid]!;
    if (al >= 0 && next < 0 && lane - net.edgeFirstLane[edge]! !== al) {
      const p = this.arrivalPosition(s, lane);
      return p < ct ? p : ct;
    }
    return ct;
  }

  /**
   * The link vehicle `s` will take at the end of normal lane `lane`, the lane beyond its next
   * junction: onto its route's edge after that lane's, toward the edge after that (net.linkToward;
   * -1: none or the route ends). With `closed`, links into lanes closed by a command do not count.
   * A function of the route position and the lane, so it is kept per slot (asked in every step while
   * the vehicle approaches, computed once), except while a lane is closed and it is asked with them.
   */
  linkBeyond(s: number, lane: number, closed: boolean): number {
    if (closed && this.closedLaneCount > 0) return this.linkBeyondNow(s, lane, this.laneClosed);
    const v = this.v;
    if (v.beyondVid[s] === v.vid[s] && v.beyondRouteIdx[s] === v.routeIdx[s] && v.beyondLane[s] === lane)
      return v.beyondLink[s]!;
    const lk = this.linkBeyondNow(s, lane, undefined);
    v.beyondVid[s] = v.vid[s]!;
    v.beyondRouteIdx[s] = v.routeIdx[s]!;
    v.beyondLane[s] = lane;
    v.beyondLink[s] = lk;
    return lk;
  }

  private linkBeyondNow(s: number, lane: number, closed: Uint8Array | undefined): number {
    const toEdge = this.routeEdge(s, 2);
    if (toEdge < 0) return -1;
    return this.net.linkToward(lane, toEdge, this.routeEdge(s, 3), closed, this.vClassOf(s));
  }

  /**
   * The stop vehicle `s` drives to now (an index into the demand's stop table), or -1: its next stop,
   * or the one after while it leaves the one it stands at in this step.
   */
  stopAhead(s: number): number {
    const k = this.v.stopNext[s]!;
    if (k < 0) return -1;
    const end = this.v.stopEnd[s]!;
    if (end < 0) return k;
    if (this.time() + this.cfg.stepLength < end - 1e-9) return k;
    const vid = this.v.vid[s]!;
    return k + 1 < this.demand.stopLast[vid]! ? k + 1 : -1;
  }

  /** Does vehicle `s` stand at a stop for the whole of this step? */
  holding(s: number): boolean {
    const end = this.v.stopEnd[s]!;
    return end >= 0 && this.time() + this.cfg.stepLength < end - 1e-9;
  }

  /** The vehicle class mask (vclass.ts) of vehicle `s`. */
  vClassOf(s: number): number {
    return this.demand.types[this.demand.type[this.v.vid[s]!]!]!.vClass;
  }

  /** May vehicles of class mask `cls` enter `lane` now (allowed for the class, not closed by a command)? */
  laneOpenFor(lane: number, cls: number): boolean {
    return this.laneClosed[lane] === 0 && (this.net.lanePerm[lane]! & cls) !== 0;
  }

  /** Edge at route position `ri + offset` of vehicle `s`, or -1 beyond the route's end. */
  routeEdge(s: number, offset: number): number {
    const d = this.demand;
    const r = d.route[this.v.vid[s]!]!;
    const i = d.routeStart[r]! + this.v.routeIdx[s]! + offset;
    return i < d.routeStart[r + 1]! ? d.routeEdges[i]! : -1;
  }

  /** Highest speed vehicle `s` may drive on `lane`, m/s. */
  maxSpeedOn(s: number, lane: number): number {
    const vid = this.v.vid[s]!;
    const limit = this.laneSpeed[lane]! * this.demand.speedFactor[vid]!;
    const max = this.vidMaxSpeed[vid]!;
    return limit < max ? limit : max;
  }

  /**
   * Desired speed (IDM v0) of vehicle `s`, driving at `speed`, on `lane`: `maxSpeedOn`, except on a
   * lane whose limit a command lowered (setSpeedLimit) while the vehicle is faster. There the IDM's
   * free-road term, (v/v0)^δ far above 1, would brake harder than any driver (13.9 → 0.7 m/s in one
   * step); instead v0 is raised just enough that the free-road deceleration equals the vehicle's
   * comfortable `decel`, as SUMO bounds braking for a lower limit by decel. Runs without commands
   * never take this branch.
   */
  desiredSpeed(s: number, lane: number, speed: number): number {
    const v0 = this.maxSpeedOn(s, lane);
    if (speed <= v0 || !(this.laneSpeed[lane]! < this.net.laneSpeed[lane]!)) return v0;
    // accel·(1 − (v/v0′)^δ) = −decel  ⇔  v0′ = v / (1 + decel/accel)^(1/δ)
    const gentle = speed / this.demand.types[this.demand.type[this.v.vid[s]!]!]!.decelV0Divisor;
    return gentle > v0 ? gentle : v0;
  }

  /** Arrival position of vehicle `s` on its last lane. */
  arrivalPosition(s: number, lane: number): number {
    const vid = this.v.vid[s]!;
    const ap = this.demand.arrivalPos[vid]!;
    const L = this.net.laneLength[lane]!;
    if (ap <= POS_KEYWORD) {
      if (ap === ArrivalPosCode.random) return uniform(this.cfg.seed, vid, 0, Purpose.arrivalPos) * L; // drawn once per vehicle (SUMO)
      if (ap === ArrivalPosCode.middle) return L / 2;
      return L; // max
    }
    const p = ap < 0 ? L + ap : ap;
    return p < L ? (p > 0 ? p : 0) : L;
  }

  /** Removes vehicle `s` from the network and records its trip as arrived at the end of this step. */
  arrive(s: number, arrivalPos: number, overshoot: number): void {
    const v = this.v;
    const id = v.vid[s]!;
    const t = this.trips;
    t.arrivalStep[id] = this.step + 1;
    t.arrivalLane[id] = v.lane[s]!;
    t.arrivalPos[id] = arrivalPos;
    t.arrivalSpeed[id] = v.speed[s]!;
    t.routeLength[id] = v.odometer[s]! - overshoot;
    t.waitSteps[id] = v.waitTotal[s]!;
    t.waitCount[id] = v.waitCount[s]!;
    t.timeLoss[id] = v.timeLoss[s]!;
    t.teleports[id] = v.teleports[s]!;
    t.stopTime[id] = v.stopTime[s]!;
    v.release(s);
    this.arrived++;
    this.running--;
  }
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

export { NO_LINK, ROUTE_END };

/** `tlProgram` value of a traffic light switched off by a command. */
export const TL_OFF = -1;
