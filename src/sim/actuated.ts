/**
 * Actuated traffic lights as SUMO 1.15 runs them (MSActuatedTrafficLightLogic): the induction loops
 * SUMO places on the controlled incoming lanes, which loops control which green phase, and the
 * gap-out / max-out decision taken whenever the light's switch event comes due.
 *
 * Build time (`buildActuated`, from the Network constructor): per actuated program
 *   - phase timing in integer milliseconds (SUMO's SUMOTime): duration, minDur, maxDur, next;
 *   - one loop per incoming lane that some actuated phase (minDur != maxDur) gives green to
 *     (MSActuatedTrafficLightLogic::init, getMinimumMinDuration): at
 *       min(detector-gap × lane speed, (minDur / passing-time + 0.5) × 7.5 m)
 *     before the stop line; on a lane too short for that, on its single predecessor lane (as long
 *     as the lane has exactly one incoming lane), else at the lane's start;
 *   - the loops that control each actuated phase (init's check1/check1a–d and check2).
 * Run time (engine.ts): `trySwitch` (gapControl, duration) at each due switch event, and
 * `detectorPhase` after the movement: a loop is occupied while a vehicle covers its position, and
 * remembers when the last vehicle's back passed it (MSInductLoop::notifyMove with Euler's
 * passingTime), which gives getTimeSinceLastDetection.
 *
 * Partitions: every lane a light's loops read drives into a junction of the light or into the
 * junction the loop was moved back to; `actuatedJunctionGroups` lists those junctions so that the
 * partitioner keeps them in one part (src/partition/plan.ts).
 */
import type { NetSpec, TlLogicSpec } from '../io/spec.js';
import type { Network } from './network.js';
import { permissionMask } from './vclass.js';

/** SUMO's parameter defaults (MSActuatedTrafficLightLogic.cpp). */
export const DEFAULT_MAX_GAP = 3.0;
export const DEFAULT_PASSING_TIME = 1.9;
export const DEFAULT_DETECTOR_GAP = 2.0;
/** DEFAULT_LENGTH_WITH_GAP: a car and its gap, m */
const LENGTH_WITH_GAP = 7.5;

const PEDESTRIAN = permissionMask(['pedestrian'], undefined);
/** SUMO's "motorized" in init: not pedestrian, not bicycle */
const NOT_MOTORIZED = permissionMask(['pedestrian', 'bicycle'], undefined);

export interface ActuatedProgram {
  /** per phase, ms */
  duration: Float64Array;
  minDur: Float64Array;
  maxDur: Float64Array;
  /** per phase: the phase that follows (SUMO `next`, else the next in the list) */
  next: Int32Array;
  /** per phase: MSPhaseDefinition::isGreenPhase (some G/g, no y/Y) */
  green: Uint8Array;
  /** s */
  detectorGap: number;
  /** CSR per phase: the loops (global detector indices) that control it */
  phaseDetStart: Int32Array;
  phaseDet: Int32Array;
  /** this program's loops: detector indices [detFirst, detFirst + detCount) */
  detFirst: number;
  detCount: number;
}

/** Induction loops of every actuated program, as parallel arrays (built once per network). */
export class Detectors {
  lane: number[] = [];
  pos: number[] = [];
  maxGap: number[] = [];
  /** the lane whose link the loop serves (differs from `lane` when placed upstream) */
  servedLane: number[] = [];
  tl: number[] = [];
  get count(): number {
    return this.lane.length;
  }
}

function ms(s: number): number {
  return Math.round(s * 1000);
}

function param(tl: TlLogicSpec, key: string, dflt: number): number {
  const v = tl.params?.[key];
  return v === undefined ? dflt : Number(v);
}

/**
 * Compiles the actuated part of program `tl` of light `tlIndex` and places its loops (appended to
 * `dets`). Needs the network's lanes and links (call after they are built).
 */
