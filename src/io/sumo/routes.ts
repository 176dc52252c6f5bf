/**
 * SUMO route files (.rou.xml) and the demand in additional files (vTypes, routes, vehicles, flows,
 * stopping places) → DemandSpec.
 *
 * Errors in the file itself (bad numbers, unknown vType or route id, duplicate ids) are InputErrors.
 * A vehicle whose route does not fit the net (unknown edge, consecutive edges without a connection) is
 * skipped with a warning, as SUMO does with --ignore-route-errors, so one stale route does not stop a run.
 * What we do not model (detectors, rerouters, waypoints, ...) is one warning per kind, with file and line.
 */
import { InputError } from '../../errors.js';
import type {
  DemandSpec,
  NetSpec,
  RouteDistributionSpec,
  StopSpec,
  VehicleSpec,
  VTypeDistributionSpec,
  VTypeSpec,
} from '../spec.js';
import { parseXmlFile, parseXmlString, type XmlElement } from '../xml.js';
import { PASSENGER_DEFAULTS } from '../spec.js';
import { fail, list, optNum, parseNumber, reqStr } from './attrs.js';
import { departTime, readDepart, readFlowRate } from './depart.js';
import { LaneIndex, readStop, readStoppingPlace, STOPPING_PLACES, type StoppingPlace } from './stops.js';
import { SPEED_FACTOR_MAX, SPEED_FACTOR_MIN, vClassDefaults } from './vclass-defaults.js';

/** SUMO's implicit type for vehicles that name none. */
export const DEFAULT_VTYPE_ID = 'DEFAULT_VEHTYPE';

/** SUMO 1.15's default vType (DEFAULT_VEHTYPE): vClass passenger, Krauss with σ 0.5, speedDev 0.1, LC2013. */
export const SUMO_PASSENGER_DEFAULTS: Readonly<Omit<VTypeSpec, 'id'>> = (({ id: _id, ...rest }) => rest)(
  sumoVTypeDefaults(DEFAULT_VTYPE_ID, 'passenger'),
);

/**
 * Loads several route files against one net, in the given order (vehicles keep file order), after
 * the additional files (SUMO loads those first; they may hold vTypes, routes, stopping places).
 */
export function loadSumoRoutes(
  paths: string[],
  net: NetSpec,
  additional: string[] = [],
  opts: { sorted?: boolean; begin?: number } = {},
): DemandSpec {
  const sorted = opts.sorted ?? true;
  return sumoRoutesFromXml(
    [
      ...additional.map((path) => ({ file: path, root: parseXmlFile(path) })),
      ...paths.map((path) => ({ file: path, root: parseXmlFile(path), sorted })),
    ],
    net,
    opts.begin ?? 0,
  );
}

/** For tests and generated demand: route (or additional) files given as text. */
export function parseSumoRoutes(
  text: string,
  fileName: string,
  net: NetSpec,
  more: { text: string; file: string }[] = [],
): DemandSpec {
  return sumoRoutesFromXml(
    [
      ...more.map((m) => ({ file: m.file, root: parseXmlString(m.text, m.file) })),
      { file: fileName, root: parseXmlString(text, fileName) },
    ],
    net,
  );
}

/** What the importer knows about the net: edge ids and which edge follows which. */
class NetIndex {
  /** edge id → number of lanes */
  readonly edges = new Map<string, number>();
  /** edge id → its node: one string lookup per route edge, the successor test then by identity */
  private readonly nodes = new Map<string, { next: Set<object> }>();
  constructor(net: NetSpec) {
    const laneEdge = new Map<string, { next: Set<object> }>();
    for (const e of net.edges) {
      this.edges.set(e.id, e.lanes.length);
      const node = { next: new Set<object>() };
      this.nodes.set(e.id, node);
      for (const l of e.lanes) laneEdge.set(l.id, node);
    }
    for (const link of net.links) {
      const a = laneEdge.get(link.fromLane);
      const b = laneEdge.get(link.toLane);
      if (a !== undefined && b !== undefined) a.next.add(b);
    }
  }
  /** The first problem of a route: an edge not in the net, or (`connected`) two edges no link joins. */
  routeProblem(edges: string[], connected: boolean): string | undefined {
    let prev: { next: Set<object> } | undefined;
    for (let i = 0; i < edges.length; i++) {
      const node = this.nodes.get(edges[i]!);
      if (node === undefined) return `edge "${edges[i]}" is not in the net`;
      if (connected && prev !== undefined && !prev.next.has(node)) {
        // an unknown edge further on is named first, as before
        for (let j = i + 1; j < edges.length; j++)
          if (!this.nodes.has(edges[j]!)) return `edge "${edges[j]}" is not in the net`;
        return `edges "${edges[i - 1]}" and "${edges[i]}" are not connected`;
      }
      prev = node;
    }
    return undefined;
  }
}

