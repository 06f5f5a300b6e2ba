// The browser lobby page (game-demo/web/index.html) end to end, as two players use it: both set a
// name, ann creates a room and says something, bob joins and sees it in the history, they chat
// both ways, both get ready and each sees the other ready. A third page left idle past the lobby's
// Hello deadline is closed, says so, and still gets its name when the user picks one later
// (the lobby runs with a 2 s deadline here); a fourth whose Hello crosses that close on the wire
// gets its name too. The page lists the lobby's recorded matches and the
// files it offers with download links, and a link downloads its file byte for byte. The page comes over https:// and talks wss://, with a
// certificate the lobby made at start (Chromium is told to accept it). Headless Debian chromium,
// driven by npm playwright-core (which downloads no browser). Only 127.0.0.1 traffic.
//
// Environment (set by ctest, see CMakeLists.txt):
//   TICKWIRE_LOBBY_WEB_SERVER  path of tickwire_lobby_web_server
//   TICKWIRE_WEB_TEST_OUT      directory for the screenshot (web_lobby_page.png)
// Exits 77 (ctest SKIP_RETURN_CODE) when /usr/bin/chromium or node_modules is missing.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const HELLO_TIMEOUT_MS = 2000;
const here = path.dirname(fileURLToPath(import.meta.url));
const chromiumPath = '/usr/bin/chromium';

function skip(why) {
  console.log(`SKIPPED: ${why}`);
  process.exit(SKIP);
}

if (!existsSync(chromiumPath)) skip(`${chromiumPath} is missing: run scripts/deps.sh`);
let playwright;
try {
  playwright = createRequire(path.join(here, 'package.json'))('playwright-core');
} catch {
  skip('tests/web/node_modules has no playwright-core: run npm ci --prefix tests/web');
}
const serverPath = process.env.TICKWIRE_LOBBY_WEB_SERVER;
const outDir = process.env.TICKWIRE_WEB_TEST_OUT || here;
assert.ok(serverPath && existsSync(serverPath),
          `TICKWIRE_LOBBY_WEB_SERVER (${serverPath}) is not a file: build tickwire_lobby_web_server`);
mkdirSync(outDir, { recursive: true });

// Whatever happens, never hang the test run.
const watchdog = setTimeout(() => {
  console.error('FAILED: the test took more than 50 s');
  process.exit(1);
}, 50_000);

// --- the lobby -------------------------------------------------------------------------------

// A replay folder with one recorded match (any bytes: the lobby serves files, it does not read
// them), listed by the page.
const replayDir = mkdtempSync(path.join(os.tmpdir(), 'tickwire-web-replays-'));
const replayName = '20260101-120000-000-match-3.twreplay';
const replayBytes = Buffer.alloc(100_000, 0);
for (let i = 0; i < replayBytes.length; ++i) replayBytes[i] = (i * 31 + 7) & 0xff;
writeFileSync(path.join(replayDir, replayName), replayBytes);
// A folder of files the operator offers (a map), listed beside the replays; a hidden file in it
// is not.
const filesDir = mkdtempSync(path.join(os.tmpdir(), 'tickwire-web-files-'));
const fileName = 'arena-dunes.v2.map';
const fileBytes = Buffer.alloc(70_000, 0);
for (let i = 0; i < fileBytes.length; ++i) fileBytes[i] = (i * 17 + 3) & 0xff;
writeFileSync(path.join(filesDir, fileName), fileBytes);
writeFileSync(path.join(filesDir, '.hidden-notes'), 'not for download');
// Gone however the test ends: a failed assertion or the watchdog leaves by an exception or
// process.exit(), past any code after the test body.
process.on('exit', () => {
  rmSync(replayDir, { recursive: true, force: true });
  rmSync(filesDir, { recursive: true, force: true });
});

function startServer() {
  const server = spawn(serverPath, [], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TICKWIRE_HELLO_TIMEOUT_MS: String(HELLO_TIMEOUT_MS),
           TICKWIRE_REPLAY_DIR: replayDir, TICKWIRE_FILES_DIR: filesDir },
  });
  const port = new Promise((resolve, reject) => {
    let out = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    server.on('exit', (code) => reject(new Error(`the lobby exited early (code ${code})`)));
    server.on('error', reject);
  });
  const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  return { server, port, exited };
}

// --- the two players ---------------------------------------------------------------------------

// `beforeLoad(page)` runs before the page loads (to route its WebSocket).
async function openPlayer(browser, url, problems, beforeLoad = async () => {}) {
  // The test's certificate is signed by a CA that only the test knows.
  const context = await browser.newContext({ viewport: { width: 1000, height: 720 },
                                             ignoreHTTPSErrors: true });
  // Anything but the lobby on 127.0.0.1 is refused, so the test cannot reach the network.
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    return hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  await beforeLoad(page);
  await page.goto(url);
  await page.locator('#status[data-state="open"]').waitFor();
  return page;
}

async function setName(page, nickname) {
  await page.getByLabel('Nickname').fill(nickname);
  await page.getByRole('button', { name: 'Set name' }).click();
  await page.locator('#me', { hasText: `Playing as ${nickname}` }).waitFor();
  await page.locator('#rooms').waitFor();
}

