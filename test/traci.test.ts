/**
 * tessds-sumo driven by SUMO's own Python TraCI client, unchanged (test/fixtures/traci, see its
 * README): a sumo-rl style signal controller and a script that adds, reroutes and removes vehicles,
 * against the figures the same scripts recorded with SUMO 1.15 (departed and arrived within 10%,
 * queues within 25%). The TraCI session's setters are commands of the run's log: replayed by
 * `tessds run --commands` — in one process, and on 3 workers with one SIGKILLed mid-run — the run
 * ends in the session's state hash. CI has no SUMO: only the tessds-sumo side runs here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { watch } from './watch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'test/fixtures/traci');
const cli = join(root, 'dist/src/cli/main.js');
const sumoCli = join(root, 'dist/src/cli/sumo-main.js');
const sumoHome = process.env.SUMO_HOME ?? '/usr/share/sumo';

/** Why the Python client tests cannot run here, or undefined when they can. */
function pythonMissing(): string | undefined {
  const py = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (py.error || py.status !== 0) return 'python3 is not installed: the TraCI client tests need it';
  if (!existsSync(join(sumoHome, 'tools/traci/__init__.py')))
    return `SUMO's Python TraCI client is not in ${sumoHome}/tools (Debian: sumo-tools; or set SUMO_HOME)`;
  return undefined;
}
const skip = pythonMissing() ?? false;

/** A directory with a `tessds-sumo` executable, for traci.start(["tessds-sumo", ...]). */
function binDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-traci-'));
  const bin = join(dir, 'tessds-sumo');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${sumoCli}" "$@"\n`);
  chmodSync(bin, 0o755);
  return dir;
}

interface Session {
  figures: Record<string, number>;
  stateHash: string;
  commands: string;
}