/** One input file: a route file (`<routes>`) or an additional file (`<additional>`), in load order. */
interface DemandFile {
  file: string;
  root: XmlElement;
  /**
   * A route file SUMO reads in steps (its default --route-steps 200): a vehicle, trip or flow that
   * departs before one earlier in the file is ignored ("Route file should be sorted by departure time").
   */
  sorted?: boolean;
}

/** Elements of route and additional files that are read (the rest: one warning per kind and file). */
const READ = new Set([
  'vType',
  'vTypeDistribution',
  'route',
  'routeDistribution',
  'vehicle',
  'trip',
  'flow',
  ...STOPPING_PLACES,
]);
/** Elements that change nothing we simulate. */
const ELSEWHERE = new Set(['location', 'param']);

/** `begin`: the scenario's, where a flow without one begins (SUMO). */
function sumoRoutesFromXml(files: DemandFile[], net: NetSpec, begin = 0): DemandSpec {
  const index = new NetIndex(net);
  const lanes = new LaneIndex(net);
  const vTypes = new Map<string, VTypeSpec>();
  /** vType id → its probability attribute (for vTypeDistribution vTypes="...") */
  const vTypeProbability = new Map<string, number>();
  const vTypeDists = new Map<string, VTypeDistributionSpec>();
  const routes = new Map<string, NamedRoute>(); // top-level <route id> → edges and stops
  const routeDists = new Map<string, RouteDistributionSpec>();
  const places = new Map<string, StoppingPlace>();
  const demand: DemandSpec = {
    source: files.map((f) => f.file).join(','),
    vTypes: [],
    vehicles: [],
    flows: [],
    warnings: [],
  };
  const notes = new Notes(demand.warnings);

  // Pass 0: stopping places from every file (a stop may name one defined in a later file).
  for (const { file, root } of files) {
    if (root.name !== 'routes' && root.name !== 'additional') {
      throw new InputError(
        file,
        `expected SUMO routes (<routes>) or additional elements (<additional>), found <${root.name}>`,
        root.line,
      );
    }
    for (const el of root.children) {
      if (!(STOPPING_PLACES as readonly string[]).includes(el.name)) continue;
      const p = readStoppingPlace(file, el, lanes);
      if (places.has(p.id)) throw fail(file, el, `duplicate ${el.name} id`);
      places.set(p.id, p);
    }
  }
  const stopReader = (file: string) => (el: XmlElement) =>
    readStop(file, el, lanes, places, (kind) =>
      notes.once(kind, `${file}:${el.line ?? '?'}`, `${kind} are not modelled`),
    );

  const vTypeWarnings: VTypeWarnings = { warnings: demand.warnings, seen: new Set() };
  // Pass 1: definitions from every file, so a vehicle may use a route or type from an earlier file.
  for (const { file, root } of files) {
    for (const el of root.children) {
      if (el.name === 'vType') {
        // A file may define DEFAULT_VEHTYPE (the implicit type is only added at the end if none did).
        const t = readVType(file, el, vTypeWarnings);
        if (vTypes.has(t.id)) throw fail(file, el, 'duplicate vType id');
        vTypes.set(t.id, t);
        vTypeProbability.set(t.id, probabilityOf(file, el));
      } else if (el.name === 'vTypeDistribution') {
        const d = readVTypeDistribution(file, el, vTypes, vTypeProbability, vTypeWarnings, notes);
        if (vTypeDists.has(d.id) || vTypes.has(d.id)) throw fail(file, el, 'duplicate vType or vTypeDistribution id');
        vTypeDists.set(d.id, d);
      } else if (el.name === 'route') {
        const id = reqStr(file, el, 'id');
        if (routes.has(id) || routeDists.has(id)) throw fail(file, el, 'duplicate route id');
        routes.set(id, readNamedRoute(file, el, stopReader(file)));
      } else if (el.name === 'routeDistribution') {
        const id = reqStr(file, el, 'id');
        if (routes.has(id) || routeDists.has(id)) throw fail(file, el, 'duplicate route or routeDistribution id');
        routeDists.set(id, readRouteDistribution(file, el, id, routes, stopReader(file)));
      }
    }
  }

  // Pass 2: vehicles, trips and flows in file order.
  const ids = new Set<string>();
  let usesDefault = false;
  for (const { file, root, sorted } of files) {
    let lastDepart = -Infinity;
    const unsorted: string[] = [];
    for (const el of root.children) {
      if (el.name !== 'vehicle' && el.name !== 'trip' && el.name !== 'flow') {
        if (el.name === 'tlLogic' || el.name === 'WAUT') {
          notes.once(
            `<${el.name}>`,
            `${file}:${el.line ?? '?'}`,
            `<${el.name}> in a route or additional file is not read; the net's signal programs run (every one in ${file})`,
            file,
          );
        } else if (!READ.has(el.name) && !ELSEWHERE.has(el.name)) {
          notes.once(
            `<${el.name}>`,
            `${file}:${el.line ?? '?'}`,
            `<${el.name}> is not modelled; skipped (every one in ${file})`,
            file,
          );
        }
        continue;
      }
      const id = reqStr(file, el, 'id');
      if (ids.has(id)) throw fail(file, el, `duplicate ${el.name} id`);
      ids.add(id);

      const type = el.attrs['type'] ?? DEFAULT_VTYPE_ID;
      if (!vTypes.has(type) && !vTypeDists.has(type)) {
        if (type !== DEFAULT_VTYPE_ID) throw fail(file, el, `unknown vType "${type}"`);
        usesDefault = true;
      }
      // Everything in the element is checked first, so a bad number is reported even on a skipped vehicle.
      const readStopHere = stopReader(file);
      const path = readPath(file, el, routes, routeDists, readStopHere);
      const depart = readDepart(file, el);
      const departAt = el.name === 'flow' ? 0 : departTime(file, el);
      if (typeof departAt !== 'number') {
        notes.once(
          `depart=${departAt.trigger}`,
          `${file}:${el.line ?? '?'}`,
          `depart="${departAt.trigger}" (the vehicle waits for persons, containers or a split) is not modelled; such vehicles are left out (every one)`,
        );
        continue;
      }
      const timing = el.name === 'flow' ? readFlowRate(file, el, begin) : { depart: departAt };
      noteAttributes(file, el, notes);
      const own: StopSpec[] = [];
      let stopProblem: string | undefined;
      for (const c of el.children) {
        if (c.name !== 'stop') continue;
        const s = readStopHere(c);
        if ('skip' in s) {
          if (s.skip.startsWith('stop on')) stopProblem ??= s.skip;
          continue;
        }
        // a flow's stop until counts from each vehicle's departure relative to the flow's begin (SUMO)
        if ('begin' in timing && s.until !== undefined) s.untilFrom = timing.begin;
        own.push(s);
      }
      const departs = 'depart' in timing ? timing.depart : timing.begin;
      if (sorted && departs < lastDepart) {
        unsorted.push(`${id} (line ${el.line ?? '?'})`);
        continue;
      }
      lastDepart = departs;
      const problem = stopProblem ?? checkPath(path, index, routeDists);
      if (problem !== undefined) {
        demand.warnings.push(`${file}:${el.line ?? '?'}: ${el.name} "${id}" skipped: ${problem}`);
        continue;
      }
      const firstEdges =
        path.distribution !== undefined
          ? routeDists.get(path.distribution)!.routes.map((r) => r.edges[0]!)
          : [path.route?.[0] ?? path.from!];
      for (const firstEdge of firstEdges) {
        const nLanes = index.edges.get(firstEdge)!;
        if (depart.departLane.kind === 'index' && depart.departLane.index >= nLanes) {
          throw fail(
            file,
            el,
            `departLane ${depart.departLane.index} does not exist on edge "${firstEdge}" (${nLanes} lanes)`,
          );
        }
      }
      const stops = [...(path.stops ?? []), ...own];
      const placement = { ...depart, ...pathFields(path), ...(stops.length > 0 ? { stops } : {}) };
      if ('depart' in timing) demand.vehicles.push({ id, type, depart: timing.depart, ...placement });
      else demand.flows.push({ id, type, ...timing, ...placement });
    }
    if (unsorted.length > 0) {
      demand.warnings.push(
        `${file}: ${unsorted.length} vehicle(s)/flow(s) depart before one earlier in the file and were ignored, as SUMO 1.15 ignores them when it reads the file in steps ("Route file should be sorted by departure time"): ${unsorted.slice(0, 3).join(', ')}${unsorted.length > 3 ? ', ...' : ''}`,
      );
    }
  }

  if (usesDefault && !vTypes.has(DEFAULT_VTYPE_ID)) {
    vTypes.set(DEFAULT_VTYPE_ID, { id: DEFAULT_VTYPE_ID, ...SUMO_PASSENGER_DEFAULTS });
  }
  demand.vTypes = [...vTypes.values()];
  if (vTypeDists.size > 0) demand.vTypeDistributions = [...vTypeDists.values()];
  if (routeDists.size > 0) demand.routeDistributions = [...routeDists.values()];
  return demand;
}

