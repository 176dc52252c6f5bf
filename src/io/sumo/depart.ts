/**
 * The attributes of SUMO's `<vehicle>`, `<trip>` and `<flow>` that say when, where and how a vehicle
 * departs and arrives (SUMO 1.15's SUMOVehicleParserHelper), and a flow's rate. Every value SUMO
 * 1.15 accepts is read; a bad one is an InputError naming file, line, element and attribute.
 */
import type {
  ArrivalLane,
  ArrivalPos,
  ArrivalSpeed,
  DepartLane,
  DepartPos,
  DepartSpec,
  DepartSpeed,
  FlowSpec,
} from '../spec.js';
import type { XmlElement } from '../xml.js';
import { fail, optNum, parseNumber, reqStr } from './attrs.js';

/** SUMO's default flow end when none is given: 24 hours. */
export const FLOW_DEFAULT_END = 86400;

/** SUMO's departure keywords that wait for persons, containers or a split: not modelled (the vehicle is left out with a warning). */
export const DEPART_TRIGGERS = ['triggered', 'containerTriggered', 'split'] as const;

/** The depart time, or the trigger keyword a vehicle waits for instead. */
export function departTime(file: string, el: XmlElement): number | { trigger: string } {
  const v = reqStr(file, el, 'depart');
  const t = parseNumber(v);
  if (t === undefined) {
    if ((DEPART_TRIGGERS as readonly string[]).includes(v)) return { trigger: v };
    throw fail(file, el, `depart="${v}" is not a time in seconds (or triggered, containerTriggered, split)`);
  }
  if (t < 0) throw fail(file, el, `depart must be >= 0, got ${t}`);
  return t;
}

export function readDepart(file: string, el: XmlElement): DepartSpec {
  const d: DepartSpec = {
    departLane: departLane(file, el),
    departSpeed: departSpeed(file, el),
    departPos: departPos(file, el),
    arrivalPos: arrivalPos(file, el),
  };
  const al = arrivalLane(file, el);
  if (al !== undefined) d.arrivalLane = al;
  const as = arrivalSpeed(file, el);
  if (as !== undefined) d.arrivalSpeed = as;
  return d;
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
  if (!Number.isInteger(v.value) || v.value < 0)
    throw fail(file, el, `departLane must be a lane index >= 0, got ${v.value}`);
  return { kind: 'index', index: v.value };
}

function departSpeed(file: string, el: XmlElement): DepartSpeed {
  const v = keywordOrNumber(file, el, 'departSpeed', [
    'max',
    'desired',
    'random',
    'speedLimit',
    'last',
    'avg',
  ] as const);
  if (v === undefined) return { kind: 'value', speed: 0 };
  if ('keyword' in v) return { kind: v.keyword };
  if (v.value < 0) throw fail(file, el, `departSpeed must be >= 0, got ${v.value}`);
  return { kind: 'value', speed: v.value };
}

function departPos(file: string, el: XmlElement): DepartPos {
  const v = keywordOrNumber(file, el, 'departPos', ['base', 'free', 'random', 'random_free', 'last', 'stop'] as const);
  if (v === undefined) return { kind: 'base' };
  // negative positions count from the lane end, as in SUMO; sim/ resolves them
  return 'keyword' in v ? { kind: v.keyword } : { kind: 'value', pos: v.value };
}

function arrivalPos(file: string, el: XmlElement): ArrivalPos {
  // "middle" is SUMO 1.16's; 1.15 rejects it, we read it as later versions do (half the lane)
  const v = keywordOrNumber(file, el, 'arrivalPos', ['max', 'random', 'middle'] as const);
  if (v === undefined) return { kind: 'max' };
  return 'keyword' in v ? { kind: v.keyword } : { kind: 'value', pos: v.value };
}

function arrivalLane(file: string, el: XmlElement): ArrivalLane | undefined {
  const v = keywordOrNumber(file, el, 'arrivalLane', ['current', 'random', 'first'] as const);
  if (v === undefined) return undefined;
  if ('keyword' in v) return { kind: v.keyword };
  if (!Number.isInteger(v.value) || v.value < 0)
    throw fail(file, el, `arrivalLane must be a lane index >= 0, got ${v.value}`);
  return { kind: 'index', index: v.value };
}

