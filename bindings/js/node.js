// The package's entry point in Node >= 20: reads the wasm module from disk and gives
// the SDK a WebSocket (Node 20 has none built in; 22 does).
import { readFile } from "node:fs/promises";
import { WebSocket as WsWebSocket } from "ws";
import init, { errorClass } from "./dist/chatter_js.js";

globalThis.WebSocket ??= WsWebSocket;
await init({ module_or_path: await readFile(new URL("./dist/chatter_js_bg.wasm", import.meta.url)) });

export * from "./dist/chatter_js.js";
export const ChatterError = errorClass();
