/**
 * The neutral scenario description that every importer (SUMO XML, native JSON) produces and that
 * `sim/` compiles into its typed-array network and demand. Plain data, no behaviour: importers only
 * parse and check references; all modelling decisions live in `sim/`.
 *
 * Units: metres, seconds, metres per second, metres per second squared.
 */

/** Flat polyline: [x0, y0, x1, y1, ...] in metres. */
export type Shape = number[];

export interface LaneSpec {
  /** e.g. "A0A1_0" */
  id: string;
  /** 0 = rightmost */
  index: number;
  length: number;
  /** speed limit, m/s */
  speed: number;
  shape: Shape;
  /** vehicle classes allowed; undefined = all */
  allow?: string[];
  /** vehicle classes disallowed; undefined = none */
  disallow?: string[];
}

export interface EdgeSpec {
  id: string;
  /** junction ids */
  from: string;
  to: string;
  priority: number;
  lanes: LaneSpec[];
}

/** Driving direction of a link, as SUMO's `dir`: straight, left, right, turn (U), partly left/right. */
export type LinkDirection = 's' | 'l' | 'r' | 't' | 'L' | 'R' | 'invalid';

/**
 * A movement through a junction from the end of one normal lane to the start of another, with the
 * internal path between them flattened into one piece (SUMO's chain of internal lanes).
 */
export interface LinkSpec {
  junction: string;
  /** index into the junction's request matrices (SUMO: position in intLanes of a lane of the via chain) */
  index: number;
  fromLane: string;
  toLane: string;
  /** total length of the internal path (0 if the lanes join directly) */
  viaLength: number;
  /** speed limit on the internal path */
  viaSpeed: number;
  viaShape: Shape;
  /** width of the internal path, m (SUMO's internal lane width; absent: SUMO's default 3.2 m) */
  viaWidth?: number;
  dir: LinkDirection;
  /** the traffic light controlling the link and the index into its phase states */
  tl?: { id: string; linkIndex: number };
  /**
   * SUMO's connection `state` of an unsignalised link when it is not M/m: 's' (stop sign,
   * priority_stop), 'w' (allway_stop), '=' (right_before_left / left_before_right), 'Z' (zipper)
   */
  state?: string;
  /** SUMO's `cont`: the path has an internal junction where a left-turner may wait */
  cont: boolean;
  /**
   * For `cont` links: distance along the internal path to the internal junction, where a vehicle
   * that must yield waits inside the junction (SUMO: the end of the first internal lane).
   */
  contPos?: number;
}

export interface JunctionSpec {
  id: string;
  /** SUMO junction type: priority, traffic_light, right_before_left, dead_end, ... */
  type: string;
  x: number;
  y: number;
  shape: Shape;
  /** yieldsTo[i] = request indices link i must give way to (SUMO `response`) */
  yieldsTo: number[][];
  /** foes[i] = request indices whose paths conflict with link i (SUMO `foes`) */
  foes: number[][];
}

export interface TlPhaseSpec {
  duration: number;
  /** one character per link index: G g y r s u o O */
  state: string;
  /** actuated programs: shortest and longest duration, s (absent: `duration`) */
  minDur?: number;
  maxDur?: number;
  /** SUMO `next`: the phase(s) that may follow (absent: the next in the list) */
  next?: number[];
  name?: string;
}

/** SUMO tlLogic type: static (fixed time), actuated (MSActuatedTrafficLightLogic), delay_based. */
export type TlType = 'static' | 'actuated' | 'delay_based';

export interface TlLogicSpec {
  id: string;
  programID: string;
  offset: number;
  phases: TlPhaseSpec[];
  /** absent: static */
  type?: TlType;
  /** `<param key value/>` children (max-gap, passing-time, detector-gap, ...), numbers checked by the importer */
  params?: Record<string, string>;
}

export interface NetSpec {
  /** file or name it came from, for messages */
  source: string;
  edges: EdgeSpec[];
  junctions: JunctionSpec[];
  links: LinkSpec[];
  tlLogics: TlLogicSpec[];
  /** what the importer met and does not model (once per kind, with file and line) */
  warnings?: string[];
}

