/**
 * How a worker applies the simulation commands of a run's command log to a part's engine (the
 * simulation side — parsing, resolving, applying — lives in src/sim/commands*.ts).
 */
import type { Engine } from '../sim/engine.js';
import { applyCommand } from '../sim/commands-apply.js';
import type { ResolvedCommand } from '../sim/commands.js';

export function applyLoggedSimCommand(engine: Engine, resolved: unknown): void {
  applyCommand(engine, resolved as ResolvedCommand);
}
