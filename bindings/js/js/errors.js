// The error every promise of the package rejects with. The Rust side constructs it
// (wasm-bindgen imports this module), so `instanceof ChatterError` holds in apps.
export class ChatterError extends Error {
  constructor(code, message, field, retryAfterMs) {
    super(message);
    this.name = "ChatterError";
    /** The API's error code: `validation_failed`, `not_found`, `network`, ... */
    this.code = code;
    /** The input field the error is about, when there is one. */
    this.field = field ?? undefined;
    /** How long to wait before trying again (rate limits, unavailability). */
    this.retryAfterMs = retryAfterMs ?? undefined;
  }
}
