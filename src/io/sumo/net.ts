/**
 * SUMO .net.xml → NetSpec.
 *
 * What SUMO's format looks like and how it maps (checked against nets written by netgenerate 1.15):
 * - Edges with function="internal" (ids ":J_n") are the paths across junctions. They are not edges of
 *   the spec; their lanes are flattened into each link's via path. walkingarea/crossing edges are skipped.
 * - A `<connection from to fromLane toLane via>` from a normal edge is one link. Its via lane may itself
 *   have a connection with a further `via`: that is an internal junction (left turns and U-turns wait
 *   in the middle of the junction). The chain is followed to its end and summed into one via path.
 * - A junction's `<request index>` rows are indexed like SUMO's MSRightOfWayJunction::postloadInit:
 *   incoming lanes in `incLanes` order, and each lane's links in file order. `intLanes` lists one
 *   internal lane per request index — for a chained path the lane AFTER the internal junction (e.g.
 *   ":B1_20_0"), not the first via lane — so the index is the position of whichever lane of the chain
 *   appears in `intLanes`.
 * - response/foes bit strings have link 0 as the RIGHTMOST character.
 */
import { InputError } from '../../errors.js';
import type {
  EdgeSpec,
  JunctionSpec,
  LaneSpec,
  LinkDirection,
  LinkSpec,
  NetSpec,
  TlLogicSpec,
  TlPhaseSpec,
  TlType,
} from '../spec.js';
import { parseXmlFile, parseXmlString, type XmlElement } from '../xml.js';
import { fail, int, list, num, optNum, parseNumber, parseShape, reqStr } from './attrs.js';

export function loadSumoNet(path: string): NetSpec {
  return sumoNetFromXml(parseXmlFile(path), path);
}

/** For tests and for nets that do not live in a file; `fileName` is used in messages. */
export function parseSumoNet(text: string, fileName: string): NetSpec {
  return sumoNetFromXml(parseXmlString(text, fileName), fileName);
}

interface InternalLane {
  length: number;
  speed: number;
  shape: number[];
  /** SUMO writes a lane's width only when it is not the default */
  width?: number;
}

interface JunctionInfo {
  spec: JunctionSpec;
  /** request index → SUMO `cont` */
  cont: boolean[];
  /** lane id → position in incLanes / intLanes */
  incLanePos: Map<string, number>;
  intLanePos: Map<string, number>;
}

/** A link whose request index is known only once all of its junction's links are seen. */
interface PendingLink {
  link: LinkSpec;
  incPos: number;
  order: number;
}

type EdgeKind = 'normal' | 'internal' | 'other';

const DIRECTIONS: ReadonlySet<string> = new Set<LinkDirection>(['s', 'l', 'r', 't', 'L', 'R', 'invalid']);

