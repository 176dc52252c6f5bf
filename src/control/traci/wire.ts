/**
 * TraCI's byte format (SUMO 1.15), trusting no byte: a message is a 4-byte big-endian total length
 * (itself included) followed by commands; a command is a 1-byte length (0: a 4-byte length follows),
 * a 1-byte id and its payload, the lengths counting themselves. Every read is bounds-checked and
 * throws WireError, which the server answers by closing that one connection.
 */
import {
  RTYPE_OK,
  TYPE_COMPOUND,
  TYPE_DOUBLE,
  TYPE_INTEGER,
  TYPE_STRING,
  TYPE_STRINGLIST,
  TYPE_UBYTE,
} from './constants.js';

/** A message larger than this closes the connection (SUMO's clients send far less). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A message with more commands than this closes the connection (clients send one, or a handful). */
export const MAX_COMMANDS = 65536;

export class WireError extends Error {}

/** One command of a message: its id and its payload (after the id). */
export interface WireCommand {
  id: number;
  payload: Buffer;
}

/**
 * Takes the complete messages from the front of `buffered` (bytes read so far from a socket):
 * returns their bodies (after the length) and the bytes left over. Throws WireError for a length
 * below 4 or above MAX_MESSAGE_BYTES.
 */
export function takeMessages(buffered: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let off = 0;
  while (buffered.length - off >= 4) {
    const total = buffered.readUInt32BE(off);
    if (total < 4 || total > MAX_MESSAGE_BYTES)
      throw new WireError(`message length ${total} is outside 4..${MAX_MESSAGE_BYTES}`);
    if (buffered.length - off < total) break;
    messages.push(buffered.subarray(off + 4, off + total));
    off += total;
  }
  return { messages, rest: buffered.subarray(off) };
}

/** The first complete message of `buffered` (its body and its size with the length), or undefined. */
export function takeMessage(buffered: Buffer): { body: Buffer; size: number } | undefined {
  if (buffered.length < 4) return undefined;
  const total = buffered.readUInt32BE(0);
  if (total < 4 || total > MAX_MESSAGE_BYTES)
    throw new WireError(`message length ${total} is outside 4..${MAX_MESSAGE_BYTES}`);
  if (buffered.length < total) return undefined;
  return { body: buffered.subarray(4, total), size: total };
}

/** The commands of a message body. Throws WireError for a command length that does not fit. */
export function splitCommands(body: Buffer): WireCommand[] {
  const out: WireCommand[] = [];
  let off = 0;
  while (off < body.length) {
    let len = body[off]!;
    let head = 1;
    if (len === 0) {
      if (body.length - off < 5) throw new WireError(`command at byte ${off}: truncated extended length`);
      len = body.readUInt32BE(off + 1);
      head = 5;
    }
    if (len < head + 1 || len > body.length - off)
      throw new WireError(`command at byte ${off}: length ${len} does not fit the message (${body.length - off} left)`);
    if (out.length === MAX_COMMANDS) throw new WireError(`more than ${MAX_COMMANDS} commands in one message`);
    out.push({ id: body[off + head]!, payload: body.subarray(off + head + 1, off + len) });
    off += len;
  }
  return out;
}

/** Reads typed values from a payload; every read checks the bytes are there. */
export class Reader {
  private off = 0;
  constructor(private readonly b: Buffer) {}

