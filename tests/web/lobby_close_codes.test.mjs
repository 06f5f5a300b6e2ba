// The lobby's TLS endpoint and its close codes, probed by an outside WebSocket client (npm ws),
// the way a tool or another implementation would meet them: over wss:// with the lobby's own CA,
// an oversize binary frame (1 MiB and 16 MiB, over the lobby's 16 KiB limit) is closed with 1009
// (not 1006: the close frame must survive the rest of the frame still arriving), a text frame of
// invalid UTF-8 with 1007, and garbage JSON gets an error reply that carries the parser's words
// before its 1007.
// A client that does not trust the CA fails its handshake. An honest wss:// client stays
// connected through all of it and is still answered at the end. Only 127.0.0.1 traffic.
//
// Environment (set by ctest, see CMakeLists.txt):
//   TICKWIRE_LOBBY_WEB_SERVER  path of tickwire_lobby_web_server
// Exits 77 (ctest SKIP_RETURN_CODE) when node_modules has no ws.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const here = path.dirname(fileURLToPath(import.meta.url));
let WebSocket;
try {
  WebSocket = createRequire(path.join(here, 'package.json'))('ws');
} catch {
  console.log('SKIPPED: tests/web/node_modules has no ws: run npm ci --prefix tests/web');
  process.exit(SKIP);
}
const serverPath = process.env.TICKWIRE_LOBBY_WEB_SERVER;
assert.ok(serverPath && existsSync(serverPath),
          `TICKWIRE_LOBBY_WEB_SERVER (${serverPath}) is not a file: build tickwire_lobby_web_server`);

const watchdog = setTimeout(() => {
  console.error('FAILED: the test took more than 50 s');
  process.exit(1);
}, 50_000);

function startServer() {
  const server = spawn(serverPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = new Promise((resolve, reject) => {
    let out = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const port = /listening on (\d+)/.exec(out);
      const ca = /ca file (\S+)/.exec(out);
      if (port && ca) resolve({ port: Number(port[1]), ca: readFileSync(ca[1]) });
    });
    server.on('exit', (code) => reject(new Error(`the lobby exited early (code ${code})`)));
    server.on('error', reject);
  });
  const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  return { server, ready, exited };
}

// Opens a connection; resolves once open (rejects on an error before that).
function open(url, options) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { maxPayload: 1 << 20, ...options });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

// Resolves with the close code the lobby sent (1006: the connection ended without a close frame).
function closeCode(socket) {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}

// Resolves with the next JSON message.
function nextMessage(socket) {
  return new Promise((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
}

async function request(socket, bodyType, body, id) {
  const reply = nextMessage(socket);
  socket.send(JSON.stringify({ request_id: id, body_type: bodyType, body }));
  return reply;
}

const { server, ready, exited } = startServer();
try {
  const { port, ca } = await ready;
  const url = `wss://127.0.0.1:${port}/`;

  // The honest client: trusts the CA, says Hello, and stays connected throughout.
  const honest = await open(url, { ca });
  let honestClosed = false;
  honest.on('close', () => { honestClosed = true; });
  const welcome = await request(honest, 'Hello', { nickname: 'honest' }, 1);
  assert.equal(welcome.result.ok, true, JSON.stringify(welcome));

  // Without the CA the handshake fails: the certificate is nobody's the system trusts.
  await assert.rejects(open(url, {}), /self[- ]signed|unable to (get|verify)|certificate/i);

  // Oversize binary frames, 1 MiB and 16 MiB: 1009, after the lobby has drained what followed.
  for (const size of [1 << 20, 16 << 20]) {
    const socket = await open(url, { ca });
    const code = closeCode(socket);
    socket.send(Buffer.alloc(size, 0x41), { binary: true });
    assert.equal(await code, 1009, `an oversize frame of ${size} bytes`);
  }

  // A text frame that is not UTF-8: 1007 (ws sends the bytes as they are).
  {
    const socket = await open(url, { ca });
    const code = closeCode(socket);
    socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.equal(await code, 1007, 'a text frame of invalid UTF-8');
  }

  // Garbage JSON: an error reply that says what the parser found, then (the lobby's default
  // max_malformed_frames is 1) the close, 1007.
  {
    const socket = await open(url, { ca });
    const code = closeCode(socket);
    const reply = nextMessage(socket);
    socket.send('{"request_id": 5, "body_type": "Hello", "body": {nickname: }');
    const answer = await reply;
    assert.notEqual(answer.result.ok, true, JSON.stringify(answer));  // false is left out
    assert.equal(answer.result.code, 'malformed', JSON.stringify(answer));
    assert.match(answer.result.message, /^not a LobbyMessage in JSON: .+/, JSON.stringify(answer));
    assert.equal(await code, 1007, 'garbage JSON');
  }

  // The honest client was never disturbed and is still answered.
  const rooms = await request(honest, 'ListRooms', {}, 2);
  assert.equal(rooms.result.ok, true, JSON.stringify(rooms));
  assert.equal(honestClosed, false, 'the honest client was disconnected');
  honest.close(1000);
} finally {
  server.stdin.end();  // the lobby stops when its stdin closes
}

const { code, signal } = await exited;
assert.equal(signal, null, `the lobby died of ${signal}`);
assert.equal(code, 0, `the lobby exited with ${code}`);
clearTimeout(watchdog);
console.log('ok: wss:// verified; close codes 1009 (1 MiB, 16 MiB) and 1007; JSON errors explained');
