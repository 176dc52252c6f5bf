/**
 * TraCI's byte format: the layouts SUMO's Python client writes and reads (bytes spelled out from
 * tools/traci/connection.py's struct formats), and that no byte sequence makes the codec loop, read
 * out of bounds or allocate on a length it was told.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_MESSAGE_BYTES,
  Reader,
  TypeMismatch,
  WireError,
  Writer,
  frameMessage,
  splitCommands,
  takeMessage,
  takeMessages,
  writeCommand,
  writeStatus,
} from './wire.js';

/** What the Python client sends for lane.getLastStepHaltingNumber("WC_0"): struct.pack("!BBBi", ...) + id. */
const pythonGet = Buffer.concat([Buffer.from([1 + 1 + 1 + 4 + 4, 0xa3, 0x14, 0, 0, 0, 4]), Buffer.from('WC_0')]);

test('a short command: 1-byte length counting itself and the id, then the payload', () => {
  const cmds = splitCommands(pythonGet);
  assert.equal(cmds.length, 1);
  assert.equal(cmds[0]!.id, 0xa3);
  const r = new Reader(cmds[0]!.payload);
  assert.equal(r.ubyte(), 0x14);
  assert.equal(r.string(), 'WC_0');
  assert.equal(r.remaining, 0);
});

test('a long command: 0, then a 4-byte length counting the 0, itself and the id (the client\'s "!BiB")', () => {
  const payload = Buffer.alloc(300, 7);
  const w = new Writer();
  writeCommand(w, 0xc4, payload);
  const b = w.toBuffer();
  assert.equal(b[0], 0);
  assert.equal(b.readUInt32BE(1), 300 + 6);
  assert.equal(b[5], 0xc4);
  const [c] = splitCommands(b);
  assert.equal(c!.id, 0xc4);
  assert.deepEqual(c!.payload, payload);
});

test('several commands in one message, and messages split across reads', () => {
  const w = new Writer();
  writeCommand(w, 0x00, Buffer.alloc(0));
  writeCommand(w, 0x02, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]));
  const msg = frameMessage(w.toBuffer());
  assert.deepEqual(
    splitCommands(msg.subarray(4)).map((c) => c.id),
    [0x00, 0x02],
  );
  const twice = Buffer.concat([msg, msg]);
  for (let cut = 0; cut <= twice.length; cut++) {
    const first = takeMessages(twice.subarray(0, cut));
    const second = takeMessages(Buffer.concat([first.rest, twice.subarray(cut)]));
    assert.equal(first.messages.length + second.messages.length, 2, `cut at ${cut}`);
    assert.equal(second.rest.length, 0);
  }
  assert.equal(takeMessage(msg.subarray(0, 3)), undefined);
  assert.equal(takeMessage(msg)!.size, msg.length);
});

test('the status response the client reads with "!BBB" and readString', () => {
  const w = new Writer();
  writeStatus(w, 0xa4, 0xff, "Vehicle 'x' is not known.");
  const b = w.toBuffer();
  assert.equal(b[0], b.length);
  assert.equal(b[1], 0xa4);
  assert.equal(b[2], 0xff);
  assert.equal(new Reader(b.subarray(3)).string(), "Vehicle 'x' is not known.");
  // a long description is cut so that the 1-byte length still holds it
  const long = new Writer();
  writeStatus(long, 0xa4, 0xff, 'x'.repeat(1000));
  assert.equal(long.toBuffer()[0], long.length);
  assert.ok(long.length <= 255);
});

test('typed values round-trip; a wrong type is a TypeMismatch (an error status), not a broken link', () => {
  const b = new Writer()
    .typedInt(-5)
    .typedDouble(13.89)
    .typedString('CN')
    .typedStringList(['a', 'bc'])
    .compound(2)
    .toBuffer();
  const r = new Reader(b);
  assert.equal(r.typedInt(), -5);
  assert.equal(r.typedDouble(), 13.89);
  assert.equal(r.typedString(), 'CN');
  assert.deepEqual(r.typedStringList(), ['a', 'bc']);
  assert.equal(r.compound(), 2);
  assert.throws(() => new Reader(new Writer().typedDouble(1).toBuffer()).typedInt(), TypeMismatch);
});

test('bad lengths: every one is a WireError, none reads out of bounds or allocates what it was told', () => {
  const frame = (total: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(total >>> 0);
    return b;
  };
  assert.throws(() => takeMessage(frame(0)), WireError);
  assert.throws(() => takeMessage(frame(3)), WireError);
  assert.throws(() => takeMessage(frame(MAX_MESSAGE_BYTES + 1)), WireError);
  assert.throws(() => takeMessage(frame(0xffffffff)), WireError);
  // a command longer than its message, a command of length 1 (no id), a truncated extended length
  assert.throws(() => splitCommands(Buffer.from([9, 0xa3, 0])), WireError);
  assert.throws(() => splitCommands(Buffer.from([1])), WireError);
  assert.throws(() => splitCommands(Buffer.from([0, 0, 0])), WireError);
  assert.throws(() => splitCommands(Buffer.from([0, 0, 0, 0, 5, 0x00])), WireError);
  // a message of a million two-byte commands is refused, not turned into a million objects
  assert.throws(() => splitCommands(Buffer.alloc(2_000_000, 2)), /more than 65536 commands/);
  // a string or list claiming more than there is
  assert.throws(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).string(), WireError);
  assert.throws(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).stringList(), WireError);
  assert.throws(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff])).string(), WireError);
  assert.throws(() => new Reader(Buffer.alloc(3)).double(), WireError);
});

test('random bytes never crash the codec: each message either parses or is a WireError', () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (let k = 0; k < 2000; k++) {
    const b = Buffer.from(Array.from({ length: 1 + (next() % 40) }, next));
    try {
      for (const c of splitCommands(b)) {
        const r = new Reader(c.payload);
        while (r.remaining > 0) r.string();
      }
    } catch (e) {
      assert.ok(e instanceof WireError, String(e));
    }
  }
});
