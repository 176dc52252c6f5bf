/**
 * Derives the NetSpec from nodes and edges, as netconvert would for simple networks: edges are cut back
 * by a junction radius at each real junction, lanes are offset to the right of the edge axis, and every
 * node gets its links (junctions.ts) and, if signalised, its program (trafficlights.ts).
 */
import type { EdgeSpec, NetSpec } from '../spec.js';
import type { EdgeDoc, NodeDoc, ScenarioDoc } from './format.js';
import { cutPolyline, flatten, offsetPolyline, polylineLength, type Pt } from './geometry.js';
import { buildJunction } from './junctions.js';
import { buildTrafficLight } from './trafficlights.js';
import type { Checker } from './validate.js';

/** Smallest automatic junction radius, m: keeps turning paths from being shorter than a car. */
export const MIN_RADIUS = 4;

export interface BuiltEdge {
  doc: EdgeDoc;
  spec: EdgeSpec;
  /** full axis from node to node (for angles) */
  axis: Pt[];
  /** lane centre lines after cutting back at the junctions, index 0 = rightmost */
  lanes: Pt[][];
}

export interface BuiltNet {
  net: NetSpec;
  edges: Map<string, BuiltEdge>;
  /** edge id → ids of the edges some link leads to */
  successors: Map<string, Set<string>>;
}

/**
 * Automatic radius: 0 at a node with a single neighbour (the road simply ends there), otherwise the
 * width of the widest carriageway (lanes × lane width) — the half-width of a crossing road of twice
 * that — and at least MIN_RADIUS.
 */
function junctionRadii(doc: ScenarioDoc): Map<string, number> {
  const neighbours = new Map<string, Set<string>>(doc.nodes.map((n) => [n.id, new Set()]));
  const width = new Map<string, number>();
  for (const e of doc.edges) {
    neighbours.get(e.from)!.add(e.to);
    neighbours.get(e.to)!.add(e.from);
    for (const n of [e.from, e.to]) width.set(n, Math.max(width.get(n) ?? 0, e.lanes * e.width));
  }
  return new Map(
    doc.nodes.map((n) => [
      n.id,
      n.radius ?? (neighbours.get(n.id)!.size <= 1 ? 0 : Math.max(MIN_RADIUS, width.get(n.id) ?? 0)),
    ]),
  );
}

function buildEdge(ck: Checker, e: EdgeDoc, nodes: Map<string, NodeDoc>, radii: Map<string, number>): BuiltEdge {
  const from = nodes.get(e.from)!;
  const to = nodes.get(e.to)!;
  const axis = e.shape ?? [
    { x: from.x, y: from.y },
    { x: to.x, y: to.y },
  ];
  const full = polylineLength(axis);
  const r0 = radii.get(e.from)!;
  const r1 = radii.get(e.to)!;
  if (full - r0 - r1 < 1) {
    ck.fail(
      e.path,
      `edge "${e.id}" is ${full.toFixed(1)} m long, too short for its junctions (radius ${r0.toFixed(1)} m at "${e.from}", ${r1.toFixed(1)} m at "${e.to}"); move the nodes apart or set a smaller node "radius"`,
    );
  }
  const trimmed = cutPolyline(axis, r0, full - r1);
  const length = e.length ?? full - r0 - r1;
  // Lanes lie right of the axis (the axis is the centre line of a two-way road); lane 0 is the
  // rightmost, i.e. the farthest from the axis, the leftmost lane runs next to it.
  const lanes = Array.from({ length: e.lanes }, (_, i) => offsetPolyline(trimmed, (e.lanes - i - 0.5) * e.width));
  const spec: EdgeSpec = {
    id: e.id,
    from: e.from,
    to: e.to,
    priority: e.priority,
    lanes: lanes.map((pts, index) => ({
      id: `${e.id}_${index}`,
      index,
      length,
      speed: e.speed,
      shape: flatten(pts),
      ...(e.allow ? { allow: [...e.allow] } : {}),
      ...(e.disallow ? { disallow: [...e.disallow] } : {}),
    })),
  };
  return { doc: e, spec, axis, lanes };
}

export function buildNetwork(ck: Checker, doc: ScenarioDoc, source: string): BuiltNet {
  const nodes = new Map(doc.nodes.map((n) => [n.id, n]));
  const radii = junctionRadii(doc);
  const edges = new Map(doc.edges.map((e) => [e.id, buildEdge(ck, e, nodes, radii)]));
  const tlDocs = new Map(doc.trafficLights.map((t) => [t.node, t]));
  const net: NetSpec = {
    source,
    edges: [...edges.values()].map((e) => e.spec),
    junctions: [],
    links: [],
    tlLogics: [],
  };
  const successors = new Map<string, Set<string>>([...edges.keys()].map((id) => [id, new Set()]));

  const built = [...edges.values()];
  for (const node of doc.nodes) {
    const incoming = built.filter((e) => e.doc.to === node.id);
    const outgoing = built.filter((e) => e.doc.from === node.id);
    const j = buildJunction(node, incoming, outgoing);
    // Programs are built after the links: a signal state has one character per link.
    if (node.type === 'traffic_light') net.tlLogics.push(buildTrafficLight(ck, node, tlDocs.get(node.id), j));
    net.junctions.push(j.junction);
    net.links.push(...j.links);
    for (const k of j.info) successors.get(k.from.doc.id)!.add(k.to.doc.id);
  }
  return { net, edges, successors };
}
