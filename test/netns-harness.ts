/**
 * A small network lab for chaos tests, the ChaosBlade technique of seed 003 done by hand: one Linux
 * network namespace per worker, each joined to a bridge in the root namespace by a veth pair, with
 * `tc netem` delay and loss on the worker's side of its link (its egress). Processes in the root
 * namespace (master, Redis) are reachable at the bridge address. Needs root, `ip` and `tc`.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Why the lab cannot be built here, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces and tc need root (run the suite as root)';
  for (const tool of ['ip', 'tc']) {
    if (spawnSync(tool, ['-V']).error) return `\`${tool}\` is not installed (Debian: apt-get install iproute2)`;
  }
  const probe = `tessds-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0)
    return `cannot create a network namespace (${add.stderr.trim()}): needs CAP_SYS_ADMIN/CAP_NET_ADMIN`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/** Why `tc netem` cannot be used here (the kernel lacks sch_netem), or undefined when it can. */
export function netemUnavailable(): string | undefined {
  const probe = `tessds-netem-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `cannot create a network namespace (${add.stderr.trim()})`;
  try {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'],
      { encoding: 'utf8' },
    );
    return r.status === 0
      ? undefined
      : `tc netem is not available in this kernel (${r.stderr.trim()}; needs sch_netem)`;
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
}

export interface NetnsLab {
  /** address of the bridge in the root namespace (master, Redis listen here) */
  hostIp: string;
  /** namespace of worker i and its address */
  namespaces: string[];
  workerIps: string[];
  /** starts `command args` inside namespace i */
  spawnIn(i: number, command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** runs `command args` inside namespace i to the end */
  runIn(i: number, command: string, args: string[]): { status: number | null; stdout: string; stderr: string };
  /** deletes namespaces, veths and bridge (idempotent) */
  destroy(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/**
 * Builds the lab: `n` namespaces on subnet 10.199.S.0/24 (S from the pid, so parallel suites do not
 * clash), netem with `netem` arguments (e.g. ['delay', '20ms', 'loss', '1%']) on every worker link.
 */
export function createLab(n: number, netem: string[]): NetnsLab {
  const tag = `${process.pid % 100000}`;
  const subnet = `10.199.${(process.pid % 200) + 20}`;
  const bridge = `tb${tag}`;
  const namespaces = Array.from({ length: n }, (_, i) => `tessds-${tag}-${i}`);
  const hostVeth = (i: number) => `tv${tag}h${i}`;
  const workerIps = namespaces.map((_, i) => `${subnet}.${10 + i}`);
  const hostIp = `${subnet}.1`;
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
    for (let i = 0; i < n; i++) spawnSync('ip', ['link', 'del', hostVeth(i)]);
    spawnSync('ip', ['link', 'del', bridge]);
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${hostIp}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    namespaces.forEach((ns, i) => {
      ip('netns', 'add', ns);
      ip('link', 'add', hostVeth(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', hostVeth(i), 'master', bridge);
      ip('link', 'set', hostVeth(i), 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${workerIps[i]}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      if (netem.length > 0) {
        const r = spawnSync(
          'ip',
          ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', ...netem],
          { encoding: 'utf8' },
        );
        if (r.status !== 0) throw new Error(`tc qdisc add … netem ${netem.join(' ')} in ${ns}: ${r.stderr.trim()}`);
      }
    });
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    hostIp,
    namespaces,
    workerIps,
    spawnIn: (i, command, args, options) =>
      spawn('ip', ['netns', 'exec', namespaces[i]!, command, ...args], options ?? {}),
    runIn: (i, command, args) => {
      const r = spawnSync('ip', ['netns', 'exec', namespaces[i]!, command, ...args], { encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    destroy,
  };
}
