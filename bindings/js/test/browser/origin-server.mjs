// Serves the package and a test page, for the Chromium suite:
//   node origin-server.mjs PORT PACKAGE_DIR [API_URL]
// Files under PACKAGE_DIR are served at /pkg/, page.html at /. With API_URL, every
// other path (/v1/..., the WebSocket upgrade included) goes to the Chatter server, so
// the page and the API share one origin, as when the server serves the web app itself.
// Without it, the page is on an origin of its own (a cross-origin app).
import http from "node:http";
import net from "node:net";
import { readFile } from "node:fs/promises";
import path from "node:path";

const [port, packageDir, api] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);
const types = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
const target = api ? new URL(api) : null;

async function serveFile(res, file) {
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}

function forward(req, res) {
  const upstream = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", () => res.writeHead(502).end());
  req.pipe(upstream);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/") return serveFile(res, path.join(here, "page.html"));
  if (url.pathname.startsWith("/pkg/")) {
    const file = path.normalize(path.join(packageDir, url.pathname.slice(5)));
    if (!file.startsWith(path.resolve(packageDir))) return res.writeHead(403).end();
    return serveFile(res, file);
  }
  if (target) return forward(req, res);
  res.writeHead(404).end();
});

// WebSocket upgrades go through as raw bytes, the request head first.
server.on("upgrade", (req, socket, head) => {
  if (!target) return socket.destroy();
  const upstream = net.connect(Number(target.port), target.hostname, () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(lines.join("\r\n") + "\r\n\r\n");
    upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const end = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on("error", end);
  socket.on("error", end);
});

server.listen(Number(port), "127.0.0.1", () => console.log("origin ready"));
