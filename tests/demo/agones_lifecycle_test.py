#!/usr/bin/python3
"""tickwire-server --agones against a stand-in for the Agones SDK sidecar (a small HTTP server on
a free loopback port that records every call), with one bot playing a short match through the
server's own lobby. Four sidecars at once, each with its own server and bot:

  healthy  answers 200, and GET /gameserver with a record naming the address and port "game":
           the tickets name them; Ready first, Health pings, Allocate when the match starts,
           Shutdown last, after the match ended, and the server exits by itself;
  failing  answers 500 to everything: the match is played all the same, Ready is retried;
  absent   nothing listens on its port: the match is played all the same;
  split    healthy, with the game server as in an Agones Fleet (--role game, registered with a
           lobby process of its own): the match end reaches the lobby before Shutdown.
(The failing and absent servers are given --public-host, so they do not wait for the record.)

  agones_lifecycle_test.py SERVER BOT
Exits 1 with the reasons when a check fails.
"""
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

MATCH_SECONDS = 4  # long enough for a Health ping (every 2 s) between Ready and Shutdown


class Sidecar:
    """Records (seconds since start, method, path, body, content type) of every request."""

    def __init__(self, status):
        self.calls = []
        self.game_port = None  # the port GET /gameserver names
        self.lock = threading.Lock()
        sidecar = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                with sidecar.lock:
                    sidecar.calls.append((time.monotonic(), method, self.path, body,
                                          self.headers.get("Content-Type")))
                answer = b"{}"
                if method == "GET" and self.path == "/gameserver" and sidecar.game_port:
                    answer = json.dumps({
                        "object_meta": {"name": "arena-x7k2p", "namespace": "default"},
                        "status": {"state": "Scheduled", "address": "127.0.0.1",
                                   "ports": [{"name": "game", "port": sidecar.game_port}]},
                    }).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_POST(self):
                self.handle_one("POST")

            def do_GET(self):
                self.handle_one("GET")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self):
        with self.lock:
            return [(method, path) for _, method, path, _, _ in self.calls]


handed_out, handed_out_lock = set(), threading.Lock()


def free_port():
    """A port number free for TCP and UDP on 127.0.0.1 (the game port is both), and not handed
    out before in this run (the servers start at the same time)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        with handed_out_lock:
            if port not in handed_out:
                handed_out.add(port)
                return port


class Output:
    """Collects a process's output lines, and waits for one that starts with a prefix."""

    def __init__(self, process):
        self.lines, self.changed = [], threading.Condition()
        self.reader = threading.Thread(target=self.read, args=(process,))
        self.reader.start()

    def read(self, process):
        for line in process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, prefix, timeout):
        def found():
            return next((line for line in self.lines if line.startswith(prefix)), None)
        with self.changed:
            self.changed.wait_for(found, timeout=timeout)
            return found()

    def text(self):
        self.reader.join()
        return "".join(self.lines)