/** Warnings once per kind (and file, when given), with the place of the first. */
class Notes {
  private readonly seen = new Set<string>();
  constructor(private readonly warnings: string[]) {}
  once(kind: string, where: string, text: string, file = ''): void {
    const key = `${file}\u0000${kind}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.warnings.push(`${where}: ${text}`);
  }
}

// Attributes of vehicles, trips and flows that change nothing we model (SUMO's own or cosmetic).
const HARMLESS = new Set([
  'id',
  'type',
  'route',
  'from',
  'to',
  'via',
  'depart',
  'begin',
  'end',
  'period',
  'vehsPerHour',
  'perHour',
  'probability',
  'number',
  'departLane',
  'departPos',
  'departSpeed',
  'arrivalLane',
  'arrivalPos',
  'arrivalSpeed',
  'color',
  'line',
  'personNumber',
  'containerNumber',
  'personCapacity',
  'containerCapacity',
  'departPosLat',
  'arrivalPosLat',
  'arrival',
]);

/** One warning per attribute kind we do not model (file and line of the first). */
function noteAttributes(file: string, el: XmlElement, notes: Notes): void {
  for (const a of Object.keys(el.attrs)) {
    if (HARMLESS.has(a)) continue;
    notes.once(
      `attribute ${a}`,
      `${file}:${el.line ?? '?'}`,
      `attribute ${a} of <${el.name}> is not modelled; ignored (everywhere)`,
    );
  }
  for (const c of el.children) {
    if (c.name !== 'route' && c.name !== 'stop' && c.name !== 'param' && c.name !== 'routeDistribution') {
      notes.once(
        `<${c.name}> in a vehicle`,
        `${file}:${c.line ?? '?'}`,
        `<${c.name}> inside <${el.name}> is not modelled; ignored (everywhere)`,
      );
    }
  }
}

// --- vTypes

// SUMO attribute name → VTypeSpec field, for the plain numeric parameters.
const VTYPE_NUMBERS: [string, keyof VTypeSpec][] = [
  ['accel', 'accel'],
  ['decel', 'decel'],
  ['emergencyDecel', 'emergencyDecel'],
  ['apparentDecel', 'apparentDecel'],
  ['tau', 'tau'],
  ['minGap', 'minGap'],
  ['length', 'length'],
  ['maxSpeed', 'maxSpeed'],
  ['sigma', 'sigma'],
  ['delta', 'delta'],
  ['stepping', 'idmStepping'],
  ['lcStrategic', 'lcStrategic'],
  ['lcCooperative', 'lcCooperative'],
  ['lcSpeedGain', 'lcSpeedGain'],
  ['lcKeepRight', 'lcKeepRight'],
];

/** SUMO 1.15's car-following models (SUMOXMLDefinitions::CarFollowModels); TessDS runs Krauss and IDM. */
const SUMO_CF_MODELS = new Set([
  'Krauss',
  'KraussOrig1',
  'KraussPS',
  'KraussX',
  'SmartSK',
  'Daniel1',
  'IDM',
  'IDMM',
  'EIDM',
  'PWagner2009',
  'BKerner',
  'Wiedemann',
  'W99',
  'Rail',
  'ACC',
  'CACC',
  'CC',
]);

/** What the vType reader reports once per import (not once per vType). */
interface VTypeWarnings {
  warnings: string[];
  /** model names and vehicle classes already warned about */
  seen: Set<string>;
}

/** The vType of class `vClass` with every field at SUMO 1.15's default for that class. */
export function sumoVTypeDefaults(id: string, vClass: string): VTypeSpec {
  const c = vClassDefaults(vClass) ?? vClassDefaults('passenger')!;
  return {
    id,
    vClass,
    carFollowModel: 'Krauss',
    accel: c.accel,
    decel: c.decel,
    emergencyDecel: c.emergencyDecel,
    tau: 1,
    minGap: c.minGap,
    length: c.length,
    maxSpeed: c.maxSpeed,
    speedFactor: 1,
    speedDev: c.speedDev,
    speedFactorMin: SPEED_FACTOR_MIN,
    speedFactorMax: SPEED_FACTOR_MAX,
    sigma: c.sigma,
    delta: PASSENGER_DEFAULTS.delta,
    idmStepping: PASSENGER_DEFAULTS.idmStepping,
    lcStrategic: PASSENGER_DEFAULTS.lcStrategic,
    lcCooperative: PASSENGER_DEFAULTS.lcCooperative,
    lcSpeedGain: PASSENGER_DEFAULTS.lcSpeedGain,
    lcKeepRight: PASSENGER_DEFAULTS.lcKeepRight,
  };
}

/**
 * A `<vType>` as SUMO 1.15 reads it: the defaults of its vClass (vclass-defaults.ts), then its
 * attributes, then those of a `<carFollowing-MODEL>` child (which also names the model). A model
 * TessDS does not run is warned once per name and runs as Krauss.
 */
function readVType(file: string, el: XmlElement, w: VTypeWarnings): VTypeSpec {
  const id = reqStr(file, el, 'id');
  const vClass = el.attrs['vClass'] ?? 'passenger';
  if (vClassDefaults(vClass) === undefined && !w.seen.has(`class ${vClass}`)) {
    // an unknown class name fails later (compileVType); a known one without a table entry runs as passenger
    w.seen.add(`class ${vClass}`);
    w.warnings.push(
      `${file}:${el.line ?? '?'}: vType "${id}": no SUMO defaults known for vClass "${vClass}"; passenger's are used`,
    );
  }
  const t = sumoVTypeDefaults(id, vClass);
  const cf = el.children.find((c) => c.name.startsWith('carFollowing-'));
  let model = el.attrs['carFollowModel'];
  if (cf !== undefined) {
    const named = cf.name.slice('carFollowing-'.length);
    if (model !== undefined && model !== named)
      throw fail(file, el, `carFollowModel="${model}" and <${cf.name}> name different models`);
    model = named;
  }
  if (model !== undefined) {
    if (!SUMO_CF_MODELS.has(model)) throw fail(file, el, `carFollowModel "${model}" is not a SUMO car-following model`);
    if (model === 'IDM') t.carFollowModel = 'IDM';
    else if (model !== 'Krauss' && !w.seen.has(`model ${model}`)) {
      w.seen.add(`model ${model}`);
      w.warnings.push(
        `${file}:${el.line ?? '?'}: vType "${id}" (and maybe others): carFollowModel "${model}" is not supported, Krauss is used`,
      );
    }
  }
  let decelSet = false;
  let emergencySet = false;
  for (const src of cf !== undefined ? [el, cf] : [el]) {
    for (const [attr, field] of VTYPE_NUMBERS) {
      const v = optNum(file, src, attr);
      if (v === undefined) continue;
      (t as unknown as Record<string, number>)[field] = v;
      if (field === 'decel') decelSet = true;
      if (field === 'emergencyDecel') emergencySet = true;
    }
  }
  // SUMO: the default emergency deceleration is the class's, but never below decel
  if (decelSet && !emergencySet && t.emergencyDecel < t.decel) t.emergencyDecel = t.decel;
  const sf = el.attrs['speedFactor'];
  if (sf !== undefined) speedFactorDistribution(file, el, sf, t);
  const dev = optNum(file, el, 'speedDev');
  if (dev !== undefined) t.speedDev = dev;
  for (const field of [
    'accel',
    'decel',
    'emergencyDecel',
    'length',
    'maxSpeed',
    'speedFactor',
    'delta',
    'idmStepping',
  ] as const) {
    if (!(t[field] > 0)) throw fail(file, el, `${field} must be > 0, got ${t[field]}`);
  }
  if (t.apparentDecel !== undefined && !(t.apparentDecel > 0))
    throw fail(file, el, `apparentDecel must be > 0, got ${t.apparentDecel}`);
  for (const field of ['tau', 'minGap', 'sigma', 'speedDev'] as const) {
    if (!(t[field] >= 0)) throw fail(file, el, `${field} must be >= 0, got ${t[field]}`);
  }
  if (t.sigma > 1) throw fail(file, el, `sigma must be in [0, 1], got ${t.sigma}`);
  if (t.speedDev > 0 && t.speedFactorMin !== undefined && t.speedFactor < t.speedFactorMin) {
    throw fail(
      file,
      el,
      `speedFactor: distribution mean ${t.speedFactor} is below its lower bound ${t.speedFactorMin}`,
    );
  }
  if (t.speedDev > 0 && t.speedFactorMax !== undefined && t.speedFactor > t.speedFactorMax) {
    throw fail(
      file,
      el,
      `speedFactor: distribution mean ${t.speedFactor} is above its upper bound ${t.speedFactorMax}`,
    );
  }
  return t;
}

