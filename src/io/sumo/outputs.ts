/**
 * SUMO's per-step outputs, written as SUMO 1.15 writes them (so sumolib and users' scripts read
 * them): `--summary-output` (one <step> per step) and `--fcd-output` (a <timestep> of <vehicle>s).
 * Streamed: one write per step, nothing kept in memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** A file of one root element whose children are written as they come. */
export class XmlStream {
  private readonly fd: number;
  private closed = false;
  constructor(
    path: string,
    private readonly root: string,
    schema: string,
  ) {
    this.fd = openSync(path, 'w');
    writeSync(
      this.fd,
      `<?xml version="1.0" encoding="UTF-8"?>\n\n<${root} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://sumo.dlr.de/xsd/${schema}">\n`,
    );
  }

  write(text: string): void {
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    writeSync(this.fd, `</${this.root}>\n`);
    closeSync(this.fd);
  }
}

/** One <step> of SUMO's summary output. */
export interface SummaryStep {
  time: number;
  loaded: number;
  inserted: number;
  running: number;
  waiting: number;
  ended: number;
  arrived: number;
  teleports: number;
  halting: number;
  stopped: number;
  meanWaitingTime: number;
  /** over the vehicles arrived so far, s; -1 while none has */
  meanTravelTime: number;
  meanSpeed: number;
  meanSpeedRelative: number;
  /** wall ms of the step */
  duration: number;
}

const f2 = (x: number) => x.toFixed(2);

export function summaryStepXml(s: SummaryStep): string {
  return `    <step time="${f2(s.time)}" loaded="${s.loaded}" inserted="${s.inserted}" running="${s.running}" waiting="${s.waiting}" ended="${s.ended}" arrived="${s.arrived}" collisions="0" teleports="${s.teleports}" halting="${s.halting}" stopped="${s.stopped}" meanWaitingTime="${f2(s.meanWaitingTime)}" meanTravelTime="${f2(s.meanTravelTime)}" meanSpeed="${f2(s.meanSpeed)}" meanSpeedRelative="${f2(s.meanSpeedRelative)}" duration="${Math.round(s.duration)}"/>\n`;
}

/** One <vehicle> of an FCD <timestep>. */
export interface FcdVehicle {
  id: string;
  x: number;
  y: number;
  angle: number;
  type: string;
  speed: number;
  pos: number;
  lane: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function fcdVehicleXml(v: FcdVehicle): string {
  return `        <vehicle id="${esc(v.id)}" x="${f2(v.x)}" y="${f2(v.y)}" angle="${f2(v.angle)}" type="${esc(v.type)}" speed="${f2(v.speed)}" pos="${f2(v.pos)}" lane="${esc(v.lane)}" slope="0.00"/>\n`;
}