/** Car-following models TessDS runs; SUMO's default (a vType that names none) is Krauss. */
export type CarFollowModelName = 'Krauss' | 'IDM';

/** SUMO vType, with SUMO's names and defaults filled in by the importer. */
export interface VTypeSpec {
  id: string;
  vClass: string;
  /** the car-following model (SUMO's carFollowModel attribute) */
  carFollowModel: CarFollowModelName;
  /** m/s² */
  accel: number;
  /** comfortable deceleration, m/s² */
  decel: number;
  /** physically possible deceleration, m/s² */
  emergencyDecel: number;
  /** desired time headway, s */
  tau: number;
  /** standstill gap to the leader, m */
  minGap: number;
  length: number;
  maxSpeed: number;
  /** mean of the vehicles' speed factors (multiplier on the lane's speed limit) */
  speedFactor: number;
  /** standard deviation of the vehicles' speed factors (0: every vehicle drives at `speedFactor`) */
  speedDev: number;
  /**
   * bounds of the speed factor: a draw outside is drawn again (SUMO normc); absent: unbounded
   * (SUMO norm(m,d)), except that a factor must be positive
   */
  speedFactorMin?: number;
  speedFactorMax?: number;
  /** driver imperfection σ in [0, 1] (Krauss dawdling); IDM ignores it as SUMO does */
  sigma: number;
  /** the deceleration others assume this vehicle brakes with (SUMO apparentDecel); absent: decel */
  apparentDecel?: number;
  /** IDM acceleration exponent */
  delta: number;
  /** IDM internal integration step, s (SUMO's stepping) */
  idmStepping: number;
  /** SUMO LC2013 eagerness parameters */
  lcStrategic: number;
  lcCooperative: number;
  lcSpeedGain: number;
  lcKeepRight: number;
}

/**
 * The native (JSON) scenario format's vType defaults: SUMO 1.15's values for vClass passenger, but
 * with the IDM and without a speed deviation (every vehicle at the mean speed factor), as TessDS's
 * JSON scenarios always ran. SUMO inputs take SUMO's own defaults (src/io/sumo/vclass-defaults.ts:
 * Krauss, speedDev by class).
 */
export const PASSENGER_DEFAULTS: Readonly<Omit<VTypeSpec, 'id'>> = {
  vClass: 'passenger',
  carFollowModel: 'IDM',
  accel: 2.6,
  decel: 4.5,
  emergencyDecel: 9,
  tau: 1,
  minGap: 2.5,
  length: 5,
  maxSpeed: 55.56,
  speedFactor: 1,
  speedDev: 0,
  speedFactorMin: 0.2,
  speedFactorMax: 2,
  sigma: 0.5,
  delta: 4,
  idmStepping: 0.25,
  lcStrategic: 1,
  lcCooperative: 1,
  lcSpeedGain: 1,
  lcKeepRight: 1,
};

export type DepartLane = { kind: 'index'; index: number } | { kind: 'first' | 'best' | 'free' | 'random' | 'allowed' };
/** SUMO 1.15's departSpeed: a value, or random, max, desired (maxSpeed·speedFactor, not patched), speedLimit, last, avg */
export type DepartSpeed =
  { kind: 'value'; speed: number } | { kind: 'max' | 'desired' | 'random' | 'speedLimit' | 'last' | 'avg' };
/** SUMO 1.15's departPos: a value (negative: from the lane's end), or base, free, random, random_free, last, stop */
export type DepartPos =
  { kind: 'value'; pos: number } | { kind: 'base' | 'free' | 'random' | 'last' | 'random_free' | 'stop' };
/** SUMO's arrivalPos: a value (negative: from the lane's end), max, random (drawn once per vehicle), middle */
export type ArrivalPos = { kind: 'value'; pos: number } | { kind: 'max' | 'random' | 'middle' };
/** SUMO's arrivalLane: current (any, the default), a lane index, random or first (drawn / chosen once per vehicle) */
export type ArrivalLane = { kind: 'index'; index: number } | { kind: 'current' | 'random' | 'first' };
/** SUMO's arrivalSpeed: current (whatever it has, the default) or a speed to arrive with */
export type ArrivalSpeed = { kind: 'value'; speed: number } | { kind: 'current' };

