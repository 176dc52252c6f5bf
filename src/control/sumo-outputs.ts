/**
 * tessds-sumo's SUMO outputs of a one-process run: after every step, a <step> of the summary output
 * and a <timestep> of the FCD output from the engine's state (SUMO writes a step's outputs once its
 * vehicles moved, labelled with the time the step began).
 */
import type { Engine } from '../sim/engine.js';
import { XmlStream, fcdVehicleXml, summaryStepXml } from '../io/sumo/outputs.js';
import { LaneGeometry } from './positions.js';
import { StepView } from './traci/view.js';

export interface StepOutputFiles {
  summary?: string;
  fcd?: string;
}

export class StepOutputs {
  private readonly summary?: XmlStream;
  private readonly fcd?: XmlStream;
  private readonly geometry?: LaneGeometry;
  /** the view the outputs read (a TraCI session passes its own, so both see the same step) */
  private readonly view: StepView;
  private travelSum = 0;
  private travelCount = 0;
  private stepStarted = 0;

  constructor(
    private readonly e: Engine,
    files: StepOutputFiles,
    view?: StepView,
  ) {
    this.view = view ?? new StepView(e);
    if (files.summary) this.summary = new XmlStream(files.summary, 'summary', 'summary_file.xsd');
    if (files.fcd) {
      this.fcd = new XmlStream(files.fcd, 'fcd-export', 'fcd_file.xsd');
      this.geometry = new LaneGeometry(e.net);
    }
  }

  get active(): boolean {
    return this.summary !== undefined || this.fcd !== undefined;
  }

  /** Call right before a step (the arrivals of the step are found among the vehicles alive now). */
  beforeStep(ownView = true): void {
    if (ownView) this.view.beforeStep();
    this.stepStarted = performance.now();
  }

  /** Call right after a step. */
  afterStep(): void {
    const e = this.e;
    const time = e.time(e.step - 1);
    const dt = e.cfg.stepLength;
    for (const vid of this.view.arrivedIndices()) {
      this.travelSum += (e.trips.arrivalStep[vid]! - e.trips.departStep[vid]!) * dt;
      this.travelCount++;
    }
    const ids = this.view.vehicleIds();
    if (this.summary) {
      let halting = 0;
      let stopped = 0;
      let waiting = 0;
      let speed = 0;
      let relative = 0;
      for (const id of ids) {
        const s = this.view.slot(this.index(id));
        if (s < 0) continue;
        const v = e.v.speed[s]!;
        if (v < 0.1) halting++;
        if (e.v.stopEnd[s]! >= 0) stopped++;
        waiting += e.v.waitSteps[s]! * dt;
        speed += v;
        relative += v / e.maxSpeedOn(s, e.v.lane[s]!);
      }
      const n = ids.length;
      this.summary.write(
        summaryStepXml({
          time,
          loaded: e.nextDeparture + e.nextExtra,
          inserted: e.inserted,
          running: e.running,
          waiting: e.pendingCount,
          ended: e.arrived,
          arrived: e.arrived,
          teleports: e.teleports,
          halting,
          stopped,
          meanWaitingTime: n > 0 ? waiting / n : 0,
          meanTravelTime: this.travelCount > 0 ? this.travelSum / this.travelCount : -1,
          meanSpeed: n > 0 ? speed / n : -1,
          meanSpeedRelative: n > 0 ? relative / n : -1,
          duration: performance.now() - this.stepStarted,
        }),
      );
    }
    if (this.fcd) {
      let text = `    <timestep time="${time.toFixed(2)}">\n`;
      for (const id of ids) {
        const s = this.view.slot(this.index(id));
        const lane = e.v.lane[s]!;
        const [x, y, angle] = this.geometry!.at(lane, e.v.pos[s]!);
        text += fcdVehicleXml({
          id,
          x,
          y,
          angle,
          type: e.demand.types[e.demand.type[e.v.vid[s]!]!]!.id,
          speed: e.v.speed[s]!,
          pos: e.v.pos[s]!,
          lane: e.net.laneIds[lane]!,
        });
      }
      this.fcd.write(text + '    </timestep>\n');
    }
  }

  private readonly indexOf = new Map<string, number>();
  /** Demand index of a vehicle id (the demand grows when commands add vehicles). */
  private index(id: string): number {
    let i = this.indexOf.get(id);
    if (i === undefined) {
      const d = this.e.demand;
      for (let k = this.indexOf.size; k < d.count; k++) this.indexOf.set(d.ids[k]!, k);
      i = this.indexOf.get(id) ?? -1;
    }
    return i;
  }

  close(): void {
    this.summary?.close();
    this.fcd?.close();
  }
}
