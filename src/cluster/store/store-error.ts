/**
 * A store operation failed for a reason outside the program (disk, permissions, network, a lock held
 * too long). The message is one line naming the store and what failed; the original error is `cause`.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The short text of an unknown error, for the end of a one-line message. */
export function reason(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ?? e.message;
  return String(e);
}
