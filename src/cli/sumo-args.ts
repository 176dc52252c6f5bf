/**
 * SUMO's command line, as `traci.start(["sumo", ...])` and sumo-rl pass it, read into the options of
 * a `tessds-sumo` run. SUMO's syntax: `--name value`, `--name=value`, short aliases (`-c`, `-n`, ...),
 * booleans given alone or followed by true/false. An option TessDS does not support is one warning
 * (the caller prints it), never a failure: clients pass options we need not model.
 */
import { UsageError } from '../errors.js';

export interface SumoArgs {
  configFile?: string;
  netFile?: string;
  routeFiles?: string[];
  additionalFiles?: string[];
  begin?: number;
  end?: number;
  stepLength?: number;
  seed?: number;
  /** --random: a seed drawn for the run (SUMO: from the clock) */
  random?: boolean;
  remotePort?: number;
  numClients: number;
  timeToTeleport?: number;
  tripinfoOutput?: string;
  summaryOutput?: string;
  fcdOutput?: string;
  /** TessDS's own: the summary JSON of `tessds run --summary` (with the state hash) */
  tessdsSummary?: string;
  /** TessDS's own: the setters of the TraCI session as a `--commands` list */
  tessdsCommands?: string;
  noWarnings?: boolean;
  /** TessDS's own: worker processes (a partitioned run) */
  workers?: number;
  help: boolean;
  version: boolean;
  /** one line per unsupported option */
  warnings: string[];
}

type Kind = 'string' | 'files' | 'number' | 'integer' | 'port' | 'bool' | 'noop-bool' | 'noop-value';

interface OptionDef {
  names: readonly string[];
  kind: Kind;
  /** where the value goes (absent: a no-op) */
  key?: keyof SumoArgs;
  help: string;
}

/** Every option tessds-sumo reads; the order is the one of --help. */
export const SUMO_OPTIONS: readonly OptionDef[] = [
  { names: ['-c', '--configuration-file'], kind: 'string', key: 'configFile', help: 'a SUMO .sumocfg to load' },
  { names: ['-n', '--net-file'], kind: 'string', key: 'netFile', help: 'the network (.net.xml); overrides the config' },
  {
    names: ['-r', '--route-files'],
    kind: 'files',
    key: 'routeFiles',
    help: 'route files, comma separated; override the config',
  },
  {
    names: ['-a', '--additional-files'],
    kind: 'files',
    key: 'additionalFiles',
    help: 'additional files (vTypes, routes, stops, tlLogics), comma separated; override the config',
  },
  { names: ['-b', '--begin'], kind: 'number', key: 'begin', help: 'begin time, s' },
  { names: ['-e', '--end'], kind: 'number', key: 'end', help: 'end time, s (-1: none)' },
  { names: ['--step-length'], kind: 'number', key: 'stepLength', help: 'step length, s' },
  { names: ['--seed'], kind: 'integer', key: 'seed', help: 'random seed' },
  { names: ['--random'], kind: 'bool', key: 'random', help: 'draw the seed for this run' },
  {
    names: ['--remote-port'],
    kind: 'port',
    key: 'remotePort',
    help: 'serve TraCI on this TCP port (without it: run to the end)',
  },
  { names: ['--num-clients'], kind: 'integer', key: 'numClients', help: 'TraCI clients to wait for (default 1)' },
  {
    names: ['--time-to-teleport'],
    kind: 'number',
    key: 'timeToTeleport',
    help: 'teleport a vehicle stuck this long; <= 0: never (default 300)',
  },
  { names: ['--tripinfo-output'], kind: 'string', key: 'tripinfoOutput', help: 'write tripinfo XML to FILE' },
  {
    names: ['--summary-output'],
    kind: 'string',
    key: 'summaryOutput',
    help: "write SUMO's summary output (a <step> per step) to FILE",
  },
  {
    names: ['--fcd-output'],
    kind: 'string',
    key: 'fcdOutput',
    help: "write SUMO's floating car data (every vehicle's position and speed per step) to FILE",
  },
  {
    names: ['--tessds-summary'],
    kind: 'string',
    key: 'tessdsSummary',
    help: "TessDS: write the run's summary JSON (state hash included) to FILE",
  },
  {
    names: ['--workers'],
    kind: 'integer',
    key: 'workers',
    help: 'TessDS: run on N worker processes (same results as one; not yet with --remote-port or the per-step outputs)',
  },
  { names: ['--no-step-log'], kind: 'noop-bool', help: 'no-op (TessDS prints no step log)' },
  {
    names: ['--tessds-commands'],
    kind: 'string',
    key: 'tessdsCommands',
    help: 'TessDS: write the TraCI setters as a command list; `tessds run CFG --commands FILE` replays the session',
  },
  { names: ['--no-warnings', '-W'], kind: 'bool', key: 'noWarnings', help: "don't print the scenario's warnings" },
  { names: ['--duration-log.statistics', '-t'], kind: 'noop-bool', help: 'no-op' },
  { names: ['--duration-log.disable'], kind: 'noop-bool', help: 'no-op' },
  { names: ['--quit-on-end', '-Q'], kind: 'noop-bool', help: 'no-op (TessDS has no GUI)' },
  { names: ['--start', '-S'], kind: 'noop-bool', help: 'no-op (TessDS has no GUI)' },
  { names: ['--verbose', '-v'], kind: 'noop-bool', help: 'no-op' },
  { names: ['--waiting-time-memory'], kind: 'noop-value', help: 'no-op (waiting time is accumulated over the trip)' },
  { names: ['-h', '--help'], kind: 'bool', key: 'help', help: 'this help' },
  { names: ['-V', '--version'], kind: 'bool', key: 'version', help: 'the version' },
];