export function sumoNetFromXml(root: XmlElement, file: string): NetSpec {
  if (root.name !== 'net')
    throw new InputError(file, `expected a SUMO network (<net>), found <${root.name}>`, root.line);

  const edgeEls: XmlElement[] = [];
  const junctionEls: XmlElement[] = [];
  const tlEls: XmlElement[] = [];
  const connectionEls: XmlElement[] = [];
  for (const el of root.children) {
    if (el.name === 'edge') edgeEls.push(el);
    else if (el.name === 'junction') junctionEls.push(el);
    else if (el.name === 'tlLogic') tlEls.push(el);
    else if (el.name === 'connection') connectionEls.push(el);
    // location, roundabout, type, param, ...: nothing the simulation needs
  }

  // --- edges and lanes
  const edges: EdgeSpec[] = [];
  const edgeKind = new Map<string, EdgeKind>();
  const edgeById = new Map<string, EdgeSpec>();
  const laneById = new Map<string, LaneSpec>();
  const internalLanes = new Map<string, InternalLane>();
  const edgeElement = new Map<EdgeSpec, XmlElement>(); // for messages about junction references
  for (const el of edgeEls) {
    const id = reqStr(file, el, 'id');
    if (edgeKind.has(id)) throw fail(file, el, 'duplicate edge id');
    const fn = el.attrs['function'] ?? 'normal';
    const kind: EdgeKind = fn === 'normal' ? 'normal' : fn === 'internal' ? 'internal' : 'other';
    edgeKind.set(id, kind);
    if (kind === 'other') continue;
    const lanes: LaneSpec[] = [];
    for (const laneEl of el.children) {
      if (laneEl.name !== 'lane') continue;
      const lane = readLane(file, laneEl);
      if (laneById.has(lane.id) || internalLanes.has(lane.id)) throw fail(file, laneEl, 'duplicate lane id');
      if (kind === 'internal') {
        const width = optNum(file, laneEl, 'width');
        internalLanes.set(lane.id, { length: lane.length, speed: lane.speed, shape: lane.shape, width });
      } else {
        laneById.set(lane.id, lane);
        lanes.push(lane);
      }
    }
    if (kind === 'internal') continue;
    lanes.sort((a, b) => a.index - b.index);
    lanes.forEach((lane, i) => {
      if (lane.index !== i) throw fail(file, el, `lane indices must be 0..${lanes.length - 1}, found ${lane.index}`);
    });
    if (lanes.length === 0) throw fail(file, el, 'edge has no lanes');
    const edge: EdgeSpec = {
      id,
      from: reqStr(file, el, 'from'),
      to: reqStr(file, el, 'to'),
      // netconvert always writes priority; -1 is its default for generated edges
      priority: int(file, el, 'priority', -1),
      lanes,
    };
    edges.push(edge);
    edgeById.set(id, edge);
    edgeElement.set(edge, el);
  }

  // --- traffic lights (before junctions/connections so links can be checked against them)
  const tlLogics: TlLogicSpec[] = [];
  const tlSize = new Map<string, number>();
  const warnings: string[] = [];
  const warned = new Set<string>();
  const warnOnce = (kind: string, el: XmlElement, text: string) => {
    if (warned.has(kind)) return;
    warned.add(kind);
    warnings.push(`${file}:${el.line}: ${text}`);
  };
  for (const el of tlEls) {
    tlLogics.push(readTlLogic(file, el, warnOnce));
    const tl = tlLogics[tlLogics.length - 1]!;
    // Several programs of one tl may exist; links must fit all of them.
    tlSize.set(tl.id, Math.min(tl.phases[0]!.state.length, tlSize.get(tl.id) ?? Infinity));
  }

  // --- junctions (internal junctions ":J_n_m" are skipped: their logic is implied by the via chains)
  const junctions: JunctionSpec[] = [];
  const junctionById = new Map<string, JunctionInfo>();
  for (const el of junctionEls) {
    const id = reqStr(file, el, 'id');
    const type = reqStr(file, el, 'type');
    if (type === 'internal') continue;
    if (junctionById.has(id)) throw fail(file, el, 'duplicate junction id');
    const info = readJunction(file, el, id, type);
    junctions.push(info.spec);
    junctionById.set(id, info);
  }
  for (const [edge, el] of edgeElement) {
    for (const end of [edge.from, edge.to]) {
      if (!junctionById.has(end)) throw fail(file, el, `unknown junction "${end}"`);
    }
  }

  // --- connections
  // Connections leaving internal lanes, keyed by the internal lane id: the next step of a via chain.
  const internalNext = new Map<string, XmlElement>();
  for (const el of connectionEls) {
    const from = reqStr(file, el, 'from');
    if (edgeKind.get(from) === 'internal') internalNext.set(`${from}_${int(file, el, 'fromLane')}`, el);
  }

  const links: LinkSpec[] = [];
  const pending = new Map<string, PendingLink[]>();
  let order = 0;
  for (const el of connectionEls) {
    const from = reqStr(file, el, 'from');
    const to = reqStr(file, el, 'to');
    const fromKind = edgeKind.get(from);
    const toKind = edgeKind.get(to);
    if (fromKind === undefined) throw connFail(file, el, `unknown edge "${from}"`);
    if (toKind === undefined) throw connFail(file, el, `unknown edge "${to}"`);
    // Internal steps are followed from their normal start; pedestrian paths are not simulated.
    if (fromKind !== 'normal' || toKind !== 'normal') continue;

    const fromLane = `${from}_${int(file, el, 'fromLane')}`;
    const toLane = `${to}_${int(file, el, 'toLane')}`;
    if (!laneById.has(fromLane)) throw connFail(file, el, `unknown lane "${fromLane}"`);
    const toLaneSpec = laneById.get(toLane);
    if (toLaneSpec === undefined) throw connFail(file, el, `unknown lane "${toLane}"`);

    const junctionId = edgeById.get(from)!.to;
    const junction = junctionById.get(junctionId)!;
    const dirAttr = el.attrs['dir'] ?? 's';
    if (!DIRECTIONS.has(dirAttr)) throw connFail(file, el, `unknown dir "${dirAttr}"`);

    const link: LinkSpec = {
      junction: junctionId,
      index: -1,
      fromLane,
      toLane,
      viaLength: 0,
      // no internal lane: vehicles cross in no distance; the target lane's limit is the natural bound
      viaSpeed: toLaneSpec.speed,
      viaShape: [],
      dir: dirAttr as LinkDirection,
      cont: false,
    };
    const connState = el.attrs['state'];
    if (connState === 's' || connState === 'w' || connState === '=' || connState === 'Z') link.state = connState;
    const tl = el.attrs['tl'];
    if (tl !== undefined) {
      const size = tlSize.get(tl);
      if (size === undefined) throw connFail(file, el, `unknown traffic light "${tl}"`);
      const linkIndex = int(file, el, 'linkIndex');
      if (linkIndex < 0 || linkIndex >= size) {
        throw connFail(file, el, `linkIndex ${linkIndex} is outside traffic light "${tl}" (${size} signals)`);
      }
      link.tl = { id: tl, linkIndex };
    }

    const via = el.attrs['via'];
    if (via !== undefined && via !== '') {
      const chain = followVia(file, el, via, toLane, internalLanes, internalNext);
      link.viaLength = chain.length;
      link.viaSpeed = chain.speed;
      link.viaShape = chain.shape;
      if (chain.width !== undefined && chain.width > 0) link.viaWidth = chain.width;
      if (chain.lanes.length > 1) link.contPos = chain.firstLength;
      const pos = chain.lanes.map((l) => junction.intLanePos.get(l)).find((p) => p !== undefined);
      if (pos === undefined) {
        throw connFail(
          file,
          el,
          `none of its internal lanes (${chain.lanes.join(' ')}) is in intLanes of junction "${junctionId}"`,
        );
      }
      link.index = pos;
    } else {
      // Net without internal lanes: the index is the link's rank in incLanes order, then file order.
      const incPos = junction.incLanePos.get(fromLane);
      if (incPos === undefined)
        throw connFail(file, el, `lane "${fromLane}" is not in incLanes of junction "${junctionId}"`);
      let list = pending.get(junctionId);
      if (list === undefined) pending.set(junctionId, (list = []));
      list.push({ link, incPos, order: order++ });
    }
    links.push(link);
  }
  for (const list of pending.values()) {
    list.sort((a, b) => a.incPos - b.incPos || a.order - b.order);
    list.forEach((p, i) => (p.link.index = i));
  }

  // Request rows: an index beyond them means the file's logic and connections disagree.
  for (const link of links) {
    const junction = junctionById.get(link.junction)!;
    const rows = junction.spec.yieldsTo.length;
    if (rows > 0 && link.index >= rows) {
      throw new InputError(
        file,
        `link ${link.fromLane} -> ${link.toLane} has request index ${link.index}, but junction "${link.junction}" has ${rows} requests`,
      );
    }
    link.cont = junction.cont[link.index] ?? false;
    if (!link.cont) delete link.contPos;
  }

  return { source: file, edges, junctions, links, tlLogics, ...(warnings.length > 0 ? { warnings } : {}) };
}

