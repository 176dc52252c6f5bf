/**
 * Reads and checks the JSON document (network part here, demand part in trips.ts) before any geometry
 * is derived: types, ranges, unknown fields, unique ids and references.
 */
import type { VTypeSpec } from '../spec.js';
import {
  DEFAULT_VTYPE,
  DEFAULTS,
  FIELDS,
  NODE_TYPES,
  type EdgeDoc,
  type NodeDoc,
  type RouteRef,
  type ScenarioDoc,
  type TrafficLightDoc,
  type VehicleDoc,
} from './format.js';
import { childPath } from './json.js';
import { readEdgeList, readFlow, readTrip, readVType, type TripContext } from './trips.js';
import { checkNum, IdSet, Obj, readObjects, type Checker } from './validate.js';

export function readDocument(ck: Checker, value: unknown): ScenarioDoc {
  const root = Obj.read(ck, value, '', FIELDS.root);
  root.optStr('$schema');
  root.optStr('description');
  const time = root.optObj('time', FIELDS.time);
  const begin = time?.optNum('begin', { min: 0 }) ?? 0;
  const end = time?.optNum('end', { gt: begin });
  const stepLength = time?.optNum('stepLength', { gt: 0 }) ?? DEFAULTS.stepLength;
  const timeToTeleport = time?.optNum('timeToTeleport') ?? DEFAULTS.timeToTeleport;
  const seed = root.optNum('seed', { int: true, min: 0 }) ?? DEFAULTS.seed;
  const uturns = root.optBool('uturns') ?? false;

  const nodes = new IdSet<NodeDoc>(ck, 'node');
  const nodeList = readObjects(root, 'nodes', FIELDS.node, (o) => readNode(o, uturns));
  if (nodeList.length === 0) root.fail('nodes', 'at least one node is needed');
  for (const n of nodeList) nodes.add(n.id, childPath(n.path, 'id'), n);

  const edges = new IdSet<EdgeDoc>(ck, 'edge');
  const edgeList = readObjects(root, 'edges', FIELDS.edge, (o) => readEdge(o, nodes)).flat();
  for (const e of edgeList) edges.add(e.id, e.path.endsWith('.reverse') ? e.path : childPath(e.path, 'id'), e);
  for (const n of nodeList) checkConnections(ck, n, edges);

  const tls = readObjects(root, 'trafficLights', FIELDS.trafficLight, (o) => readTrafficLight(o, nodes));
  const tlNodes = new IdSet<TrafficLightDoc>(ck, 'traffic light for node');
  for (const t of tls) tlNodes.add(t.node, childPath(t.path, 'node'), t);

  const vTypes = new IdSet<VTypeSpec>(ck, 'vType');
  const vTypeList = readObjects(root, 'vTypes', FIELDS.vType, (o) => {
    const t = readVType(o);
    vTypes.add(t.id, o.at('id'), t);
    return t;
  });
  if (!vTypes.get(DEFAULT_VTYPE.id)) {
    vTypeList.push({ ...DEFAULT_VTYPE });
    vTypes.add(DEFAULT_VTYPE.id, '', DEFAULT_VTYPE);
  }

  const routes = new IdSet<RouteRef>(ck, 'route');
  const routeList = readObjects(root, 'routes', FIELDS.route, (o) => {
    const r = { id: o.id('id'), ...readEdgeList(o, 'edges', edges) };
    routes.add(r.id, o.at('id'), r);
    return r;
  });

  // Vehicles and flows share one id space: flow vehicles are named `${flow}.${n}` among them.
  const vehicleIds = new IdSet<true>(ck, 'vehicle/flow');
  const ctx: TripContext = { edges, routes, vTypes };
  const vehicles = readObjects(root, 'vehicles', FIELDS.vehicle, (o) => {
    const v: VehicleDoc = { ...readTrip(o, ctx), depart: o.num('depart', { min: 0 }) };
    vehicleIds.add(v.id, o.at('id'), true);
    return v;
  });
  const flows = readObjects(root, 'flows', FIELDS.flow, (o) => {
    const f = readFlow(o, ctx, begin, end ?? DEFAULTS.flowEnd);
    vehicleIds.add(f.id, o.at('id'), true);
    return f;
  });

  const doc: ScenarioDoc = {
    begin,
    stepLength,
    timeToTeleport,
    seed,
    nodes: nodeList,
    edges: edgeList,
    trafficLights: tls,
    vTypes: vTypeList,
    routes: routeList,
    vehicles,
    flows,
  };
  const name = root.optStr('name');
  if (name !== undefined) doc.name = name;
  if (end !== undefined) doc.end = end;
  return doc;
}

