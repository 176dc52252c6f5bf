import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FramedSocket, FrameKind, listen } from './frames.js';

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
  const bytes = Buffer.concat([frame(FrameKind.control, small), frame(FrameKind.border, big), frame(FrameKind.dump, Buffer.alloc(0)), frame(FrameKind.control, small)]);
  const got = await receive(4, async (raw) => {
    // odd piece sizes, so that headers and payloads are cut everywhere
    for (let at = 0, k = 0; at < bytes.length; k++) {
      const n = k % 3 === 0 ? 3 : 70_001;
      raw.write(bytes.subarray(at, at + n));
      at += n;
      if (k % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  });
  assert.deepEqual(got.map(([k]) => k), [FrameKind.control, FrameKind.border, FrameKind.dump, FrameKind.control]);
  assert.ok(got[1]![1].equals(big), 'the big frame arrives whole and unchanged');
  assert.equal(got[2]![1].length, 0);
  assert.equal(got[3]![1].toString(), '{"type":"start"}');
});