function connFail(file: string, el: XmlElement, detail: string): InputError {
  const a = el.attrs;
  const what = `<connection from="${a['from'] ?? ''}" to="${a['to'] ?? ''}" fromLane="${a['fromLane'] ?? ''}" toLane="${a['toLane'] ?? ''}">`;
  return new InputError(file, `${what}: ${detail}`, el.line);
}

function readLane(file: string, el: XmlElement): LaneSpec {
  const lane: LaneSpec = {
    id: reqStr(file, el, 'id'),
    index: int(file, el, 'index'),
    length: num(file, el, 'length'),
    speed: num(file, el, 'speed'),
    shape: parseShape(file, el, 'shape'),
  };
  if (!(lane.length >= 0)) throw fail(file, el, `length must be >= 0, got ${lane.length}`);
  if (!(lane.speed > 0)) throw fail(file, el, `speed must be > 0, got ${lane.speed}`);
  if (lane.shape.length < 4) throw fail(file, el, 'shape needs at least two points');
  // SUMO writes either allow or disallow (the shorter); absent means no restriction.
  if (el.attrs['allow'] !== undefined) lane.allow = list(el.attrs['allow']);
  if (el.attrs['disallow'] !== undefined) lane.disallow = list(el.attrs['disallow']);
  return lane;
}