export interface DepartSpec {
  departLane: DepartLane;
  departSpeed: DepartSpeed;
  departPos: DepartPos;
  arrivalPos: ArrivalPos;
  /** absent: current */
  arrivalLane?: ArrivalLane;
  /** absent: current */
  arrivalSpeed?: ArrivalSpeed;
}

/**
 * A SUMO `<stop>`: the vehicle halts with its front between startPos and endPos of `lane` (SUMO: a
 * lane stop is reached within [endPos − 0.2, endPos], a stopping place anywhere on it) and stays
 * `duration` s, and at least until `until` when given (SUMO's MSStop::getMinDuration).
 */
export interface StopSpec {
  lane: string;
  /** m from the lane's start, resolved by the importer (negative values count from the end) */
  startPos: number;
  endPos: number;
  /** s; absent: 0 unless until is given */
  duration?: number;
  /** s, absolute (see untilFrom) */
  until?: number;
  /**
   * `until` of a stop of a named route or of a flow counts from the vehicle's departure (SUMO shifts
   * it): the stop's until is until + depart − untilFrom. Absent: absolute (a vehicle's own stop).
   */
  untilFrom?: number;
  /** the busStop (or other stopping place) it stops at, if any */
  busStop?: string;
  /** file:line, for messages */
  where?: string;
}

/** One route of a routeDistribution: its edges and the stops the route carries. */
export interface RouteAlternative {
  edges: string[];
  stops?: StopSpec[];
  probability: number;
}

/** SUMO `<routeDistribution>`: each vehicle that names it draws one of its routes (deterministically, per vehicle). */
export interface RouteDistributionSpec {
  id: string;
  routes: RouteAlternative[];
}

/** SUMO `<vTypeDistribution>`: each vehicle that names it draws one of its vTypes (per vehicle). */
export interface VTypeDistributionSpec {
  id: string;
  vTypes: string[];
  probabilities: number[];
}

/**
 * A vehicle with a fixed route, or a trip (from/to) that `sim/` routes on the shortest path, or a
 * route drawn from a routeDistribution.
 */
export interface VehicleSpec extends DepartSpec {
  id: string;
  /** a vType id, or a vTypeDistribution id */
  type: string;
  /** seconds */
  depart: number;
  /** edge ids; undefined for a trip */
  route?: string[];
  /** id in DemandSpec.routeDistributions, instead of route/from/to */
  routeDistribution?: string;
  from?: string;
  to?: string;
  via?: string[];
  /** in order along the route (a named route's stops first, then the vehicle's own, as SUMO adds them) */
  stops?: StopSpec[];
}

/**
 * A flow: vehicles `${id}.${n}` departing between begin and end. Exactly one of period,
 * vehsPerHour, probability, number is the rate (number alone spreads over begin..end); `number` with
 * a rate caps the count; `periodExp` is SUMO's period="exp(rate)" (exponential headways).
 */
export interface FlowSpec extends DepartSpec {
  id: string;
  type: string;
  begin: number;
  end: number;
  period?: number;
  vehsPerHour?: number;
  probability?: number;
  number?: number;
  /** rate of SUMO's period="exp(rate)", 1/s */
  periodExp?: number;
  route?: string[];
  routeDistribution?: string;
  from?: string;
  to?: string;
  via?: string[];
  stops?: StopSpec[];
}

export interface DemandSpec {
  source: string;
  vTypes: VTypeSpec[];
  /** in file order */
  vehicles: VehicleSpec[];
  flows: FlowSpec[];
  vTypeDistributions?: VTypeDistributionSpec[];
  routeDistributions?: RouteDistributionSpec[];
  /** warnings the importer met and chose to skip (e.g. a route through an unknown edge) */
  warnings: string[];
}

export interface ScenarioSpec {
  net: NetSpec;
  demand: DemandSpec;
  /** seconds */
  begin: number;
  end?: number;
  stepLength: number;
  seed: number;
  /** seconds a vehicle may stand still before it is teleported; <= 0 disables */
  timeToTeleport: number;
}
