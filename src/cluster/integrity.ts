/**
 * Integrity of what the store keeps (DESIGN.md "Integrity"): checkpoints, final part dumps, stored
 * scenarios (plan records) and command log entries are sealed with a SHA-256 of their bytes, checked
 * on every read. A flipped bit, a record cut short or one without a seal is an IntegrityError naming
 * the key and the store, one line — never a silent restore into another state, never "offset out of
 * range". (Falling back to the previous committed checkpoint is the coordinator's: issue 12.)
 *
 *   [8 bytes "TDSSEAL1"][u64 payload length][32 bytes SHA-256 of the payload][payload]
 */
import { createHash } from 'node:crypto';

const MAGIC = Buffer.from('TDSSEAL1');
export const SEAL_HEAD_BYTES = MAGIC.length + 8 + 32;

export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/** `payload` with its seal in front. */
export function seal(payload: Buffer): Buffer {
  const head = Buffer.alloc(SEAL_HEAD_BYTES);
  MAGIC.copy(head, 0);
  head.writeBigUInt64LE(BigInt(payload.length), MAGIC.length);
  createHash('sha256')
    .update(payload)
    .digest()
    .copy(head, MAGIC.length + 8);
  return Buffer.concat([head, payload]);
}

/** The payload of sealed `bytes`; IntegrityError naming `what` (e.g. "checkpoint K in URL") when they do not check. */
export function unseal(bytes: Buffer, what: string): Buffer {
  const n = Math.min(MAGIC.length, bytes.length);
  if (bytes.length === 0) throw new IntegrityError(`${what}: empty`);
  if (!bytes.subarray(0, n).equals(MAGIC.subarray(0, n)))
    throw new IntegrityError(`${what}: no TessDS checksum (not written by this version, or overwritten)`);
  if (bytes.length < SEAL_HEAD_BYTES) throw new IntegrityError(`${what}: truncated (${bytes.length} bytes)`);
  const length = Number(bytes.readBigUInt64LE(MAGIC.length));
  const payload = bytes.subarray(SEAL_HEAD_BYTES);
  if (payload.length !== length)
    throw new IntegrityError(`${what}: truncated or padded (${payload.length} of ${length} bytes)`);
  const sum = createHash('sha256').update(payload).digest();
  if (!sum.equals(bytes.subarray(MAGIC.length + 8, SEAL_HEAD_BYTES)))
    throw new IntegrityError(`${what}: checksum mismatch (the stored bytes changed since they were written)`);
  return payload;
}

export const sealJson = (x: unknown): Buffer => seal(Buffer.from(JSON.stringify(x)));

/** Sealed JSON: the value, or IntegrityError naming `what`. */
export function unsealJson<T>(bytes: Buffer, what: string): T {
  const payload = unseal(bytes, what);
  try {
    return JSON.parse(payload.toString('utf8')) as T;
  } catch (e) {
    throw new IntegrityError(`${what}: not JSON (${(e as Error).message.split('\n')[0]})`);
  }
}
