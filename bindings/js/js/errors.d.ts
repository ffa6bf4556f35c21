/** The error every promise of the package rejects with. */
export declare class ChatterError extends Error {
  constructor(code: string, message: string, field?: string | null, retryAfterMs?: number | null);
  /** The API's error code: `validation_failed`, `not_found`, `unauthenticated`, `network`, ... */
  readonly code: string;
  /** The input field the error is about, when there is one. */
  readonly field?: string;
  /** How long to wait before trying again (rate limits, an unavailable server). */
  readonly retryAfterMs?: number;
}