def finish(process, output, seconds=45):
    """Waits for the process to exit by itself; kills it after `seconds`. Its whole output."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        output.lines.append(f"\n(killed: still running {seconds} s after the bot finished)")
    return output.text()


def run_bot(bot, lobby_port, work):
    return subprocess.run(
        [bot, "--lobby-port", str(lobby_port), "-n", "1", "--room", "agones", "--matches", "1",
         "--duration", "40"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work, timeout=60,
        env={"HOME": work, "PATH": "/usr/bin:/bin"}).stdout


def play(server, bot, sidecar, sidecar_port, work):
    """Runs a server with --agones and a bot through one match. Returns (server rc, server output,
    bot output, seconds the server ran)."""
    lobby_port, game_port = free_port(), free_port()
    where = ["--public-host", "127.0.0.1"]
    if sidecar is not None:
        sidecar.game_port = game_port  # no NAT on loopback: the host port is the one it binds
        where = []
    started = time.monotonic()
    process = subprocess.Popen(
        [server, "--role", "all", "--bind", "127.0.0.1", "--lobby-port", str(lobby_port),
         "--game-port", str(game_port), "--no-beacon", "--no-metrics", "--no-replays",
         "--match-seconds", str(MATCH_SECONDS), "--status-interval", "0", "--duration", "60",
         "--agones", "--agones-port", str(sidecar_port)] + where,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    # The bot goes once everything listens, which the server says with its Ready line.
    output = Output(process)
    bot_output = "(not started: the server never said it was ready)"
    if output.wait_for("agones: Ready requested", timeout=30):
        bot_output = run_bot(bot, lobby_port, work)
    output = finish(process, output)
    return process.returncode, output, bot_output, time.monotonic() - started


def play_split(server, bot, sidecar, work):
    """A Fleet's game server: --role game --agones, registered with a lobby process. Returns
    (game server rc, its output, bot output, seconds it ran, the lobby's /api/rooms after the
    game server left, the lobby's output)."""
    lobby_port, game_port = free_port(), free_port()
    sidecar.game_port = game_port
    started = time.monotonic()
    game = subprocess.Popen(
        [server, "--role", "game", "--bind", "127.0.0.1", "--game-port", str(game_port),
         "--no-beacon", "--no-metrics", "--no-replays", "--lobby", f"127.0.0.1:{lobby_port}",
         "--key-file", "ticket.key", "--identity-key-file", "identity.key",
         "--match-seconds", str(MATCH_SECONDS), "--status-interval", "0", "--duration", "60",
         "--agones", "--agones-port", str(sidecar.port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    game_output = Output(game)
    # The lobby's allow-list names the key the game server prints (as an operator's would).
    line = game_output.wait_for("registering with identity key ", timeout=30) or ""
    with open(os.path.join(work, "game-servers.keys"), "w") as keys:
        keys.write(line.split()[-1] + " arena-1\n" if line else "")
    lobby = subprocess.Popen(
        [server, "--role", "lobby", "--bind", "127.0.0.1", "--lobby-port", str(lobby_port),
         "--game-server-keys", "game-servers.keys", "--key-file", "ticket.key", "--no-replays",
         "--status-interval", "0", "--duration", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    lobby_output = Output(lobby)
    bot_output = "(not started: the game server never registered with the lobby)"
    if game_output.wait_for("registered with the lobby", timeout=30):
        bot_output = run_bot(bot, lobby_port, work)
    game_text = finish(game, game_output)
    seconds = time.monotonic() - started
    rooms = ""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", lobby_port, timeout=10)
        connection.request("GET", "/api/rooms")
        rooms = connection.getresponse().read().decode()
    except OSError as error:
        rooms = f"(GET /api/rooms failed: {error})"
    lobby.terminate()
    return game.returncode, game_text, bot_output, seconds, rooms, finish(lobby, lobby_output, 10)


def main():
    server, bot = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    failures = []
    healthy, failing, split = Sidecar(200), Sidecar(500), Sidecar(200)
    # Absent: a port bound but not listening, so that nothing else takes it and connects fail.
    absent_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    absent_socket.bind(("127.0.0.1", 0))
    absent_port = absent_socket.getsockname()[1]

    results = {}
    with tempfile.TemporaryDirectory() as work:
        threads = []
        for name, sidecar, port in (("healthy", healthy, healthy.port),
                                    ("failing", None, failing.port),
                                    ("absent", None, absent_port)):
            def run(name=name, sidecar=sidecar, port=port):
                results[name] = play(server, bot, sidecar, port, work + "/" + name)
            os.mkdir(work + "/" + name)
            threads.append(threading.Thread(target=run))
        split_lobby = {}

        def run_split():
            outcome = play_split(server, bot, split, work + "/split")
            results["split"] = outcome[:4]
            split_lobby["rooms"], split_lobby["output"] = outcome[4:]
        os.mkdir(work + "/split")
        threads.append(threading.Thread(target=run_split))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    for name in ("healthy", "failing", "absent", "split"):
        if name not in results:
            failures.append(f"{name}: the run did not finish (see the traceback above)")
    for name, (rc, output, bot_output, seconds) in results.items():
        print(f"---- {name}: server exit {rc} after {seconds:.1f} s\n{output}\n"
              f"---- bot\n{bot_output}")
        if rc != 0:
            failures.append(f"{name}: the server exited with {rc}")
        if "1 of 1 bots joined the match, 1 saw it finish, 0 failed" not in bot_output:
            failures.append(f"{name}: the bot did not play the match to its end")
        if "agones: the match is over" not in output:
            failures.append(f"{name}: the server did not end itself after its match")

    calls = healthy.paths()
    print(f"healthy sidecar calls: {calls}")
    if not calls or calls[0] != ("GET", "/gameserver"):
        failures.append("healthy: the server did not read its GameServer record first")
    healthy_output = results.get("healthy", (0, ""))[1]
    if ("agones: GameServer arena-x7k2p (Scheduled) is reached at 127.0.0.1" not in healthy_output
            or "tickets name 127.0.0.1:" not in healthy_output):
        failures.append("healthy: the tickets do not name the GameServer record's address")
    calls = [call for call in calls if call[0] == "POST"]
    with healthy.lock:
        bodies = {(method, body, ctype) for _, method, _, body, ctype in healthy.calls
                  if method == "POST"}
    if bodies != {("POST", "{}", "application/json")}:
        failures.append(f"healthy: requests were not POSTs of {{}} as application/json: {bodies}")
    paths = [path for _, path in calls]
    if not paths or paths[0] != "/ready":
        failures.append("healthy: the first call was not Ready")
    if not paths or paths[-1] != "/shutdown" or paths.count("/shutdown") != 1:
        failures.append("healthy: Shutdown was not the last call, once")
    if "/allocate" not in paths or not paths.index("/ready") < paths.index("/allocate"):
        failures.append("healthy: no Allocate after Ready when the match started")
    if paths.count("/health") < 1 or "/health" not in paths[1:-1]:
        failures.append("healthy: no Health ping between Ready and Shutdown")
    if "agones: Shutdown confirmed" not in results.get("healthy", (0, ""))[1]:
        failures.append("healthy: the server did not see its Shutdown confirmed")

    failing_paths = [path for _, path in failing.paths()]
    print(f"failing sidecar calls: {failing_paths}")
    if failing_paths.count("/ready") < 2:
        failures.append("failing: Ready was not retried after a 500")
    if "/health" in failing_paths:
        failures.append("failing: Health pings before Ready was confirmed")
    for name in ("failing", "absent"):
        output = results.get(name, (0, ""))[1]
        if "agones" not in output or "failed" not in output:
            failures.append(f"{name}: the server did not log the sidecar's failures")
        if "Shutdown not confirmed" not in output:
            failures.append(f"{name}: the server did not say Shutdown went unconfirmed")

    split_paths = split.paths()
    print(f"split sidecar calls: {split_paths}")
    print(f"---- split: lobby\n{split_lobby.get('output', '')}\n"
          f"---- split: /api/rooms after the game server left: {split_lobby.get('rooms', '')}")
    split_output = results.get("split", (0, ""))[1]
    posts = [path for method, path in split_paths if method == "POST"]
    if (not split_paths or split_paths[0] != ("GET", "/gameserver") or posts[:1] != ["/ready"]
            or "/allocate" not in posts or posts[-1:] != ["/shutdown"]):
        failures.append("split: not GET /gameserver, Ready, ..., Allocate, ..., Shutdown")
    if "agones: the match end went to the lobby" not in split_output:
        failures.append("split: the match end did not go to the lobby before Shutdown")
    if split_output.find("the match end went to the lobby") > split_output.find(
            "agones: Shutdown confirmed"):
        failures.append("split: Shutdown was confirmed before the lobby had the match end")
    # A room whose match is over, or none at all (the bot left): never still in its match.
    rooms = split_lobby.get("rooms", "")
    if not rooms.startswith("{") or '"in_match":true' in rooms:
        failures.append(f"split: the lobby's rooms after the game server left: {rooms}")

    absent_socket.close()
    for failure in failures:
        print(f"FAIL: {failure}")
    if failures:
        sys.exit(1)
    print("PASS: Ready, Health, Allocate and Shutdown in order; a failing or absent sidecar "
          "does not stop the match")


if __name__ == "__main__":
    main()
