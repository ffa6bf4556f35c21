// The package's entry point in browsers (and Deno, workers): loads the wasm module
// next to this file, then exports the API.
import init, { errorClass } from "./dist/chatter_js.js";

await init({ module_or_path: new URL("./dist/chatter_js_bg.wasm", import.meta.url) });

export * from "./dist/chatter_js.js";
export const ChatterError = errorClass();