function readJunction(file: string, el: XmlElement, id: string, type: string): JunctionInfo {
  const requests = el.children.filter((r) => r.name === 'request');
  const n = requests.length;
  const yieldsTo: number[][] = new Array<number[]>(n);
  const foes: number[][] = new Array<number[]>(n);
  const cont: boolean[] = new Array<boolean>(n).fill(false);
  for (const r of requests) {
    const index = int(file, r, 'index');
    if (index < 0 || index >= n) throw fail(file, r, `request index ${index} outside 0..${n - 1} in junction "${id}"`);
    if (yieldsTo[index] !== undefined) throw fail(file, r, `duplicate request index ${index} in junction "${id}"`);
    yieldsTo[index] = bits(file, r, 'response', n);
    foes[index] = bits(file, r, 'foes', n);
    cont[index] = r.attrs['cont'] === '1';
  }
  const positions = (attr: string): Map<string, number> => new Map(list(el.attrs[attr]).map((lane, i) => [lane, i]));
  return {
    spec: {
      id,
      type,
      x: num(file, el, 'x'),
      y: num(file, el, 'y'),
      shape: parseShape(file, el, 'shape'),
      yieldsTo,
      foes,
    },
    cont,
    incLanePos: positions('incLanes'),
    intLanePos: positions('intLanes'),
  };
}

/** SUMO bit string, link 0 = last character → ascending list of set link indices. */
function bits(file: string, el: XmlElement, name: string, n: number): number[] {
  const s = reqStr(file, el, name);
  if (s.length !== n) throw fail(file, el, `${name} has ${s.length} bits, expected ${n} (one per request)`);
  const out: number[] = [];
  for (let j = 0; j < n; j++) {
    const c = s.charCodeAt(n - 1 - j);
    if (c === 49 /* '1' */) out.push(j);
    else if (c !== 48 /* '0' */) throw fail(file, el, `${name}="${s}" must contain only 0 and 1`);
  }
  return out;
}