function arrivalSpeed(file: string, el: XmlElement): ArrivalSpeed | undefined {
  const v = keywordOrNumber(file, el, 'arrivalSpeed', ['current'] as const);
  if (v === undefined) return undefined;
  if ('keyword' in v) return { kind: 'current' };
  if (v.value < 0) throw fail(file, el, `arrivalSpeed must be >= 0, got ${v.value}`);
  return { kind: 'value', speed: v.value };
}

export type FlowRate = Pick<
  FlowSpec,
  'begin' | 'end' | 'period' | 'vehsPerHour' | 'probability' | 'number' | 'periodExp'
>;

/**
 * A flow's begin, end and rate as SUMO 1.15 reads them: one of period (a number or "exp(rate)"),
 * vehsPerHour (or perHour), probability; number alone spreads over begin..end; number with a rate
 * caps the count and then end must not be given. Without begin, the flow begins with the scenario.
 */
export function readFlowRate(file: string, el: XmlElement, defaultBegin = 0): FlowRate {
  // a flow without begin starts with the scenario (SUMO)
  const begin = num(file, el, 'begin', defaultBegin);
  let end = optNum(file, el, 'end');
  const periodText = el.attrs['period'];
  let period: number | undefined;
  let periodExp: number | undefined;
  if (periodText !== undefined) {
    const m = /^\s*exp\(([^)]*)\)\s*$/.exec(periodText);
    if (m) {
      periodExp = parseNumber(m[1]!);
      if (periodExp === undefined || !(periodExp > 0))
        throw fail(file, el, `period="${periodText}": the rate of exp(rate) must be a number > 0`);
    } else {
      period = parseNumber(periodText);
      if (period === undefined) throw fail(file, el, `attribute period="${periodText}" is not a number or exp(rate)`);
    }
  }
  if (el.attrs['vehsPerHour'] !== undefined && el.attrs['perHour'] !== undefined)
    throw fail(file, el, 'give only one of vehsPerHour, perHour');
  const vehsPerHour = optNum(file, el, 'vehsPerHour') ?? optNum(file, el, 'perHour');
  const probability = optNum(file, el, 'probability');
  const number = optNum(file, el, 'number');
  if (begin < 0) throw fail(file, el, `begin must be >= 0, got ${begin}`);
  if (number !== undefined && !(Number.isInteger(number) && number >= 0))
    throw fail(file, el, `number must be a whole number >= 0, got ${number}`);

  const rates = [periodText, vehsPerHour, probability].filter((r) => r !== undefined).length;
  if (rates > 1) throw fail(file, el, 'give only one of period, vehsPerHour, probability');
  const rate: FlowRate = { begin, end: 0 };
  if (period !== undefined) {
    if (!(period > 0)) throw fail(file, el, `period must be > 0, got ${period}`);
    rate.period = period;
  } else if (periodExp !== undefined) {
    rate.periodExp = periodExp;
  } else if (vehsPerHour !== undefined) {
    if (!(vehsPerHour > 0)) throw fail(file, el, `vehsPerHour must be > 0, got ${vehsPerHour}`);
    rate.vehsPerHour = vehsPerHour;
  } else if (probability !== undefined) {
    if (!(probability > 0 && probability <= 1))
      throw fail(file, el, `probability must be in (0, 1], got ${probability}`);
    rate.probability = probability;
  } else if (number !== undefined) {
    rate.number = number;
  } else {
    throw fail(file, el, 'needs one of period, vehsPerHour, probability, number');
  }
  // SUMO allows a count with a rate and no end: the flow ends after `number` departures
  if (rates === 1 && number !== undefined) {
    if (end !== undefined) throw fail(file, el, 'with a rate, give at most one of end and number (SUMO 1.15)');
    const perSecond = period !== undefined ? 1 / period : vehsPerHour !== undefined ? vehsPerHour / 3600 : undefined;
    if (perSecond !== undefined) end = begin + number / perSecond;
    else rate.number = number; // probability or exp(rate): the count caps the departures
  }
  end ??= FLOW_DEFAULT_END;
  if (end < begin) throw fail(file, el, `end (${end}) is before begin (${begin})`);
  rate.end = end;
  return rate;
}

function num(file: string, el: XmlElement, name: string, dflt: number): number {
  return optNum(file, el, name) ?? dflt;
}