/**
 * SUMO's speedFactor attribute into `t`: a plain number sets the mean and keeps the class's deviation
 * and bounds (SUMO Distribution_Parameterized::parse); "norm(mean,dev)" and "normc(mean,dev[,min[,max]])"
 * set what they give and drop the bounds they do not give. The vehicles' factors are drawn by `sim/`,
 * deterministically per vehicle.
 */
function speedFactorDistribution(file: string, el: XmlElement, value: string, t: VTypeSpec): void {
  const plain = parseNumber(value);
  if (plain !== undefined) {
    t.speedFactor = plain;
    return;
  }
  const m = /^\s*(normc?)\(([^()]*)\)\s*$/.exec(value);
  const params = m ? m[2]!.split(',').map((p) => parseNumber(p)) : [];
  if (!m || params.length < 2 || params.length > 4 || params.some((p) => p === undefined)) {
    throw fail(
      file,
      el,
      `attribute speedFactor="${value}" is not a number or a norm(mean,dev) / normc(mean,dev,min,max) distribution`,
    );
  }
  const [mean, dev, min, max] = params as number[];
  t.speedFactor = mean!;
  t.speedDev = dev!;
  delete t.speedFactorMin;
  delete t.speedFactorMax;
  if (min !== undefined) t.speedFactorMin = min;
  if (max !== undefined) t.speedFactorMax = max;
  if (min !== undefined && max !== undefined && !(min <= max))
    throw fail(file, el, `attribute speedFactor="${value}": min ${min} is above max ${max}`);
}

