// A TCP proxy in front of the server for the browser and JS suites, controlled over HTTP so a
// test can drop its connections and keep it out:
//   node test-proxy.mjs LISTEN_PORT TARGET_HOST:TARGET_PORT CONTROL_PORT
//   GET /cut      closes every connection through the proxy
//   GET /hold     refuses new connections (closes them at once) until /release
//   GET /release  lets them through again
import net from "node:net";
import http from "node:http";

const [listenPort, target, controlPort] = process.argv.slice(2);
const [targetHost, targetPort] = target.split(":");
const open = new Set();
let holding = false;

net
  .createServer((client) => {
    if (holding) {
      client.destroy();
      return;
    }
    const server = net.connect(Number(targetPort), targetHost);
    const pair = { client, server };
    open.add(pair);
    const end = () => {
      open.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
    client.pipe(server);
    server.pipe(client);
  })
  .listen(Number(listenPort), "127.0.0.1");

http
  .createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/cut") {
      for (const { client, server } of open) {
        client.destroy();
        server.destroy();
      }
      open.clear();
    } else if (path === "/hold") {
      holding = true;
    } else if (path === "/release") {
      holding = false;
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "access-control-allow-origin": "*", "content-type": "text/plain" }).end("ok");
  })
  .listen(Number(controlPort), "127.0.0.1");

console.log("proxy ready");