export function buildActuated(
  net: Network,
  spec: NetSpec,
  tlIndex: number,
  tl: TlLogicSpec,
  dets: Detectors,
  lanePerm: Uint32Array,
): ActuatedProgram {
  const n = tl.phases.length;
  const duration = Float64Array.from(tl.phases, (p) => ms(p.duration));
  const minDur = Float64Array.from(tl.phases, (p) => ms(p.minDur ?? p.duration));
  const maxDur = Float64Array.from(tl.phases, (p) => ms(p.maxDur ?? p.duration));
  const next = Int32Array.from(tl.phases, (p, i) => (p.next && p.next.length > 0 ? p.next[0]! : (i + 1) % n));
  const green = Uint8Array.from(tl.phases, (p) => (/[Gg]/.test(p.state) && !/[yY]/.test(p.state) ? 1 : 0));
  const actuated = (i: number) => minDur[i] !== maxDur[i];
  const maxGap = param(tl, 'max-gap', DEFAULT_MAX_GAP);
  const passingTime = param(tl, 'passing-time', DEFAULT_PASSING_TIME);
  const detectorGap = param(tl, 'detector-gap', DEFAULT_DETECTOR_GAP);
  const numLinks = tl.phases[0]!.state.length;

  // tl link index → links (and their incoming lanes), as MSTrafficLightLogic's myLinks / myLanes
  const linksAt: number[][] = Array.from({ length: numLinks }, () => []);
  for (let lk = 0; lk < net.linkCount; lk++) {
    if (net.linkTl[lk] === tlIndex && net.linkTlIndex[lk]! < numLinks) linksAt[net.linkTlIndex[lk]!]!.push(lk);
  }
  const lanesAt = linksAt.map((ls) => [...new Set(ls.map((lk) => net.linkFrom[lk]!))]);
  const state = (p: number, i: number) => tl.phases[p]!.state[i]!;

  // getMinimumMinDuration: shortest minDur of an actuated phase giving a lane green (ms), or Infinity
  const minMinDur = (lane: number): number => {
    let r = Infinity;
    for (let p = 0; p < n; p++) {
      if (!actuated(p)) continue;
      for (let i = 0; i < numLinks; i++) {
        const c = state(p, i);
        if ((c === 'G' || c === 'g') && lanesAt[i]!.includes(lane)) r = Math.min(r, minDur[p]!);
      }
    }
    return r;
  };

  // ---- place the loops (init) ----
  const detFirst = dets.count;
  const loopOfLane = new Map<number, number>();
  for (let i = 0; i < numLinks; i++) {
    for (const lane of lanesAt[i]!) {
      if ((lanePerm[lane]! & ~PEDESTRIAN) === 0) continue; // noVehicles: sidewalks, green verges
      if (loopOfLane.has(lane)) continue;
      const md = minMinDur(lane);
      if (md === Infinity) continue;
      const laneId = net.laneIds[lane]!;
      if (tl.params?.[laneId] === 'NO_DETECTOR') continue;
      const speed = net.laneSpeed[lane]!;
      const dist = Math.min(detectorGap * speed, (md / 1000 / passingTime + 0.5) * LENGTH_WITH_GAP);
      let ilpos = net.laneLength[lane]! - dist;
      let placement = lane;
      // while too short and exactly one incoming lane: continue on the (logical) predecessor
      for (let guard = 0; ilpos < 0 && guard < 64; guard++) {
        const inStart = net.laneInStart[placement]!;
        if (net.laneInStart[placement + 1]! - inStart !== 1) break;
        placement = net.linkFrom[net.laneIn[inStart]!]!;
        ilpos += net.laneLength[placement]!;
      }
      if (ilpos < 0) ilpos = 0;
      const d = dets.count;
      dets.lane.push(placement);
      dets.pos.push(ilpos);
      dets.maxGap.push(param(tl, `max-gap:${laneId}`, maxGap));
      dets.servedLane.push(lane);
      dets.tl.push(tlIndex);
      loopOfLane.set(lane, d);
    }
  }

  // ---- which loops control which phase (init, check1 and check2) ----
  const neverMajor = new Array<boolean>(numLinks).fill(true);
  for (let p = 0; p < n; p++) for (let i = 0; i < numLinks; i++) if (state(p, i) === 'G') neverMajor[i] = false;
  const motorized = (lane: number) => (lanePerm[lane]! & ~NOT_MOTORIZED) !== 0;
  const oneLane = lanesAt.map((lanes) =>
    lanes.some((lane) => {
      const e = net.laneEdge[lane]!;
      let m = 0;
      for (let k = 0; k < net.edgeLaneCount[e]!; k++) if (motorized(net.edgeFirstLane[e]! + k)) m++;
      return m === 1;
    }),
  );
  const TURN = 3; // index of 't' in network.ts DIRS
  const turnaround = linksAt.map((ls) => ls.every((lk) => net.linkDir[lk] === TURN));
  const hasMajor = (p: number, lanes: number[]) => {
    for (let i = 0; i < numLinks; i++)
      if (state(p, i) === 'G' && lanesAt[i]!.some((l) => lanes.includes(l))) return true;
    return false;
  };
  const phaseDets: number[][] = [];
  for (let p = 0; p < n; p++) {
    const loops: number[] = [];
    if (actuated(p)) {
      const greenLinks = new Set<number>();
      const loopLinks = new Map<number, number[]>();
      for (let i = 0; i < numLinks; i++) {
        const c = state(p, i);
        if (c === 'G' || (c === 'g' && (((neverMajor[i] || turnaround[i]) && hasMajor(p, lanesAt[i]!)) || oneLane[i])))
          greenLinks.add(i);
        for (const lane of lanesAt[i]!) {
          const d = loopOfLane.get(lane);
          if (d === undefined) continue;
          let l = loopLinks.get(d);
          if (!l) loopLinks.set(d, (l = []));
          l.push(i);
        }
      }
      for (const [d, links] of [...loopLinks].sort((a, b) => a[0] - b[0])) {
        let usable = links.every((j) => greenLinks.has(j)); // check1
        if (usable) {
          // check2: a loop on a lane that leads to another loop of this light whose links are not green
          const lane = dets.servedLane[d]!;
          for (let k = net.laneOutStart[lane]!; k < net.laneOutStart[lane + 1]! && usable; k++) {
            const lk = net.laneOut[k]!;
            if (net.linkDir[lk] === TURN) continue;
            const nd = loopOfLane.get(net.linkTo[lk]!);
            if (nd !== undefined && (loopLinks.get(nd) ?? []).some((j) => !greenLinks.has(j))) usable = false;
          }
        }
        if (usable) loops.push(d);
      }
    }
    phaseDets.push(loops);
  }
  const phaseDetStart = new Int32Array(n + 1);
  phaseDets.forEach((l, p) => (phaseDetStart[p + 1] = phaseDetStart[p]! + l.length));
  void spec;
  return {
    duration,
    minDur,
    maxDur,
    next,
    green,
    detectorGap,
    phaseDetStart,
    phaseDet: Int32Array.from(phaseDets.flat()),
    detFirst,
    detCount: dets.count - detFirst,
  };
}

