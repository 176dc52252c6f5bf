/**
 * A TraCI session on a one-process engine: the commands of the clients' messages answered in order
 * (SUMO 1.15's replies, byte for byte in layout), setters turned into commands of the run's command
 * log, variable subscriptions answered after every step. The server (server.ts) owns the sockets and
 * decides when a step runs (every client asked for it); this file owns no I/O.
 */
import type { Engine } from '../../sim/engine.js';
import { CommandError } from '../../errors.js';
import type { ResolvedCommand, SimCommand } from '../../sim/commands.js';
import { resolveSimCommand } from '../../sim/commands-resolve.js';
import { applyCommand } from '../../sim/commands-apply.js';
import * as C from './constants.js';
import { TraciContext, TraciError } from './context.js';
import { getVariable, isGetDomain } from './getters.js';
import { isSetDomain, setVariable } from './setters.js';
import { Reader, TypeMismatch, WireError, Writer, splitCommands, writeCommand, writeStatus } from './wire.js';

/**
 * One subscription: the domain's get command, the object and its variables; a context subscription
 * also the domain of the objects around it and the range (m).
 */
interface Subscription {
  getCmd: number;
  id: string;
  vars: number[];
  context?: { domain: number; range: number };
}

/** A client's state in the session. */
export class TraciClient {
  order = 0;
  readonly subscriptions: Subscription[] = [];
  /** the target time of the simulationStep it waits for (0: one step), undefined: not waiting */
  stepTarget: number | undefined;
  /** the step at which it asked (a target of 0 is reached after one step) */
  stepAsked = 0;
  /** the replies of the commands before the simulationStep of its message, sent with the step's reply */
  stepPrefix: Buffer | undefined;
  closed = false;
}

/** A logged command in the form `tessds run --commands` reads. */
export type ScriptedTraciCommand = SimCommand & { step: number };

export class TraciSession {
  readonly ctx: TraciContext;
  /** the run's command log, resolved (what applyCommand applied) */
  readonly resolved: ResolvedCommand[] = [];
  /** the same commands as `--commands` reads them, to replay the session */
  readonly script: ScriptedTraciCommand[] = [];

  /** called around every step (SUMO's per-step outputs) */
  stepHook?: { before(): void; after(): void };

  constructor(readonly engine: Engine) {
    this.ctx = new TraciContext(engine);
  }

  /**
   * Answers the commands of one message from `client`. A simulationStep stops the answering: the
   * replies so far are kept on the client, and the server calls `stepReply` once the step is done
   * (commands after it in the same message are answered then). Throws WireError for a message whose
   * command framing is broken (the server closes that connection).
   */
  handle(body: Buffer, client: TraciClient): { reply?: Buffer; rest?: Buffer } {
    const commands = splitCommands(body);
    const out = new Writer();
    for (let k = 0; k < commands.length; k++) {
      const c = commands[k]!;
      if (c.id === C.CMD_SIMSTEP) {
        const r = new Reader(c.payload);
        let target = 0;
        try {
          target = r.double();
        } catch {
          writeStatus(out, c.id, C.RTYPE_ERR, 'simulationStep needs a target time (double)');
          continue;
        }
        if (target > 0 && this.engine.time() >= target - 1e-9) {
          // a target not after the current time: no step (SUMO), the subscriptions as they are
          this.writeStepResults(client, out);
          continue;
        }
        client.stepTarget = Number.isFinite(target) ? target : 0;
        client.stepAsked = this.engine.step;
        client.stepPrefix = out.toBuffer();
        const rest = commands.slice(k + 1);
        return { rest: rest.length ? rejoin(rest) : undefined };
      }
      this.answer(c.id, c.payload, client, out);
    }
    return { reply: out.toBuffer() };
  }

  /** Has the step `client` asked for been reached? */
  reached(client: TraciClient): boolean {
    if (client.stepTarget === undefined) return true;
    if (client.stepTarget <= 0) return this.engine.step > client.stepAsked;
    return this.engine.time() >= client.stepTarget - 1e-9;
  }

  /** One simulation step. */
  step(): void {
    this.ctx.view.beforeStep();
    this.stepHook?.before();
    this.engine.doStep();
    this.ctx.stepped();
    this.stepHook?.after();
  }

  /** The reply to `client`'s simulationStep: its earlier replies, the status, and its subscriptions' results. */
  stepReply(client: TraciClient): Buffer {
    const out = new Writer();
    if (client.stepPrefix) out.bytes(client.stepPrefix);
    client.stepPrefix = undefined;
    client.stepTarget = undefined;
    this.writeStepResults(client, out);
    return out.toBuffer();
  }

