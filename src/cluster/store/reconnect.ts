/** Longest wait between two reconnect attempts of a store client (Redis), ms. */
export const RECONNECT_MAX_MS = 2000;