async function say(page, text) {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

function chatLine(page, from, text) {
  return page.locator(`#chat-log .chat-line[data-from="${from}"]`, { hasText: text });
}

function member(page, nickname, ready) {
  return page.locator(`#members li[data-nickname="${nickname}"][data-ready="${ready}"]`);
}

// --- the test --------------------------------------------------------------------------------------

const started = Date.now();
const { server, port, exited } = startServer();
let browser;
const problems = [];
try {
  const url = `https://127.0.0.1:${await port}/`;
  browser = await playwright.chromium.launch({
    executablePath: chromiumPath,
    // Playwright gives every launch a fresh temporary profile (user data dir) and deletes it after.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--ignore-certificate-errors'],
  });
  const idle = await openPlayer(browser, url, problems);
  const ann = await openPlayer(browser, url, problems);
  const bob = await openPlayer(browser, url, problems);
  await setName(ann, 'ann');
  // A name that is taken (ignoring case) is refused, and the page says why.
  await bob.getByLabel('Nickname').fill('ANN');
  await bob.getByRole('button', { name: 'Set name' }).click();
  await bob.locator('#error-text', { hasText: 'nickname_taken' }).waitFor();
  await setName(bob, 'bob');
  await bob.locator('#error').waitFor({ state: 'hidden' });

  // ann opens a room and speaks first: bob must find that line in the history when he joins.
  await ann.getByLabel('Room name').fill('Friday night');
  await ann.getByRole('button', { name: 'Create room' }).click();
  await ann.locator('#room-title', { hasText: 'Friday night' }).waitFor();
  await say(ann, 'first!');
  await chatLine(ann, 'ann', 'first!').waitFor();

  await bob.getByRole('button', { name: 'Refresh' }).click();
  await bob.getByRole('button', { name: 'Join room Friday night' }).click();
  await bob.locator('#room-title', { hasText: 'Friday night' }).waitFor();
  await chatLine(bob, 'ann', 'first!').waitFor();
  await member(bob, 'ann', 'false').waitFor();
  await member(ann, 'bob', 'false').waitFor();

  await say(ann, 'hello bob, ready?');
  await chatLine(bob, 'ann', 'hello bob, ready?').waitFor();
  await say(bob, 'hi ann, getting ready');
  await chatLine(ann, 'bob', 'hi ann, getting ready').waitFor();

  await ann.getByRole('button', { name: 'Ready' }).click();
  await bob.getByRole('button', { name: 'Ready' }).click();
  await member(ann, 'bob', 'true').waitFor();
  await member(bob, 'ann', 'true').waitFor();
  await member(ann, 'ann', 'true').waitFor();
  await member(bob, 'bob', 'true').waitFor();

  // The idle page was closed for not saying Hello in time; picking a name connects it again.
  await idle.locator('#status[data-state="closed"]').waitFor({ timeout: HELLO_TIMEOUT_MS + 8_000 });
  await setName(idle, 'cat');
  await idle.locator('#status[data-state="open"]').waitFor();

  // A name picked just as the lobby closes a connection for its overdue Hello (the close and the
  // Hello cross on the wire) still gets through: the page connects again and sends it there. The
  // page's first connection is routed so that its Hello meets that close every time.
  let danConnections = 0;
  const dan = await openPlayer(browser, url, problems, (page) =>
    page.routeWebSocket(/.*/, (ws) => {
      const lobby = ws.connectToServer();
      if (++danConnections > 1) return;  // the next connection goes straight through
      ws.onMessage((message) => {
        if (JSON.parse(message).body_type !== 'Hello') return lobby.send(message);
        lobby.close();
        ws.close({ code: 1008, reason: 'no Hello in time' });
      });
    }));
  await setName(dan, 'dan');
  await dan.locator('#status[data-state="open"]').waitFor();
  assert.equal(danConnections, 2, 'the Hello was not sent again over a new connection');

  // The recorded match is listed with its download link, which gives the file.
  const link = ann.locator('#replay-list a.replay-download', { hasText: replayName });
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), `/replays/${replayName}`);
  assert.equal(await link.getAttribute('download'), replayName);
  const download = await ann.request.get(new URL(`/replays/${replayName}`, url).toString());
  assert.equal(download.status(), 200);
  assert.equal(download.headers()['content-length'], String(replayBytes.length));
  assert.ok((await download.body()).equals(replayBytes), 'the downloaded replay differs');

  // The server's file likewise, beside the replays; the hidden file is not listed.
  const fileLink = ann.locator('#file-list a.file-download', { hasText: fileName });
  await fileLink.waitFor();
  assert.equal(await fileLink.getAttribute('href'), `/files/${fileName}`);
  assert.equal(await fileLink.getAttribute('download'), fileName);
  assert.equal(await ann.locator('#file-list a.file-download').count(), 1);
  assert.equal(await ann.locator('#no-files').isHidden(), true);
  const fileDownload = await ann.request.get(new URL(`/files/${fileName}`, url).toString());
  assert.equal(fileDownload.status(), 200);
  assert.equal(fileDownload.headers()['content-length'], String(fileBytes.length));
  assert.ok((await fileDownload.body()).equals(fileBytes), 'the downloaded file differs');

  for (const page of [ann, bob, idle, dan]) {
    assert.equal(await page.locator('#error').isHidden(), true,
                 `the page shows an error: ${await page.locator('#error-text').textContent()}`);
  }
  const screenshot = path.join(outDir, 'web_lobby_page.png');
  await ann.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  assert.deepEqual(problems, [], 'the pages logged errors');
} finally {
  if (browser) await browser.close();
  server.stdin.end();  // the lobby stops when its stdin closes
}
const { code, signal } = await exited;
assert.equal(signal, null, `the lobby died of ${signal}`);
assert.equal(code, 0, `the lobby exited with ${code}`);
clearTimeout(watchdog);
console.log(`ok: two browser pages met, chatted and readied up in ${Date.now() - started} ms`);
