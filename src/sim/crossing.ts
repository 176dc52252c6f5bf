/**
 * Where two paths through a junction cross, from their shapes (built once with the Network, never in
 * a step). SUMO (MSLink::setRequestInformation, myLengthsBehindCrossing) places the crossing point
 * of an internal lane and a foe's internal lane where their shapes intersect, and ignores a foe
 * vehicle whose back has passed it by the width of the crossing lane (MSLink::getLeaderInfo).
 */

/** SUMO's default lane width (netconvert writes `width` only when a lane differs from it), m. */
export const DEFAULT_LANE_WIDTH = 3.2;

/**
 * The furthest distance along `foe` (flat x,y pairs) at which `path` crosses it, in lengths of the
 * foe's shape; -1 when the two shapes do not cross. SUMO takes the last crossing
 * (PositionVector::intersectsAtLengths2D, sorted, back()).
 */
export function lastCrossingAlong(foe: ArrayLike<number>, path: ArrayLike<number>): number {
  let best = -1;
  let along = 0;
  for (let i = 0; i + 3 < foe.length; i += 2) {
    const ax = foe[i]!;
    const ay = foe[i + 1]!;
    const dx = foe[i + 2]! - ax;
    const dy = foe[i + 3]! - ay;
    const segLength = Math.hypot(dx, dy);
    for (let j = 0; j + 3 < path.length; j += 2) {
      const bx = path[j]!;
      const by = path[j + 1]!;
      const ex = path[j + 2]! - bx;
      const ey = path[j + 3]! - by;
      const denom = dx * ey - dy * ex;
      if (Math.abs(denom) < 1e-12) continue; // parallel: no single crossing point
      const t = ((bx - ax) * ey - (by - ay) * ex) / denom;
      const u = ((bx - ax) * dy - (by - ay) * dx) / denom;
      if (t < 0 || t > 1 || u < 0 || u > 1) continue;
      const at = along + t * segLength;
      if (at > best) best = at;
    }
    along += segLength;
  }
  return best;
}

/** Length of a shape (flat x,y pairs). */
export function shapeLength(shape: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i + 3 < shape.length; i += 2)
    sum += Math.hypot(shape[i + 2]! - shape[i]!, shape[i + 3]! - shape[i + 1]!);
  return sum;
}

/**
 * The position on the foe's lane (of `foeLength` m along `foeShape`) past which the back of a foe
 * vehicle has cleared a path of width `width` crossing it along `path`; -Infinity when the shapes do
 * not cross (SUMO then ignores the foe's vehicles on the junction: a crossing at -10000 m, which
 * every vehicle has passed; opposite left turns are foes that pass in front of each other). SUMO:
 * the crossing lies the half width before the intersection (MSLink::setRequestInformation), and a
 * foe is past it once its back is a further width beyond (MSLink::getLeaderInfo, foeCrossingWidth).
 */
export function foeClearPosition(
  foeShape: ArrayLike<number>,
  foeLength: number,
  path: ArrayLike<number>,
  width: number,
): number {
  const at = lastCrossingAlong(foeShape, path);
  if (at < 0) return -Infinity;
  const geomLength = shapeLength(foeShape);
  const scale = geomLength > 0 ? foeLength / geomLength : 1;
  const before = Math.max(0, at - width / 2);
  return before * scale + width;
}
