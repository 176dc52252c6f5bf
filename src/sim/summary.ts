/**
 * The run summary (DESIGN.md contract): means over arrived vehicles, taken in demand order.
 */
import type { Engine } from './engine.js';
import { stateHash } from './snapshot.js';

export interface Summary {
  loaded: number;
  inserted: number;
  running: number;
  waiting: number;
  arrived: number;
  teleports: number;
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

export function summarize(e: Engine, wallSeconds: number, stepSeconds: number): Summary {
  const tr = e.trips;
  const dt = e.cfg.stepLength;
  let n = 0;
  let duration = 0;
  let routeLength = 0;
  let speed = 0;
  let timeLoss = 0;
  let waiting = 0;
  for (let id = 0; id < tr.count; id++) {
    const a = tr.arrivalStep[id]!;
    if (a < 0) continue;
    const dur = (a - tr.departStep[id]!) * dt;
    n++;
    duration += dur;
    routeLength += tr.routeLength[id]!;
    if (dur > 0) speed += tr.routeLength[id]! / dur;
    timeLoss += tr.timeLoss[id]!;
    waiting += tr.waitSteps[id]! * dt;
  }
  const mean = (x: number) => (n > 0 ? x / n : 0);
  // vehicles whose departure time has come (SUMO loads ahead; we count what could have departed)
  const endStep = e.step;
  let loaded = e.nextDeparture;
  while (loaded < e.demand.count && e.demand.departStep[loaded]! <= endStep) loaded++;
  return {
    loaded,
    inserted: e.inserted,
    running: e.running,
    waiting: e.pendingCount,
    arrived: e.arrived,
    teleports: e.teleports,
    meanDuration: mean(duration),
    meanRouteLength: mean(routeLength),
    meanSpeed: mean(speed),
    meanTimeLoss: mean(timeLoss),
    meanWaitingTime: mean(waiting),
    steps: e.step,
    simSeconds: e.step * dt,
    wallSeconds,
    vehicleUpdates: e.vehicleUpdates,
    ups: stepSeconds > 0 ? e.vehicleUpdates / stepSeconds : 0,
    stateHash: stateHash(e),
  };
}