// --- routes

/** A top-level `<route>`: its edges and the stops it carries (their until counts from each vehicle's departure). */
interface NamedRoute {
  edges: string[];
  stops: StopSpec[];
  probability: number;
  /** why a vehicle using it is skipped (a stop on a lane not in the net) */
  problem?: string;
}

interface Path {
  route?: string[];
  /** id in routeDists */
  distribution?: string;
  from?: string;
  to?: string;
  via?: string[];
  /** the stops of a named route (until from departure) */
  stops?: StopSpec[];
  problem?: string;
}

function probabilityOf(file: string, el: XmlElement): number {
  const p = optNum(file, el, 'probability') ?? 1;
  if (!(p >= 0) || !Number.isFinite(p)) throw fail(file, el, `probability must be a number >= 0, got ${p}`);
  return p;
}

function routeEdges(file: string, el: XmlElement): string[] {
  const edges = list(reqStr(file, el, 'edges'));
  if (edges.length === 0) throw fail(file, el, 'route has no edges');
  return edges;
}

/** A `<route>` with edges and stops; stops' until counts from the departure of each vehicle using it (SUMO). */
function readNamedRoute(
  file: string,
  el: XmlElement,
  readStop: (el: XmlElement) => StopSpec | { skip: string },
): NamedRoute {
  const r: NamedRoute = { edges: routeEdges(file, el), stops: [], probability: probabilityOf(file, el) };
  for (const c of el.children) {
    if (c.name !== 'stop') continue;
    const s = readStop(c);
    if ('skip' in s) {
      if (s.skip.startsWith('stop on')) r.problem ??= s.skip;
      continue;
    }
    if (s.until !== undefined) s.untilFrom = 0;
    r.stops.push(s);
  }
  if (el.attrs['repeat'] !== undefined || el.attrs['cycleTime'] !== undefined)
    throw fail(file, el, 'repeat and cycleTime are not supported');
  return r;
}

