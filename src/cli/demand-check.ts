/**
 * Checks of a scenario's demand before anything is built from it (issue 13): a demand too large to
 * fit in memory (a JSON flow with `vehsPerHour: 1e9` made 4.6 GB and a V8 abort) is refused with one
 * line saying how much it would need, and a vehicle id given twice — two vehicles, two flows, or a
 * vehicle named like a flow's generated `${flow}.${n}` — is refused naming both.
 */
import type { FlowSpec, ScenarioSpec } from '../io/spec.js';
import { InputError } from '../errors.js';

/** The most demand vehicles a run takes (a few hundred bytes each while built: a few GB). */
export const MAX_DEMAND_VEHICLES = 5_000_000;
/** what one demand vehicle costs while the demand is built, about (measured: 450–500 bytes) */
const BYTES_PER_VEHICLE = 500;

/** How many vehicles `f` makes (its rate over its span, within the run), about; Infinity without an end. */
export function flowVehicles(f: FlowSpec, spec: Pick<ScenarioSpec, 'begin' | 'end' | 'stepLength'>): number {
  const end = spec.end !== undefined ? Math.min(f.end, spec.end) : f.end;
  const span = Math.max(0, end - f.begin);
  const cap = f.number ?? Infinity;
  const rate = (f as { periodExp?: number }).periodExp;
  let n: number;
  if (f.probability !== undefined)
    n =
      (Math.max(0, end - Math.max(f.begin, spec.begin)) / spec.stepLength) *
      Math.min(1, f.probability * spec.stepLength);
  else if (f.period !== undefined && f.period > 0) n = Math.ceil(span / f.period);
  else if (f.vehsPerHour !== undefined && f.vehsPerHour > 0) n = Math.ceil((span * f.vehsPerHour) / 3600);
  else if (rate !== undefined && rate > 0) n = span * rate;
  else if (f.number !== undefined) n = f.number;
  else return 0; // no rate: the demand's own error says so
  return Math.min(cap, span > 0 || f.number !== undefined ? n : 0);
}

const big = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'unboundedly many');

export function checkDemand(spec: ScenarioSpec): void {
  const d = spec.demand;
  let total = d.vehicles.length;
  const perFlow = new Map<string, number>();
  for (const f of d.flows) {
    const n = flowVehicles(f, spec);
    perFlow.set(f.id, n);
    total += n;
    if (total > MAX_DEMAND_VEHICLES) {
      const gb = Number.isFinite(total)
        ? ` (about ${((total * BYTES_PER_VEHICLE) / 1e9).toFixed(total * BYTES_PER_VEHICLE >= 1e10 ? 0 : 1)} GB of memory)`
        : '';
      throw new InputError(
        d.source,
        `flow "${f.id}" would make ${big(n)} vehicles, ${big(total)} with the demand before it${gb}; a run takes at most ${big(MAX_DEMAND_VEHICLES)}: lower its rate (period, vehsPerHour, probability) or number, or end it sooner`,
      );
    }
  }
  // ids: every vehicle's, every flow's, and the vehicle ids flows generate
  const seen = new Map<string, number>();
  d.vehicles.forEach((v, i) => {
    const first = seen.get(v.id);
    if (first !== undefined)
      throw new InputError(
        d.source,
        `vehicle id "${v.id}" is given twice: vehicle ${first} and vehicle ${i} (in file order)`,
      );
    seen.set(v.id, i);
  });
  const flowIds = new Set<string>();
  for (const f of d.flows) {
    if (flowIds.has(f.id)) throw new InputError(d.source, `flow id "${f.id}" is given twice`);
    flowIds.add(f.id);
  }
  for (const [id, i] of seen) {
    const m = /^(.*)\.(\d+)$/.exec(id);
    if (!m || !flowIds.has(m[1]!)) continue;
    const k = Number(m[2]);
    if (String(k) === m[2] && k < (perFlow.get(m[1]!) ?? 0)) {
      throw new InputError(
        d.source,
        `vehicle id "${id}" is used twice: by vehicle ${i} (in file order) and by flow "${m[1]}", whose vehicle ${k} it names`,
      );
    }
  }
}
