// A call between the package in Chromium (fake camera and microphone) and a native SDK
// participant (examples/call-bot): media is proven by counters on both sides, not by
// events alone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Client } from "@chatter/sdk";
import { server, sleep, synced, unique, until } from "./helpers.mjs";
import { freePort, launch, origin, pageAt, stopOrigins } from "./browser/harness.mjs";

const root = new URL("../../..", import.meta.url).pathname;
const botBin = process.env.CALL_BOT_BIN ?? `${root}target/debug/call-bot`;
const clip = `${root}chatter-sdk/tests/fixtures/testsrc-160x120-vp8.ivf`;
let browser;
let sameOrigin;

before(async () => {
  sameOrigin = await origin(await freePort(), server);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  stopOrigins();
});

/** Starts the bot in `chatId`; its latest report, and a way to steer it. */
function startBot(username, password, chatId) {
  const bot = spawn(botBin, [server, username, password, chatId, clip], {
    env: { ...process.env, CALL_BOT_UDP: "127.0.0.1:0" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const state = { report: null, exited: null };
  createInterface({ input: bot.stdout }).on("line", (line) => {
    state.report = JSON.parse(line);
  });
  bot.on("exit", (code) => {
    state.exited = code;
  });
  return {
    state,
    send: (command) => bot.stdin.write(`${command}\n`),
    stop: () => bot.kill(),
  };
}

/** Inbound RTP counters of the page's call, by kind. */
async function inbound(page) {
  return page.evaluate(async () => {
    const report = await window.call.getStats();
    const out = {};
    report.forEach((s) => {
      if (s.type === "inbound-rtp") {
        out[s.kind] = { packets: s.packetsReceived ?? 0, frames: s.framesDecoded ?? 0 };
      }
    });
    return out;
  });
}

test("a call between the JS SDK in Chromium and a native participant carries media both ways", { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  const { page, problems } = await pageAt(context, sameOrigin);
  const pageUser = await page.evaluate(async (name) => {
    window.client = await window.sdk.Client.create({ server: location.origin });
    const user = await window.client.register(name, "correct horse battery");
    window.client.startSync();
    return user;
  }, unique("page"));

  const botName = unique("bot");
  const owner = await Client.create({ server });
  await owner.register(unique("owner"), "correct horse battery");
  const bot = await Client.create({ server });
  await bot.register(botName, "correct horse battery");
  await synced(owner);
  const chat = await owner.createGroup({ title: "Call", visibility: "private", members: [pageUser.id, bot.userId] });
  bot.dispose();

  // The page joins with its microphone and camera, and plays what it receives.
  await page.evaluate(async (chatId) => {
    await new Promise((resolve) => {
      const check = () => (window.client.syncState().state === "connected" ? resolve() : setTimeout(check, 50));
      check();
    });
    window.events = { subscribed: [], muted: [] };
    const call = await window.client.chat(chatId).joinCall({ microphone: true, camera: true });
    window.call = call;
    call.on("trackSubscribed", (track, info) => {
      window.events.subscribed.push(info);
      const element = document.createElement(track.kind === "video" ? "video" : "audio");
      element.srcObject = new MediaStream([track]);
      element.muted = true;
      element.autoplay = true;
      document.body.append(element);
    });
    call.on("trackMuted", (participantId, track) => window.events.muted.push([participantId, track.kind, track.muted]));
  }, chat.id);

  const botProcess = startBot(botName, "correct horse battery", chat.id);
  try {
    const pageParticipant = await page.evaluate(() => window.call.participantId);
    // The native side counts RTP packets from the browser: audio and camera.
    await until("the bot receives the page's audio and video", () => {
      const got = botProcess.state.report?.received ?? [];
      const from = (kind) => got.find((t) => t.kind === kind && t.participant_id === pageParticipant)?.packets ?? 0;
      return from("audio") > 50 && from("video") > 50;
    });

    // The page receives the bot's audio and decodes its video, more frames over 2 s.
    await until("the page's getStats shows inbound audio and video", async () => {
      const s = await inbound(page);
      return s.audio?.packets > 20 && s.video?.frames > 5;
    });
    const before = await inbound(page);
    await sleep(2000);
    const afterwards = await inbound(page);
    assert.ok(afterwards.video.frames > before.video.frames + 20, `frames decoded: ${before.video.frames} -> ${afterwards.video.frames}`);
    assert.ok(afterwards.audio.packets > before.audio.packets + 50, `audio packets: ${before.audio.packets} -> ${afterwards.audio.packets}`);
    const subscribed = await page.evaluate(() => window.events.subscribed.map((t) => t.kind).sort());
    assert.deepEqual(subscribed, ["audio", "video"]);

    // A mute on one side is seen on the other, both ways.
    await page.evaluate(() => window.call.setMuted("audio", true));
    await until("the bot sees the page muted", () =>
      (botProcess.state.report?.muted ?? []).includes(`${pageParticipant}:audio`));
    const botParticipant = botProcess.state.report.participant_id;
    botProcess.send("mute audio");
    await until("the page hears of the bot's mute", async () =>
      (await page.evaluate(() => window.events.muted)).some(([p, kind, muted]) => p === botParticipant && kind === "audio" && muted));

    // The page shares its screen: the bot receives it as a screen track.
    await page.evaluate(() => window.call.setScreenShareEnabled(true));
    await until("the bot receives the page's screen", () =>
      (botProcess.state.report?.received ?? []).some((t) => t.kind === "screen" && t.packets > 20));

    await page.evaluate(() => window.call.leave());
    await until("the bot sees the page leave", () => botProcess.state.report?.participants === 1);
    assert.deepEqual(problems, []);
  } finally {
    botProcess.stop();
    owner.dispose();
    await context.close();
  }
});