function readVTypeDistribution(
  file: string,
  el: XmlElement,
  vTypes: Map<string, VTypeSpec>,
  vTypeProbability: Map<string, number>,
  warnings: VTypeWarnings,
  notes: Notes,
): VTypeDistributionSpec {
  const id = reqStr(file, el, 'id');
  const d: VTypeDistributionSpec = { id, vTypes: [], probabilities: [] };
  for (const c of el.children) {
    if (c.name !== 'vType') continue;
    const t = readVType(file, c, warnings);
    if (vTypes.has(t.id)) throw fail(file, c, 'duplicate vType id');
    vTypes.set(t.id, t);
    const p = probabilityOf(file, c);
    vTypeProbability.set(t.id, p);
    d.vTypes.push(t.id);
    d.probabilities.push(p);
  }
  for (const t of list(el.attrs['vTypes'])) {
    if (!vTypes.has(t)) throw fail(file, el, `unknown vType "${t}"`);
    d.vTypes.push(t);
    d.probabilities.push(vTypeProbability.get(t) ?? 1);
  }
  if (el.attrs['probabilities'] !== undefined) {
    // SUMO 1.15 reads the vTypes' own probability attributes and ignores this one (later versions read it)
    notes.once(
      'vTypeDistribution probabilities',
      `${file}:${el.line ?? '?'}`,
      `vTypeDistribution "${id}": probabilities="..." is ignored as SUMO 1.15 ignores it (the vTypes' probability attributes count)`,
    );
  }
  if (d.vTypes.length === 0) throw fail(file, el, 'vTypeDistribution has no vTypes (nested <vType> or vTypes="...")');
  if (!(d.probabilities.reduce((a, b) => a + b, 0) > 0))
    throw fail(file, el, 'the probabilities of the vTypes sum to 0');
  return d;
}

