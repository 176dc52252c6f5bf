/**
 * Demand: checks what needs the built network (consecutive route edges must be linked, a trip's
 * destination must be reachable, an explicit departLane must exist) and emits the DemandSpec.
 *
 * A route through an unknown or unconnected edge is an error, not a skipped vehicle: in a hand-written
 * file it is a typo the author wants to hear about (so `demand.warnings` stays empty).
 */
import type { DemandSpec, FlowSpec, VehicleSpec } from '../spec.js';
import type { FlowDoc, RouteRef, ScenarioDoc, TripDoc, VehicleDoc } from './format.js';
import { childPath } from './json.js';
import type { BuiltNet } from './network.js';
import type { Checker } from './validate.js';

function checkRoute(ck: Checker, net: BuiltNet, r: RouteRef): void {
  for (let i = 1; i < r.edges.length; i++) {
    const a = r.edges[i - 1]!;
    const b = r.edges[i]!;
    if (!net.successors.get(a)?.has(b)) ck.fail(childPath(r.path, i), `no connection from edge "${a}" to edge "${b}"`);
  }
}

/** Breadth-first search along links: can `to` be reached from `from`? */
function reachable(net: BuiltNet, from: string, to: string): boolean {
  const seen = new Set([from]);
  const queue = [from];
  for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
    if (e === to) return true;
    for (const n of net.successors.get(e) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return false;
}

/** The parts shared by VehicleSpec and FlowSpec, after the network checks. */
function trip(ck: Checker, net: BuiltNet, t: TripDoc): Omit<VehicleSpec, 'depart'> {
  const out: Omit<VehicleSpec, 'depart'> = {
    id: t.id,
    type: t.type,
    departLane: t.departLane,
    departSpeed: t.departSpeed,
    departPos: t.departPos,
    arrivalPos: t.arrivalPos,
  };
  let first: string;
  if (t.route) {
    checkRoute(ck, net, t.route);
    out.route = [...t.route.edges];
    first = t.route.edges[0]!;
  } else {
    const stops = [t.from!, ...(t.via ?? []), t.to!];
    for (let i = 1; i < stops.length; i++) {
      if (!reachable(net, stops[i - 1]!, stops[i]!)) {
        const key = i === stops.length - 1 ? 'to' : childPath('via', i - 1);
        ck.fail(childPath(t.path, key), `edge "${stops[i]}" cannot be reached from edge "${stops[i - 1]}"`);
      }
    }
    out.from = t.from!;
    out.to = t.to!;
    if (t.via) out.via = [...t.via];
    first = t.from!;
  }
  const lanes = net.edges.get(first)!.doc.lanes;
  if (t.departLane.kind === 'index' && t.departLane.index >= lanes) {
    ck.fail(childPath(t.path, 'departLane'), `edge "${first}" has only ${lanes} lane(s)`);
  }
  return out;
}

export function buildDemand(ck: Checker, doc: ScenarioDoc, net: BuiltNet, source: string): DemandSpec {
  for (const r of doc.routes) checkRoute(ck, net, r);
  const vehicles = doc.vehicles.map((v: VehicleDoc): VehicleSpec => ({ ...trip(ck, net, v), depart: v.depart }));
  const flows = doc.flows.map((f: FlowDoc): FlowSpec => {
    const out: FlowSpec = { ...trip(ck, net, f), begin: f.begin, end: f.end };
    for (const k of ['period', 'vehsPerHour', 'probability', 'number'] as const) {
      const v = f[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  });
  return { source, vTypes: doc.vTypes.map((t) => ({ ...t })), vehicles, flows, warnings: [] };
}