  get remaining(): number {
    return this.b.length - this.off;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.b.length - this.off < n)
      throw new WireError(`${what}: needs ${n} bytes, ${this.b.length - this.off} left`);
  }

  ubyte(): number {
    this.need(1, 'ubyte');
    return this.b[this.off++]!;
  }

  byte(): number {
    this.need(1, 'byte');
    return this.b.readInt8(this.off++);
  }

  int(): number {
    this.need(4, 'int');
    const v = this.b.readInt32BE(this.off);
    this.off += 4;
    return v;
  }

  double(): number {
    this.need(8, 'double');
    const v = this.b.readDoubleBE(this.off);
    this.off += 8;
    return v;
  }

  string(): string {
    const n = this.int();
    this.need(n, 'string');
    const s = this.b.toString('latin1', this.off, this.off + n);
    this.off += n;
    return s;
  }

  stringList(): string[] {
    const n = this.int();
    // every string takes at least its 4-byte length: a count that cannot fit is refused before a loop
    this.need(n * 4, 'string list');
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string());
    return out;
  }

  /** The type byte, checked against `type` (named in the error as `what`). */
  expectType(type: number, what: string): void {
    const t = this.ubyte();
    if (t !== type) throw new TypeMismatch(`${what}: expected type 0x${hex(type)}, got 0x${hex(t)}`);
  }

  typedInt(what = 'integer'): number {
    this.expectType(TYPE_INTEGER, what);
    return this.int();
  }

  typedDouble(what = 'double'): number {
    this.expectType(TYPE_DOUBLE, what);
    return this.double();
  }

  typedString(what = 'string'): string {
    this.expectType(TYPE_STRING, what);
    return this.string();
  }

  typedStringList(what = 'string list'): string[] {
    this.expectType(TYPE_STRINGLIST, what);
    return this.stringList();
  }

  typedUbyte(what = 'ubyte'): number {
    this.expectType(TYPE_UBYTE, what);
    return this.ubyte();
  }

  /** A compound's item count. */
  compound(what = 'compound'): number {
    this.expectType(TYPE_COMPOUND, what);
    return this.int();
  }
}

/** A value of the wrong type: a client error answered with TraCI's error status, not a closed link. */
export class TypeMismatch extends Error {}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Builds a payload: a growable buffer with TraCI's typed writers. */
export class Writer {
  private b = Buffer.alloc(256);
  private off = 0;

  private room(n: number): void {
    if (this.off + n <= this.b.length) return;
    const next = Buffer.alloc(Math.max(this.b.length * 2, this.off + n));
    this.b.copy(next, 0, 0, this.off);
    this.b = next;
  }

  get length(): number {
    return this.off;
  }

  ubyte(v: number): this {
    this.room(1);
    this.b[this.off++] = v & 0xff;
    return this;
  }

  byte(v: number): this {
    this.room(1);
    this.b.writeInt8(v, this.off++);
    return this;
  }

  int(v: number): this {
    this.room(4);
    this.b.writeInt32BE(v | 0, this.off);
    this.off += 4;
    return this;
  }

  double(v: number): this {
    this.room(8);
    this.b.writeDoubleBE(v, this.off);
    this.off += 8;
    return this;
  }

  string(s: string): this {
    const n = Buffer.byteLength(s, 'latin1');
    this.int(n);
    this.room(n);
    this.b.write(s, this.off, 'latin1');
    this.off += n;
    return this;
  }

  stringList(list: readonly string[]): this {
    this.int(list.length);
    for (const s of list) this.string(s);
    return this;
  }

  bytes(buf: Buffer): this {
    this.room(buf.length);
    buf.copy(this.b, this.off);
    this.off += buf.length;
    return this;
  }

  typedInt(v: number): this {
    return this.ubyte(TYPE_INTEGER).int(v);
  }

  typedDouble(v: number): this {
    return this.ubyte(TYPE_DOUBLE).double(v);
  }

  typedString(s: string): this {
    return this.ubyte(TYPE_STRING).string(s);
  }

  typedStringList(list: readonly string[]): this {
    return this.ubyte(TYPE_STRINGLIST).stringList(list);
  }

  compound(n: number): this {
    return this.ubyte(TYPE_COMPOUND).int(n);
  }

  toBuffer(): Buffer {
    return Buffer.from(this.b.subarray(0, this.off));
  }
}

/** Appends a command (length, id, payload) to `out`, with the extended length when it needs one. */
export function writeCommand(out: Writer, id: number, payload: Buffer): void {
  const len = payload.length + 2;
  if (len <= 255) out.ubyte(len);
  else out.ubyte(0).int(len + 4);
  out.ubyte(id).bytes(payload);
}

/** The status response of a command: its id, result code and description (at most 200 bytes, as a 1-byte length must hold it). */
export function writeStatus(out: Writer, id: number, result: number = RTYPE_OK, description = ''): void {
  const text = description.length > 200 ? description.slice(0, 197) + '...' : description;
  const n = Buffer.byteLength(text, 'latin1');
  out
    .ubyte(1 + 1 + 1 + 4 + n)
    .ubyte(id)
    .ubyte(result)
    .string(text);
}

/** A whole message: the 4-byte total length, then `body`. */
export function frameMessage(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length + 4);
  return Buffer.concat([head, body]);
}
