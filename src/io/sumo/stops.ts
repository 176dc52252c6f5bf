/**
 * SUMO stopping places (`<busStop>` and its kin, from additional files) and `<stop>` elements of
 * vehicles, flows and routes → StopSpec, with positions resolved on the lane as SUMO 1.15 does.
 */
import type { NetSpec, StopSpec } from '../spec.js';
import type { XmlElement } from '../xml.js';
import { fail, optNum, reqStr } from './attrs.js';

/** Elements of additional files that define a stopping place, and the `<stop>` attribute naming each. */
export const STOPPING_PLACES = ['busStop', 'trainStop', 'containerStop', 'chargingStation', 'parkingArea'] as const;

export interface StoppingPlace {
  id: string;
  kind: (typeof STOPPING_PLACES)[number];
  lane: string;
  startPos: number;
  endPos: number;
}

/** Lane lengths and the edges' lanes, for resolving positions. */
export class LaneIndex {
  readonly laneLength = new Map<string, number>();
  readonly edgeLanes = new Map<string, string[]>();
  constructor(net: NetSpec) {
    for (const e of net.edges) {
      this.edgeLanes.set(
        e.id,
        e.lanes.map((l) => l.id),
      );
      for (const l of e.lanes) this.laneLength.set(l.id, l.length);
    }
  }
}

/** A position attribute: negative counts from the lane's end (SUMO); outside the lane is an error unless friendlyPos. */
function position(file: string, el: XmlElement, attr: string, dflt: number, length: number, friendly: boolean): number {
  let p = optNum(file, el, attr) ?? dflt;
  if (p < 0) p += length;
  if (p < 0 || p > length + 1e-6) {
    if (!friendly)
      throw fail(
        file,
        el,
        `${attr} ${el.attrs[attr]} is outside the lane (length ${length} m); give friendlyPos="true" to move it onto the lane`,
      );
    p = Math.min(Math.max(p, 0), length);
  }
  return p;
}

function friendlyPos(el: XmlElement): boolean {
  const v = el.attrs['friendlyPos'];
  return v === 'true' || v === '1';
}

export function readStoppingPlace(file: string, el: XmlElement, lanes: LaneIndex): StoppingPlace {
  const id = reqStr(file, el, 'id');
  const lane = reqStr(file, el, 'lane');
  const length = lanes.laneLength.get(lane);
  if (length === undefined) throw fail(file, el, `lane "${lane}" is not in the net`);
  const friendly = friendlyPos(el);
  const startPos = position(file, el, 'startPos', 0, length, friendly);
  const endPos = position(file, el, 'endPos', length, length, friendly);
  if (startPos > endPos) throw fail(file, el, `startPos (${startPos}) is after endPos (${endPos})`);
  return { id, kind: el.name as StoppingPlace['kind'], lane, startPos, endPos };
}

/** What a `<stop>` says that we do not model: one warning per kind (the caller dedups). */
export interface StopNotes {
  /** kind → first "file:line" */
  unmodelled: Map<string, string>;
}

/**
 * One `<stop>`: its lane and positions, duration and until. Returns a reason string instead when
 * the stop is left out (a waypoint, a stop that waits for a person), or undefined when the lane is
 * not in the net (the caller skips the vehicle with a warning, as for a route through an unknown edge).
 */
export function readStop(
  file: string,
  el: XmlElement,
  lanes: LaneIndex,
  places: Map<string, StoppingPlace>,
  note: (kind: string) => void,
): StopSpec | { skip: string } {
  const where = `${file}:${el.line ?? '?'}`;
  let lane: string | undefined;
  let startPos: number;
  let endPos: number;
  let placeId: string | undefined;
  const placeAttr = STOPPING_PLACES.find((k) => el.attrs[k] !== undefined);
  if (placeAttr !== undefined) {
    placeId = el.attrs[placeAttr]!;
    const place = places.get(placeId);
    if (place === undefined || place.kind !== placeAttr) throw fail(file, el, `unknown ${placeAttr} "${placeId}"`);
    if (placeAttr === 'parkingArea')
      note('stops at a parkingArea (the vehicle stays on its lane; SUMO parks it off the road)');
    lane = place.lane;
    startPos = place.startPos;
    endPos = place.endPos;
  } else {
    const edge = el.attrs['edge'];
    lane = el.attrs['lane'];
    if (lane === undefined && edge !== undefined) {
      const edgeLanes = lanes.edgeLanes.get(edge);
      if (edgeLanes === undefined) return { skip: `stop on edge "${edge}", which is not in the net` };
      lane = edgeLanes[0]!;
    }
    if (lane === undefined)
      throw fail(
        file,
        el,
        'needs a lane, an edge or a stopping place (busStop, trainStop, containerStop, chargingStation, parkingArea)',
      );
    const length = lanes.laneLength.get(lane);
    if (length === undefined) return { skip: `stop on lane "${lane}", which is not in the net` };
    const friendly = friendlyPos(el);
    endPos = position(file, el, 'endPos', length, length, friendly);
    startPos = position(file, el, 'startPos', Math.max(0, endPos - 0.2), length, friendly);
    if (startPos > endPos) throw fail(file, el, `startPos (${startPos}) is after endPos (${endPos})`);
  }
  const duration = optNum(file, el, 'duration');
  const until = optNum(file, el, 'until');
  if (duration !== undefined && duration < 0) throw fail(file, el, `duration must be >= 0, got ${duration}`);
  if (el.attrs['speed'] !== undefined) {
    note('waypoints (<stop speed=...>)');
    return { skip: 'waypoint' };
  }
  const triggered = el.attrs['triggered'];
  if (
    (triggered !== undefined && triggered !== 'false' && triggered !== '0') ||
    el.attrs['containerTriggered'] === 'true' ||
    el.attrs['expected'] !== undefined
  ) {
    note('triggered stops (they wait for persons or containers; we keep only their duration/until)');
  }
  if (duration === undefined && until === undefined) {
    // SUMO: such a stop is triggered and waits for a person that never comes
    note('stops without duration or until (SUMO waits for a person there)');
    return { skip: 'no duration or until' };
  }
  if (el.attrs['parking'] === 'true' || el.attrs['parking'] === '1')
    note('parking stops (the vehicle stays on its lane; SUMO takes it off the road)');
  for (const a of ['extension', 'jump', 'split', 'join', 'index', 'started', 'ended'])
    if (el.attrs[a] !== undefined) note(`stop attribute ${a}`);
  const stop: StopSpec = { lane, startPos, endPos, where };
  if (duration !== undefined) stop.duration = duration;
  if (until !== undefined) stop.until = until;
  if (placeId !== undefined) stop.busStop = placeId;
  return stop;
}
