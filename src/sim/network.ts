/**
 * The compiled road network: structure of arrays, indices instead of ids. Built once from a NetSpec
 * when a simulation starts (R4: the graph is built at start, not at load, so a network can be edited
 * before). Immutable afterwards.
 *
 * Lanes are numbered: first every normal lane, edge by edge (so the lanes of edge e are
 * `edgeFirstLane[e] + index`), then one internal lane per link (its path through the junction,
 * flattened; at least MIN_INTERNAL_LENGTH long so every movement goes through one).
 * Online commands never change the Network (it is shared by the parts of a run): the state they
 * change (closed lanes, speed limits, signal programs) lives in the Engine.
 */
import type { LinkDirection, NetSpec, TlLogicSpec } from '../io/spec.js';
import { InputError } from '../errors.js';
import { ALL_CLASSES, permissionMask } from './vclass.js';
import { buildActuated, Detectors, type ActuatedProgram } from './actuated.js';
import { DEFAULT_LANE_WIDTH, foeClearPosition } from './crossing.js';

export const MIN_INTERNAL_LENGTH = 0.1;

/** Signal states of a link, as char codes of SUMO's letters. */
export const LinkState = {
  greenMajor: 71, // 'G'
  greenMinor: 103, // 'g'
  red: 114, // 'r'
  redYellow: 117, // 'u'
  yellowMajor: 121, // 'y'
  yellowMinor: 89, // 'Y'
  stop: 115, // 's'
  allwayStop: 119, // 'w'
  offBlinking: 111, // 'o'
  offMajor: 79, // 'O'
  major: 77, // 'M' (unsignalised, priority)
  minor: 109, // 'm' (unsignalised, must yield)
} as const;

const DIRS: readonly LinkDirection[] = ['s', 'l', 'r', 't', 'L', 'R', 'invalid'];

/** One signal program (SUMO tlLogic) of a traffic light. */
export interface TlProgram {
  programID: string;
  offset: number;
  /** cumulative phase end times, s */
  phaseEnds: Float64Array;
  cycle: number;
  /** per phase: state char code per tl link index */
  states: Uint8Array[];
  /** why this program cannot run (bad durations, too few link states), or undefined when it can */
  problem?: string;
  /** an actuated program (SUMO type="actuated"): its timing and induction loops; absent: fixed time */
  act?: ActuatedProgram;
}

/** A traffic light: the fields of the program that runs at start (the first), and every program. */
export interface TrafficLight extends TlProgram {
  id: string;
  /** every tlLogic of this id in file order; programs[0] is the one that runs at start */
  programs: TlProgram[];
}

export class Network {
  readonly laneIds: string[] = [];
  readonly edgeIds: string[] = [];
  readonly junctionIds: string[] = [];
  readonly edgeIndex = new Map<string, number>();
  readonly laneIndex = new Map<string, number>();

  readonly normalLaneCount: number;
  readonly laneCount: number;
  readonly laneLength: Float64Array;
  readonly laneSpeed: Float64Array;
  /** edge of a normal lane; -1 for internal lanes */
  readonly laneEdge: Int32Array;
  /** link of an internal lane; -1 for normal lanes */
  readonly laneLink: Int32Array;
  /** index within the edge (0 = rightmost) */
  readonly laneIndexInEdge: Int32Array;
  /** CSR: links leaving a normal lane */
  readonly laneOutStart: Int32Array;
  readonly laneOut: Int32Array;
  /** CSR: links entering a normal lane */
  readonly laneInStart: Int32Array;
  readonly laneIn: Int32Array;
  readonly laneShape: Float64Array[];
  /**
   * per lane: the vehicle classes that may use it (vclass.ts bits; SUMO allow/disallow). An internal
   * lane allows what both lanes of its link allow.
   */
  readonly lanePerm: Uint32Array;
  /** vehicle class names in allow/disallow lists that SUMO does not know, with the lane that named them */
  readonly unknownClasses: { lane: string; name: string }[] = [];

  readonly edgeCount: number;
  readonly edgeFirstLane: Int32Array;
  readonly edgeLaneCount: Int32Array;
  readonly edgeFrom: Int32Array;
  readonly edgeTo: Int32Array;
  readonly edgeLength: Float64Array;
  readonly edgeSpeed: Float64Array;
  /** per edge: the classes that may use at least one of its lanes */
  readonly edgePerm: Uint32Array;