/**
 * Groups of junctions that must be in one part: per light with an actuated program, the junctions
 * of its links and those its loops' lanes drive into. Returns a group id per junction (-1: none),
 * the groups merged where they share a junction.
 */
export function actuatedJunctionGroups(net: Network): Int32Array {
  const n = net.junctionIds.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]!]!;
    return x;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const grouped = new Uint8Array(n);
  const anchor = new Int32Array(net.trafficLights.length).fill(-1);
  const join = (tl: number, j: number) => {
    grouped[j] = 1;
    if (anchor[tl]! < 0) anchor[tl] = j;
    else union(anchor[tl]!, j);
  };
  const actuatedTl = net.trafficLights.map((t) => t.programs.some((p) => p.act !== undefined));
  for (let lk = 0; lk < net.linkCount; lk++) {
    const tl = net.linkTl[lk]!;
    if (tl >= 0 && actuatedTl[tl]) join(tl, net.linkJunction[lk]!);
  }
  const d = net.detectors;
  for (let k = 0; k < d.count; k++) join(d.tl[k]!, net.edgeTo[net.laneEdge[d.lane[k]!]!]!);
  const out = new Int32Array(n).fill(-1);
  for (let j = 0; j < n; j++) if (grouped[j]) out[j] = find(j);
  return out;
}