/** Runs a fixture script against tessds-sumo; returns its figures, the run's hash and command log file. */
function runScript(script: string, env: Record<string, string> = {}): Session {
  const dir = binDir();
  const summary = join(dir, 'summary.json');
  const commands = join(dir, 'commands.json');
  const r = spawnSync(
    'python3',
    [
      join(fixture, script),
      'tessds-sumo',
      '-c',
      'scenario.sumocfg',
      '--tessds-summary',
      summary,
      '--tessds-commands',
      commands,
    ],
    {
      cwd: fixture,
      encoding: 'utf8',
      env: { ...process.env, ...env, PATH: `${dir}:${process.env.PATH}`, SUMO_HOME: sumoHome },
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, `${script} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return {
    figures: JSON.parse(line),
    stateHash: JSON.parse(readFileSync(summary, 'utf8')).stateHash,
    commands,
  };
}

function reference(name: string): Record<string, number> {
  return JSON.parse(readFileSync(join(fixture, `${name}.sumo-reference.json`), 'utf8'));
}

function near(ours: number, sumo: number, tol: number, what: string): void {
  const rel = Math.abs(ours - sumo) / Math.max(Math.abs(sumo), 1e-9);
  assert.ok(rel <= tol, `${what}: tessds-sumo ${ours}, SUMO ${sumo} (${(rel * 100).toFixed(1)}% > ${tol * 100}%)`);
}

function replayHash(commands: string, end: number, extra: string[] = []): string {
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      join(fixture, 'scenario.sumocfg'),
      '--end',
      String(end),
      '--commands',
      commands,
      '--summary',
      '-',
      ...extra,
    ],
    { encoding: 'utf8', cwd: root },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).stateHash;
}

test('a sumo-rl style signal controller (queues, setPhase, simulationStep) against SUMO 1.15', { skip }, () => {
  const ref = reference('signal');
  const s = runScript('signal_controller.py');
  assert.equal(s.figures.steps, ref.steps);
  near(s.figures.departed!, ref.departed!, 0.1, 'departed');
  near(s.figures.arrived!, ref.arrived!, 0.1, 'arrived');
  near(s.figures.meanQueue!, ref.meanQueue!, 0.25, 'mean queue on the controlled lanes');
  // the controller really switched, through the yellow phase
  assert.ok(s.figures.switches! > 10, `switches: ${s.figures.switches}`);
  // its setPhase commands are the run's commands: replayed, the same run
  assert.equal(replayHash(s.commands, s.figures.steps!), s.stateHash);
});

test(
  'the controller as sumo-rl drives a light (setProgramLogic, then setRedYellowGreenState) against SUMO 1.15',
  { skip },
  () => {
    const ref = reference('signal-state');
    const s = runScript('signal_controller.py', { CONTROL: 'state' });
    near(s.figures.departed!, ref.departed!, 0.1, 'departed');
    near(s.figures.arrived!, ref.arrived!, 0.1, 'arrived');
    near(s.figures.meanQueue!, ref.meanQueue!, 0.25, 'mean queue on the controlled lanes');
    assert.ok(s.figures.switches! > 10, `switches: ${s.figures.switches}`);
    const commands = JSON.parse(readFileSync(s.commands, 'utf8')) as { type: string }[];
    assert.ok(commands.some((c) => c.type === 'setSignalLogic') && commands.some((c) => c.type === 'setSignalState'));
    assert.equal(replayHash(s.commands, s.figures.steps!), s.stateHash);
    assert.equal(replayHash(s.commands, s.figures.steps!, ['--workers', '2']), s.stateHash);
  },
);

test('adding, rerouting and removing vehicles through TraCI against SUMO 1.15', { skip }, () => {
  const ref = reference('vehicles');
  const s = runScript('vehicles.py');
  assert.equal(s.figures.added, ref.added);
  near(s.figures.departed!, ref.departed!, 0.1, 'departed');
  near(s.figures.arrived!, ref.arrived!, 0.1, 'arrived');
  assert.ok(s.figures.rerouted! > 5 && s.figures.removed! > 0, JSON.stringify(s.figures));
  // every rerouted vehicle reached its new destination, and nothing is left
  assert.equal(s.figures.reroutedArrived, s.figures.rerouted);
  assert.equal(s.figures.running, 0);
  const commands = JSON.parse(readFileSync(s.commands, 'utf8')) as { type: string }[];
  for (const type of ['addVehicle', 'setRoute', 'removeVehicle'])
    assert.ok(
      commands.some((c) => c.type === type),
      `the command log holds ${type}`,
    );
  // replayed in one process and on 3 workers: the session's hash
  assert.equal(replayHash(s.commands, 700), s.stateHash);
  assert.equal(replayHash(s.commands, 700, ['--workers', '3']), s.stateHash);
});

test(
  'the TraCI session replayed on 3 workers with one SIGKILLed after the setters ends in the session hash',
  { skip, timeout: 120_000 },
  async () => {
    const s = runScript('vehicles.py');
    const dir = mkdtempSync(join(tmpdir(), 'tessds-traci-kill-'));
    const statusFile = join(dir, 'status.json');
    const child = spawn(
      process.execPath,
      [
        cli,
        'run',
        join(fixture, 'scenario.sumocfg'),
        '--end',
        '700',
        '--commands',
        s.commands,
        '--workers',
        '3',
        '--checkpoint-every',
        '40',
        '--realtime-factor',
        '40',
        '--status-file',
        statusFile,
        '--store',
        `file:${join(dir, 'store')}`,
        '--summary',
        '-',
        '--no-progress',
      ],
      { cwd: root },
    );
    const { stdout, stderr, exited, status } = watch<{
      step: number;
      state: string;
      workers: { id: number; pid: number }[];
    }>(child, statusFile);
    // past the reroutes (step 150), before the removals (step 200): the replacement replays both
    let st;
    for (let i = 0; i < 800; i++) {
      st = status();
      if (st && st.state === 'running' && st.step >= 165) break;
      await sleep(25);
    }
    assert.ok(st && st.step >= 165 && st.step < 200, `run at step ${st?.step}: ${stderr()}`);
    process.kill(st.workers.find((w) => w.id === 1)!.pid, 'SIGKILL');
    assert.equal(await exited, 0, stderr());
    assert.equal(JSON.parse(stdout()).stateHash, s.stateHash);
  },
);

// ---- the server against raw bytes (no Python needed) ----

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** tessds-sumo serving TraCI, and a raw connection to it that reads whole messages. */
async function rawSession() {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [sumoCli, '-c', join(fixture, 'scenario.sumocfg'), '--remote-port', String(port)],
    {
      cwd: root,
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let socket: net.Socket | undefined;
  for (let i = 0; i < 200 && !socket; i++) {
    socket = await new Promise<net.Socket | undefined>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', () => resolve(undefined));
    });
    if (!socket) await sleep(50);
  }
  assert.ok(socket, `no TraCI server on port ${port}: ${stderr}`);
  let buffered = Buffer.alloc(0);
  let closed = false;
  const waiters: (() => void)[] = [];
  socket.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    waiters.splice(0).forEach((w) => w());
  });
  socket.on('close', () => {
    closed = true;
    waiters.splice(0).forEach((w) => w());
  });
  /** Sends raw bytes; resolves with the next whole reply message (its body), or undefined when the server closed. */
  const send = async (bytes: Buffer): Promise<Buffer | undefined> => {
    socket.write(bytes);
    for (;;) {
      if (buffered.length >= 4 && buffered.length >= buffered.readUInt32BE(0)) {
        const n = buffered.readUInt32BE(0);
        const body = buffered.subarray(4, n);
        buffered = buffered.subarray(n);
        return body;
      }
      if (closed) return undefined;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { send, exited, stderr: () => stderr, socket };
}

/** A message of one command: id + payload. */
function message(id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.concat([Buffer.from([payload.length + 2, id]), payload]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length + 4);
  return Buffer.concat([head, body]);
}

/** The (command, result, description) of a status response at the start of `body`. */
function status(body: Buffer): [number, number, string] {
  const n = body.readInt32BE(3);
  return [body[1]!, body[2]!, body.toString('latin1', 7, 7 + n)];
}

const getPayload = (varId: number, id: string) => {
  const b = Buffer.alloc(5 + id.length);
  b[0] = varId;
  b.writeInt32BE(id.length, 1);
  b.write(id, 5, 'latin1');
  return b;
};

test('TraCI errors keep the connection: an unknown command, variable or object, a truncated payload', async () => {
  const s = await rawSession();
  const v = (await s.send(message(0x00)))!;
  assert.deepEqual(status(v), [0x00, 0x00, '']);
  // the version response: length, id, int 20, string
  assert.equal(v.readInt32BE(7 + 2), 20);
  assert.equal(v.toString('latin1', 7 + 2 + 4 + 4), 'SUMO 1.15.0');
  assert.deepEqual(status((await s.send(message(0x55)))!).slice(0, 2), [0x55, 0x01]);
  const [, code, text] = status((await s.send(message(0xa3, getPayload(0x99, 'WC_0'))))!);
  assert.equal(code, 0xff);
  assert.match(text, /unsupported variable 0x99/);
  assert.match(status((await s.send(message(0xa3, getPayload(0x14, 'nowhere'))))!)[2], /Lane 'nowhere' is not known/);
  assert.equal(status((await s.send(message(0xa3, Buffer.from([0x14, 0, 0]))))!)[1], 0xff);
  // still serving: a real answer
  const ok = (await s.send(message(0xa3, getPayload(0x44, 'WC_0'))))!;
  assert.equal(status(ok)[1], 0x00);
  assert.deepEqual(status((await s.send(message(0x7f)))!), [0x7f, 0x00, '']);
  assert.equal(await s.exited, 0, s.stderr());
});

for (const [what, bytes] of [
  ['a message longer than 16 MiB', Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3])],
  ['a message length below 4', Buffer.from([0, 0, 0, 2])],
  ['a command longer than its message', Buffer.from([0, 0, 0, 7, 40, 0xa3, 0])],
] as const) {
  test(`${what} closes that connection with one line, no crash`, async () => {
    const s = await rawSession();
    assert.equal(await s.send(bytes), undefined, 'the server closed the connection');
    assert.equal(await s.exited, 0);
    assert.match(s.stderr(), /^tessds-sumo: TraCI client 127\.0\.0\.1:\d+: bad message \(.*\); connection closed\n$/);
  });
}

test('tessds-sumo without --remote-port runs to the end like sumo; an unknown option is one warning, a bad value one error line (exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-sumo-cli-'));
  const summary = join(dir, 's.json');
  const ok = spawnSync(
    process.execPath,
    [
      sumoCli,
      '-c',
      join(fixture, 'scenario.sumocfg'),
      '-e',
      '300',
      '--max-depart-delay',
      '5',
      '--tessds-summary',
      summary,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr, 'tessds-sumo: warning: option --max-depart-delay is not supported by tessds-sumo; ignored\n');
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  assert.equal(s.steps, 300);
  // the same run as tessds run on the same .sumocfg
  const run = spawnSync(
    process.execPath,
    [cli, 'run', join(fixture, 'scenario.sumocfg'), '--end', '300', '--summary', '-'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(JSON.parse(run.stdout).stateHash, s.stateHash);
  for (const [args, pattern] of [
    [['-c', join(fixture, 'scenario.sumocfg'), '--seed', 'x'], /^tessds-sumo: option --seed: "x" is not a number$/],
    [['-c', join(dir, 'missing.sumocfg')], /missing\.sumocfg: file not found$/],
    [['--begin', '0'], /give a configuration \(-c FILE\) or a network \(-n FILE\)/],
  ] as const) {
    const r = spawnSync(process.execPath, [sumoCli, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), pattern);
  }
});

test(
  "sumolib reads tessds-sumo's --summary-output and --fcd-output; their figures agree with the summary JSON",
  { skip },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessds-sumo-out-'));
    const [summaryXml, fcdXml, json] = ['summary.xml', 'fcd.xml', 's.json'].map((f) => join(dir, f));
    const run = spawnSync(
      process.execPath,
      [
        sumoCli,
        '-c',
        join(fixture, 'scenario.sumocfg'),
        '--summary-output',
        summaryXml!,
        '--fcd-output',
        fcdXml!,
        '--tessds-summary',
        json!,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const read = spawnSync(
      'python3',
      [
        '-c',
        `import sys, json
sys.path.append(${JSON.stringify(join(sumoHome, 'tools'))})
import sumolib
steps = list(sumolib.output.parse(sys.argv[1], 'step'))
ids, count, times = set(), 0, 0
for ts in sumolib.output.parse(sys.argv[2], 'timestep'):
    times += 1
    for v in (ts.vehicle or []):
        ids.add(v.id); count += 1
last = steps[-1]
print(json.dumps({'steps': len(steps), 'arrived': int(last.arrived), 'inserted': int(last.inserted), 'running': int(last.running),
  'meanTravelTime': float(last.meanTravelTime), 'timesteps': times, 'vehicles': len(ids), 'records': count}))`,
        summaryXml!,
        fcdXml!,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(read.status, 0, read.stderr);
    const got = JSON.parse(read.stdout);
    const s = JSON.parse(readFileSync(json!, 'utf8'));
    assert.equal(got.steps, s.steps);
    assert.equal(got.timesteps, s.steps);
    assert.equal(got.arrived, s.arrived);
    assert.equal(got.inserted, s.inserted);
    assert.equal(got.running, s.running);
    assert.equal(got.vehicles, s.inserted, 'every inserted vehicle is in the FCD');
    assert.ok(Math.abs(got.meanTravelTime - s.meanDuration) <= 0.005, `${got.meanTravelTime} vs ${s.meanDuration}`);
    assert.ok(got.records > s.inserted * 10, `${got.records} FCD records`);
  },
);

test(
  'context subscriptions: the vehicles around a junction (within the range) and on a lane (range 0), every step',
  { skip },
  () => {
    const dir = binDir();
    const r = spawnSync(
      'python3',
      [
        '-c',
        `import sys, math
sys.path.append(${JSON.stringify(join(sumoHome, 'tools'))})
import traci, traci.constants as tc
traci.start(['tessds-sumo', '-c', 'scenario.sumocfg'])
traci.junction.subscribeContext('C', tc.CMD_GET_VEHICLE_VARIABLE, 50, [tc.VAR_SPEED, tc.VAR_POSITION])
traci.lane.subscribeContext('WC_0', tc.CMD_GET_VEHICLE_VARIABLE, 0, [tc.VAR_LANEPOSITION])
cx, cy = traci.junction.getPosition('C')
seen = 0
for t in range(200):
    traci.simulationStep()
    near = traci.junction.getContextSubscriptionResults('C')
    for v in traci.vehicle.getIDList():
        x, y = traci.vehicle.getPosition(v)
        d = math.hypot(x - cx, y - cy)
        assert (v in near) == (d <= 50), (t, v, d, v in near)
        if v in near:
            assert near[v][tc.VAR_POSITION] == (x, y) and near[v][tc.VAR_SPEED] == traci.vehicle.getSpeed(v)
    on = traci.lane.getContextSubscriptionResults('WC_0')
    assert sorted(on) == sorted(traci.lane.getLastStepVehicleIDs('WC_0')), (t, sorted(on))
    seen += len(near)
traci.close()
print(seen)`,
      ],
      {
        cwd: fixture,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, SUMO_HOME: sumoHome },
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Number(r.stdout.trim().split('\n').pop()) > 100, r.stdout);
  },
);

test(
  'two clients (--num-clients 2, setOrder): a step runs when both asked; one may wait ahead for a target time',
  { skip, timeout: 120_000 },
  async () => {
    const dir = binDir();
    const port = String(await freePort());
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, SUMO_HOME: sumoHome };
    const run = (args: string[]) => {
      const child = spawn('python3', [join(fixture, 'two_clients.py'), ...args], { cwd: fixture, env });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      return new Promise<string>((resolve, reject) =>
        child.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()!) : reject(new Error(err)))),
      );
    };
    const a = run(['a', port, 'tessds-sumo']);
    await sleep(1500);
    const b = run(['b', port]);
    const [ra, rb] = await Promise.all([a, b]);
    const [, a1, a50, aLast, aCount] = ra.split(' ');
    const [, b1, b50, bLast, bCount] = rb.split(' ');
    assert.deepEqual([a1, a50, aLast], ['1.0', '50.0', '80.0']);
    assert.deepEqual([b1, b50, bLast], ['1.0', '50.0', '80.0']);
    assert.equal(aCount, bCount, 'both see the same simulation');
  },
);

test('tessds-sumo --workers 3 (no TraCI): the summary and state hash of one process; with --remote-port not yet, one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-sumo-workers-'));
  const hash = (workers: string) => {
    const file = join(dir, `s${workers}.json`);
    const r = spawnSync(
      process.execPath,
      [sumoCli, '-c', join(fixture, 'scenario.sumocfg'), '-e', '400', '--workers', workers, '--tessds-summary', file],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(readFileSync(file, 'utf8')).stateHash as string;
  };
  assert.equal(hash('3'), hash('1'));
  const r = spawnSync(
    process.execPath,
    [sumoCli, '-c', join(fixture, 'scenario.sumocfg'), '--workers', '2', '--remote-port', '1'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^tessds-sumo: option --workers 2: not yet with --remote-port/);
});
