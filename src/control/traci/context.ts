/**
 * What the TraCI domains share: the engine, the per-step view, lane geometry, the routes clients
 * added, and the light phases commands set since the last step (SUMO answers them at once; our
 * engine computes a light's phase when the next step starts).
 */
import type { Engine } from '../../sim/engine.js';
import { programPhaseAt } from '../../sim/network.js';
import { LaneGeometry } from './geometry.js';
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
  /** per light: the phase a command set since the last step (cleared by `stepped`) */
  private readonly signalOverride = new Map<number, SignalView>();
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
    this.signalOverride.clear();
  }

  setSignalOverride(tl: number, s: SignalView): void {
    this.signalOverride.set(tl, s);
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
   * phase of the step just done (SUMO switches at the start of a step), or the one a command set.
   */
  signal(tl: number): SignalView {
    const o = this.signalOverride.get(tl);
    if (o) return o;
    const e = this.engine;
    const light = e.net.trafficLights[tl]!;
    const program = e.tlCustom[tl] ? e.tlProgram[tl]! : 0;
    if (program < 0) return { program, phase: -1, duration: 0, nextSwitch: -1 };
    const prog = light.programs[program]!;
    const dt = e.cfg.stepLength;
    // the time the last step started: its phase is the one in force now
    const t = e.step > 0 ? e.time() - dt : e.time();
    const phase = e.step > 0 ? e.tlPhase[tl]! : programPhaseAt(prog, t - prog.offset);
    const own = prog.phaseEnds[phase]! - (phase > 0 ? prog.phaseEnds[phase - 1]! : 0);
    if (e.tlAct[tl]) return { program, phase, duration: own, nextSwitch: e.tlNextSwitch[tl]! / 1000 };
    if (e.tlCustom[tl] && e.tlHoldPhase[tl]! >= 0 && t < e.tlHoldUntil[tl]!)
      return { program, phase, duration: own, nextSwitch: e.tlHoldUntil[tl]! };
    const anchor = e.tlCustom[tl] ? e.tlAnchor[tl]! : prog.offset;
    let x = (t - anchor) % prog.cycle;
    if (x < 0) x += prog.cycle;
    return { program, phase, duration: own, nextSwitch: t - x + prog.phaseEnds[phase]! };
  }
}
