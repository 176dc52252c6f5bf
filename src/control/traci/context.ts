/**
 * What the TraCI domains share: the engine, the per-step view, lane geometry, the routes clients
 * added, and the light phases commands set since the last step (SUMO answers them at once; our
 * engine computes a light's phase when the next step starts).
 */
import type { Engine } from '../../sim/engine.js';
import { programPhaseAt, type TlProgram } from '../../sim/network.js';
import { LaneGeometry } from '../positions.js';
import { StepView } from './view.js';

/** A client error: answered with TraCI's error status and this message (the connection stays). */
export class TraciError extends Error {}

export interface SignalView {
  program: number;
  phase: number;
  /** s the current phase lasts in all */
  duration: number;
  /** simulation time of the next switch, s */
  nextSwitch: number;
}

export class TraciContext {
  readonly view: StepView;
  readonly geometry: LaneGeometry;
  /** routes added by route.add, by id (edge ids) */
  readonly routes = new Map<string, string[]>();
  /** per light: the tl link index → the links with it */
  private readonly tlLinks: number[][][];

  constructor(readonly engine: Engine) {
    this.view = new StepView(engine);
    this.geometry = new LaneGeometry(engine.net);
    const net = engine.net;
    this.tlLinks = net.trafficLights.map(() => []);
    for (let link = 0; link < net.linkCount; link++) {
      const tl = net.linkTl[link]!;
      if (tl < 0) continue;
      const byIndex = this.tlLinks[tl]!;
      const k = net.linkTlIndex[link]!;
      (byIndex[k] ??= []).push(link);
    }
  }

  stepped(): void {
    this.touched.clear();
  }

  /** The links of light `tl` by its link index (an index without links: an empty list). */
  linksOf(tl: number): number[][] {
    const byIndex = this.tlLinks[tl]!;
    const n = this.engine.net.trafficLights[tl]!.states[0]?.length ?? byIndex.length;
    return Array.from({ length: Math.max(n, byIndex.length) }, (_, k) => byIndex[k] ?? []);
  }

  lane(id: string): number {
    const l = this.engine.net.laneIndex.get(id);
    if (l === undefined) throw new TraciError(`Lane '${id}' is not known`);
    return l;
  }

  edge(id: string): number {
    const e = this.engine.net.edgeIndex.get(id);
    if (e === undefined) throw new TraciError(`Edge '${id}' is not known`);
    return e;
  }

  tl(id: string): number {
    const i = this.engine.net.trafficLights.findIndex((t) => t.id === id);
    if (i < 0) throw new TraciError(`Traffic light '${id}' is not known`);
    return i;
  }

  /** The slot of a vehicle on the road. */
  vehicle(id: string): number {
    const vid = this.vehicleIndex(id);
    const s = vid === undefined ? -1 : this.view.slot(vid);
    if (s < 0) throw new TraciError(`Vehicle '${id}' is not known.`);
    return s;
  }

  /** The demand index of a vehicle id (loaded, on the road or not), or undefined. */
  vehicleIndex(id: string): number | undefined {
    const d = this.engine.demand;
    let map = this.idIndex;
    if (map === undefined || this.idIndexCount !== d.count) {
      map = this.idIndex ??= new Map();
      for (let i = this.idIndexCount; i < d.count; i++) map.set(d.ids[i]!, i);
      this.idIndexCount = d.count;
    }
    return map.get(id);
  }
  private idIndex: Map<string, number> | undefined;
  private idIndexCount = 0;

  /**
   * A light's program, phase, phase duration and next switch as SUMO reports them between steps: the
   * phase of the step just done (SUMO switches at the start of a step), or, for a light a command
   * changed at this boundary, the phase it shows from now (SUMO answers a setter at once).
   */
  signal(tl: number): SignalView {
    const e = this.engine;
    const program = e.tlCustom[tl] ? e.tlProgram[tl]! : 0;
    if (program < 0) return { program, phase: -1, duration: 0, nextSwitch: -1 };
    const prog = e.program(tl, program);
    const now = this.touched.has(tl) || e.step === 0;
    // the time the phase in question started being computed for: now, or the last step's start
    const t = now ? e.time() : e.time() - e.cfg.stepLength;
    const held = e.tlCustom[tl] && e.tlHoldPhase[tl]! >= 0 && t < e.tlHoldUntil[tl]!;
    const anchor = e.tlCustom[tl] ? e.tlAnchor[tl]! : prog.offset;
    let phase: number;
    if (e.tlAct[tl]) phase = now ? e.tlActPhase[tl]! : e.tlPhase[tl]!;
    else if (!now) phase = e.tlPhase[tl]!;
    else phase = held ? e.tlHoldPhase[tl]! : programPhaseAt(prog, t - anchor);
    const own = prog.phaseEnds[phase]! - (phase > 0 ? prog.phaseEnds[phase - 1]! : 0);
    if (e.tlAct[tl]) return { program, phase, duration: own, nextSwitch: e.tlNextSwitch[tl]! / 1000 };
    if (held) return { program, phase, duration: own, nextSwitch: e.tlHoldUntil[tl]! };
    let x = (t - anchor) % prog.cycle;
    if (x < 0) x += prog.cycle;
    return { program, phase, duration: own, nextSwitch: t - x + prog.phaseEnds[phase]! };
  }

  /** A command changed light `tl` at this step boundary. */
  touch(tl: number): void {
    this.touched.add(tl);
  }
  private readonly touched = new Set<number>();

  /**
   * Every program of light `tl` with its index: the network's, then those commands gave; a network
   * program a command gave again under its programID is listed once, as given (SUMO replaces it).
   */
  programs(tl: number): [number, TlProgram][] {
    const own = this.engine.net.trafficLights[tl]!.programs;
    const extra = this.engine.tlExtra[tl]!;
    const given = new Set(extra.map((p) => p.programID));
    return [
      ...own.map((p, k) => [k, p] as [number, TlProgram]).filter(([, p]) => !given.has(p.programID)),
      ...extra.map((p, k) => [own.length + k, p] as [number, TlProgram]),
    ];
  }
  /** A junction's position: the middle of where its incoming lanes end and its outgoing lanes start. */
  junctionPosition(id: string): [number, number] {
    const net = this.engine.net;
    const j = net.junctionIds.indexOf(id);
    if (j < 0) throw new TraciError(`Junction '${id}' is not known`);
    const shapes = this.geometry.shapes;
    let x = 0;
    let y = 0;
    let n = 0;
    for (let edge = 0; edge < net.edgeCount; edge++) {
      const into = net.edgeTo[edge] === j;
      if (!into && net.edgeFrom[edge] !== j) continue;
      for (let k = 0; k < net.edgeLaneCount[edge]!; k++) {
        const s = shapes[net.edgeFirstLane[edge]! + k]!;
        const at = into ? s.length - 2 : 0;
        x += s[at]!;
        y += s[at + 1]!;
        n++;
      }
    }
    return n > 0 ? [x / n, y / n] : [0, 0];
  }
}
