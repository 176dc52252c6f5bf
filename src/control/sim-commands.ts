/**
 * The simulation commands of src/sim/commands*.ts behind the control layer's parser interfaces:
 * checked against the network and demand when they arrive (an unknown lane is a 404 then, not an
 * error later), logged in resolved form, applied at their step.
 */
import type { Engine } from '../sim/engine.js';
import { SIM_COMMAND_TYPES, parseSimCommand, type ResolvedCommand, type SimCommand } from '../sim/commands.js';
import { resolveSimCommand } from '../sim/commands-resolve.js';
import { applyCommand } from '../sim/commands-apply.js';
import type { LocalSimCommands } from './local.js';
import type { SimCommandParser } from './run-control.js';

/**
 * For a one-process run: a command takes effect at the engine's current step boundary, or after the
 * last command of `log` (commands scheduled ahead, already resolved), whichever is later.
 */
export function localSimCommands(
  engine: Engine,
  log: ResolvedCommand[] = [],
): LocalSimCommands<ResolvedCommand> & { readonly log: ResolvedCommand[] } {
  return {
    log,
    types: SIM_COMMAND_TYPES,
    parse(body) {
      const last = log[log.length - 1];
      const effectiveStep = Math.max(engine.step, last ? last.effectiveStep : 0);
      const resolved = resolveSimCommand(engine.net, engine.demand, parseSimCommand(body), {
        effectiveStep,
        prior: log,
      });
      log.push(resolved);
      return resolved;
    },
    apply(e, resolved) {
      applyCommand(e, resolved);
    },
  };
}

/** For a partitioned run: only parsed here; the master's desk resolves it at the step it chooses. */
export const simCommandParser: SimCommandParser<SimCommand> = {
  types: SIM_COMMAND_TYPES,
  parse: (body) => parseSimCommand(body),
};