  readonly linkCount: number;
  readonly linkFrom: Int32Array;
  readonly linkTo: Int32Array;
  readonly linkToEdge: Int32Array;
  readonly linkLane: Int32Array;
  readonly linkJunction: Int32Array;
  readonly linkDir: Uint8Array;
  /** traffic light index or -1 */
  readonly linkTl: Int32Array;
  readonly linkTlIndex: Int32Array;
  /** where a vehicle that must yield waits inside the junction (SUMO cont links), or -1 */
  readonly linkContPos: Float64Array;
  /** state when not signalised: 'M' or 'm' */
  readonly linkStaticState: Uint8Array;
  /** 1 for links of right before left / left before right ('=') and all-way stops ('w'): circles of yielding */
  readonly linkCircular: Uint8Array;
  /** CSR: links this link must yield to */
  readonly linkYieldStart: Int32Array;
  readonly linkYield: Int32Array;
  /** CSR: links whose paths conflict with this one */
  readonly linkFoeStart: Int32Array;
  readonly linkFoe: Int32Array;
  /**
   * per entry of linkFoe: the position on the foe's internal lane past which a foe vehicle's back
   * has cleared this link's path (crossing.ts; SUMO ignores such a foe); Infinity for a foe merging
   * into the same lane (any vehicle on it counts), -Infinity for one whose path does not cross
   */
  readonly linkFoeClear: Float64Array;

  readonly trafficLights: TrafficLight[] = [];
  /** per traffic light: its lowest controlled link (-1: controls none); the part owning it keeps the light's state */
  readonly tlFirstLink: Int32Array;
  private readonly tlFirstLinkList: number[] = [];
  /** induction loops of the actuated programs (actuated.ts) */
  readonly detectors = new Detectors();
  /** what the network has that is not modelled (once per kind, with file and line) */
  readonly warnings: string[];