function readRouteDistribution(
  file: string,
  el: XmlElement,
  id: string,
  routes: Map<string, NamedRoute>,
  readStop: (el: XmlElement) => StopSpec | { skip: string },
): RouteDistributionSpec {
  const d: RouteDistributionSpec = { id, routes: [] };
  let problem: string | undefined;
  const add = (r: NamedRoute, p: number) => {
    d.routes.push({ edges: r.edges, ...(r.stops.length > 0 ? { stops: r.stops } : {}), probability: p });
    problem ??= r.problem;
  };
  for (const c of el.children) {
    if (c.name !== 'route') continue;
    const ref = c.attrs['refId'];
    if (ref !== undefined) {
      const r = routes.get(ref);
      if (r === undefined) throw fail(file, c, `unknown route "${ref}"`);
      // SUMO 1.15: the probability of the reference, 1 by default (not the named route's own)
      add(r, probabilityOf(file, c));
    } else {
      const r = readNamedRoute(file, c, readStop);
      add(r, r.probability);
    }
  }
  const refs = list(el.attrs['routes']);
  const probs = list(el.attrs['probabilities']);
  if (probs.length > 0 && probs.length !== refs.length)
    throw fail(file, el, `${probs.length} probabilities for ${refs.length} routes`);
  refs.forEach((ref, i) => {
    const r = routes.get(ref);
    if (r === undefined) throw fail(file, el, `unknown route "${ref}"`);
    const p = probs.length > 0 ? parseNumber(probs[i]!) : 1; // SUMO 1.15: equal shares, whatever the routes' own probability
    if (p === undefined || !(p >= 0)) throw fail(file, el, `probabilities: "${probs[i]}" is not a number >= 0`);
    add(r, p);
  });
  if (d.routes.length === 0) throw fail(file, el, 'routeDistribution has no routes');
  if (!(d.routes.reduce((a, r) => a + r.probability, 0) > 0))
    throw fail(file, el, 'the probabilities of the routes sum to 0');
  if (problem !== undefined) (d as RouteDistributionSpec & { problem?: string }).problem = problem;
  return d;
}

