#!/usr/bin/python3
"""A game-server fleet behind one lobby process, and a game server killed mid-match:

- three `tickwire-server --role game` processes (capacity 4 each) register with a lobby process;
- three rooms of two bots start their matches at once: the lobby places each on the server with
  the most free slots, reserving the seats as it places, so every server gets one match (without
  the reservation, the load reports would lag and several matches could land on one server);
- one game server is killed with SIGKILL mid-match: within its lease (3 s, checked every 250 ms:
  gone within 5 s; the deadline asserted below adds a margin for a loaded machine) the lobby
  drops it, says so, its room is back in the lobby (GET /api/rooms shows it not in a match) and
  its players got MatchEnd with server_lost over the lobby protocol;
- the other two matches play on to their end, every bot of them seeing it finish.

With `redis`, the lobby keeps its state (the game-server registry, the leases, the reservations)
in a real redis-server that the test starts on a free loopback port (skipped, exit 77, when
redis-server is not installed).

  fleet_failover_test.py SERVER BOT [redis]
Exits 1 with the reasons when a check fails.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agones_lifecycle_test import Output, finish, free_port  # noqa: E402

MATCH_SECONDS = 14  # long enough that the others still play when the killed one is dropped
GONE_WITHIN_S = 5  # what issue 14 promises for a server that misses its lease
# A loaded CI machine (ASan, two tests at once) is slow to notice anything: the margin added to
# GONE_WITHIN_S, small enough that a lease of 10 s (the old default) fails the test.
DEADLINE_MARGIN_S = 5
MARGIN_S = 10  # the waits for output that follows an event already seen


def rooms(lobby_port):
    """The lobby's rooms ({name: in_match}), or None when it does not answer."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", lobby_port, timeout=5)
        connection.request("GET", "/api/rooms")
        body = json.loads(connection.getresponse().read().decode())
        return {room["name"]: room["in_match"] for room in body["rooms"]}
    except (OSError, ValueError, KeyError):
        return None


