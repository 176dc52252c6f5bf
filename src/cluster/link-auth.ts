/**
 * Authenticated cluster links (DESIGN.md "Security"): every master↔worker and worker↔worker
 * connection starts with a mutual challenge–response over a shared secret, before anything else is
 * read. Each end sends a fresh 32-byte nonce; on the other's nonce it sends its proof
 *
 *   HMAC-SHA256(secret, "tessds-link-v1" ‖ role ‖ plan ‖ epoch ‖ own nonce ‖ other's nonce)
 *
 * and checks the other's in constant time. The role ("client": the end that connected, "server")
 * keeps a proof from being reflected back; the nonces keep it from being replayed; plan and epoch
 * keep a link of one run (or one leader term) from being taken for another's. The secret never
 * travels: it comes from TESSDS_CLUSTER_SECRET or --secret-file, or, when neither is set, is drawn
 * at random by the master of an embedded run and handed to the workers it starts (secret.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface LinkAuth {
  /** the shared secret (key material; never logged) */
  secret: Buffer;
  /** what the link belongs to: both ends must name the same plan and epoch */
  plan: string;
  epoch: number;
}

export const NONCE_BYTES = 32;
/** a handshake frame: [u8 kind][32 bytes] */
export const HANDSHAKE_FRAME_BYTES = 1 + NONCE_BYTES;
export const HANDSHAKE_TIMEOUT_MS = 5000;

const KIND_NONCE = 6;
const KIND_PROOF = 7;

export function proof(auth: LinkAuth, role: 'client' | 'server', own: Buffer, other: Buffer): Buffer {
  const h = createHmac('sha256', auth.secret);
  h.update(`tessds-link-v1\0${role}\0${auth.plan}\0${auth.epoch}\0`);
  h.update(own);
  h.update(other);
  return h.digest();
}

/** One end's side of the handshake: feed it the frames received; it says what to send and when it is done. */
export class Handshake {
  readonly nonce = randomBytes(NONCE_BYTES);
  private theirs: Buffer | undefined;

  constructor(
    private readonly auth: LinkAuth,
    private readonly role: 'client' | 'server',
  ) {}

  receive(kind: number, payload: Buffer): { error?: string; send?: { kind: number; payload: Buffer }; done?: boolean } {
    if (payload.length !== NONCE_BYTES)
      return { error: `a ${payload.length}-byte handshake frame (expected ${NONCE_BYTES})` };
    if (kind === KIND_NONCE) {
      if (this.theirs) return { error: 'a second nonce' };
      this.theirs = Buffer.from(payload);
      if (this.theirs.equals(this.nonce)) return { error: 'our own nonce sent back' };
      return { send: { kind: KIND_PROOF, payload: proof(this.auth, this.role, this.nonce, this.theirs) } };
    }
    if (kind === KIND_PROOF) {
      if (!this.theirs) return { error: 'a proof before the nonce' };
      const expected = proof(this.auth, this.role === 'client' ? 'server' : 'client', this.theirs, this.nonce);
      // both are SHA-256 digests: equal lengths, so timingSafeEqual compares in constant time
      if (!timingSafeEqual(expected, payload)) return { error: 'wrong proof (another secret, plan or epoch)' };
      return { done: true };
    }
    return { error: `a frame of kind ${kind} before the handshake` };
  }
}
