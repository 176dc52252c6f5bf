/**
 * The static run report (`tessds report DIR`): one self-contained HTML page with inline SVG plots made
 * from the files a run writes — the summary, SUMO-format tripinfo, the status file — and, given the
 * scenario, the partition map. No scripts, no external resources: it opens from disk anywhere.
 */
import { parseXmlFile } from '../io/xml.js';
import { InputError } from '../errors.js';
import type { RunStatus } from '../cluster/status.js';
import type { NetworkView } from './backend.js';
import { esc, histogram, histogramChart, lineChart, networkMap } from './svg.js';

/** Any value from a file, as HTML text. */
const h = (x: unknown): string =>
  esc(
    typeof x === 'string'
      ? x
      : x === undefined || x === null
        ? ''
        : typeof x === 'object'
          ? JSON.stringify(x)
          : String(x),
  );
/** An event time as ISO text; what is not a time is shown as it is. */
const isoTime = (at: unknown): string => {
  const d = new Date(at as number);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(at);
};

/** One arrived vehicle from tripinfo; s, m. */
export interface Trip {
  id: string;
  depart: number;
  arrival: number;
  duration: number;
  routeLength: number;
  timeLoss: number;
  waitingTime: number;
}

/** Reads SUMO tripinfo XML (ours or SUMO's). */
export function readTripinfo(path: string): Trip[] {
  const root = parseXmlFile(path);
  if (root.name !== 'tripinfos')
    throw new InputError(path, `expected a <tripinfos> document, found <${root.name}>`, root.line);
  const trips: Trip[] = [];
  for (const el of root.children) {
    if (el.name !== 'tripinfo') continue;
    const num = (name: string): number => {
      const raw = el.attrs[name];
      const v = raw === undefined ? NaN : Number(raw);
      if (raw === undefined || raw.trim() === '' || !Number.isFinite(v)) {
        throw new InputError(
          path,
          `tripinfo "${el.attrs.id ?? '?'}": attribute "${name}" is ${raw === undefined ? 'missing' : `not a number ("${raw}")`}`,
          el.line,
        );
      }
      return v;
    };
    trips.push({
      id: el.attrs.id ?? '',
      depart: num('depart'),
      arrival: num('arrival'),
      duration: num('duration'),
      routeLength: num('routeLength'),
      timeLoss: el.attrs.timeLoss === undefined ? 0 : num('timeLoss'),
      waitingTime: el.attrs.waitingTime === undefined ? 0 : num('waitingTime'),
    });
  }
  return trips;
}

/** Vehicles in the network over time, from departures and arrivals: a step function. */
export function vehiclesOverTime(trips: Trip[]): { t: number[]; running: number[]; arrived: number[] } {
  const ev: [number, number][] = [];
  for (const tr of trips) {
    ev.push([tr.depart, 1]);
    ev.push([tr.arrival, -1]);
  }
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const t: number[] = [],
    running: number[] = [],
    arrived: number[] = [];
  let n = 0,
    done = 0;
  for (let i = 0; i < ev.length;) {
    const time = ev[i]![0];
    while (i < ev.length && ev[i]![0] === time) {
      n += ev[i]![1];
      if (ev[i]![1] < 0) done++;
      i++;
    }
    t.push(time);
    running.push(n);
    arrived.push(done);
  }
  return { t, running, arrived };
}

export interface ReportInputs {
  /** directory the files came from, for the heading */
  dir: string;
  /** file name → what it gave, or why it is missing (shown in the report) */
  sources: { file: string; found: boolean; note?: string }[];
  summary?: Record<string, unknown>;
  trips?: Trip[];
  status?: RunStatus;
  network?: NetworkView;
}

const SUMMARY_UNITS: Record<string, string> = {
  meanDuration: 's',
  meanRouteLength: 'm',
  meanSpeed: 'm/s',
  meanTimeLoss: 's',
  meanWaitingTime: 's',
  simSeconds: 's',
  wallSeconds: 's',
  ups: 'vehicle updates/s',
};

function fmtValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 1 : 3);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function renderReport(r: ReportInputs): string {
  const sections: string[] = [];
  if (r.summary) {
    const rows = Object.entries(r.summary)
      .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(fmtValue(v))}</td><td>${esc(SUMMARY_UNITS[k] ?? '')}</td></tr>`)
      .join('\n');
    sections.push(`<section><h2>Summary</h2><table class="summary">${rows}</table></section>`);
  }
  if (r.trips) {
    const trips = r.trips;
    if (trips.length === 0)
      sections.push(
        '<section><h2>Trips</h2><p>No vehicle arrived: tripinfo is empty, so there is nothing to plot.</p></section>',
      );
    else {
      const vt = vehiclesOverTime(trips);
      const stillRunning = typeof r.summary?.running === 'number' ? (r.summary.running as number) : undefined;
      const caveat =
        stillRunning && stillRunning > 0
          ? `<p class="note">Built from tripinfo, which lists arrived vehicles only: the ${stillRunning} vehicle(s) still running at the end are missing, so the curve undercounts towards the end.</p>`
          : '<p class="note">Built from tripinfo (departure and arrival of every arrived vehicle).</p>';
      sections.push(
        `<section><h2>Vehicles over time</h2>${lineChart({
          id: 'plot-vehicles',
          title: 'Vehicles in the network and arrived',
          xLabel: 'simulation time, s',
          yLabel: 'vehicles',
          step: true,
          series: [
            { label: 'running', color: '#1f77b4', xs: vt.t, ys: vt.running },
            { label: 'arrived (cumulative)', color: '#2ca02c', xs: vt.t, ys: vt.arrived },
          ],
        })}${caveat}</section>`,
      );
      const durations = trips.map((t) => t.duration);
      sections.push(
        `<section><h2>Travel times</h2>${histogramChart({ id: 'plot-traveltime', title: `Travel time of ${trips.length} arrived vehicles`, xLabel: 'travel time (duration), s', h: histogram(durations), color: '#ff7f0e' })}</section>`,
      );
      const speeds = trips.filter((t) => t.duration > 0).map((t) => t.routeLength / t.duration);
      sections.push(
        `<section><h2>Speeds</h2>${histogramChart({ id: 'plot-speed', title: 'Mean speed per trip (route length / duration)', xLabel: 'speed, m/s', h: histogram(speeds), color: '#9467bd' })}${histogramChart({ id: 'plot-timeloss', title: 'Time loss per trip', xLabel: 'time loss, s', h: histogram(trips.map((t) => t.timeLoss)), color: '#d62728' })}</section>`,
      );
    }
  }
  if (r.network) {
    sections.push(
      `<section><h2>Partition map</h2>${networkMap({ id: 'plot-partition', title: 'Network by part', net: r.network })}<p class="note">${h(r.network.parts)} part(s); a lane belongs to the part of the junction it drives into.</p></section>`,
    );
  }
  if (r.status) {
    const s = r.status;
    // status.json is read as it is found: every field is escaped, whatever its type claims
    const rows = (Array.isArray(s.workers) ? s.workers : [])
      .map(
        (w) =>
          `<tr><td>${h(w.id)}</td><td>${h(w.pid)}</td><td>${h(w.host)}</td><td>${h(Array.isArray(w.parts) ? w.parts.join(', ') : w.parts)}</td><td>${h(w.step)}</td><td>${h(w.state)}</td></tr>`,
      )
      .join('\n');
    const events =
      (s as { events?: { at: number; type: string; worker?: number; step?: number; detail?: string }[] }).events ?? [];
    const evRows = events
      .map(
        (e) =>
          `<li>${h(isoTime(e.at))} ${h(e.type)}${e.worker !== undefined ? ` worker ${h(e.worker)}` : ''}${e.step !== undefined ? ` at step ${h(e.step)}` : ''}${e.detail ? ` — ${h(e.detail)}` : ''}</li>`,
      )
      .join('\n');
    sections.push(
      `<section><h2>Final status</h2><p>state <b>${h(s.state)}</b> at step ${h(s.step)}; leader pid ${h(s.leader?.pid ?? '?')} (epoch ${h(s.leader?.epoch ?? '?')})</p><table><tr><th>worker</th><th>pid</th><th>host</th><th>parts</th><th>step</th><th>state</th></tr>${rows}</table>${events.length ? `<h3>Events</h3><ol>${evRows}</ol>` : ''}</section>`,
    );
  }
  const sourceList = r.sources
    .map(
      (s) =>
        `<li><code>${esc(s.file)}</code>: ${s.found ? 'read' : 'not found'}${s.note ? ` — ${esc(s.note)}` : ''}</li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TessDS run report — ${esc(r.dir)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1320px; padding: 0 16px; color: #222; background: #fafafa; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
section { margin-bottom: 12px; }
svg.plot { border: 1px solid #ddd; margin: 6px 12px 6px 0; vertical-align: top; background: #fff; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 2px 10px 2px 0; border-bottom: 1px solid #eee; }
.note { color: #555; font-size: 13px; }
</style>
</head>
<body>
<h1>TessDS run report</h1>
<p>From <code>${esc(r.dir)}</code>, written ${esc(new Date().toISOString())}.</p>
<ul class="sources">${sourceList}</ul>
${sections.join('\n')}
</body>
</html>
`;
}