def start_redis(work, port):
    """A redis-server on 127.0.0.1:port keeping nothing on disk, once it accepts connections."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    process.wait()
    return None


def main():
    server, bot = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with_redis = sys.argv[3:] == ["redis"]
    if with_redis and shutil.which("redis-server") is None:
        print("SKIP: needs redis-server (scripts/deps.sh installs Debian's redis-server package)")
        sys.exit(77)
    failures = []
    processes = []
    with tempfile.TemporaryDirectory() as work:
        redis_flags, redis = [], None
        if with_redis:
            redis_port = free_port()
            redis = start_redis(work, redis_port)
            if redis is None:
                print(f"FAIL: redis-server did not answer on port {redis_port} within 10 s")
                sys.exit(1)
            redis_flags = ["--redis", f"127.0.0.1:{redis_port}"]

        def start(args):
            process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True, cwd=work, env={"HOME": work,
                                                                 "PATH": "/usr/bin:/bin"})
            processes.append(process)
            return process, Output(process)

        lobby_port = free_port()
        games = []
        identities = []
        for index in range(3):
            game_port = free_port()
            # The first one writes the shared ticket key; the others start once it is there.
            game = start([server, "--role", "game", "--bind", "127.0.0.1",
                          "--game-port", str(game_port), "--no-beacon", "--no-metrics",
                          "--no-replays", "--lobby", f"127.0.0.1:{lobby_port}",
                          "--key-file", "ticket.key",
                          "--identity-key-file", f"identity-{index}.key",
                          "--max-players", "4", "--max-per-address", "8",
                          "--match-seconds", str(MATCH_SECONDS), "--status-interval", "0.25",
                          "--duration", "60"])
            line = game[1].wait_for("registering with identity key ", timeout=30) or ""
            identities.append(line.split()[-1] if line else "")
            games.append((game_port,) + game)
        with open(os.path.join(work, "game-servers.keys"), "w") as keys:
            for index, identity in enumerate(identities):
                keys.write(f"{identity} arena-{index}\n")
        lobby, lobby_output = start(
            [server, "--role", "lobby", "--bind", "127.0.0.1", "--lobby-port", str(lobby_port),
             "--game-server-keys", "game-servers.keys", "--key-file", "ticket.key",
             "--no-replays", "--status-interval", "0", "--duration", "60"] + redis_flags)
        registered = all(output.wait_for("registered with the lobby", timeout=30)
                         for _, _, output in games)
        bots = []
        if registered:
            for name in ("red", "green", "blue"):
                bots.append((name,) + start(
                    [bot, "--lobby-port", str(lobby_port), "-n", "2", "--room", name,
                     "--prefix", name, "--matches", "1", "--duration", "40"]))
        else:
            failures.append("not every game server registered with the lobby")

        # Every server plays one of the three matches (two players each).
        spread = registered and all(output.wait_for("status: players 2 |", timeout=30)
                                    for _, _, output in games)
        if registered and not spread:
            failures.append("the three matches were not spread one per game server")

        killed_port, killed, killed_output = games[0]
        lost_room, dropped_after = None, None
        if spread:
            before = rooms(lobby_port)
            if before is None or sorted(before.items()) != [("blue", True), ("green", True),
                                                            ("red", True)]:
                failures.append(f"the rooms were not all in a match before the kill: {before}")
            killed.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            deadline = killed_at + GONE_WITHIN_S + DEADLINE_MARGIN_S
            while time.monotonic() < deadline and lost_room is None:
                now = rooms(lobby_port) or {}
                back = [name for name, in_match in now.items() if not in_match]
                if back:
                    lost_room, dropped_after = back, time.monotonic() - killed_at
                time.sleep(0.05)
            print(f"/api/rooms showed {lost_room} back in the lobby {dropped_after} s after "
                  f"the kill" if lost_room else "no room came back to the lobby")
            if lost_room is None:
                failures.append(f"no room was back in the lobby "
                                f"{GONE_WITHIN_S + DEADLINE_MARGIN_S} s after the kill")
            elif len(lost_room) != 1:
                failures.append(f"more than the killed server's room left its match: {lost_room}")
            dropped = (f"tickwire [warning] lobby: game server 127.0.0.1:{killed_port} sent no "
                       "load report within its lease")
            if not lobby_output.wait_for(dropped, timeout=MARGIN_S):
                failures.append("the lobby did not say it dropped the killed game server")

        # The killed server's players were told why over the lobby protocol; they then stay in
        # the lobby (their bots have nothing left to do and are stopped). The others finish.
        for name, process, output in bots:
            if lost_room and name in lost_room:
                told = all(output.wait_for(f"{name}-{index}: the match ended early: server_lost",
                                           timeout=MARGIN_S) for index in (1, 2))
                if not told:
                    failures.append(f"{name}: its bots were not told server_lost")
                process.send_signal(signal.SIGINT)
        for name, process, output in bots:
            text = finish(process, output, seconds=MATCH_SECONDS + MARGIN_S)
            print(f"---- bots of room {name}\n{text}")
            if lost_room and name not in lost_room:
                if "2 of 2 bots joined the match, 2 saw it finish, 0 failed" not in text:
                    failures.append(f"{name}: the match on a surviving server did not play on "
                                    f"to its end")
                if "ended early" in text:
                    failures.append(f"{name}: a match on a surviving server ended early")
        for index, (port, process, output) in enumerate(games):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            print(f"---- game server {index} (127.0.0.1:{port})\n"
                  f"{finish(process, output, seconds=15)}")
        lobby.send_signal(signal.SIGINT)
        print(f"---- lobby\n{finish(lobby, lobby_output, seconds=15)}")
        if redis is not None:
            redis.terminate()
            redis.wait()

    for failure in failures:
        print(f"FAIL: {failure}")
    if failures:
        sys.exit(1)
    print("PASS: three registered game servers, least-loaded placement with reservations, a "
          "killed server dropped within its lease and its room back in the lobby with its "
          "players told, the other matches played on")


if __name__ == "__main__":
    main()
