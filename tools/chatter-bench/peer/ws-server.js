// The fanout benchmark's peer: a plain broadcast server on the `ws` package. It speaks
// the subset of Chatter's protocol the bench uses: `ready` on connect, and each `send`
// is broadcast once, encoded once, to every socket as a `message.created` frame.
// No persistence and no auth: the lightest server that does the same delivery.
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 0);
const server = http.createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' });
  res.end('{"status":"ok"}');
});
const wss = new WebSocketServer({ server, path: '/v1/ws', maxPayload: 64 * 1024 });
let seq = 0;

wss.on('connection', (socket) => {
  socket.send(JSON.stringify({ type: 'ready' }));
  socket.on('message', (data) => {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      socket.send(JSON.stringify({ type: 'error', code: 'invalid_request', message: 'not JSON' }));
      return;
    }
    if (frame.type !== 'send') return;
    seq += 1;
    const out = JSON.stringify({
      type: 'message.created',
      chat_id: frame.chat_id,
      event_seq: seq,
      message: { id: String(seq), chat_id: frame.chat_id, seq, text: frame.text, client_id: frame.client_id },
    });
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(out);
    }
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`ws peer listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
