/**
 * The scenario format as typed records: field lists, SUMO's defaults, and what the reader produces
 * (defaults filled in, references checked). Each record keeps its JSON path for later messages.
 * Field lists here must match schema/scenario.schema.json (a test compares them).
 */
import { PASSENGER_DEFAULTS, type DepartSpec, type VTypeSpec } from '../spec.js';
import type { Pt } from './geometry.js';

export const FIELDS = {
  root: [
    '$schema',
    'name',
    'description',
    'time',
    'seed',
    'uturns',
    'nodes',
    'edges',
    'trafficLights',
    'vTypes',
    'routes',
    'vehicles',
    'flows',
  ],
  time: ['begin', 'end', 'stepLength', 'timeToTeleport'],
  node: ['id', 'x', 'y', 'type', 'radius', 'uturns', 'connections'],
  connection: ['from', 'to', 'fromLane', 'toLane'],
  edge: ['id', 'from', 'to', 'lanes', 'speed', 'priority', 'width', 'length', 'shape', 'allow', 'disallow', 'reverse'],
  trafficLight: ['node', 'programID', 'offset', 'green', 'yellow', 'phases'],
  phase: ['duration', 'state'],
  vType: [
    'id',
    'vClass',
    'carFollowModel',
    'accel',
    'decel',
    'emergencyDecel',
    'tau',
    'minGap',
    'length',
    'maxSpeed',
    'speedFactor',
    'speedDev',
    'sigma',
    'delta',
    'idmStepping',
    'lcStrategic',
    'lcCooperative',
    'lcSpeedGain',
    'lcKeepRight',
  ],
  route: ['id', 'edges'],
  vehicle: [
    'id',
    'type',
    'depart',
    'route',
    'from',
    'to',
    'via',
    'departLane',
    'departSpeed',
    'departPos',
    'arrivalPos',
  ],
  flow: [
    'id',
    'type',
    'begin',
    'end',
    'period',
    'vehsPerHour',
    'probability',
    'number',
    'route',
    'from',
    'to',
    'via',
    'departLane',
    'departSpeed',
    'departPos',
    'arrivalPos',
  ],
} as const;

export const NODE_TYPES = ['priority', 'traffic_light', 'dead_end'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** The JSON format's vType defaults: SUMO 1.15's passenger values with the IDM and no speed deviation (spec.ts). */
export const DEFAULT_VTYPE: Readonly<VTypeSpec> = { id: 'DEFAULT_VEHTYPE', ...PASSENGER_DEFAULTS };

export const DEFAULTS = {
  seed: 23423, // SUMO's default --seed
  stepLength: 1,
  timeToTeleport: 300,
  lanes: 1,
  speed: 13.89,
  priority: 1,
  laneWidth: 3.2,
  green: 31,
  yellow: 3,
  flowEnd: 86400, // SUMO's default flow end when the scenario has no end
};

export interface ConnectionDoc {
  path: string;
  from: string;
  to: string;
  fromLane: number;
  toLane: number;
}

export interface NodeDoc {
  path: string;
  id: string;
  x: number;
  y: number;
  type?: NodeType;
  radius?: number;
  uturns: boolean;
  connections?: ConnectionDoc[];
}

export interface EdgeDoc {
  path: string;
  id: string;
  from: string;
  to: string;
  lanes: number;
  speed: number;
  priority: number;
  width: number;
  length?: number;
  /** full axis polyline, node positions when absent */
  shape?: Pt[];
  allow?: string[];
  disallow?: string[];
}

export interface PhaseDoc {
  path: string;
  duration: number;
  state: string;
}

export interface TrafficLightDoc {
  path: string;
  node: string;
  programID: string;
  offset: number;
  green: number;
  yellow: number;
  phases?: PhaseDoc[];
}

/** A route as a list of edge ids, with the path of that list for messages. */
export interface RouteRef {
  edges: string[];
  path: string;
}

export interface TripDoc extends DepartSpec {
  path: string;
  id: string;
  type: string;
  route?: RouteRef;
  from?: string;
  to?: string;
  via?: string[];
}

export interface VehicleDoc extends TripDoc {
  depart: number;
}

export interface FlowDoc extends TripDoc {
  begin: number;
  end: number;
  period?: number;
  vehsPerHour?: number;
  probability?: number;
  number?: number;
}

export interface ScenarioDoc {
  name?: string;
  begin: number;
  end?: number;
  stepLength: number;
  timeToTeleport: number;
  seed: number;
  nodes: NodeDoc[];
  edges: EdgeDoc[];
  trafficLights: TrafficLightDoc[];
  vTypes: VTypeSpec[];
  routes: (RouteRef & { id: string })[];
  vehicles: VehicleDoc[];
  flows: FlowDoc[];
}