  constructor(spec: NetSpec) {
    const src = spec.source;
    const junctionIndex = new Map<string, number>();
    spec.junctions.forEach((j, i) => {
      junctionIndex.set(j.id, i);
      this.junctionIds.push(j.id);
    });
    const junctionOf = (id: string, what: string): number => {
      const j = junctionIndex.get(id);
      if (j === undefined) {
        // a plain network may omit junction definitions for its borders: make them implicit
        const k = this.junctionIds.length;
        junctionIndex.set(id, k);
        this.junctionIds.push(id);
        void what;
        return k;
      }
      return j;
    };

    this.edgeCount = spec.edges.length;
    let nNormal = 0;
    for (const e of spec.edges) nNormal += e.lanes.length;
    this.normalLaneCount = nNormal;
    this.linkCount = spec.links.length;
    this.laneCount = nNormal + this.linkCount;
    const L = this.laneCount;
    this.laneLength = new Float64Array(L);
    this.laneSpeed = new Float64Array(L);
    this.laneEdge = new Int32Array(L).fill(-1);
    this.laneLink = new Int32Array(L).fill(-1);
    this.laneIndexInEdge = new Int32Array(L);
    this.laneShape = new Array<Float64Array>(L);
    this.lanePerm = new Uint32Array(L);
    this.edgePerm = new Uint32Array(this.edgeCount);
    this.edgeFirstLane = new Int32Array(this.edgeCount);
    this.edgeLaneCount = new Int32Array(this.edgeCount);
    this.edgeFrom = new Int32Array(this.edgeCount);
    this.edgeTo = new Int32Array(this.edgeCount);
    this.edgeLength = new Float64Array(this.edgeCount);
    this.edgeSpeed = new Float64Array(this.edgeCount);

    let lane = 0;
    spec.edges.forEach((e, ei) => {
      if (this.edgeIndex.has(e.id)) throw new InputError(src, `duplicate edge id "${e.id}"`);
      this.edgeIndex.set(e.id, ei);
      this.edgeIds.push(e.id);
      this.edgeFirstLane[ei] = lane;
      this.edgeLaneCount[ei] = e.lanes.length;
      this.edgeFrom[ei] = junctionOf(e.from, `edge ${e.id}`);
      this.edgeTo[ei] = junctionOf(e.to, `edge ${e.id}`);
      const sorted = [...e.lanes].sort((a, b) => a.index - b.index);
      let maxSpeed = 0;
      for (const l of sorted) {
        if (!(l.length > 0)) throw new InputError(src, `lane "${l.id}" has length ${l.length}; it must be positive`);
        if (!(l.speed > 0)) throw new InputError(src, `lane "${l.id}" has speed ${l.speed}; it must be positive`);
        this.laneIndex.set(l.id, lane);
        this.laneIds.push(l.id);
        this.laneLength[lane] = l.length;
        this.laneSpeed[lane] = l.speed;
        this.laneEdge[lane] = ei;
        this.laneIndexInEdge[lane] = l.index;
        this.laneShape[lane] = Float64Array.from(l.shape);
        const unknown: string[] = [];
        this.lanePerm[lane] = permissionMask(l.allow, l.disallow, unknown);
        for (const name of unknown) this.unknownClasses.push({ lane: l.id, name });
        this.edgePerm[ei] = (this.edgePerm[ei]! | this.lanePerm[lane]!) >>> 0;
        if (l.speed > maxSpeed) maxSpeed = l.speed;
        lane++;
      }
      this.edgeLength[ei] = sorted[0]?.length ?? 0;
      this.edgeSpeed[ei] = maxSpeed;
    });

    const nLinks = this.linkCount;
    this.linkFrom = new Int32Array(nLinks);
    this.linkTo = new Int32Array(nLinks);
    this.linkToEdge = new Int32Array(nLinks);
    this.linkLane = new Int32Array(nLinks);
    this.linkJunction = new Int32Array(nLinks);
    this.linkDir = new Uint8Array(nLinks);
    this.linkTl = new Int32Array(nLinks).fill(-1);
    this.linkTlIndex = new Int32Array(nLinks).fill(-1);
    this.linkStaticState = new Uint8Array(nLinks);
    this.linkCircular = new Uint8Array(nLinks);
    this.linkContPos = new Float64Array(nLinks).fill(-1);

    this.warnings = [...(spec.warnings ?? [])];
    const tlIndex = new Map<string, number>();
    const actuatedSpecs: { tl: number; prog: TlProgram; spec: TlLogicSpec }[] = [];
    for (const tl of spec.tlLogics) {
      const existing = tlIndex.get(tl.id);
      if (existing !== undefined) {
        // several programs: the first one runs; the others stay available for online commands
        const prog = compileProgram(tl, undefined);
        this.trafficLights[existing]!.programs.push(prog);
        if (tl.type === 'actuated') actuatedSpecs.push({ tl: existing, prog, spec: tl });
        continue;
      }
      const first = compileProgram(tl, src);
      tlIndex.set(tl.id, this.trafficLights.length);
      const light: TrafficLight = { id: tl.id, ...first, programs: [first] };
      if (tl.type === 'actuated') actuatedSpecs.push({ tl: this.trafficLights.length, prog: first, spec: tl });
      this.trafficLights.push(light);
    }

    // (junction, request index) → global link, to translate the per-junction matrices
    const byRequest = new Map<number, Map<number, number>>();
    spec.links.forEach((lk, i) => {
      const from = this.laneIndex.get(lk.fromLane);
      const to = this.laneIndex.get(lk.toLane);
      if (from === undefined) throw new InputError(src, `link ${i} comes from unknown lane "${lk.fromLane}"`);
      if (to === undefined) throw new InputError(src, `link ${i} leads to unknown lane "${lk.toLane}"`);
      const j = junctionOf(lk.junction, `link ${i}`);
      this.linkFrom[i] = from;
      this.linkTo[i] = to;
      this.linkToEdge[i] = this.laneEdge[to]!;
      this.linkJunction[i] = j;
      this.linkDir[i] = Math.max(0, DIRS.indexOf(lk.dir));
      const internal = nNormal + i;
      this.linkLane[i] = internal;
      this.laneLink[internal] = i;
      this.laneLength[internal] = Math.max(lk.viaLength, MIN_INTERNAL_LENGTH);
      this.laneSpeed[internal] = lk.viaSpeed > 0 ? lk.viaSpeed : Math.min(this.laneSpeed[from]!, this.laneSpeed[to]!);
      this.laneShape[internal] = Float64Array.from(lk.viaShape);
      this.lanePerm[internal] = (this.lanePerm[from]! & this.lanePerm[to]!) >>> 0;
      if (lk.cont && lk.contPos !== undefined && lk.contPos > 0 && lk.contPos < this.laneLength[internal]!) {
        this.linkContPos[i] = lk.contPos;
      }
      this.laneIds[internal] = `:${lk.junction}#${lk.index}`;
      if (lk.tl) {
        const t = tlIndex.get(lk.tl.id);
        if (t === undefined)
          throw new InputError(src, `link ${lk.fromLane}→${lk.toLane} names unknown traffic light "${lk.tl.id}"`);
        this.linkTl[i] = t;
        this.linkTlIndex[i] = lk.tl.linkIndex;
        for (const st of this.trafficLights[t]!.states) {
          if (lk.tl.linkIndex >= st.length) {
            throw new InputError(
              src,
              `traffic light "${lk.tl.id}" has ${st.length} link states, but link ${lk.fromLane}→${lk.toLane} uses index ${lk.tl.linkIndex}`,
            );
          }
        }
        for (const prog of this.trafficLights[t]!.programs) {
          if (!prog.problem && prog.states.some((st) => lk.tl!.linkIndex >= st.length)) {
            prog.problem = `program "${prog.programID}" has fewer link states than link index ${lk.tl.linkIndex}`;
          }
        }
        if (this.tlFirstLinkList[t] === undefined) this.tlFirstLinkList[t] = i;
      }
      let m = byRequest.get(j);
      if (!m) byRequest.set(j, (m = new Map()));
      m.set(lk.index, i);
    });

    // yield and foe relations, global link ids, CSR
    const yields: number[][] = spec.links.map(() => []);
    const foes: number[][] = spec.links.map(() => []);
    spec.junctions.forEach((jn) => {
      const j = junctionIndex.get(jn.id)!;
      const m = byRequest.get(j);
      if (!m) return;
      const translate = (lists: number[][], out: number[][]) => {
        lists.forEach((list, req) => {
          const li = m.get(req);
          if (li === undefined) return;
          for (const r of list) {
            const lj = m.get(r);
            if (lj !== undefined && lj !== li) out[li]!.push(lj);
          }
        });
      };
      translate(jn.yieldsTo, yields);
      translate(jn.foes, foes);
    });
    const csr = (lists: number[][]): [Int32Array, Int32Array] => {
      const start = new Int32Array(lists.length + 1);
      lists.forEach((l, i) => (start[i + 1] = start[i]! + l.length));
      const flat = new Int32Array(start[lists.length]!);
      lists.forEach((l, i) =>
        flat.set(
          l.sort((a, b) => a - b),
          start[i]!,
        ),
      );
      return [start, flat];
    };
    [this.linkYieldStart, this.linkYield] = csr(yields);
    [this.linkFoeStart, this.linkFoe] = csr(foes);
    this.linkFoeClear = new Float64Array(this.linkFoe.length).fill(Infinity);
    for (let i = 0; i < nLinks; i++) {
      const width = spec.links[i]!.viaWidth ?? DEFAULT_LANE_WIDTH;
      const path = this.laneShape[this.linkLane[i]!]!;
      for (let k = this.linkFoeStart[i]!; k < this.linkFoeStart[i + 1]!; k++) {
        const foe = this.linkFoe[k]!;
        if (this.linkTo[foe] === this.linkTo[i]) continue; // a merge: the foe is ahead or behind, never past
        const foeLane = this.linkLane[foe]!;
        this.linkFoeClear[k] = foeClearPosition(this.laneShape[foeLane]!, this.laneLength[foeLane]!, path, width);
      }
    }
    for (let i = 0; i < nLinks; i++) {
      const st = spec.links[i]!.state;
      if (st === '=' || st === 'w') this.linkCircular[i] = 1;
      // stop signs (priority_stop 's', allway_stop 'w'): come to a halt at the line, then yield
      if (st === 's') this.linkStaticState[i] = LinkState.stop;
      else if (st === 'w') this.linkStaticState[i] = LinkState.allwayStop;
      else this.linkStaticState[i] = yields[i]!.length > 0 ? LinkState.minor : LinkState.major;
    }

    const out: number[][] = Array.from({ length: nNormal }, () => []);
    const into: number[][] = Array.from({ length: nNormal }, () => []);
    for (let i = 0; i < nLinks; i++) {
      out[this.linkFrom[i]!]!.push(i);
      into[this.linkTo[i]!]!.push(i);
    }
    [this.laneOutStart, this.laneOut] = csr(out);
    [this.laneInStart, this.laneIn] = csr(into);
    this.tlFirstLink = Int32Array.from(this.trafficLights, (_, t) => this.tlFirstLinkList[t] ?? -1);

    if (actuatedSpecs.length > 0) {
      const perm = this.lanePerm;
      for (const a of actuatedSpecs) {
        if (a.prog.problem !== undefined) continue;
        a.prog.act = buildActuated(this, spec, a.tl, a.spec, this.detectors, perm);
        // the light's own fields are a copy of its first program's
        const light = this.trafficLights[a.tl]!;
        if (light.programs[0] === a.prog) light.act = a.prog.act;
      }
    }
  }

