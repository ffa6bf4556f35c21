// What the Chromium suites share: origin servers for the test page, and the browser.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const packageDir = new URL("../..", import.meta.url).pathname;
const originServer = new URL("./origin-server.mjs", import.meta.url).pathname;
const children = [];

/** Stops the origin servers (else they keep the test file's process alive). */
export function stopOrigins() {
  for (const child of children.splice(0)) child.kill();
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Serves the package and the test page on `port` (and the API, given `api`); its URL. */
export async function origin(port, api) {
  const child = spawn("node", [originServer, String(port), packageDir, ...(api ? [api] : [])], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  await new Promise((resolve, reject) => {
    child.stdout.once("data", resolve);
    child.once("exit", (code) => reject(new Error(`origin server exited with ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}

/** Debian's Chromium, headless, with fake camera and microphone (TOOLCHAIN.md). */
export function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
      "--auto-accept-this-tab-capture", "--auto-select-desktop-capture-source=Entire screen",
    ],
  });
}

/** A fresh page at `origin` with the package loaded as window.sdk, and its errors. */
export async function pageAt(context, origin) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.sdkReady === true, null, { timeout: 20_000 });
  return { page, problems };
}
