// Types of the package: the API generated from the Rust code, and the error class.
export * from "./dist/chatter_js.js";
export { ChatterError } from "./js/errors.js";
