/**
 * The control API of a partitioned run (`tessds run --workers N --http PORT`): the ControlBackend of
 * the embedded master. Commands go to the master's desk (cluster/command-desk.ts), which schedules
 * them beyond every part's step and logs them; vehicle positions come from every worker and are
 * merged here.
 */
import type { EmbeddedController } from '../cluster/embedded.js';
import type { DeskCommand } from '../cluster/command-desk.js';
import type { RunStatus } from '../cluster/status.js';
import { RequestError } from '../errors.js';
import {
  decodeFrame,
  mergeFrames,
  type CommandAnswer,
  type ControlBackend,
  type NetworkView,
  type VehicleFrame,
  type Viewport,
} from './backend.js';
import { networkView } from './positions.js';
import { parseCommand } from './run-control.js';
import { simCommandParser } from './sim-commands.js';
import type { Metrics } from './metrics.js';

export class EmbeddedBackend implements ControlBackend {
  private view?: NetworkView;
  private last = { at: 0, step: 0, ups: 0 };
  private recoveries = 0;
  /** the master's handle, once the run is set up (the server listens before: a bad port fails early) */
  private controller?: EmbeddedController;

  private attached!: (c: EmbeddedController) => void;
  /** commands that arrive while the run is being set up wait for it (never lost, never hanging) */
  private readonly ready = new Promise<EmbeddedController>((resolve) => (this.attached = resolve));

  constructor(private readonly metrics?: Metrics) {}

  attach(c: EmbeddedController): void {
    this.controller = c;
    this.attached(c);
    const m = this.metrics;
    if (!m) return;
    m.beforeScrape = () => this.refresh(c.status());
    const running = new Map<number, number>();
    const arrived = new Map<number, number>();
    const sent = new Map<number, { messages: number; bytes: number }>();
    c.onWorkerStatus = (s) => {
      running.set(s.workerId, s.running);
      arrived.set(s.workerId, s.arrived);
      m.running.set([...running.values()].reduce((a, b) => a + b, 0));
      m.arrived.set([...arrived.values()].reduce((a, b) => a + b, 0));
      for (const p of s.parts) {
        // counts are per process: a replacement starts again at 0 and re-sends what it replays
        const before = sent.get(p.part) ?? { messages: 0, bytes: 0 };
        const now = { messages: p.sentMessages ?? 0, bytes: p.sentBytes ?? 0 };
        if (now.messages > before.messages)
          m.borderMessages.inc({ part: String(p.part) }, now.messages - before.messages);
        if (now.bytes > before.bytes) m.borderBytes.inc({ part: String(p.part) }, now.bytes - before.bytes);
        sent.set(p.part, {
          messages: Math.max(now.messages, before.messages),
          bytes: Math.max(now.bytes, before.bytes),
        });
      }
      for (const sec of s.checkpointSeconds ?? []) m.checkpointSeconds.observe(sec);
      this.refresh(c.status());
    };
  }

  /** The metrics that follow from the master's status object. */
  private refresh(s: RunStatus): void {
    const m = this.metrics;
    if (!m) return;
    m.step.set(s.step);
    const r = s.recoveries ?? 0;
    if (r > this.recoveries) m.recoveries.inc(r - this.recoveries);
    this.recoveries = r;
    m.paused.set(s.state === 'paused' ? 1 : 0);
    const store = this.controller?.store();
    if (store) m.storeUp.set({ store: store.url }, store.up ? 1 : 0);
    for (const w of s.workers)
      if (w.heartbeatAgeMs !== undefined) m.leaseAge.set({ worker: String(w.id) }, w.heartbeatAgeMs / 1000);
  }

  private get c(): EmbeddedController {
    if (!this.controller) throw new RequestError(503, 'the run is still being set up; try again in a moment');
    return this.controller;
  }

  status(): RunStatus {
    if (!this.controller)
      return { step: 0, state: 'starting', workers: [], leader: { pid: process.pid, host: '', epoch: 0 } };
    const s = this.c.status();
    this.refresh(s);
    // the viewer draws closed lanes: they follow from the command log
    const closed = new Set<string>();
    for (const c of this.c.simLog()) {
      if (c.type === 'closeLane') closed.add(this.c.net.laneIds[c.lane]!);
      else if (c.type === 'openLane') closed.delete(this.c.net.laneIds[c.lane]!);
    }
    return { ...s, closedLanes: [...closed] } as RunStatus;
  }

  network(): NetworkView {
    return (this.view ??= networkView(this.c.net, this.c.laneOwner));
  }

  async command(body: unknown): Promise<CommandAnswer> {
    let cmd: DeskCommand;
    await this.ready;
    try {
      const parsed = parseCommand(body, simCommandParser);
      cmd = parsed.kind === 'sim' ? { type: 'sim', command: parsed.command } : parsed.command;
    } catch (e) {
      if (e instanceof RequestError) return { status: e.status, body: { error: e.message } };
      throw e;
    }
    const s = this.c.status().state;
    if (s === 'finished' || s === 'failed')
      return { status: 409, body: { error: `the run has ${s}; no more commands` } };
    const a = await this.c.submit(cmd);
    this.metrics?.commands.inc({ type: a.body.type ?? cmd.type });
    if (a.body.error !== undefined) return { status: a.status, body: { error: a.body.error } };
    return {
      status: a.status,
      body: { id: a.body.id ?? -1, type: a.body.type ?? cmd.type, effectiveStep: a.body.effectiveStep ?? 0 },
    };
  }

  async frame(viewport?: Viewport): Promise<VehicleFrame> {
    const frames = (
      await this.c.frames(viewport ? [viewport[0], viewport[1], viewport[2], viewport[3]] : undefined)
    ).map((b) => decodeFrame(b));
    const f = mergeFrames(frames);
    // vehicle updates per second, roughly: running vehicles × steps per second over the last half second or more
    const now = Date.now();
    if (now - this.last.at >= 500) {
      const stepsPerSecond = this.last.at ? Math.max(0, f.step - this.last.step) / ((now - this.last.at) / 1000) : 0;
      this.last = { at: now, step: f.step, ups: stepsPerSecond * f.running };
    }
    f.ups = this.last.ups;
    return f;
  }
}