/** Follows a via chain across a junction, summing the internal lanes into one path. */
function followVia(
  file: string,
  conn: XmlElement,
  firstVia: string,
  toLane: string,
  internalLanes: Map<string, InternalLane>,
  internalNext: Map<string, XmlElement>,
): { length: number; speed: number; shape: number[]; lanes: string[]; firstLength: number; width?: number } {
  const lanes: string[] = [];
  let length = 0;
  let speed = Infinity;
  const shape: number[] = [];
  let via: string | undefined = firstVia;
  let end = '';
  while (via !== undefined) {
    // Real chains have one or two lanes; anything long is a cycle in a broken file.
    if (lanes.length > 16) throw connFail(file, conn, `via chain does not end (${lanes.slice(0, 4).join(' ')} ...)`);
    const lane = internalLanes.get(via);
    if (lane === undefined) throw connFail(file, conn, `unknown internal lane "${via}"`);
    lanes.push(via);
    length += lane.length;
    speed = Math.min(speed, lane.speed);
    appendShape(shape, lane.shape);
    const next = internalNext.get(via);
    if (next === undefined) throw connFail(file, conn, `internal lane "${via}" has no outgoing connection`);
    end = `${reqStr(file, next, 'to')}_${int(file, next, 'toLane')}`;
    const nextVia = next.attrs['via'];
    via = nextVia !== undefined && nextVia !== '' ? nextVia : undefined;
  }
  if (end !== toLane) throw connFail(file, conn, `via chain ${lanes.join(' ')} ends on "${end}", not on "${toLane}"`);
  const first = internalLanes.get(firstVia)!;
  return { length, speed, shape, lanes, firstLength: first.length, width: first.width };
}

/** Consecutive internal lanes share their joint point; keep it once. */
function appendShape(into: number[], part: number[]): void {
  let start = 0;
  const n = into.length;
  if (n >= 2 && part.length >= 2 && into[n - 2] === part[0] && into[n - 1] === part[1]) start = 2;
  for (let i = start; i < part.length; i++) into.push(part[i]!);
}

/** Parameters of actuated and delay_based programs whose values must be numbers (SUMO 1.15's names). */
const NUMERIC_PARAMS: ReadonlySet<string> = new Set([
  'max-gap',
  'passing-time',
  'detector-gap',
  'inactive-threshold',
  'jam-threshold',
  'detector-length',
  'freq',
  'detectorRange',
  'minTimeLoss',
]);
/** Parameters that change nothing we simulate (output files, drawing). */
const HARMLESS_PARAMS: ReadonlySet<string> = new Set([
  'show-detectors',
  'file',
  'freq',
  'show-conditions',
  'hide-conditions',
  'coordinated',
  'cycleTime',
  'extendMaxDur',
]);

/**
 * One `<tlLogic>`: its phases (with minDur/maxDur/next/name of actuated programs) and params. SUMO
 * 1.15's static, actuated and delay_based types run; any other type (NEMA, off, rail_signal, ...)
 * is warned once per kind and runs as static.
 */
