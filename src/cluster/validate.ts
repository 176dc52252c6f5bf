/**
 * Every control message read from a socket is checked against its type before use (DESIGN.md
 * "Security": no byte sequence crashes a process). One schema per `type` of each union, in a mapped
 * type, so a message type added to protocol.ts without a schema here does not compile. A message
 * that fails is a WireError naming the field; the frame layer closes that connection (frames.ts).
 */
import type { LoggedCommand, MasterMessage, PeerMessage, WorkerMessage } from './protocol.js';
import type { AgentMessage, FromAgent, LeaderMessage, ToAgent } from './distributed/messages.js';

export class WireError extends Error {
  override readonly name = 'WireError';
}

/** JSON control messages nest a few levels (a plan holds the scenario): far below this. */
export const MAX_WIRE_DEPTH = 64;

type Check = (v: unknown, path: string) => void;

const fail = (path: string, what: string): never => {
  throw new WireError(`${path}: expected ${what}`);
};
const int: Check = (v, p) => void (Number.isSafeInteger(v) || fail(p, 'an integer'));
const nat: Check = (v, p) => void ((Number.isSafeInteger(v) && (v as number) >= 0) || fail(p, 'an integer ≥ 0'));
const num: Check = (v, p) => void ((typeof v === 'number' && Number.isFinite(v)) || fail(p, 'a finite number'));
const str: Check = (v, p) => void (typeof v === 'string' || fail(p, 'a string'));
const bool: Check = (v, p) => void (typeof v === 'boolean' || fail(p, 'true or false'));
const any: Check = () => undefined;
const port: Check = (v, p) =>
  void ((Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535) || fail(p, 'a port'));
const object: Check = (v, p) =>
  void ((typeof v === 'object' && v !== null && !Array.isArray(v)) || fail(p, 'an object'));
const arr =
  (of: Check, length?: number): Check =>
  (v, p) => {
    if (!Array.isArray(v) || (length !== undefined && v.length !== length))
      fail(p, length === undefined ? 'a list' : `a list of ${length}`);
    (v as unknown[]).forEach((x, i) => of(x, `${p}[${i}]`));
  };
const oneOf =
  (...values: string[]): Check =>
  (v, p) =>
    void (values.includes(v as string) || fail(p, values.map((x) => `"${x}"`).join(' or ')));
const either =
  (a: Check, b: Check, what: string): Check =>
  (v, p) => {
    try {
      a(v, p);
    } catch {
      try {
        b(v, p);
      } catch {
        fail(p, what);
      }
    }
  };

/** An object with these fields (a `?` suffix: optional; absent and undefined are the same). Other fields are ignored. */
function shape(fields: Record<string, Check>): Check {
  const list = Object.entries(fields).map(([k, c]) =>
    k.endsWith('?') ? ([k.slice(0, -1), c, true] as const) : ([k, c, false] as const),
  );
  return (v, p) => {
    object(v, p);
    const o = v as Record<string, unknown>;
    for (const [k, c, optional] of list) {
      const x = o[k];
      if (x === undefined) {
        if (!optional) fail(`${p}.${k}`, 'a value');
        continue;
      }
      c(x, `${p}.${k}`);
    }
  };
}

/** A tagged union: a schema for every `type`, checked by the mapped type. */
function union<T extends { type: string }>(schemas: { [K in T['type']]: Record<string, Check> }): (
  v: unknown,
  p: string,
) => T {
  const checks = new Map<string, Check>(
    Object.entries(schemas).map(([t, f]) => [t, shape(f as Record<string, Check>)]),
  );
  return (v, p) => {
    object(v, p);
    const t = (v as { type?: unknown }).type;
    const c = typeof t === 'string' ? checks.get(t) : undefined;
    if (!c) fail(`${p}.type`, [...checks.keys()].map((x) => `"${x}"`).join(', '));
    c!(v, p);
    return v as T;
  };
}

const hello = { workerId: nat, pid: int, host: str, port, 'preloaded?': str };

const workerSchemas: { [K in WorkerMessage['type']]: Record<string, Check> } = {
  hello,
  ready: { workerId: nat },
  status: {
    workerId: nat,
    parts: arr(shape({ part: nat, step: nat, 'sentMessages?': num, 'sentBytes?': num })),
    running: num,
    arrived: num,
    'checkpointSeconds?': arr(num),
  },
  checkpoint: { workerId: nat, part: nat, step: nat },
  store: { workerId: nat, up: bool, at: num, step: num, 'error?': str },
  done: { workerId: nat, stepSeconds: num },
  failed: { workerId: nat, message: str },
};
const workerMessage = union<WorkerMessage>(workerSchemas);