  /** simulationStep's status and the client's subscription results (subscriptions whose object is gone end). */
  private writeStepResults(client: TraciClient, out: Writer): void {
    writeStatus(out, C.CMD_SIMSTEP);
    const results: Buffer[] = [];
    client.subscriptions.splice(
      0,
      client.subscriptions.length,
      ...client.subscriptions.filter((s) => {
        const b = this.subscriptionResult(s);
        if (b) results.push(b);
        // a vehicle that left the road ends its subscription (SUMO)
        return b !== undefined;
      }),
    );
    out.int(results.length);
    for (const b of results) out.bytes(b);
  }

  private answer(id: number, payload: Buffer, client: TraciClient, out: Writer): void {
    try {
      if (id === C.CMD_GETVERSION) {
        writeStatus(out, id);
        const w = new Writer().int(C.TRACI_VERSION).string(C.TRACI_VERSION_STRING);
        writeCommand(out, id, w.toBuffer());
      } else if (id === C.CMD_CLOSE) {
        client.closed = true;
        writeStatus(out, id);
      } else if (id === C.CMD_SETORDER) {
        client.order = new Reader(payload).int();
        writeStatus(out, id);
      } else if (isGetDomain(id)) {
        const r = new Reader(payload);
        const varId = r.ubyte();
        const obj = r.string();
        const value = new Writer().ubyte(varId).string(obj);
        getVariable(this.ctx, id, varId, obj, r, value);
        writeStatus(out, id);
        writeCommand(out, id + C.RESPONSE_OFFSET, value.toBuffer());
      } else if (isSetDomain(id)) {
        const r = new Reader(payload);
        const varId = r.ubyte();
        const obj = r.string();
        const cmd = setVariable(this.ctx, id, varId, obj, r);
        if (cmd) this.apply(cmd);
        writeStatus(out, id);
      } else if (id >= 0xd0 && id <= 0xdf && isGetDomain(id - C.SUBSCRIBE_OFFSET)) {
        this.subscribe(id, payload, client, out);
      } else if (id >= 0x80 && id <= 0x8f && isGetDomain(id + C.CONTEXT_OFFSET)) {
        this.subscribe(id, payload, client, out, true);
      } else {
        writeStatus(out, id, C.RTYPE_NOTIMPLEMENTED, `Command 0x${id.toString(16)} is not implemented in TessDS`);
      }
    } catch (e) {
      if (e instanceof TraciError || e instanceof TypeMismatch || e instanceof WireError)
        writeStatus(out, id, C.RTYPE_ERR, e.message);
      else throw e;
    }
  }

  /** Resolves, applies (at this step boundary) and logs a setter's command. */
  private apply(cmd: SimCommand): void {
    let resolved: ResolvedCommand;
    try {
      resolved = resolveSimCommand(this.engine.net, this.engine.demand, cmd, {
        effectiveStep: this.engine.step,
        prior: this.resolved,
      });
    } catch (e) {
      if (e instanceof CommandError) throw new TraciError(e.message);
      throw e;
    }
    applyCommand(this.engine, resolved);
    if ('tl' in resolved) this.ctx.touch(resolved.tl);
    this.resolved.push(resolved);
    this.script.push({ step: this.engine.step, ...cmd });
    this.ctx.view.invalidate(resolved.type === 'removeVehicle' ? resolved.vehicle : undefined);
  }

  private subscribe(id: number, payload: Buffer, client: TraciClient, out: Writer, isContext = false): void {
    const r = new Reader(payload);
    r.double(); // begin
    r.double(); // end
    const obj = r.string();
    let context: Subscription['context'];
    if (isContext) {
      const domain = r.ubyte();
      const range = r.double();
      if (domain !== C.CMD_GET_VEHICLE_VARIABLE)
        throw new TraciError(
          `TessDS answers context subscriptions for vehicles only (domain 0x${domain.toString(16)})`,
        );
      context = { domain, range };
    }
    const n = r.ubyte();
    const vars: number[] = [];
    for (let k = 0; k < n; k++) vars.push(r.ubyte());
    if (r.remaining > 0) throw new TraciError('TessDS does not support subscription parameters');
    const getCmd = isContext ? id + C.CONTEXT_OFFSET : id - C.SUBSCRIBE_OFFSET;
    if (context) contextShape(this.ctx, getCmd, obj); // an unknown object is an error now
    const at = client.subscriptions.findIndex((s) => s.getCmd === getCmd && s.id === obj && !s.context === !context);
    if (at >= 0) client.subscriptions.splice(at, 1);
    if (n === 0) {
      writeStatus(out, id); // unsubscribe
      return;
    }
    const sub: Subscription = { getCmd, id: obj, vars, ...(context ? { context } : {}) };
    const result = this.subscriptionResult(sub, true);
    client.subscriptions.push(sub);
    writeStatus(out, id);
    out.bytes(result!);
  }

