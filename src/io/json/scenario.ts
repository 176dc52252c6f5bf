/**
 * TessDS's native JSON scenario: a small network and its demand in one hand-writable file.
 *
 *   { "$schema": "../schema/scenario.schema.json",
 *     "time": { "begin": 0, "end": 600, "stepLength": 0.5 }, "seed": 42,
 *     "nodes": [ { "id": "C", "x": 0, "y": 0, "type": "traffic_light" }, { "id": "N", "x": 0, "y": 300 }, ... ],
 *     "edges": [ { "id": "NC", "from": "N", "to": "C", "lanes": 2, "speed": 13.89, "reverse": "CN" }, ... ],
 *     "vTypes": [ { "id": "car", "sigma": 0.5 } ],
 *     "routes": [ { "id": "ns", "edges": ["NC", "CS"] } ],
 *     "vehicles": [ { "id": "v0", "type": "car", "depart": 0, "route": "ns" } ],
 *     "flows": [ { "id": "f0", "from": "NC", "to": "CE", "begin": 0, "end": 600, "vehsPerHour": 300 } ] }
 *
 * Every field, unit and default is documented in schema/scenario.schema.json; the derivation rules
 * (junction radius, lane offsets, link directions and lanes, foes, right of way, default signal
 * program) in schema/README.md and at the top of network.ts, junctions.ts and trafficlights.ts.
 *
 * Every mistake is an InputError `file:line:column: json.path: what is wrong`.
 */
import { readTextFile } from '../files.js';
import { InputError } from '../../errors.js';
import type { ScenarioSpec } from '../spec.js';
import { buildDemand } from './demand.js';
import { readDocument } from './document.js';
import { JsonSyntaxError, lineColumn, parseLocated, type LocatedJson } from './json.js';
import { buildNetwork } from './network.js';
import { Checker } from './validate.js';

/** Parses scenario text; `fileName` is used in messages and as the spec's source. */
export function parseJsonScenario(text: string, fileName: string): ScenarioSpec {
  let located: LocatedJson;
  try {
    located = parseLocated(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const { line, column } = lineColumn(text, e.offset);
    throw new InputError(fileName, `invalid JSON: ${e.message}`, line, column, { cause: e });
  }
  const ck = new Checker(fileName, located);
  const doc = readDocument(ck, located.value);
  const net = buildNetwork(ck, doc, fileName);
  const demand = buildDemand(ck, doc, net, fileName);
  const spec: ScenarioSpec = {
    net: net.net,
    demand,
    begin: doc.begin,
    stepLength: doc.stepLength,
    seed: doc.seed,
    timeToTeleport: doc.timeToTeleport,
  };
  if (doc.end !== undefined) spec.end = doc.end;
  return spec;
}

/** Reads and parses a scenario file; the path is named as given in every message. */
export function loadJsonScenario(path: string): ScenarioSpec {
  return parseJsonScenario(readTextFile(path, 'a JSON scenario'), path);
}
