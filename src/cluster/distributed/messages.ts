/**
 * Control messages between a worker agent (`tessds worker`) and the leader (`tessds master`), on the
 * same framed TCP connection that also carries the plan session's own messages (protocol.ts): the agent
 * relays its session's WorkerMessages to the leader and the leader's MasterMessages to its session.
 * The `type` names of both sets are distinct, so one switch tells them apart.
 */
import type { MasterMessage, WorkerMessage } from '../protocol.js';

/** What a worker agent is doing for a plan, told to every new leader. */
export interface SessionInfo {
  plan: string;
  slot: number;
  /** border-message port of the session (once it said hello) */
  port?: number;
  /** the session's first message, once sent: the leader uses it as the slot's hello */
  hello?: Extract<WorkerMessage, { type: 'hello' }>;
  /** the session received its plan message */
  planned: boolean;
  /** the session said it is ready (linked to its peers) */
  ready: boolean;
  /** the session was told to start (or, restored from a checkpoint, started by itself) */
  started: boolean;
  /** the session finished stepping and wrote its dumps */
  done: boolean;
}

/** agent → leader */
export type AgentMessage =
  /** first message on a connection to a leader */
  | {
      type: 'agent';
      workerId: number;
      pid: number;
      host: string;
      listenHost: string;
      epoch: number;
      session?: SessionInfo;
    }
  /** the session ended (shut down after a finished plan, or failed) */
  | { type: 'idle'; workerId: number }
  /** every heartbeat, whatever the store does: a worker the leader hears from is not dead */
  | { type: 'heartbeat'; workerId: number };

/** leader → agent */
export type LeaderMessage =
  /** host slot `slot` of plan `plan` (the agent starts a session; its hello follows) */
  | { type: 'assign'; epoch: number; plan: string; slot: number }
  /** you were declared dead and replaced: exit */
  | { type: 'fenced'; epoch: number; reason: string };

export type FromAgent = AgentMessage | WorkerMessage;
/** a plan message as the leader sends it: without the scenario, which the agent reads from the store (R5) */
export type PlanWithoutSpec = Omit<Extract<MasterMessage, { type: 'plan' }>, 'spec'>;
/** leader → agent: its own messages, or its session's (relayed) */
export type ToAgent = LeaderMessage | Exclude<MasterMessage, { type: 'plan' }> | PlanWithoutSpec;

export const AGENT_TYPES: ReadonlySet<string> = new Set<AgentMessage['type']>(['agent', 'idle', 'heartbeat']);
export const LEADER_TYPES: ReadonlySet<string> = new Set<LeaderMessage['type']>(['assign', 'fenced']);
