/**
 * The run summary (DESIGN.md contract), computed from a (possibly merged) state dump: means over
 * arrived vehicles, taken in demand order so they do not depend on where or when vehicles arrived.
 */
import type { Demand } from './demand.js';
import type { Engine } from './engine.js';
import { dumpState, hashDump, type StateDump } from './dump.js';

export interface Summary {
  loaded: number;
  inserted: number;
  running: number;
  waiting: number;
  arrived: number;
  teleports: number;
  /** vehicles of the scenario that depart before its begin, not loaded (SUMO drops them too) */
  droppedBeforeBegin: number;
  meanDuration: number;
  meanRouteLength: number;
  meanSpeed: number;
  meanTimeLoss: number;
  meanWaitingTime: number;
  steps: number;
  simSeconds: number;
  wallSeconds: number;
  vehicleUpdates: number;
  ups: number;
  stateHash: string;
}

export function summarizeDump(
  d: StateDump,
  demand: Demand,
  stepLength: number,
  wallSeconds: number,
  stepSeconds: number,
): Summary {
  const tr = d.trips;
  let n = 0;
  let duration = 0;
  let routeLength = 0;
  let speed = 0;
  let timeLoss = 0;
  let waiting = 0;
  for (let id = 0; id < tr.count; id++) {
    const a = tr.arrivalStep[id]!;
    if (a < 0) continue;
    const dur = (a - tr.departStep[id]!) * stepLength;
    n++;
    duration += dur;
    routeLength += tr.routeLength[id]!;
    if (dur > 0) speed += tr.routeLength[id]! / dur;
    timeLoss += tr.timeLoss[id]!;
    waiting += tr.waitSteps[id]! * stepLength;
  }
  const mean = (x: number) => (n > 0 ? x / n : 0);
  // vehicles whose departure time has come (SUMO loads ahead; we count what could have departed)
  let loaded = 0;
  while (loaded < demand.baseCount && demand.departStep[loaded]! < d.step) loaded++;
  // online commands: vehicles setFlow cancelled never load; those added (after baseCount) are unordered
  if (demand.count > demand.baseCount) {
    let cancelled = 0;
    for (let i = 0; i < loaded; i++) cancelled += demand.cancelled[i]!;
    loaded -= cancelled;
    for (let i = demand.baseCount; i < demand.count; i++)
      if (!demand.cancelled[i] && demand.departStep[i]! < d.step) loaded++;
  }
  return {
    loaded,
    inserted: d.inserted,
    running: d.running,
    waiting: d.pending.length,
    arrived: d.arrived,
    teleports: d.teleports,
    droppedBeforeBegin: demand.droppedBeforeBegin,
    meanDuration: mean(duration),
    meanRouteLength: mean(routeLength),
    meanSpeed: mean(speed),
    meanTimeLoss: mean(timeLoss),
    meanWaitingTime: mean(waiting),
    steps: d.step,
    simSeconds: d.step * stepLength,
    wallSeconds,
    vehicleUpdates: d.vehicleUpdates,
    ups: stepSeconds > 0 ? d.vehicleUpdates / stepSeconds : 0,
    stateHash: hashDump(d),
  };
}

/** The summary of a whole-network engine. */
export function summarize(e: Engine, wallSeconds: number, stepSeconds: number): Summary {
  return summarizeDump(dumpState(e), e.demand, e.cfg.stepLength, wallSeconds, stepSeconds);
}
