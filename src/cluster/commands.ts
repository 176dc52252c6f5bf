/**
 * How the cluster applies the simulation commands of a run's command log to a part's engine.
 * (The simulation side — parsing, validating, applying — lives in src/sim/commands.ts.)
 */
import type { Engine } from '../sim/engine.js';

export function applyLoggedSimCommand(_engine: Engine, _resolved: unknown): void {
  throw new Error('simulation commands are not wired in yet');
}
