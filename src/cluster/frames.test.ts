import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FramedSocket, FrameKind, connect, listen } from './frames.js';

/** Frames received on a real loopback connection, while `write` feeds the raw bytes. */
async function receive(count: number, write: (raw: net.Socket) => Promise<void>): Promise<[number, Buffer][]> {
  const got: [number, Buffer][] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const { server, port } = await listen('127.0.0.1', 0, (s: FramedSocket) => {
    s.on('frame', (kind, payload) => {
      got.push([kind, Buffer.from(payload)]);
      if (got.length === count) done();
    });
  });
  const raw = net.connect(port, '127.0.0.1');
  await new Promise((r) => raw.once('connect', r));
  await write(raw);
  await all;
  raw.destroy();
  server.close();
  return got;
}

function frame(kind: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(payload.length + 1, 0);
  head.writeUInt8(kind, 4);
  return Buffer.concat([head, payload]);
}

test('frames survive any chunking: a multi-megabyte frame between small ones, headers split across writes', async () => {
  const big = Buffer.alloc(5 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const small = Buffer.from('{"type":"start"}');
  const bytes = Buffer.concat([
    frame(FrameKind.control, small),
    frame(FrameKind.border, big),
    frame(FrameKind.dump, Buffer.alloc(0)),
    frame(FrameKind.control, small),
  ]);
  const got = await receive(4, async (raw) => {
    // odd piece sizes, so that headers and payloads are cut everywhere
    for (let at = 0, k = 0; at < bytes.length; k++) {
      const n = k % 3 === 0 ? 3 : 70_001;
      raw.write(bytes.subarray(at, at + n));
      at += n;
      if (k % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  });
  assert.deepEqual(
    got.map(([k]) => k),
    [FrameKind.control, FrameKind.border, FrameKind.dump, FrameKind.control],
  );
  assert.ok(got[1]![1].equals(big), 'the big frame arrives whole and unchanged');
  assert.equal(got[2]![1].length, 0);
  assert.equal(got[3]![1].toString(), '{"type":"start"}');
});

/** Sends `bytes` on a fresh connection to a server whose frame handler reads JSON control messages;
 *  resolves with what the server said about it (the reason it closed the connection), or undefined. */
async function hostile(bytes: Buffer): Promise<{ rejected?: string; frames: number; other: boolean }> {
  let rejected: string | undefined;
  let frames = 0;
  const { server, port } = await listen(
    '127.0.0.1',
    0,
    (s) => {
      s.on('frame', (kind, payload) => {
        frames++;
        if (kind === FrameKind.control) JSON.parse(payload.toString()); // throws on bad JSON
      });
    },
    { onReject: (why) => (rejected = why) },
  );
  // a well-behaved client on the same server keeps working throughout
  const good = net.connect(port, '127.0.0.1');
  await new Promise((r) => good.once('connect', r));
  const raw = net.connect(port, '127.0.0.1');
  await new Promise((r) => raw.once('connect', r));
  raw.on('error', () => undefined);
  raw.resume();
  const closed = new Promise((r) => raw.once('close', r));
  raw.write(bytes);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 300))]);
  good.write(frame(FrameKind.control, Buffer.from('{"type":"start"}')));
  await new Promise((r) => setTimeout(r, 50));
  const other = !good.destroyed;
  raw.destroy();
  good.destroy();
  server.close();
  return { rejected, frames, other };
}

test('a zero length, a length past the cap, an unknown kind and bad JSON close that connection only, with a reason', async () => {
  const zero = await hostile(Buffer.alloc(4));
  assert.match(zero.rejected ?? '', /length 0/);
  assert.ok(zero.other);
  const huge = Buffer.alloc(5);
  huge.writeUInt32LE(0xffffffff, 0);
  const big = await hostile(huge);
  assert.match(big.rejected ?? '', /4294967295 bytes/);
  const kind = await hostile(frame(99, Buffer.from('x')));
  assert.match(kind.rejected ?? '', /unknown kind 99/);
  const bad = await hostile(frame(FrameKind.control, Buffer.from('{"type":')));
  assert.match(bad.rejected ?? '', /bad control frame/);
  assert.equal(bad.frames, 2, "the bad frame, then the good client's");
  for (const r of [zero, big, kind, bad]) assert.ok(r.other, 'the other connection still works');
});

test('with auth: both ends holding the secret link up; a wrong secret, another plan or epoch, or random bytes are refused before any frame', async () => {
  const auth = { secret: Buffer.from('0123456789abcdef0123456789abcdef'), plan: 'p', epoch: 3 };
  const got: string[] = [];
  const rejects: string[] = [];
  const { server, port } = await listen('127.0.0.1', 0, (s) => s.on('frame', (_k, p) => got.push(p.toString())), {
    auth,
    onReject: (why) => rejects.push(why),
  });
  const ok = await connect('127.0.0.1', port, 2000, auth);
  ok.sendControl({ type: 'start' });
  for (const bad of [
    { ...auth, secret: Buffer.from('another secret of enough length') },
    { ...auth, plan: 'q' },
    { ...auth, epoch: 4 },
  ]) {
    await assert.rejects(connect('127.0.0.1', port, 2000, bad), /handshake|closed/);
  }
  // a forged message in place of the handshake: refused by its size (a handshake frame is 33 bytes)
  const raw = net.connect(port, '127.0.0.1');
  raw.on('error', () => undefined);
  raw.resume();
  await new Promise((r) => raw.once('connect', r));
  raw.write(frame(FrameKind.control, Buffer.from('{"type":"peer","workerId":0,"host":"127.0.0.1"}')));
  await new Promise((r) => raw.once('close', r));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, ['{"type":"start"}'], "only the authenticated client's frame was read");
  assert.equal(rejects.length, 4, rejects.join('\n'));
  assert.match(rejects.at(-1)!, /before the handshake/);
  ok.socket.destroy();
  server.close();
});