/** The vehicle's route: inline <route>, route="id" (a route or a routeDistribution), an inline <routeDistribution>, or from/to(/via) for a trip. */
function readPath(
  file: string,
  el: XmlElement,
  routes: Map<string, NamedRoute>,
  routeDists: Map<string, RouteDistributionSpec>,
  readStop: (el: XmlElement) => StopSpec | { skip: string },
): Path {
  const inline = el.children.find((c) => c.name === 'route');
  const inlineDist = el.children.find((c) => c.name === 'routeDistribution');
  const ref = el.attrs['route'];
  if ([inline, inlineDist, ref].filter((x) => x !== undefined).length > 1)
    throw fail(file, el, 'give one of a route attribute, an inline <route>, an inline <routeDistribution>');
  if (inline !== undefined) {
    // stops of an inline route belong to the vehicle (absolute until)
    const r = readNamedRoute(file, inline, readStop);
    for (const s of r.stops) delete s.untilFrom;
    return { route: r.edges, stops: r.stops, ...(r.problem !== undefined ? { problem: r.problem } : {}) };
  }
  if (inlineDist !== undefined) {
    const id = `!${reqStr(file, el, 'id')}`;
    routeDists.set(id, readRouteDistribution(file, inlineDist, id, routes, readStop));
    return { distribution: id };
  }
  if (ref !== undefined) {
    const named = routes.get(ref);
    if (named !== undefined) {
      // every vehicle gets its own copies (until is shifted per vehicle in sim/)
      return {
        route: named.edges,
        stops: named.stops.map((s) => ({ ...s })),
        ...(named.problem !== undefined ? { problem: named.problem } : {}),
      };
    }
    if (routeDists.has(ref)) return { distribution: ref };
    throw fail(file, el, `unknown route "${ref}"`);
  }
  const from = el.attrs['from'];
  const to = el.attrs['to'];
  if (from !== undefined && to !== undefined) {
    const via = list(el.attrs['via']);
    return via.length > 0 ? { from, to, via } : { from, to };
  }
  if (el.attrs['fromTaz'] !== undefined || el.attrs['fromJunction'] !== undefined) {
    throw fail(file, el, 'fromTaz/toTaz and fromJunction/toJunction are not supported; give from and to edges');
  }
  throw fail(file, el, 'needs a route (inline <route>, route="id") or from and to edges');
}

/** Why the net cannot carry this path, or undefined if it can. */
function checkPath(path: Path, index: NetIndex, routeDists: Map<string, RouteDistributionSpec>): string | undefined {
  if (path.problem !== undefined) return path.problem;
  if (path.distribution !== undefined) {
    const d = routeDists.get(path.distribution)! as RouteDistributionSpec & { problem?: string };
    if (d.problem !== undefined) return d.problem;
    for (const r of d.routes) {
      const p = checkEdges(r.edges, true, index);
      if (p !== undefined) return `routeDistribution "${path.distribution}": ${p}`;
    }
    return undefined;
  }
  return checkEdges(path.route ?? [path.from!, ...(path.via ?? []), path.to!], path.route !== undefined, index);
}

function checkEdges(edges: string[], connected: boolean, index: NetIndex): string | undefined {
  // Trips are routed by sim/, so only explicit routes must be connected edge to edge.
  return index.routeProblem(edges, connected);
}

function pathFields(path: Path): Pick<VehicleSpec, 'route' | 'from' | 'to' | 'via' | 'routeDistribution'> {
  if (path.distribution !== undefined) return { routeDistribution: path.distribution };
  if (path.route !== undefined) return { route: path.route };
  return path.via !== undefined
    ? { from: path.from!, to: path.to!, via: path.via }
    : { from: path.from!, to: path.to! };
}
