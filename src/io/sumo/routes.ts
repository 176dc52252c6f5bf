/**
 * SUMO route files (.rou.xml) → DemandSpec.
 *
 * Errors in the file itself (bad numbers, unknown vType or route id, duplicate ids) are InputErrors.
 * A vehicle whose route does not fit the net (unknown edge, consecutive edges without a connection) is
 * skipped with a warning, as SUMO does with --ignore-route-errors, so one stale route does not stop a run.
 */
import { InputError } from '../../errors.js';
import type {
  ArrivalPos,
  DemandSpec,
  DepartLane,
  DepartPos,
  DepartSpec,
  DepartSpeed,
  FlowSpec,
  NetSpec,
  VehicleSpec,
  VTypeSpec,
} from '../spec.js';
import { parseXmlFile, parseXmlString, type XmlElement } from '../xml.js';
import { PASSENGER_DEFAULTS } from '../spec.js';
import { fail, list, num, optNum, parseNumber, reqStr } from './attrs.js';
import { SPEED_FACTOR_MAX, SPEED_FACTOR_MIN, vClassDefaults } from './vclass-defaults.js';

/** SUMO's implicit type for vehicles that name none. */
export const DEFAULT_VTYPE_ID = 'DEFAULT_VEHTYPE';

/** SUMO 1.15's default vType (DEFAULT_VEHTYPE): vClass passenger, Krauss with σ 0.5, speedDev 0.1, LC2013. */
export const SUMO_PASSENGER_DEFAULTS: Readonly<Omit<VTypeSpec, 'id'>> = (({ id: _id, ...rest }) => rest)(sumoVTypeDefaults(DEFAULT_VTYPE_ID, 'passenger'));

/** Loads several route files against one net, in the given order (vehicles keep file order). */
export function loadSumoRoutes(paths: string[], net: NetSpec): DemandSpec {
  return sumoRoutesFromXml(
    paths.map((path) => ({ file: path, root: parseXmlFile(path) })),
    net,
  );
}

/** For tests and generated demand: one route file given as text. */
export function parseSumoRoutes(text: string, fileName: string, net: NetSpec): DemandSpec {
  return sumoRoutesFromXml([{ file: fileName, root: parseXmlString(text, fileName) }], net);
}

/** What the importer knows about the net: edge ids and which edge follows which. */
class NetIndex {
  /** edge id → number of lanes */
  readonly edges = new Map<string, number>();
  /** edge id → the edges a link leads to (nested, not a joined key: no string built per route step) */
  private readonly successors = new Map<string, Set<string>>();
  constructor(net: NetSpec) {
    const laneEdge = new Map<string, string>();
    for (const e of net.edges) {
      this.edges.set(e.id, e.lanes.length);
      for (const l of e.lanes) laneEdge.set(l.id, e.id);
    }
    for (const link of net.links) {
      const a = laneEdge.get(link.fromLane);
      const b = laneEdge.get(link.toLane);
      if (a === undefined || b === undefined) continue;
      let next = this.successors.get(a);
      if (next === undefined) this.successors.set(a, (next = new Set()));
      next.add(b);
    }
  }
  connected(a: string, b: string): boolean {
    return this.successors.get(a)?.has(b) ?? false;
  }
}

