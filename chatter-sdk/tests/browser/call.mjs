// Joins a call from headless Chromium (Debian's /usr/bin/chromium, fake camera and
// microphone) through call.html, served on the Chatter server's own origin.
// Usage: node call.mjs <server base URL> <token> <chat id> <seconds>
// Prints one JSON line: what the page's getStats saw each second.
import { chromium } from "playwright-core";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, token, chatId, seconds] = process.argv.slice(2);
const page_html = readFileSync(new URL("./call.html", import.meta.url), "utf8");
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "chatter-chromium-")), {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    // The page is served by route interception, so Chromium cannot tell it came from
    // loopback and would block its socket to the server as a local-network request.
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests",
  ],
});
try {
  const page = await context.newPage();
  page.on("console", (m) => process.stderr.write(`page: ${m.text()}\n`));
  await page.route(`${base}/__interop/call.html`, (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: page_html }));
  await page.goto(`${base}/__interop/call.html`);
  const result = await page.evaluate((args) => window.runCall(args), { token, chatId, seconds: Number(seconds) });
  process.stdout.write(JSON.stringify(result) + "\n");
} finally {
  await context.close();
}
