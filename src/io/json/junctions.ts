/**
 * Links (connections) at one node, their request indices, foes and right of way.
 *
 * Rules (documented in schema/README.md):
 * - Direction from the turn angle θ between the end of the incoming axis and the start of the outgoing
 *   one: 't' if the outgoing edge leads back where the incoming came from or |θ| > 160°; 'r'/'l' for
 *   |θ| > 45°; of the rest the one closest to straight ahead is 's', others 'R'/'L' (SUMO's "partly").
 * - U-turns are skipped unless the node (or the file) says `"uturns": true` or a U-turn is the only
 *   way on for that incoming edge (the end of a two-way road).
 * - Lanes (netconvert's default): right turns from the rightmost lane into the rightmost lane, left
 *   turns and U-turns from the leftmost into the leftmost, straight from every lane i into lane
 *   min(i, lanes-1). An edge with a single way on uses it from every lane, and lanes left without a
 *   link (no straight way) take the nearer of the right or left turn. A node's `connections` replace
 *   the automatic links of each incoming edge they mention.
 * - Request index: incoming edges clockwise by the bearing they come from (north first, ties by id),
 *   then from-lane (right to left), then to-edge from the sharpest right to the U-turn, then to-lane.
 * - Internal speed: min of both lane speeds, at most TURN_SPEED for 'l'/'r' and UTURN_SPEED for 't'.
 * - Foes: links that end in the same lane, or whose paths cross and that come from different edges
 *   (never two links from the same lane).
 * - Right of way between foes (yieldsTo): the link from the lower-priority edge yields; at equal
 *   priority U-turns yield to left turns, left to right, right to straight ('L' ranks as 'l', 'R' as
 *   'r'); then the link from the edge with the smaller id (plain string order) yields; then the one
 *   from the lower lane index. This is a strict total order on the links, so it is never cyclic.
 */
import type { JunctionSpec, LinkDirection, LinkSpec } from '../spec.js';
import type { ConnectionDoc, NodeDoc } from './format.js';
import {
  add,
  bearing,
  convexHull,
  endDir,
  flatten,
  polylineLength,
  polylinesCross,
  rightOf,
  scale,
  smoothConnection,
  startDir,
  turnAngle,
  type Pt,
} from './geometry.js';
import type { BuiltEdge } from './network.js';

/** m/s on the internal path of a left or right turn (about 29 km/h). */
export const TURN_SPEED = 8;
/** m/s on the internal path of a U-turn. */
export const UTURN_SPEED = 5;
/** Shortest internal path, m: a link always has some length to drive. */
export const MIN_VIA_LENGTH = 1;

const DEG = Math.PI / 180;

export interface LinkInfo {
  from: BuiltEdge;
  to: BuiltEdge;
  fromLane: number;
  toLane: number;
  dir: LinkDirection;
  path: Pt[];
}

export interface BuiltJunction {
  junction: JunctionSpec;
  /** in request-index order */
  links: LinkSpec[];
  info: LinkInfo[];
  /** incoming edges in the node's order */
  incoming: BuiltEdge[];
}

interface Target {
  to: BuiltEdge;
  dir: LinkDirection;
  /** turn angle, radians, positive = left */
  theta: number;
}

