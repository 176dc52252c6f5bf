/**
 * Tiny scenarios built in code for unit tests of the engine (not a test file itself).
 */
import {
  PASSENGER_DEFAULTS,
  type ScenarioSpec,
  type TlPhaseSpec,
  type VTypeSpec,
  type VehicleSpec,
} from '../io/spec.js';

export const PASSENGER: VTypeSpec = { id: 'car', ...PASSENGER_DEFAULTS, sigma: 0 };

export function vehicle(id: string, depart: number, route: string[]): VehicleSpec {
  return {
    id,
    type: 'car',
    depart,
    route,
    departLane: { kind: 'first' },
    departSpeed: { kind: 'value', speed: 0 },
    departPos: { kind: 'base' },
    arrivalPos: { kind: 'max' },
  };
}

/**
 * Two single-lane edges in a row, A→B ("in", length `l1`) and B→C ("out", length `l2`), joined at
 * junction B by a 10 m internal lane; B is signalised when `phases` is given.
 */
export function corridor(opts: {
  l1?: number;
  l2?: number;
  speed?: number;
  phases?: TlPhaseSpec[];
  vehicles: VehicleSpec[];
  end?: number;
}): ScenarioSpec {
  const l1 = opts.l1 ?? 500;
  const l2 = opts.l2 ?? 500;
  const speed = opts.speed ?? 13.89;
  const lane = (id: string, length: number, x0: number) => ({
    id,
    index: 0,
    length,
    speed,
    shape: [x0, 0, x0 + length, 0],
  });
  return {
    net: {
      source: 'corridor',
      edges: [
        { id: 'in', from: 'A', to: 'B', priority: 1, lanes: [lane('in_0', l1, 0)] },
        { id: 'out', from: 'B', to: 'C', priority: 1, lanes: [lane('out_0', l2, l1 + 10)] },
      ],
      junctions: [
        {
          id: 'B',
          type: opts.phases ? 'traffic_light' : 'priority',
          x: l1 + 5,
          y: 0,
          shape: [],
          yieldsTo: [[]],
          foes: [[]],
        },
      ],
      links: [
        {
          junction: 'B',
          index: 0,
          fromLane: 'in_0',
          toLane: 'out_0',
          viaLength: 10,
          viaSpeed: speed,
          viaShape: [l1, 0, l1 + 10, 0],
          dir: 's',
          cont: false,
          ...(opts.phases ? { tl: { id: 'B', linkIndex: 0 } } : {}),
        },
      ],
      tlLogics: opts.phases ? [{ id: 'B', programID: '0', offset: 0, phases: opts.phases }] : [],
    },
    demand: { source: 'corridor', vTypes: [PASSENGER], vehicles: opts.vehicles, flows: [], warnings: [] },
    begin: 0,
    end: opts.end,
    stepLength: 0.5,
    seed: 42,
    timeToTeleport: 300,
  };
}