const BY_NAME = new Map<string, OptionDef>();
for (const o of SUMO_OPTIONS) for (const n of o.names) BY_NAME.set(n, o);

const BOOL_WORDS = new Map([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['on', true],
  ['off', false],
]);

/** Reads SUMO's command line (without the program name). Throws UsageError naming a bad value. */
export function parseSumoArgs(argv: readonly string[]): SumoArgs {
  const out: SumoArgs = { numClients: 1, help: false, version: false, warnings: [] };
  const rec = out as unknown as Record<string, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      // SUMO: a lone argument is the configuration file
      if (out.configFile !== undefined) out.warnings.push(`ignoring the extra argument "${arg}"`);
      else out.configFile = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    let inline = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : undefined;
    const def = BY_NAME.get(name);
    const next = argv[i + 1];
    const takesNext = next !== undefined && !isOptionName(next);
    if (!def) {
      // an unknown option's value is the next word, unless that is an option or a boolean would do
      if (inline === undefined && takesNext) i++;
      out.warnings.push(`option ${name} is not supported by tessds-sumo; ignored`);
      continue;
    }
    if (def.kind === 'bool' || def.kind === 'noop-bool') {
      let value = true;
      const word = inline ?? (takesNext && BOOL_WORDS.has(next.toLowerCase()) ? next : undefined);
      if (word !== undefined) {
        if (inline === undefined) i++;
        const b = BOOL_WORDS.get(word.toLowerCase());
        if (b === undefined) throw new UsageError(`option ${name}: "${word}" is not true or false`);
        value = b;
      }
      if (def.key) rec[def.key] = value;
      continue;
    }
    if (inline === undefined) {
      if (next === undefined) throw new UsageError(`option ${name} needs a value`);
      inline = next;
      i++;
    }
    if (def.key) rec[def.key] = readValue(name, def.kind, inline);
  }
  return out;
}

/** `-5` is a value (SUMO's --time-to-teleport -1), `-c` an option. */
function isOptionName(word: string): boolean {
  return word.startsWith('-') && !/^-\d/.test(word);
}

function readValue(name: string, kind: Kind, v: string): unknown {
  switch (kind) {
    case 'string':
      if (v === '') throw new UsageError(`option ${name} needs a value`);
      return v;
    case 'files':
      return v
        .split(/[,\s]+/)
        .map((f) => f.trim())
        .filter((f) => f !== '');
    case 'number':
    case 'integer':
    case 'port': {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`option ${name}: "${v}" is not a number`);
      if (kind !== 'number' && !Number.isInteger(n))
        throw new UsageError(`option ${name}: "${v}" is not a whole number`);
      if (kind === 'port' && (n < 0 || n > 65535)) throw new UsageError(`option ${name}: ${v} is not a TCP port`);
      return n;
    }
    default:
      return v;
  }
}

/** The --help text: every option with its aliases. */
export function sumoHelp(): string {
  const rows = SUMO_OPTIONS.map((o) => {
    const value = o.kind === 'bool' || o.kind === 'noop-bool' ? '' : ' <value>';
    return [`  ${o.names.join(', ')}${value}`, o.help] as const;
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [
    'Usage: tessds-sumo [options] [config.sumocfg]',
    '',
    "TessDS behind SUMO's command line and TraCI protocol (SUMO 1.15, API version 20): TraCI clients",
    '(traci.start(["tessds-sumo", "-c", cfg, ...]), sumo-rl, ...) drive TessDS unchanged.',
    'Any other SUMO option is ignored with one warning line.',
    '',
    'Options:',
    ...rows.map(([a, b]) => a.padEnd(width) + b),
    '',
  ].join('\n');
}