function sumoRoutesFromXml(files: { file: string; root: XmlElement }[], net: NetSpec): DemandSpec {
  const index = new NetIndex(net);
  const vTypes = new Map<string, VTypeSpec>();
  const routes = new Map<string, string[]>(); // top-level <route id> → edges
  const demand: DemandSpec = {
    source: files.map((f) => f.file).join(','),
    vTypes: [],
    vehicles: [],
    flows: [],
    warnings: [],
  };

  const vTypeWarnings: VTypeWarnings = { warnings: demand.warnings, seen: new Set() };
  // Pass 1: definitions from every file, so a vehicle may use a route or type from an earlier file.
  for (const { file, root } of files) {
    if (root.name !== 'routes') throw new InputError(file, `expected SUMO routes (<routes>), found <${root.name}>`, root.line);
    for (const el of root.children) {
      if (el.name === 'vType') {
        // A file may define DEFAULT_VEHTYPE (the implicit type is only added at the end if none did).
        const t = readVType(file, el, vTypeWarnings);
        if (vTypes.has(t.id)) throw fail(file, el, 'duplicate vType id');
        vTypes.set(t.id, t);
      } else if (el.name === 'route') {
        const id = reqStr(file, el, 'id');
        if (routes.has(id)) throw fail(file, el, 'duplicate route id');
        routes.set(id, routeEdges(file, el));
      }
    }
  }

  // Pass 2: vehicles, trips and flows in file order.
  const ids = new Set<string>();
  let usesDefault = false;
  for (const { file, root } of files) {
    for (const el of root.children) {
      if (el.name !== 'vehicle' && el.name !== 'trip' && el.name !== 'flow') {
        if (el.name !== 'vType' && el.name !== 'route') {
          demand.warnings.push(`${file}:${el.line ?? '?'}: <${el.name}> is not supported and was ignored`);
        }
        continue;
      }
      const id = reqStr(file, el, 'id');
      if (ids.has(id)) throw fail(file, el, `duplicate ${el.name} id`);
      ids.add(id);

      const type = el.attrs['type'] ?? DEFAULT_VTYPE_ID;
      if (!vTypes.has(type)) {
        if (type !== DEFAULT_VTYPE_ID) throw fail(file, el, `unknown vType "${type}"`);
        usesDefault = true;
      }
      // Everything in the element is checked first, so a bad number is reported even on a skipped vehicle.
      const path = readPath(file, el, routes);
      const depart = readDepart(file, el);
      const timing = el.name === 'flow' ? readFlowRate(file, el) : { depart: departTime(file, el) };
      const problem = checkPath(path, index);
      if (problem !== undefined) {
        demand.warnings.push(`${file}:${el.line ?? '?'}: ${el.name} "${id}" skipped: ${problem}`);
        continue;
      }
      if (path.stops) demand.warnings.push(`${file}:${el.line ?? '?'}: ${el.name} "${id}": stops are not supported and were ignored`);
      const firstEdge = path.route?.[0] ?? path.from!;
      const lanes = index.edges.get(firstEdge)!;
      if (depart.departLane.kind === 'index' && depart.departLane.index >= lanes) {
        throw fail(file, el, `departLane ${depart.departLane.index} does not exist on edge "${firstEdge}" (${lanes} lanes)`);
      }
      const placement = { ...depart, ...pathFields(path) };
      if ('depart' in timing) demand.vehicles.push({ id, type, depart: timing.depart, ...placement });
      else demand.flows.push({ id, type, ...timing, ...placement });
    }
  }

  if (usesDefault && !vTypes.has(DEFAULT_VTYPE_ID)) {
    vTypes.set(DEFAULT_VTYPE_ID, { id: DEFAULT_VTYPE_ID, ...SUMO_PASSENGER_DEFAULTS });
  }
  demand.vTypes = [...vTypes.values()];
  return demand;
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
const SUMO_CF_MODELS = new Set(['Krauss', 'KraussOrig1', 'KraussPS', 'KraussX', 'SmartSK', 'Daniel1', 'IDM', 'IDMM', 'EIDM', 'PWagner2009', 'BKerner', 'Wiedemann', 'W99', 'Rail', 'ACC', 'CACC', 'CC']);

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
    w.warnings.push(`${file}:${el.line ?? '?'}: vType "${id}": no SUMO defaults known for vClass "${vClass}"; passenger's are used`);
  }
  const t = sumoVTypeDefaults(id, vClass);
  const cf = el.children.find((c) => c.name.startsWith('carFollowing-'));
  let model = el.attrs['carFollowModel'];
  if (cf !== undefined) {
    const named = cf.name.slice('carFollowing-'.length);
    if (model !== undefined && model !== named) throw fail(file, el, `carFollowModel="${model}" and <${cf.name}> name different models`);
    model = named;
  }
  if (model !== undefined) {
    if (!SUMO_CF_MODELS.has(model)) throw fail(file, el, `carFollowModel "${model}" is not a SUMO car-following model`);
    if (model === 'IDM') t.carFollowModel = 'IDM';
    else if (model !== 'Krauss' && !w.seen.has(`model ${model}`)) {
      w.seen.add(`model ${model}`);
      w.warnings.push(`${file}:${el.line ?? '?'}: vType "${id}" (and maybe others): carFollowModel "${model}" is not supported, Krauss is used`);
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
  for (const field of ['accel', 'decel', 'emergencyDecel', 'length', 'maxSpeed', 'speedFactor', 'delta', 'idmStepping'] as const) {
    if (!(t[field] > 0)) throw fail(file, el, `${field} must be > 0, got ${t[field]}`);
  }
  if (t.apparentDecel !== undefined && !(t.apparentDecel > 0)) throw fail(file, el, `apparentDecel must be > 0, got ${t.apparentDecel}`);
  for (const field of ['tau', 'minGap', 'sigma', 'speedDev'] as const) {
    if (!(t[field] >= 0)) throw fail(file, el, `${field} must be >= 0, got ${t[field]}`);
  }
  if (t.sigma > 1) throw fail(file, el, `sigma must be in [0, 1], got ${t.sigma}`);
  if (t.speedDev > 0 && t.speedFactorMin !== undefined && t.speedFactor < t.speedFactorMin) {
    throw fail(file, el, `speedFactor: distribution mean ${t.speedFactor} is below its lower bound ${t.speedFactorMin}`);
  }
  if (t.speedDev > 0 && t.speedFactorMax !== undefined && t.speedFactor > t.speedFactorMax) {
    throw fail(file, el, `speedFactor: distribution mean ${t.speedFactor} is above its upper bound ${t.speedFactorMax}`);
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
    throw fail(file, el, `attribute speedFactor="${value}" is not a number or a norm(mean,dev) / normc(mean,dev,min,max) distribution`);
  }
  const [mean, dev, min, max] = params as number[];
  t.speedFactor = mean!;
  t.speedDev = dev!;
  delete t.speedFactorMin;
  delete t.speedFactorMax;
  if (min !== undefined) t.speedFactorMin = min;
  if (max !== undefined) t.speedFactorMax = max;
  if (min !== undefined && max !== undefined && !(min <= max)) throw fail(file, el, `attribute speedFactor="${value}": min ${min} is above max ${max}`);
}

// --- routes

interface Path {
  route?: string[];
  from?: string;
  to?: string;
  via?: string[];
  stops: boolean;
}

function routeEdges(file: string, el: XmlElement): string[] {
  const edges = list(reqStr(file, el, 'edges'));
  if (edges.length === 0) throw fail(file, el, 'route has no edges');
  return edges;
}

/** The vehicle's route: inline <route>, route="id", or from/to(/via) for a trip. */
function readPath(file: string, el: XmlElement, routes: Map<string, string[]>): Path {
  const inline = el.children.find((c) => c.name === 'route');
  const ref = el.attrs['route'];
  const stops = el.children.some((c) => c.name === 'stop') || (inline?.children.some((c) => c.name === 'stop') ?? false);
  if (inline !== undefined && ref !== undefined) throw fail(file, el, 'has both a route attribute and an inline <route>');
  if (inline !== undefined) return { route: routeEdges(file, inline), stops };
  if (ref !== undefined) {
    const edges = routes.get(ref);
    if (edges === undefined) throw fail(file, el, `unknown route "${ref}"`);
    return { route: edges, stops };
  }
  const from = el.attrs['from'];
  const to = el.attrs['to'];
  if (from !== undefined && to !== undefined) {
    const via = list(el.attrs['via']);
    return via.length > 0 ? { from, to, via, stops } : { from, to, stops };
  }
  throw fail(file, el, 'needs a route (inline <route>, route="id") or from and to edges');
}

/** Why the net cannot carry this path, or undefined if it can. */
function checkPath(path: Path, index: NetIndex): string | undefined {
  const edges = path.route ?? [path.from!, ...(path.via ?? []), path.to!];
  for (const e of edges) {
    if (!index.edges.has(e)) return `edge "${e}" is not in the net`;
  }
  // Trips are routed by sim/, so only explicit routes must be connected edge to edge.
  if (path.route !== undefined) {
    for (let i = 1; i < edges.length; i++) {
      if (!index.connected(edges[i - 1]!, edges[i]!)) return `edges "${edges[i - 1]}" and "${edges[i]}" are not connected`;
    }
  }
  return undefined;
}

function pathFields(path: Path): Pick<VehicleSpec, 'route' | 'from' | 'to' | 'via'> {
  if (path.route !== undefined) return { route: path.route };
  return path.via !== undefined ? { from: path.from!, to: path.to!, via: path.via } : { from: path.from!, to: path.to! };
}

// --- depart / arrival

function departTime(file: string, el: XmlElement): number {
  const v = reqStr(file, el, 'depart');
  const t = parseNumber(v);
  if (t === undefined) throw fail(file, el, `depart="${v}" is not supported (only a time in seconds)`);
  if (t < 0) throw fail(file, el, `depart must be >= 0, got ${t}`);
  return t;
}

function readDepart(file: string, el: XmlElement): DepartSpec {
  return {
    departLane: departLane(file, el),
    departSpeed: departSpeed(file, el),
    departPos: departPos(file, el),
    arrivalPos: arrivalPos(file, el),
  };
}

function keywordOrNumber<K extends string>(
  file: string,
  el: XmlElement,
  attr: string,
  keywords: readonly K[],
): { keyword: K } | { value: number } | undefined {
  const v = el.attrs[attr];
  if (v === undefined) return undefined;
  if ((keywords as readonly string[]).includes(v)) return { keyword: v as K };
  const n = parseNumber(v);
  if (n === undefined) throw fail(file, el, `${attr}="${v}" is not a number or one of ${keywords.join(', ')}`);
  return { value: n };
}

function departLane(file: string, el: XmlElement): DepartLane {
  const v = keywordOrNumber(file, el, 'departLane', ['first', 'best', 'free', 'random', 'allowed'] as const);
  if (v === undefined) return { kind: 'first' };
  if ('keyword' in v) return { kind: v.keyword };
  if (!Number.isInteger(v.value) || v.value < 0) throw fail(file, el, `departLane must be a lane index >= 0, got ${v.value}`);
  return { kind: 'index', index: v.value };
}

function departSpeed(file: string, el: XmlElement): DepartSpeed {
  const v = keywordOrNumber(file, el, 'departSpeed', ['max', 'desired', 'random', 'speedLimit'] as const);
  if (v === undefined) return { kind: 'value', speed: 0 };
  if ('keyword' in v) return { kind: v.keyword };
  if (v.value < 0) throw fail(file, el, `departSpeed must be >= 0, got ${v.value}`);
  return { kind: 'value', speed: v.value };
}

function departPos(file: string, el: XmlElement): DepartPos {
  const v = keywordOrNumber(file, el, 'departPos', ['base', 'free', 'random', 'last'] as const);
  if (v === undefined) return { kind: 'base' };
  // negative positions count from the lane end, as in SUMO; sim/ resolves them
  return 'keyword' in v ? { kind: v.keyword } : { kind: 'value', pos: v.value };
}

function arrivalPos(file: string, el: XmlElement): ArrivalPos {
  const v = keywordOrNumber(file, el, 'arrivalPos', ['max', 'random'] as const);
  if (v === undefined) return { kind: 'max' };
  return 'keyword' in v ? { kind: v.keyword } : { kind: 'value', pos: v.value };
}

// --- flows

/** SUMO's default flow end when none is given: 24 hours. */
const FLOW_DEFAULT_END = 86400;

function readFlowRate(file: string, el: XmlElement): Pick<FlowSpec, 'begin' | 'end' | 'period' | 'vehsPerHour' | 'probability' | 'number'> {
  const begin = num(file, el, 'begin', 0);
  let end = optNum(file, el, 'end');
  const period = optNum(file, el, 'period');
  const vehsPerHour = optNum(file, el, 'vehsPerHour');
  const probability = optNum(file, el, 'probability');
  const number = optNum(file, el, 'number');
  if (begin < 0) throw fail(file, el, `begin must be >= 0, got ${begin}`);
  if (number !== undefined && !(Number.isInteger(number) && number >= 0)) throw fail(file, el, `number must be a whole number >= 0, got ${number}`);

  const rates = [period, vehsPerHour, probability].filter((r) => r !== undefined).length;
  if (rates > 1) throw fail(file, el, 'give only one of period, vehsPerHour, probability');
  const rate = { begin } as Pick<FlowSpec, 'begin' | 'period' | 'vehsPerHour' | 'probability' | 'number'>;
  if (period !== undefined) {
    if (!(period > 0)) throw fail(file, el, `period must be > 0, got ${period}`);
    rate.period = period;
  } else if (vehsPerHour !== undefined) {
    if (!(vehsPerHour > 0)) throw fail(file, el, `vehsPerHour must be > 0, got ${vehsPerHour}`);
    rate.vehsPerHour = vehsPerHour;
  } else if (probability !== undefined) {
    if (!(probability > 0 && probability <= 1)) throw fail(file, el, `probability must be in (0, 1], got ${probability}`);
    rate.probability = probability;
  } else if (number !== undefined) {
    rate.number = number;
  } else {
    throw fail(file, el, 'needs one of period, vehsPerHour, probability, number');
  }
  // SUMO allows a count with a rate and no end: the flow ends after `number` departures.
  if (rates === 1 && number !== undefined) {
    if (end !== undefined) throw fail(file, el, 'number, end and a rate together are not supported; drop end or number');
    const perSecond = period !== undefined ? 1 / period : vehsPerHour !== undefined ? vehsPerHour / 3600 : undefined;
    if (perSecond === undefined) throw fail(file, el, 'number cannot be combined with probability');
    end = begin + number / perSecond;
  }
  end ??= FLOW_DEFAULT_END;
  if (end < begin) throw fail(file, el, `end (${end}) is before begin (${begin})`);
  return { ...rate, end };
}
