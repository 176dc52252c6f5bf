/**
 * Partial network simulation (R2): simulate only a sub-network. The region is a list of edges or a
 * bounding box (an edge is inside when both its junctions are). The network keeps the region's edges,
 * their junctions and the links among them; each vehicle keeps the first stretch of its route inside
 * the region, enters at the start of its first in-region edge when it would have got there driving
 * freely (SUMO's cutRoutes does the same), and leaves at the region's border.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { FlowSpec, ScenarioSpec, StopSpec, VehicleSpec } from '../io/spec.js';
import { InputError, UsageError } from '../errors.js';

export type RegionSpec =
  { kind: 'edges'; edges: string[]; source: string } | { kind: 'bbox'; x1: number; y1: number; x2: number; y2: number };

/**
 * Parses `--region`: four numbers "x1,y1,x2,y2" (a bounding box, m), a file of edge ids (one per
 * line or separated by spaces or commas; # comments), or edge ids separated by commas.
 */
export function parseRegion(value: string): RegionSpec {
  const nums = value.split(',').map((x) => x.trim());
  if (nums.length === 4 && nums.every((x) => x !== '' && Number.isFinite(Number(x)))) {
    const [x1, y1, x2, y2] = nums.map(Number) as [number, number, number, number];
    return { kind: 'bbox', x1: Math.min(x1, x2), y1: Math.min(y1, y2), x2: Math.max(x1, x2), y2: Math.max(y1, y2) };
  }
  if (existsSync(value)) {
    const edges = readFileSync(value, 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, ''))
      .flatMap((l) => l.split(/[\s,]+/))
      .filter((x) => x !== '');
    if (edges.length === 0) throw new InputError(value, 'the region file lists no edges');
    return { kind: 'edges', edges, source: value };
  }
  const edges = value
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (edges.length === 0)
    throw new UsageError('--region: give edge ids, a file of edge ids, or a bounding box x1,y1,x2,y2');
  return { kind: 'edges', edges, source: '--region' };
}

/** The scenario restricted to `region`. */
export function applyRegion(spec: ScenarioSpec, region: RegionSpec): ScenarioSpec {
  const net = spec.net;
  const junctionPos = new Map(net.junctions.map((j) => [j.id, j]));
  const edgeIds = new Set(net.edges.map((e) => e.id));
  let inside: Set<string>;
  if (region.kind === 'edges') {
    for (const id of region.edges) {
      if (!edgeIds.has(id)) {
        if (region.source === '--region') throw new UsageError(`--region: unknown edge "${id}"`);
        throw new InputError(region.source, `unknown edge "${id}"`);
      }
    }
    inside = new Set(region.edges);
  } else {
    const within = (id: string) => {
      const j = junctionPos.get(id);
      return j !== undefined && j.x >= region.x1 && j.x <= region.x2 && j.y >= region.y1 && j.y <= region.y2;
    };
    inside = new Set(net.edges.filter((e) => within(e.from) && within(e.to)).map((e) => e.id));
  }
  if (inside.size === 0) throw new UsageError('--region: no edge of the network lies in the region');

  const edges = net.edges.filter((e) => inside.has(e.id));
  const lanes = new Set(edges.flatMap((e) => e.lanes.map((l) => l.id)));
  const junctionIds = new Set(edges.flatMap((e) => [e.from, e.to]));
  const links = net.links.filter((l) => lanes.has(l.fromLane) && lanes.has(l.toLane));
  const junctions = net.junctions.filter((j) => junctionIds.has(j.id));
  const tlIds = new Set(links.flatMap((l) => (l.tl ? [l.tl.id] : [])));
  const tlLogics = net.tlLogics.filter((t) => tlIds.has(t.id));

  // free-flow time to drive each edge, to shift departures to the region's entry
  const freeTime = new Map(
    net.edges.map((e) => [e.id, (e.lanes[0]?.length ?? 0) / Math.max(0.1, Math.max(...e.lanes.map((l) => l.speed)))]),
  );
  const cut = (route: string[] | undefined): { route: string[]; delay: number } | undefined => {
    if (!route) return undefined;
    const first = route.findIndex((e) => inside.has(e));
    if (first < 0) return undefined;
    let last = first;
    while (last + 1 < route.length && inside.has(route[last + 1]!)) last++;
    let delay = 0;
    for (let i = 0; i < first; i++) delay += freeTime.get(route[i]!) ?? 0;
    return { route: route.slice(first, last + 1), delay };
  };

  const vehicles: VehicleSpec[] = [];
  const warnings = [...spec.demand.warnings];
  let trips = 0;
  // stops on the cut route's edges stay; arrival lane and speed only where the route still ends
  const laneEdge = new Map<string, string>();
  for (const e of spec.net.edges) for (const l of e.lanes) laneEdge.set(l.id, e.id);
  const keepStops = (stops: StopSpec[] | undefined, route: string[]): { stops?: StopSpec[] } => {
    const kept = stops?.filter((st) => route.includes(laneEdge.get(st.lane) ?? ''));
    return kept && kept.length > 0 ? { stops: kept } : {};
  };
  for (const v of spec.demand.vehicles) {
    if (!v.route) {
      trips++;
      continue;
    }
    const c = cut(v.route);
    if (!c) continue;
    // a vehicle cut into the middle of its route enters at the start of the region's first edge
    const entered = c.delay > 0 || c.route[0] !== v.route[0];
    const { stops: _stops, arrivalLane: _lane, arrivalSpeed: _speed, ...rest } = v;
    const ends = c.route[c.route.length - 1] === v.route[v.route.length - 1];
    vehicles.push({
      ...rest,
      depart: v.depart + c.delay,
      route: c.route,
      ...keepStops(v.stops, c.route),
      ...(entered ? { departPos: { kind: 'base' as const }, departLane: { kind: 'best' as const } } : {}),
      ...(ends
        ? {
            ...(v.arrivalLane ? { arrivalLane: v.arrivalLane } : {}),
            ...(v.arrivalSpeed ? { arrivalSpeed: v.arrivalSpeed } : {}),
          }
        : { arrivalPos: { kind: 'max' as const } }),
    });
  }
  const flows: FlowSpec[] = [];
  for (const f of spec.demand.flows) {
    if (!f.route) {
      trips++;
      continue;
    }
    const c = cut(f.route);
    if (!c) continue;
    const { stops: _stops, ...rest } = f;
    flows.push({
      ...rest,
      begin: f.begin + c.delay,
      end: f.end + c.delay,
      route: c.route,
      ...keepStops(f.stops, c.route),
    });
  }
  if (trips > 0)
    warnings.push(
      `--region: ${trips} trip(s) or vehicle(s) without one fixed route (from/to, a routeDistribution) were left out (route them first, e.g. with duarouter)`,
    );
  vehicles.sort((a, b) => a.depart - b.depart);
  return {
    ...spec,
    net: { ...net, edges, junctions, links, tlLogics },
    demand: { ...spec.demand, vehicles, flows, warnings },
  };
}