const loggedCommand: Check = (v, p) => {
  shape({ seq: nat, step: nat, parts: either(oneOf('all'), arr(nat), '"all" or a list of parts'), command: object })(
    v,
    p,
  );
  const c = (v as LoggedCommand).command;
  oneOf('stop', 'checkpoint', 'sim')(c.type, `${p}.command.type`);
  if (c.type === 'sim' && !('resolved' in c)) fail(`${p}.command.resolved`, 'a value');
};
const pace = shape({ 'factor?': num, anchorStep: num, anchorAt: num });
const address = shape({ workerId: nat, host: str, port });

const plan = {
  'spec?': object,
  'scenarioId?': str,
  parts: nat,
  junctionPart: arr(nat),
  hosted: arr(nat),
  partWorker: arr(nat),
  peers: arr(address),
  check: bool,
  checkpointEvery: nat,
  'store?': shape({ url: str, project: str, plan: str }),
  'recoverFrom?': nat,
  'realtimeFactor?': num,
  'startedAt?': num,
  'heartbeatMs?': num,
  'faults?': arr(shape({ step: nat, worker: nat, kind: oneOf('cut', 'delay', 'drop'), 'ms?': num })),
  'horizon?': num,
  'commands?': arr(loggedCommand),
  'pace?': pace,
  'log?': shape({ 'file?': str, 'json?': bool, 'level?': str, plan: str }),
};

const masterSchemas = {
  plan,
  start: {},
  grant: { horizon: num },
  command: { entry: loggedCommand },
  pace: { pace },
  'frame-request': { id: nat, 'viewport?': arr(num, 4) },
  committed: { step: nat },
  'peer-restart': { workerId: nat, host: str, port, step: nat },
  shutdown: {},
};
const masterMessage = union<MasterMessage>(masterSchemas);

const peerMessage = union<PeerMessage>({ peer: { workerId: nat } });

const sessionInfo = shape({
  plan: str,
  slot: nat,
  'port?': port,
  'hello?': shape({ type: oneOf('hello'), ...hello }),
  planned: bool,
  ready: bool,
  started: bool,
  done: bool,
});

const agentSchemas = {
  agent: { workerId: nat, pid: int, host: str, listenHost: str, epoch: nat, 'session?': sessionInfo },
  idle: { workerId: nat },
  heartbeat: { workerId: nat },
};
const fromAgent = union<FromAgent>({ ...agentSchemas, ...workerSchemas });

const leaderSchemas = {
  assign: { epoch: nat, plan: str, slot: nat },
  fenced: { epoch: nat, reason: str },
};
// (the mapped types check each set whole: every type of the union has its schema)
const toAgent = union<ToAgent>({ ...leaderSchemas, ...masterSchemas, plan: { ...plan, 'spec?': any } });
void union<AgentMessage>(agentSchemas);
void union<LeaderMessage>(leaderSchemas);

/**
 * How deeply `text` (JSON) nests, counted without parsing; stops counting past `limit`. JSON.parse
 * itself takes any depth, but whatever walks the result recursively (JSON.stringify in a log line)
 * overflows the stack on 100 000 levels: callers refuse such text first.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses a control frame's JSON (WireError on bad JSON or nesting past MAX_WIRE_DEPTH). */
export function parseWireJson(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  if (jsonDepth(text, MAX_WIRE_DEPTH) > MAX_WIRE_DEPTH)
    throw new WireError(`nested deeper than ${MAX_WIRE_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new WireError(`not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** worker → master (embedded master; a distributed agent's relay) */
export const readWorkerMessage = (payload: Buffer): WorkerMessage => workerMessage(parseWireJson(payload), 'message');
/** master → worker */
export const readMasterMessage = (payload: Buffer): MasterMessage => masterMessage(parseWireJson(payload), 'message');
/** worker ↔ worker, the first frame on a peer link */
export const readPeerMessage = (payload: Buffer): PeerMessage => peerMessage(parseWireJson(payload), 'message');
/** agent → leader: the agent's own messages and its session's */
export const readFromAgent = (payload: Buffer): FromAgent => fromAgent(parseWireJson(payload), 'message');
/** leader → agent */
export const readToAgent = (payload: Buffer): ToAgent => toAgent(parseWireJson(payload), 'message');

/** A border message's fixed head: [u32 magic][i32 from part][i32 to part][i32 step][i32 ×3 counts] (sim/partition.ts collectOutbox). */
export const BORDER_HEAD_BYTES = 28;
