#!/usr/bin/python3
"""tickwire-server --agones against a stand-in for the Agones SDK sidecar (a small HTTP server on
a free loopback port that records every call), with one bot playing a short match through the
server's own lobby. Three sidecars at once, each with its own server and bot:

  healthy  answers 200, and GET /gameserver with a record naming the address and port "game":
           the tickets name them; Ready first, Health pings, Allocate when the match starts,
           Shutdown last, after the match ended, and the server exits by itself;
  failing  answers 500 to everything: the match is played all the same, Ready is retried;
  absent   nothing listens on its port: the match is played all the same.
(The failing and absent servers are given --public-host, so they do not wait for the record.)

  agones_lifecycle_test.py SERVER BOT
Exits 1 with the reasons when a check fails.
"""
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
    lines, listening = [], threading.Event()

    def read_output():
        for line in process.stdout:
            lines.append(line)
            if line.startswith("agones: Ready requested"):
                listening.set()
    reader = threading.Thread(target=read_output)
    reader.start()
    bot_output = "(not started: the server never said it was ready)"
    if listening.wait(timeout=30):
        bot_output = subprocess.run(
            [bot, "--lobby-port", str(lobby_port), "-n", "1", "--room", "agones", "--matches",
             "1", "--duration", "40"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work, timeout=60,
            env={"HOME": work, "PATH": "/usr/bin:/bin"}).stdout
    try:
        process.wait(timeout=45)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        lines.append("\n(killed: still running 45 s after the bot finished)")
    reader.join()
    output = "".join(lines)
    return process.returncode, output, bot_output, time.monotonic() - started


def main():
    server, bot = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    failures = []
    healthy, failing = Sidecar(200), Sidecar(500)
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
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    for name in ("healthy", "failing", "absent"):
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

    absent_socket.close()
    for failure in failures:
        print(f"FAIL: {failure}")
    if failures:
        sys.exit(1)
    print("PASS: Ready, Health, Allocate and Shutdown in order; a failing or absent sidecar "
          "does not stop the match")


if __name__ == "__main__":
    main()