/** Directions from `from` into each outgoing edge. */
function classify(from: BuiltEdge, outgoing: readonly BuiltEdge[]): Target[] {
  const d0 = endDir(from.axis);
  const targets = outgoing.map((to): Target => {
    const theta = turnAngle(d0, startDir(to.axis));
    const back = to.doc.to === from.doc.from || Math.abs(theta) > 160 * DEG;
    const dir: LinkDirection = back ? 't' : Math.abs(theta) <= 45 * DEG ? 's' : theta > 0 ? 'l' : 'r';
    return { to, dir, theta };
  });
  const ahead = targets
    .filter((t) => t.dir === 's')
    .sort((a, b) => Math.abs(a.theta) - Math.abs(b.theta) || cmpStr(a.to.doc.id, b.to.doc.id));
  for (const t of ahead.slice(1)) t.dir = t.theta > 0 ? 'L' : 'R';
  return targets;
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isRight = (d: LinkDirection): boolean => d === 'r' || d === 'R';
const isLeft = (d: LinkDirection): boolean => d === 'l' || d === 'L' || d === 't';
/** Sort key from the sharpest right turn to the U-turn. */
const turnOrder = (t: Target): number => (t.dir === 't' ? 10 : t.theta);

type Lanes = [target: Target, fromLane: number, toLane: number];

function defaultLanes(from: BuiltEdge, targets: Target[]): Lanes[] {
  const n = from.doc.lanes;
  const alignRight = (t: Target, i: number): Lanes => [t, i, Math.min(i, t.to.doc.lanes - 1)];
  const alignLeft = (t: Target, i: number): Lanes => [t, i, Math.max(0, t.to.doc.lanes - n + i)];
  const all = Array.from({ length: n }, (_, i) => i);
  if (targets.length === 1) return all.map((i) => alignRight(targets[0]!, i));
  const out: Lanes[] = [];
  for (const t of targets) {
    if (t.dir === 's') out.push(...all.map((i) => alignRight(t, i)));
    else if (isRight(t.dir)) out.push(alignRight(t, 0));
    else out.push(alignLeft(t, n - 1));
  }
  // Lanes still without a way on (no straight target): the nearer turn.
  const right = targets.filter((t) => isRight(t.dir)).sort((a, b) => b.theta - a.theta)[0];
  const left = targets.filter((t) => isLeft(t.dir)).sort((a, b) => turnOrder(a) - turnOrder(b))[0];
  for (const i of all) {
    if (out.some(([, l]) => l === i)) continue;
    if (right && (i < n / 2 || !left)) out.push(alignRight(right, i));
    else if (left) out.push(alignLeft(left, i));
  }
  return out;
}

function explicitLanes(conns: ConnectionDoc[], targets: Target[]): Lanes[] {
  return conns.map((c) => [targets.find((t) => t.to.doc.id === c.to)!, c.fromLane, c.toLane]);
}

const DIR_RANK: Record<LinkDirection, number> = { t: 0, l: 1, L: 1, r: 2, R: 2, s: 3, invalid: -1 };

/** Negative if link a yields to link b (see the rules at the top). */
function rightOfWay(a: LinkInfo, b: LinkInfo): number {
  return (
    a.from.doc.priority - b.from.doc.priority ||
    DIR_RANK[a.dir] - DIR_RANK[b.dir] ||
    cmpStr(a.from.doc.id, b.from.doc.id) ||
    a.fromLane - b.fromLane
  );
}

function viaSpeed(from: BuiltEdge, to: BuiltEdge, dir: LinkDirection): number {
  const v = Math.min(from.doc.speed, to.doc.speed);
  return dir === 't' ? Math.min(v, UTURN_SPEED) : dir === 'l' || dir === 'r' ? Math.min(v, TURN_SPEED) : v;
}

/** The polygon around the stop lines and lane starts at the node. */
function junctionShape(node: NodeDoc, incoming: BuiltEdge[], outgoing: BuiltEdge[]): Pt[] {
  const corners: Pt[] = [];
  const addEnds = (p: Pt, dir: Pt, w: number): void => {
    const side = scale(rightOf(dir), w / 2);
    corners.push(add(p, side), add(p, scale(side, -1)));
  };
  for (const e of incoming) for (const l of e.lanes) addEnds(l[l.length - 1]!, endDir(l), e.doc.width);
  for (const e of outgoing) for (const l of e.lanes) addEnds(l[0]!, startDir(l), e.doc.width);
  // Rounded first, so that the hull does not keep points that are collinear but for float noise.
  const r = (v: number): number => Math.round(v * 100) / 100;
  return corners.length ? convexHull(corners.map((p) => ({ x: r(p.x), y: r(p.y) }))) : [{ x: node.x, y: node.y }];
}

export function buildJunction(node: NodeDoc, incomingEdges: BuiltEdge[], outgoing: BuiltEdge[]): BuiltJunction {
  const comesFrom = (e: BuiltEdge): number => bearing(scale(endDir(e.axis), -1));
  const incoming = [...incomingEdges].sort((a, b) => comesFrom(a) - comesFrom(b) || cmpStr(a.doc.id, b.doc.id));
  const info: LinkInfo[] = [];
  if (node.type !== 'dead_end') {
    for (const from of incoming) {
      const targets = classify(from, outgoing);
      const conns = node.connections?.filter((c) => c.from === from.doc.id) ?? [];
      let lanes: Lanes[];
      if (conns.length) lanes = explicitLanes(conns, targets);
      else {
        const noU = targets.filter((t) => t.dir !== 't');
        lanes = defaultLanes(from, node.uturns || noU.length === 0 ? targets : noU);
      }
      lanes.sort(([t1, f1, l1], [t2, f2, l2]) => f1 - f2 || turnOrder(t1) - turnOrder(t2) || l1 - l2);
      for (const [t, fromLane, toLane] of lanes) {
        const a = from.lanes[fromLane]!;
        const b = t.to.lanes[toLane]!;
        const path = smoothConnection(a[a.length - 1]!, endDir(a), b[0]!, startDir(b), t.dir === 't' ? 12 : 8);
        info.push({ from, to: t.to, fromLane, toLane, dir: t.dir, path });
      }
    }
  }

  const links = info.map((k, index): LinkSpec => ({
    junction: node.id,
    index,
    fromLane: `${k.from.doc.id}_${k.fromLane}`,
    toLane: `${k.to.doc.id}_${k.toLane}`,
    viaLength: Math.max(MIN_VIA_LENGTH, polylineLength(k.path)),
    viaSpeed: viaSpeed(k.from, k.to, k.dir),
    viaShape: flatten(k.path),
    dir: k.dir,
    cont: false,
  }));

  const foes: number[][] = info.map(() => []);
  const yieldsTo: number[][] = info.map(() => []);
  info.forEach((a, i) => {
    info.forEach((b, j) => {
      if (i === j || (a.from === b.from && a.fromLane === b.fromLane)) return;
      const merge = a.to === b.to && a.toLane === b.toLane;
      // Links from one edge only conflict where they merge: their paths may cross inside a tight
      // junction (right turn from lane 0 over lane 1's straight path), but drivers sort that out
      // on the approach, as in SUMO.
      if (!merge && (a.from === b.from || !polylinesCross(a.path, b.path))) return;
      foes[i]!.push(j);
      if (rightOfWay(a, b) < 0) yieldsTo[i]!.push(j);
    });
  });

  const junction: JunctionSpec = {
    id: node.id,
    type: node.type ?? (links.length === 0 ? 'dead_end' : 'priority'),
    x: node.x,
    y: node.y,
    shape: flatten(junctionShape(node, incoming, outgoing)),
    yieldsTo,
    foes,
  };
  return { junction, links, info, incoming };
}
