/**
 * `tessds report DIR`: a static HTML page with plots from the files a run wrote into DIR. It looks for
 * these names (write them with `tessds run ... --summary DIR/summary.json --tripinfo DIR/tripinfo.xml
 * --status-file DIR/status.json --save-partition DIR/partition.json`):
 *
 *   summary.json                 the --summary JSON             → summary table
 *   tripinfo.xml                 the --tripinfo XML (SUMO's)    → vehicles over time, travel times, speeds, time loss
 *   status.json                  the --status-file JSON         → final state, workers, events
 *   partition.json|partition.txt the --save-partition map (or one as for --partition-map) → partition map colours
 *   the scenario                 --scenario FILE, else DIR/scenario.json or the one *.sumocfg in DIR → the map
 *
 * At least one of the first three must exist. Writes DIR/report.html (or --output FILE).
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError, isUserError } from '../errors.js';
import { readTextFile } from '../io/files.js';
import { loadScenario } from '../io/scenario.js';
import { Network } from '../sim/network.js';
import { loadPartitionMap } from '../partition/mapfile.js';
import { makePartition } from '../partition/plan.js';
import type { RunStatus } from '../cluster/status.js';
import { networkView } from '../control/positions.js';
import { readTripinfo, renderReport, type ReportInputs } from '../control/report.js';

export const REPORT_FILES = {
  summary: 'summary.json',
  tripinfo: 'tripinfo.xml',
  status: 'status.json',
  partition: ['partition.json', 'partition.txt'],
  scenario: 'scenario.json',
} as const;

function readJson(path: string, what: string): unknown {
  const text = readTextFile(path, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(path, `not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

export interface ReportOptions {
  /** the run's scenario, for the map */
  scenario?: string;
  /** default DIR/report.html */
  output?: string;
}

/** Writes the report; returns its path. */
export function reportCommand(dir: string, o: ReportOptions = {}): string {
  if (!existsSync(dir)) throw new InputError(dir, 'directory not found');
  if (!statSync(dir).isDirectory())
    throw new InputError(dir, 'is not a directory; give the directory a run wrote its outputs to');
  const inputs: ReportInputs = { dir, sources: [] };
  const at = (name: string) => join(dir, name);

  const summaryPath = at(REPORT_FILES.summary);
  if (existsSync(summaryPath)) {
    const s = readJson(summaryPath, 'a summary JSON');
    if (typeof s !== 'object' || s === null || Array.isArray(s))
      throw new InputError(summaryPath, 'expected a JSON object (the --summary output)');
    inputs.summary = s as Record<string, unknown>;
  }
  inputs.sources.push({ file: REPORT_FILES.summary, found: inputs.summary !== undefined });

  const tripPath = at(REPORT_FILES.tripinfo);
  if (existsSync(tripPath)) inputs.trips = readTripinfo(tripPath);
  inputs.sources.push({
    file: REPORT_FILES.tripinfo,
    found: inputs.trips !== undefined,
    note: inputs.trips ? `${inputs.trips.length} arrived vehicles` : 'no travel times, speeds or vehicles over time',
  });

  const statusPath = at(REPORT_FILES.status);
  if (existsSync(statusPath)) {
    const s = readJson(statusPath, 'a status JSON') as RunStatus;
    if (typeof s !== 'object' || s === null || !Array.isArray(s.workers))
      throw new InputError(statusPath, 'expected the --status-file object {step, state, workers, leader}');
    inputs.status = s;
  }
  inputs.sources.push({ file: REPORT_FILES.status, found: inputs.status !== undefined });

  if (!inputs.summary && !inputs.trips && !inputs.status) {
    throw new InputError(
      dir,
      `found none of ${REPORT_FILES.summary}, ${REPORT_FILES.tripinfo}, ${REPORT_FILES.status}; write them with run --summary, --tripinfo, --status-file`,
    );
  }

  // the map: the scenario's network, coloured by the partition map if there is one
  let scenario = o.scenario;
  if (scenario === undefined) {
    if (existsSync(at(REPORT_FILES.scenario))) scenario = at(REPORT_FILES.scenario);
    else {
      const cfgs = readdirSync(dir).filter((f) => f.endsWith('.sumocfg'));
      if (cfgs.length === 1) scenario = at(cfgs[0]!);
    }
  }
  const mapName = REPORT_FILES.partition.find((f) => existsSync(at(f)));
  if (scenario) {
    const net = new Network(loadScenario(scenario).net);
    let owner: Int32Array | undefined;
    if (mapName) {
      try {
        owner = makePartition(net, undefined, { map: loadPartitionMap(at(mapName)) }).laneOwner;
      } catch (e) {
        if (e instanceof UsageError) throw new InputError(at(mapName), e.message.replace(/^partition map: /, ''));
        throw e;
      }
    }
    inputs.network = networkView(net, owner);
    inputs.sources.push({ file: scenario, found: true, note: 'network for the map' });
  } else {
    inputs.sources.push({
      file: 'scenario',
      found: false,
      note: `no map: give --scenario FILE, or put ${REPORT_FILES.scenario} or one .sumocfg in the directory`,
    });
  }
  inputs.sources.push({
    file: REPORT_FILES.partition.join(' | '),
    found: mapName !== undefined,
    note: mapName ? undefined : 'the map shows one part (write the parts with run --save-partition)',
  });

  const out = o.output ?? at('report.html');
  try {
    writeFileSync(out, renderReport(inputs));
  } catch (e) {
    if (isUserError(e)) throw e;
    throw new UsageError(`--output: cannot write ${out} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return out;
}
