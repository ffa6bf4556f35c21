// What the package's Node tests share: the server's addresses (from scripts/js-test.sh)
// and small waits.
import { Client } from "@chatter/sdk";

export const server = process.env.TEST_SERVER_URL;
export const proxied = process.env.TEST_PROXY_URL;
const control = process.env.TEST_PROXY_CONTROL;

if (!server || !proxied || !control) {
  throw new Error("run through scripts/js-test.sh (TEST_SERVER_URL, TEST_PROXY_URL, TEST_PROXY_CONTROL)");
}

/** Tells the proxy to `cut`, `hold` or `release`. */
export async function proxy(action) {
  const answer = await fetch(`${control}/${action}`);
  if (!answer.ok) throw new Error(`proxy ${action}: ${answer.status}`);
}

export function unique(prefix) {
  return `${prefix}${Math.random().toString(16).slice(2, 10)}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits up to 15 s for `done()` to hold. */
export async function until(what, done) {
  for (let i = 0; i < 300; i++) {
    if (await done()) return;
    await sleep(50);
  }
  throw new Error(`timed out: ${what}`);
}

/** A new account's client on `url`, registered and logged in. */
export async function registered(name, url = server) {
  const client = await Client.create({ server: url });
  await client.register(name, "correct horse battery");
  return client;
}

/** Starts sync and waits until it is connected. */
export async function synced(client) {
  client.startSync();
  await until("sync connects", () => client.syncState().state === "connected");
}

export const sentTexts = (items) => items.filter((i) => i.send_state.state === "sent").map((i) => i.text);
