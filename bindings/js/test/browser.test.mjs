// The package in Chromium (Debian's, driven by playwright-core): on the server's own
// origin with the HttpOnly session cookie, and on other origins with a bearer token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@chatter/sdk";
import { server, synced, unique, until } from "./helpers.mjs";
import { freePort, launch, origin, pageAt, stopOrigins } from "./browser/harness.mjs";

const allowedPort = process.env.TEST_ALLOWED_ORIGIN_PORT;
let browser;
let sameOrigin;
let allowedOrigin;
let foreignOrigin;

before(async () => {
  sameOrigin = await origin(await freePort(), server);
  allowedOrigin = await origin(Number(allowedPort));
  foreignOrigin = await origin(await freePort());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  stopOrigins();
});


test("on the server's origin: cookie login, a live message, and a reload that stays logged in", { timeout: 90_000 }, async () => {
  const context = await browser.newContext();
  const { page, problems } = await pageAt(context, sameOrigin);
  const name = unique("page");
  const me = await page.evaluate(async (name) => {
    const client = await window.sdk.Client.create({ server: location.origin, persistAs: "main" });
    const user = await client.register(name, "correct horse battery");
    client.startSync();
    window.client = client;
    window.seen = [];
    return user;
  }, name);
  assert.equal(me.username, name);

  // Script never holds the token: the cookie is HttpOnly, and nothing stored has it.
  const visible = await page.evaluate(() => ({
    cookie: document.cookie,
    stored: Object.keys(localStorage).map((k) => localStorage.getItem(k)).join("\n"),
  }));
  assert.ok(!visible.cookie.includes("chatter_session"), `document.cookie: ${visible.cookie}`);
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem("chatter.session.main")));
  assert.equal(stored.user_id, me.id);
  assert.equal(stored.token, "", "no token in localStorage");

  // Someone writes to the page's user: the message arrives live.
  const bob = await Client.create({ server });
  await bob.register(unique("bob"), "correct horse battery");
  await synced(bob);
  const chat = await bob.createDirect(me.id);
  await page.evaluate(async (chatId) => {
    await new Promise((resolve) => {
      const check = () => window.client.syncState().state === "connected" ? resolve() : setTimeout(check, 50);
      check();
    });
    const timeline = await window.client.chat(chatId).timeline();
    timeline.subscribe((items) => { window.seen = items.map((i) => i.text); });
  }, chat.id);
  await (await bob.chat(chat.id).timeline()).send("hello, browser");
  await until("the page gets the message live", async () =>
    (await page.evaluate(() => window.seen)).includes("hello, browser"));

  // A reload: the page opens logged in from the cookie, with the same user.
  await page.reload();
  await page.waitForFunction(() => window.sdkReady === true);
  const again = await page.evaluate(async () => {
    const client = await window.sdk.Client.create({ server: location.origin, persistAs: "main" });
    const profile = await client.profile();
    return { userId: client.userId, username: profile.username };
  });
  assert.deepEqual(again, { userId: me.id, username: name });
  assert.deepEqual(problems, []);
  bob.dispose();
  await context.close();
});

test("a page on an allowed origin uses the API with a bearer token; another origin is refused", { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const { page } = await pageAt(context, allowedOrigin);
  const made = await page.evaluate(async ({ server, name }) => {
    const client = await window.sdk.Client.create({ server });
    await client.register(name, "correct horse battery");
    const chat = await client.createGroup({ title: "Cross-origin", visibility: "private" });
    return chat.title;
  }, { server, name: unique("app") });
  assert.equal(made, "Cross-origin");

  const { page: foreign } = await pageAt(context, foreignOrigin);
  const refused = await foreign.evaluate(async ({ server, name }) => {
    const client = await window.sdk.Client.create({ server });
    try {
      await client.register(name, "correct horse battery");
      return "registered";
    } catch (e) {
      return `${e.constructor.name}:${e.code}`;
    }
  }, { server, name: unique("foreign") });
  assert.equal(refused, "ChatterError:network", "the browser refuses the answer to a foreign origin");
  await context.close();
});
