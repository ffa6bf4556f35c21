// Two clients of the package against the real server, in Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, ChatterError } from "@chatter/sdk";
import { proxy, proxied, registered, sentTexts, server, sleep, synced, unique, until } from "./helpers.mjs";

test("register, log in, create a chat, invite, send: the other receives it live", { timeout: 60_000 }, async () => {
  const aliceName = unique("alice");
  await (await registered(aliceName)).logout();
  const alice = await Client.create({ server });
  const me = await alice.login(aliceName, "correct horse battery");
  assert.equal(me.username, aliceName);
  assert.equal(alice.userId, me.id);
  const bob = await registered(unique("bob"));
  await synced(alice);
  await synced(bob);

  const chat = await alice.createGroup({ title: "Team", visibility: "private", members: [] });
  assert.equal(chat.kind, "group");
  const invited = await alice.chat(chat.id).invite(bob.userId);
  assert.equal(invited.role, "member");
  await until("bob's chat list has the group", () => bob.chatList().some((c) => c.id === chat.id));

  const bobs = await bob.chat(chat.id).timeline();
  const seen = [];
  const sub = bobs.subscribe((items) => seen.push(sentTexts(items)));
  assert.deepEqual(seen, [[]], "called at once with the current items");
  const alices = await alice.chat(chat.id).timeline();
  const clientId = await alices.send("hello from node");
  assert.match(clientId, /^[0-9a-f]{32}$/);
  await until("bob sees the message live", () => seen.at(-1)?.includes("hello from node"));
  const item = bobs.items().find((i) => i.text === "hello from node");
  assert.equal(item.sender_id, alice.userId);
  assert.equal(typeof item.created_at, "string");
  sub.unsubscribe();
  for (const c of [alice, bob]) c.dispose();
});

test("history pages backwards to the first message", { timeout: 60_000 }, async () => {
  const alice = await registered(unique("alice"));
  await synced(alice); // the send queue goes out over the sync connection's session
  const chat = await alice.createGroup({ title: "History", visibility: "private" });
  const timeline = await alice.chat(chat.id).timeline();
  for (let i = 1; i <= 60; i++) await timeline.send(`message ${i}`);
  await until("all sent", () => sentTexts(timeline.items()).length === 60);

  const fresh = await Client.create({ server });
  await fresh.login((await alice.profile()).username, "correct horse battery");
  const reopened = await fresh.chat(chat.id).timeline();
  const first = sentTexts(reopened.items()).length;
  assert.ok(first < 60, `the first page is not everything (${first})`);
  while (!(await reopened.paginateBackwards(20))) {} // true at the start of the chat
  const all = sentTexts(reopened.items());
  assert.equal(all.length, 60);
  assert.deepEqual(all.slice(0, 2), ["message 1", "message 2"]);
  assert.equal(all.at(-1), "message 60");
  alice.dispose();
  fresh.dispose();
});

test("errors are ChatterErrors with the API's code and field", { timeout: 60_000 }, async () => {
  const client = await Client.create({ server });
  await assert.rejects(client.login(unique("nobody"), "wrong password!"), (e) => {
    assert.ok(e instanceof ChatterError && e instanceof Error);
    assert.equal(e.code, "unauthenticated");
    return true;
  });
  await client.register(unique("carol"), "correct horse battery");
  await assert.rejects(client.createGroup({ title: "", visibility: "private" }), (e) => {
    assert.equal(e.code, "validation_failed");
    assert.equal(e.field, "title");
    return true;
  });
  await assert.rejects(client.chat("c_missing").info(), (e) => e.code === "not_found");
  await assert.rejects(client.createGroup({ title: "T", visibility: "secret" }), (e) => {
    assert.equal(e.code, "validation_failed", "bad input from JS is refused before it is sent");
    assert.equal(e.field, "options");
    return true;
  });
  await assert.rejects(Client.create({ server: "ftp://example.org" }), (e) => e.code === "invalid_request");
  client.dispose();
});

test("an unsubscribed handle hears nothing more", { timeout: 60_000 }, async () => {
  const alice = await registered(unique("alice"));
  await synced(alice);
  const chat = await alice.createGroup({ title: "Quiet", visibility: "private" });
  const timeline = await alice.chat(chat.id).timeline();
  let kept = 0;
  let dropped = 0;
  const keep = timeline.subscribe(() => kept++);
  const drop = timeline.subscribe(() => dropped++);
  drop.unsubscribe();
  drop.unsubscribe(); // twice is harmless
  await timeline.send("one");
  await timeline.send("two");
  await until("the kept subscription hears both", () => sentTexts(timeline.items()).length === 2 && kept >= 2);
  await sleep(200);
  assert.equal(dropped, 1, "only the call made at subscribe time");
  keep.unsubscribe();
  alice.dispose();
});

test("the offline queue sends once the server is back", { timeout: 60_000 }, async () => {
  const alice = await registered(unique("alice"), proxied);
  const bob = await registered(unique("bob"));
  await synced(alice);
  await synced(bob);
  const chat = await alice.createGroup({ title: "Offline", visibility: "private", members: [bob.userId] });
  const alices = await alice.chat(chat.id).timeline();
  const bobs = await bob.chat(chat.id).timeline();

  await proxy("hold");
  await proxy("cut");
  await until("alice's client sees it is offline", () => alice.syncState().state !== "connected");
  await alices.send("written offline");
  await alices.send("and another");
  await sleep(500);
  assert.deepEqual(
    alices.items().map((i) => [i.text, i.send_state.state]),
    [["written offline", "pending"], ["and another", "pending"]],
  );
  assert.equal(alice.queuedSends().length, 2);

  await proxy("release");
  await until("bob gets both, in order", () => sentTexts(bobs.items()).length === 2);
  assert.deepEqual(sentTexts(bobs.items()), ["written offline", "and another"]);
  await until("alice's queue is empty", () => alice.queuedSends().length === 0);
  assert.deepEqual(sentTexts(alices.items()), ["written offline", "and another"]);
  alice.dispose();
  bob.dispose();
});