  /** A subscription's result (framed as a command), or undefined when its object is gone. */
  private subscriptionResult(s: Subscription, strict = false): Buffer | undefined {
    if (s.context) return this.contextResult(s, s.context, strict);
    const w = new Writer().string(s.id).ubyte(s.vars.length);
    for (const v of s.vars) {
      w.ubyte(v).ubyte(C.RTYPE_OK);
      try {
        getVariable(this.ctx, s.getCmd, v, s.id, new Reader(Buffer.alloc(0)), w);
      } catch (e) {
        if (strict || !(e instanceof TraciError)) throw e;
        return undefined;
      }
    }
    const out = new Writer();
    writeCommand(out, s.getCmd + C.SUBSCRIBE_OFFSET + C.RESPONSE_OFFSET, w.toBuffer());
    return out.toBuffer();
  }

  /** A context subscription's result: the vehicles within range of the object, each with the variables. */
  private contextResult(
    s: Subscription,
    context: NonNullable<Subscription['context']>,
    strict: boolean,
  ): Buffer | undefined {
    let near: string[];
    try {
      near = vehiclesNear(this.ctx, contextShape(this.ctx, s.getCmd, s.id), context.range);
    } catch (e) {
      if (strict || !(e instanceof TraciError)) throw e;
      return undefined;
    }
    const w = new Writer().string(s.id).ubyte(context.domain).ubyte(s.vars.length).int(near.length);
    for (const vid of near) {
      w.string(vid);
      for (const v of s.vars) {
        w.ubyte(v).ubyte(C.RTYPE_OK);
        getVariable(this.ctx, context.domain, v, vid, new Reader(Buffer.alloc(0)), w);
      }
    }
    const out = new Writer();
    writeCommand(out, s.getCmd - C.CONTEXT_OFFSET + C.RESPONSE_OFFSET, w.toBuffer());
    return out.toBuffer();
  }
}

/** The points (a polyline, or one point) a context subscription's range is measured from. */
function contextShape(ctx: TraciContext, getCmd: number, id: string): Float64Array[] {
  const e = ctx.engine;
  const net = e.net;
  const shapes = ctx.geometry.shapes;
  switch (getCmd) {
    case C.CMD_GET_LANE_VARIABLE:
      return [shapes[ctx.lane(id)]!];
    case C.CMD_GET_EDGE_VARIABLE: {
      const edge = ctx.edge(id);
      return Array.from({ length: net.edgeLaneCount[edge]! }, (_, k) => shapes[net.edgeFirstLane[edge]! + k]!);
    }
    case C.CMD_GET_VEHICLE_VARIABLE: {
      const slot = ctx.vehicle(id);
      const [x, y] = ctx.geometry.at(e.v.lane[slot]!, e.v.pos[slot]!);
      return [Float64Array.of(x, y)];
    }
    case C.CMD_GET_JUNCTION_VARIABLE: {
      const [x, y] = ctx.junctionPosition(id);
      return [Float64Array.of(x, y)];
    }
    default:
      throw new TraciError(`TessDS answers context subscriptions around lanes, edges, vehicles and junctions only`);
  }
}

/** Ids of the vehicles on the road within `range` m of any of the polylines, in id order. */
function vehiclesNear(ctx: TraciContext, shapes: Float64Array[], range: number): string[] {
  const e = ctx.engine;
  const out: string[] = [];
  for (const id of ctx.view.vehicleIds()) {
    const slot = ctx.view.slot(ctx.vehicleIndex(id)!);
    const [x, y] = ctx.geometry.at(e.v.lane[slot]!, e.v.pos[slot]!);
    if (shapes.some((s) => distanceToPolyline(s, x, y) <= range + 1e-6)) out.push(id);
  }
  return out;
}

function distanceToPolyline(s: Float64Array, x: number, y: number): number {
  if (s.length < 4) return Math.hypot(x - s[0]!, y - s[1]!);
  let best = Infinity;
  for (let k = 0; k + 3 < s.length; k += 2) {
    const ax = s[k]!;
    const ay = s[k + 1]!;
    const dx = s[k + 2]! - ax;
    const dy = s[k + 3]! - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2)) : 0;
    best = Math.min(best, Math.hypot(x - ax - t * dx, y - ay - t * dy));
  }
  return best;
}

/** Commands back into a message body (the part of a message after its simulationStep). */
function rejoin(commands: { id: number; payload: Buffer }[]): Buffer {
  const w = new Writer();
  for (const c of commands) writeCommand(w, c.id, c.payload);
  return w.toBuffer();
}