function readTlLogic(
  file: string,
  el: XmlElement,
  warnOnce: (kind: string, el: XmlElement, text: string) => void,
): TlLogicSpec {
  const id = reqStr(file, el, 'id');
  const typeAttr = el.attrs['type'] ?? 'static';
  let type: TlType = 'static';
  if (typeAttr === 'actuated' || typeAttr === 'static') type = typeAttr;
  else
    warnOnce(
      `tltype:${typeAttr}`,
      el,
      `traffic light "${id}": type "${typeAttr}" is not modelled; it runs as a static (fixed-time) program`,
    );
  const params: Record<string, string> = {};
  let hasParams = false;
  for (const p of el.children) {
    if (p.name !== 'param') continue;
    const key = reqStr(file, p, 'key');
    const value = p.attrs['value'] ?? '';
    const base = key.startsWith('max-gap:') ? 'max-gap' : key;
    if (NUMERIC_PARAMS.has(base)) {
      const n = parseNumber(value);
      if (n === undefined || (base === 'passing-time' && !(n > 0)) || (base !== 'jam-threshold' && n < 0)) {
        throw fail(
          file,
          p,
          `param "${key}" of traffic light "${id}" must be a ${base === 'passing-time' ? 'positive' : 'non-negative'} number, got "${value}"`,
        );
      }
    } else if (!HARMLESS_PARAMS.has(key) && type !== 'static') {
      if (key.startsWith('linkMaxDur:') || key.startsWith('linkMinDur:'))
        warnOnce('tlparam:linkDur', p, `traffic light "${id}": param "${key}" is not modelled; ignored`);
      else if (value !== 'NO_DETECTOR')
        warnOnce(
          'tlparam:custom',
          p,
          `traffic light "${id}": param "${key}" (a custom detector or unknown setting) is not modelled; the default detector is used`,
        );
    }
    params[key] = value;
    hasParams = true;
  }
  const phases = el.children
    .filter((p) => p.name === 'phase')
    .map((p): TlPhaseSpec => {
      const duration = num(file, p, 'duration');
      if (!(duration > 0)) throw fail(file, p, `phase duration must be > 0, got ${duration}`);
      const state = reqStr(file, p, 'state');
      if (!/^[GgyrsuoO]+$/.test(state))
        throw fail(file, p, `phase state "${state}" has characters other than GgyrsuoO`);
      const phase: TlPhaseSpec = { duration, state };
      const minDur = optNum(file, p, 'minDur');
      const maxDur = optNum(file, p, 'maxDur');
      if (minDur !== undefined) {
        if (!(minDur >= 0)) throw fail(file, p, `minDur must be >= 0, got ${minDur}`);
        phase.minDur = minDur;
      }
      if (maxDur !== undefined) {
        if (!(maxDur > 0)) throw fail(file, p, `maxDur must be > 0, got ${maxDur}`);
        phase.maxDur = maxDur;
      }
      if ((minDur ?? duration) > (maxDur ?? duration))
        throw fail(file, p, `minDur ${minDur ?? duration} is greater than maxDur ${maxDur ?? duration}`);
      const next = p.attrs['next'];
      if (next !== undefined && next.trim() !== '') {
        phase.next = list(next).map((x) => {
          const n = parseNumber(x);
          if (n === undefined || !Number.isInteger(n) || n < 0)
            throw fail(file, p, `next="${next}" must list phase indices`);
          return n;
        });
        if (phase.next.length > 1 && type === 'actuated')
          warnOnce(
            'tlphase:multinext',
            p,
            `traffic light "${id}": a phase with several next phases (decideNextPhase) is not modelled; the first is taken`,
          );
      }
      if (p.attrs['name'] !== undefined) phase.name = p.attrs['name'];
      for (const a of ['earliestEnd', 'latestEnd', 'vehext', 'yellow', 'red', 'earlyTarget', 'finalTarget']) {
        if (p.attrs[a] !== undefined && type !== 'static')
          warnOnce(`tlphase:${a}`, p, `traffic light "${id}": phase attribute ${a} is not modelled; ignored`);
      }
      return phase;
    });
  if (phases.length === 0) throw fail(file, el, 'traffic light program has no phases');
  const size = phases[0]!.state.length;
  if (phases.some((p) => p.state.length !== size)) throw fail(file, el, 'phase states differ in length');
  phases.forEach((p) => {
    for (const n of p.next ?? [])
      if (n >= phases.length)
        throw fail(file, el, `a phase names next phase ${n}, but the program has phases 0..${phases.length - 1}`);
  });
  for (const c of el.children) {
    if (c.name === 'condition' || c.name === 'assignment' || c.name === 'function')
      warnOnce(
        'tl:conditions',
        c,
        `traffic light "${id}": <${c.name}> (custom switching rules) is not modelled; ignored`,
      );
  }
  const tl: TlLogicSpec = { id, programID: el.attrs['programID'] ?? '0', offset: num(file, el, 'offset', 0), phases };
  if (type !== 'static') tl.type = type;
  if (hasParams) tl.params = params;
  return tl;
}