function readNode(o: Obj, uturns: boolean): NodeDoc {
  const n: NodeDoc = {
    path: o.path,
    id: o.id('id'),
    x: o.num('x'),
    y: o.num('y'),
    uturns: o.optBool('uturns') ?? uturns,
  };
  const type = o.optEnum('type', NODE_TYPES);
  if (type) n.type = type;
  const radius = o.optNum('radius', { min: 0 });
  if (radius !== undefined) n.radius = radius;
  if (o.has('connections')) {
    n.connections = readObjects(o, 'connections', FIELDS.connection, (c) => ({
      path: c.path,
      from: c.id('from'),
      to: c.id('to'),
      fromLane: c.num('fromLane', { int: true, min: 0 }),
      toLane: c.num('toLane', { int: true, min: 0 }),
    }));
  }
  return n;
}

/** One edge, or two when `reverse` names an opposite edge with the same attributes. */
function readEdge(o: Obj, nodes: IdSet<NodeDoc>): EdgeDoc[] {
  const e: EdgeDoc = {
    path: o.path,
    id: o.id('id'),
    from: o.id('from'),
    to: o.id('to'),
    lanes: o.optNum('lanes', { int: true, min: 1 }) ?? DEFAULTS.lanes,
    speed: o.optNum('speed', { gt: 0 }) ?? DEFAULTS.speed,
    priority: o.optNum('priority') ?? DEFAULTS.priority,
    width: o.optNum('width', { gt: 0 }) ?? DEFAULTS.laneWidth,
  };
  nodes.ref(e.from, o.at('from'));
  nodes.ref(e.to, o.at('to'));
  if (e.from === e.to) o.fail('to', `an edge cannot start and end at the same node "${e.to}"`);
  const length = o.optNum('length', { gt: 0 });
  if (length !== undefined) e.length = length;
  const shape = o.optList('shape');
  if (shape) {
    if (shape.length < 2) o.fail('shape', 'needs at least 2 points');
    e.shape = shape.map((p, i) => {
      const path = childPath(o.at('shape'), i);
      const xy = Array.isArray(p) && p.length === 2 ? p : o.ck.fail(path, 'must be a point [x, y]');
      return { x: checkNum(o.ck, xy[0], childPath(path, 0)), y: checkNum(o.ck, xy[1], childPath(path, 1)) };
    });
  }
  const allow = o.optIds('allow');
  if (allow) e.allow = allow;
  const disallow = o.optIds('disallow');
  if (disallow) e.disallow = disallow;
  const reverse = o.optId('reverse');
  if (reverse === undefined) return [e];
  const back: EdgeDoc = { ...e, path: o.at('reverse'), id: reverse, from: e.to, to: e.from };
  if (e.shape) back.shape = [...e.shape].reverse();
  return [e, back];
}

function checkConnections(ck: Checker, n: NodeDoc, edges: IdSet<EdgeDoc>): void {
  if (n.connections && n.type === 'dead_end')
    ck.fail(childPath(n.path, 'connections'), 'a dead_end node has no connections');
  const seen = new Set<string>();
  for (const c of n.connections ?? []) {
    const from = edges.ref(c.from, childPath(c.path, 'from'));
    const to = edges.ref(c.to, childPath(c.path, 'to'));
    if (from.to !== n.id) ck.fail(childPath(c.path, 'from'), `edge "${c.from}" does not end at node "${n.id}"`);
    if (to.from !== n.id) ck.fail(childPath(c.path, 'to'), `edge "${c.to}" does not start at node "${n.id}"`);
    if (c.fromLane >= from.lanes)
      ck.fail(childPath(c.path, 'fromLane'), `edge "${c.from}" has only ${from.lanes} lane(s)`);
    if (c.toLane >= to.lanes) ck.fail(childPath(c.path, 'toLane'), `edge "${c.to}" has only ${to.lanes} lane(s)`);
    const key = `${c.from}_${c.fromLane}>${c.to}_${c.toLane}`;
    if (seen.has(key)) ck.fail(c.path, 'duplicate connection');
    seen.add(key);
  }
}

function readTrafficLight(o: Obj, nodes: IdSet<NodeDoc>): TrafficLightDoc {
  const t: TrafficLightDoc = {
    path: o.path,
    node: o.id('node'),
    programID: o.optStr('programID') ?? '0',
    offset: o.optNum('offset') ?? 0,
    green: o.optNum('green', { gt: 0 }) ?? DEFAULTS.green,
    yellow: o.optNum('yellow', { min: 0 }) ?? DEFAULTS.yellow,
  };
  const node = nodes.ref(t.node, o.at('node'));
  if (node.type !== 'traffic_light') o.fail('node', `node "${t.node}" is not of type "traffic_light"`);
  if (o.has('phases')) {
    if (o.has('green') || o.has('yellow'))
      o.fail(o.has('green') ? 'green' : 'yellow', 'only used to generate a program; not allowed with "phases"');
    t.phases = readObjects(o, 'phases', FIELDS.phase, (p) => {
      const state = p.str('state');
      if (!/^[GgyrsuoO]*$/.test(state))
        p.fail('state', `may only contain the signals G g y r s u o O, not ${JSON.stringify(state)}`);
      return { path: p.path, duration: p.num('duration', { gt: 0 }), state };
    });
    if (t.phases.length === 0) o.fail('phases', 'at least one phase is needed');
  }
  return t;
}