  /**
   * The link from `lane` onto edge `toEdge` whose target lane continues best to `afterEdge` (-1: none)
   * for a vehicle of class mask `cls` (only links whose path the class may use; vclass.ts).
   * `closed` (per lane, 1 = closed by an online command) excludes links into closed lanes; without
   * closures the result is what it was before closures existed.
   */
  linkToward(lane: number, toEdge: number, afterEdge: number, closed?: Uint8Array, cls = ALL_CLASSES): number {
    let best = -1;
    let bestScore = -1;
    for (let k = this.laneOutStart[lane]!, end = this.laneOutStart[lane + 1]!; k < end; k++) {
      const lk = this.laneOut[k]!;
      if (this.linkToEdge[lk] !== toEdge) continue;
      if ((this.lanePerm[this.linkLane[lk]!]! & cls) === 0) continue;
      if (closed !== undefined && closed[this.linkTo[lk]!] !== 0) continue;
      const score = afterEdge < 0 ? 1 : this.hasLinkToEdge(this.linkTo[lk]!, afterEdge, undefined, cls) ? 2 : 1;
      if (score > bestScore) {
        best = lk;
        bestScore = score;
      }
    }
    return best;
  }

  /** Has `lane` a link onto edge `toEdge` (into a lane not `closed`, when given) that class mask `cls` may use? */
  hasLinkToEdge(lane: number, toEdge: number, closed?: Uint8Array, cls = ALL_CLASSES): boolean {
    for (let k = this.laneOutStart[lane]!, end = this.laneOutStart[lane + 1]!; k < end; k++) {
      const lk = this.laneOut[k]!;
      if (this.linkToEdge[lk] !== toEdge || (this.lanePerm[this.linkLane[lk]!]! & cls) === 0) continue;
      if (closed === undefined || closed[this.linkTo[lk]!] === 0) return true;
    }
    return false;
  }

