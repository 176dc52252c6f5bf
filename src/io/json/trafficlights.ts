/**
 * Signal programs. A given program is checked (one signal per link); otherwise a static program like
 * netconvert's default is generated: the incoming edges are split into two groups of roughly opposite
 * approaches (within 45° of the first approach's axis, either way, vs. the rest; the first approach
 * is the one from the highest-priority edge), and each group in turn gets `green` seconds — 'G' for a
 * link that yields to no other link green with it, 'g' (permissive, e.g. a left turn across oncoming
 * traffic) otherwise — then `yellow` seconds of 'y'. A node whose approaches all fall in one group gets
 * a single, permanent green phase. Links get `tl = { id: node id, linkIndex: request index }`.
 */
import type { TlLogicSpec, TlPhaseSpec } from '../spec.js';
import { DEFAULTS, type NodeDoc, type TrafficLightDoc } from './format.js';
import { endDir } from './geometry.js';
import { childPath } from './json.js';
import type { BuiltJunction } from './junctions.js';
import type { BuiltEdge } from './network.js';
import type { Checker } from './validate.js';

/** Angle of an approach's axis, ignoring its sense, in [0, π). */
function axisAngle(e: BuiltEdge): number {
  const d = endDir(e.axis);
  const a = Math.atan2(d.y, d.x);
  return a < 0 ? a + Math.PI : a >= Math.PI ? a - Math.PI : a;
}

/** Incoming edges that have links, split into two groups of opposing approaches. */
function approachGroups(j: BuiltJunction): BuiltEdge[][] {
  const used = j.incoming.filter((e) => j.info.some((k) => k.from === e));
  const first = [...used].sort((a, b) => b.doc.priority - a.doc.priority)[0];
  if (!first) return [];
  const ref = axisAngle(first);
  const near = (e: BuiltEdge): boolean => {
    const d = Math.abs(axisAngle(e) - ref);
    return Math.min(d, Math.PI - d) <= Math.PI / 4 + 1e-9;
  };
  const groups = [used.filter(near), used.filter((e) => !near(e))];
  return groups.filter((g) => g.length > 0);
}

export function generatePhases(j: BuiltJunction, green: number, yellow: number): TlPhaseSpec[] {
  const groups = approachGroups(j);
  const phases: TlPhaseSpec[] = [];
  for (const group of groups) {
    const on = j.info.map((k) => group.includes(k.from));
    const state = on.map((isOn, i) => {
      if (!isOn) return 'r';
      const yields = j.junction.yieldsTo[i]!.some((f) => on[f]);
      return yields ? 'g' : 'G';
    });
    if (groups.length === 1) {
      phases.push({ duration: green + yellow, state: state.join('') });
      break;
    }
    phases.push({ duration: green, state: state.join('') });
    if (yellow > 0) phases.push({ duration: yellow, state: state.map((c) => (c === 'r' ? 'r' : 'y')).join('') });
  }
  return phases;
}

export function buildTrafficLight(
  ck: Checker,
  node: NodeDoc,
  doc: TrafficLightDoc | undefined,
  j: BuiltJunction,
): TlLogicSpec {
  const n = j.links.length;
  if (n === 0) ck.fail(childPath(node.path, 'type'), `traffic_light node "${node.id}" has no links to control`);
  j.links.forEach((l) => (l.tl = { id: node.id, linkIndex: l.index }));
  let phases: TlPhaseSpec[];
  if (doc?.phases) {
    for (const p of doc.phases) {
      if (p.state.length !== n) {
        ck.fail(
          childPath(p.path, 'state'),
          `has ${p.state.length} signals, but node "${node.id}" has ${n} links (one signal per link, in request-index order)`,
        );
      }
    }
    phases = doc.phases.map((p) => ({ duration: p.duration, state: p.state }));
  } else {
    phases = generatePhases(j, doc?.green ?? DEFAULTS.green, doc?.yellow ?? DEFAULTS.yellow);
  }
  return { id: node.id, programID: doc?.programID ?? '0', offset: doc?.offset ?? 0, phases };
}