  /** Are edges a and b joined by some link that class mask `cls` may use, from a lane it may use? */
  edgesConnected(a: number, b: number, cls = ALL_CLASSES): boolean {
    const first = this.edgeFirstLane[a]!;
    for (let l = first; l < first + this.edgeLaneCount[a]!; l++) {
      if ((this.lanePerm[l]! & cls) !== 0 && this.hasLinkToEdge(l, b, undefined, cls)) return true;
    }
    return false;
  }

  /** The rightmost lane of edge `edge` that class mask `cls` may use, or -1. */
  firstAllowedLane(edge: number, cls: number): number {
    const first = this.edgeFirstLane[edge]!;
    for (let l = first, end = first + this.edgeLaneCount[edge]!; l < end; l++)
      if ((this.lanePerm[l]! & cls) !== 0) return l;
    return -1;
  }

  /** Signal state of a traffic light's phase at time t (s). */
  tlPhaseAt(tl: number, t: number): number {
    return programPhaseAt(this.trafficLights[tl]!, t - this.trafficLights[tl]!.offset);
  }
}

/** The phase a program shows `x` s after a cycle start (x may be any real number). */
export function programPhaseAt(prog: Pick<TlProgram, 'cycle' | 'phaseEnds'>, x: number): number {
  x %= prog.cycle;
  if (x < 0) x += prog.cycle;
  const ends = prog.phaseEnds;
  for (let p = 0; p < ends.length; p++) if (x < ends[p]!) return p;
  return ends.length - 1;
}

/**
 * Compiles a tlLogic. With `src` (the program that runs at start) a problem is an InputError; for the
 * other programs it is recorded in `problem` and reported only when a command asks for the program.
 */
function compileProgram(tl: TlLogicSpec, src: string | undefined): TlProgram {
  const phaseEnds = new Float64Array(tl.phases.length);
  let problem: string | undefined = tl.phases.length === 0 ? `traffic light "${tl.id}" has no phases` : undefined;
  let t = 0;
  tl.phases.forEach((p, i) => {
    if (!(p.duration > 0)) problem ??= `traffic light "${tl.id}" phase ${i} has duration ${p.duration}`;
    t += p.duration;
    phaseEnds[i] = t;
  });
  if (problem !== undefined && src !== undefined) throw new InputError(src, problem);
  return {
    programID: tl.programID,
    offset: tl.offset,
    phaseEnds,
    cycle: t,
    states: tl.phases.map((p) => Uint8Array.from(p.state, (c) => c.charCodeAt(0))),
    ...(problem !== undefined ? { problem } : {}),
  };
}
