"""Schema-driven fuzzing of edgepass's JSON API with schemathesis; scripts/api-fuzz runs it.

Starts `edgepass serve` in local mode (SQLite and a generated key in a fresh temporary data folder, the
API and the local edge on free loopback ports), gives it something to find: two users, and two real PNGs
of the first one uploaded through the presigned PUT and completed, one shared with the second user and
behind a share link, the other made public. Then schemathesis runs against the live `/openapi.json`
twice, as an anonymous caller and as the first user (with those real ids mixed into half of the
generated path values; the stateful phase also reuses ids it reads from responses), with these checks:

  not_a_server_error            no operation ever answers 5xx (or drops the connection)
  error_body_is_json            every 4xx and 5xx carries the JSON body {"error", "message"} (hooks.py)
  status_code_conformance       every answer's status, errors included, is one the document lists
  content_type_conformance      and its content type is the documented one
  response_schema_conformance   and its body matches the documented schema

Prints the operations, test cases and failures of each run, and the server's own count of its answers by
status class (from its access log), and exits 1 when either run failed or the server answered any 5xx (2
when the run could not be set up). The server is always stopped; its log is printed when something failed.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "api-fuzz-password-1"
STARTUP_SECS = 30
CHECKS = ",".join(
    [
        "not_a_server_error",
        "error_body_is_json",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


class SetupError(Exception):
    """The run could not be set up (exit status 2)."""


def say(text):
    print(f"api-fuzz: {text}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(width, height, seed):
    """A real, decodable RGB PNG of width x height pixels whose colours depend on seed."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    def pixel(x, y):
        return bytes(((x * 16 + seed) % 256, (y * 16) % 256, ((x ^ y) * 8) % 256))

    # Each row starts with filter type 0 (none).
    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class Server:
    """`edgepass serve` in local mode on free loopback ports, in a data folder under work."""

    def __init__(self, binary, work, database_url=None):
        self.binary = binary
        self.database_url = database_url
        self.work = work
        self.log_path = os.path.join(work, "server.log")
        self.process = None
        self.base = None

    def start(self):
        # Only what this run sets: an EDGEPASS_* variable of the caller's shell must not change the server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEPASS_")}
        for attempt in (1, 2, 3):
            api_port, edge_port = free_port(), free_port()
            data = os.path.join(self.work, "data")
            shutil.rmtree(data, ignore_errors=True)
            env.update(
                NO_COLOR="1",
                # Warnings, and the access log: one JSON line per request, counted per run.
                EDGEPASS_LOG="warn,edgepass::access=info",
                EDGEPASS_LOG_FORMAT="json",
                EDGEPASS_LISTEN=f"127.0.0.1:{api_port}",
                EDGEPASS_EDGE_LISTEN=f"127.0.0.1:{edge_port}",
                # Nothing here reads metrics; a fixed default port would collide with a parallel run.
                EDGEPASS_METRICS_LISTEN="off",
                EDGEPASS_DATA_DIR=data,
            )
            if self.database_url:
                env["EDGEPASS_DATABASE_URL"] = self.database_url
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    [self.binary, "serve"], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
                )
            base = f"http://127.0.0.1:{api_port}"
            deadline = time.monotonic() + STARTUP_SECS
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                        self.base = base
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            self.stop()
            log = self.log_tail()
            if "in use" not in log.lower():
                raise SetupError(f"the server did not become ready (attempt {attempt}):\n{log}")
        raise SetupError("no free ports found after 3 attempts")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """Stops the server with SIGTERM (SIGKILL after 20 s); returns its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                say(f"server {self.process.pid} still running 20 s after SIGTERM; killing it")
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def answered(self, since):
        """Requests the access log shows after byte offset since, counted by status class ("2xx", ...)."""
        counts = {}
        with open(self.log_path, "rb") as f:
            f.seek(since)
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("target") == "edgepass::access" and isinstance(event.get("status"), int):
                    key = f"{event['status'] // 100}xx"
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def log_tail(self, lines=40):
        """The last lines of the server's log, the access log left out."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                kept = [line for line in f if '"edgepass::access"' not in line]
            return "".join(kept[-lines:]) or "(nothing but the access log)\n"
        except OSError:
            return "(no log)\n"


class User:
    """A registered user and its session, talking to the API as a same-origin browser would."""

    def __init__(self, base, email):
        self.base = base
        self.email = email
        self.http = requests.Session()
        self.http.headers["Origin"] = base
        reply = self.call("POST", "/api/auth/register", 201, json={"email": email, "password": PASSWORD})
        self.session = reply.cookies.get("edgepass_session")
        if not self.session:
            raise SetupError("register set no edgepass_session cookie")

    def call(self, method, path, expect, **kwargs):
        reply = self.http.request(method, f"{self.base}{path}", timeout=30, **kwargs)
        if reply.status_code != expect:
            raise SetupError(f"{method} {path} answered {reply.status_code}, not {expect}: {reply.text[:300]}")
        return reply

    def upload_png(self, name, seed):
        """Uploads a PNG through the presigned PUT and completes it; returns the image id."""
        body = png(24, 16, seed)
        ticket = self.call(
            "POST", "/api/images", 201, json={"content_type": "image/png", "byte_size": len(body), "name": name}
        ).json()
        headers = dict(ticket.get("upload_headers") or {})
        headers["content-type"] = "image/png"
        put = requests.put(ticket["upload_url"], data=body, headers=headers, timeout=30)
        if put.status_code != 200:
            raise SetupError(f"the presigned PUT answered {put.status_code}: {put.text[:300]}")
        image = self.call("POST", f"/api/images/{ticket['id']}/complete", 200).json()
        if image.get("status") != "ready":
            raise SetupError(f"the completed upload is not ready: {image}")
        return ticket["id"]


def arrange(base):
    """Two users; the first has a private image shared with the second and behind a link, and a public one.

    Returns the first user and the ids the signed-in run mixes into its generated ones (see `signed_in_config`).
    """
    tag = f"{os.getpid()}-{int(time.time())}"
    alice = User(base, f"alice-{tag}@example.com")
    bob = User(base, f"bob-{tag}@example.com")
    shared = alice.upload_png("shared.png", 1)
    public = alice.upload_png("public.png", 2)
    alice.call("PUT", f"/api/images/{shared}/shares/{bob.email}", 200)
    link = alice.call("POST", f"/api/images/{shared}/links", 201, json={"expires_in": 3600}).json()["id"]
    alice.call("PATCH", f"/api/images/{public}", 200, json={"visibility": "public"})
    # Bob's own image and album, which Alice's requests must never reach.
    bobs = bob.upload_png("bobs.png", 3)
    bobs_album = bob.call("POST", "/api/albums", 201, json={"name": "Bob's"}).json()["id"]
    # An album of Alice's with the public image in it, shared with Bob; and an empty one.
    album = alice.call("POST", "/api/albums", 201, json={"name": "Trip"}).json()["id"]
    empty = alice.call("POST", "/api/albums", 201, json={"name": "Empty"}).json()["id"]
    alice.call("PUT", f"/api/albums/{album}/images/{public}", 200)
    alice.call("PUT", f"/api/albums/{album}/shares/{bob.email}", 200)
    say("arranged: 2 users; the signed-in one has 2 ready images (1 shared and linked, 1 public in a shared album)")
    return alice, {
        "images": [shared, public, bobs],
        "users": [bob.email, alice.email],
        "links": [link],
        "albums": [album, empty, bobs_album],
    }


def signed_in_config(scheme, token, known):
    """schemathesis configuration: the session, and real ids mixed into half of the generated path values.

    Random ids only ever reach the 404 of a lookup; the real ones (the caller's images, Bob's image, both
    users' emails, the share link, the albums) take requests into the handlers behind it. `DELETE /images/{id}` gets
    no real ids from here, so the images last longer into the run (its stateful phase may still delete
    them with ids it read from a listing).
    """
    q = json.dumps  # a JSON string or number is a TOML one too
    lines = [f"[auth.openapi.{scheme}]", f"api_key = {q(token)}", ""]
    for name, values in known.items():
        lines += [f"[dictionaries.{name}]", f"values = [{', '.join(q(v) for v in values)}]", ""]
    ids = '"path.id" = { dictionary = "images", probability = 0.5 }'
    users = '"path.user" = { dictionary = "users", probability = 0.5 }'
    links = '"path.id" = { dictionary = "links", probability = 0.5 }'
    albums = '"path.id" = { dictionary = "albums", probability = 0.5 }'
    album_images = '"path.image" = { dictionary = "images", probability = 0.5 }'
    for selector, bindings in [
        ([f"include-path-regex = {q('^/images/[{]id[}]/')}"], [ids, users]),
        ([f"include-path-regex = {q('^/albums/[{]id[}]')}"], [albums, album_images, users]),
        (['include-path = "/images/{id}"', 'include-method-regex = "^(GET|PATCH)$"'], [ids]),
        (['include-path = "/links/{id}"'], [links]),
    ]:
        # An operation's own table replaces the run's auth, so each one carries the session cookie again.
        session = f"{q('cookie.edgepass_session')} = {q(token)}"
        lines += ["[[operations]]", *selector, "[operations.parameters]", *bindings, session, ""]
    return "\n".join(lines)


def session_scheme(base):
    """The name of the security scheme that carries the session cookie in /openapi.json."""
    spec = requests.get(f"{base}/openapi.json", timeout=30).json()
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for name, scheme in schemes.items():
        if scheme.get("type") == "apiKey" and scheme.get("in") == "cookie" and scheme.get("name") == "edgepass_session":
            return name
    raise SetupError(f"/openapi.json declares no cookie scheme for edgepass_session: {schemes}")


def schemathesis_run(args, base, work, label, config=None):
    """Runs schemathesis once; returns its exit status, what it did (see `figures`) and its output."""
    report_dir = os.path.join(work, f"report-{label}")
    command = [args.schemathesis]
    if config is not None:
        path = os.path.join(work, f"{label}.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(config)
        command += ["--config-file", path]
    command += [
        "run",
        f"{base}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Origin: {base}",
        "--workers",
        str(args.workers),
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-dir",
        report_dir,
        "--no-color",
    ]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    if args.max_examples is not None:
        command += ["--max-examples", str(args.max_examples)]
    if args.seconds is not None:
        command += ["--max-time", str(args.seconds)]
    if config is not None:
        # Signing out would end the session and leave the rest of the run anonymous.
        command += ["--exclude-path", "/api/auth/logout"]
    env = dict(os.environ, SCHEMATHESIS_HOOKS=os.path.join(HERE, "hooks.py"))
    say(f"{label}: schemathesis {' '.join(command[1:])}")
    output_path = os.path.join(work, f"{label}.out")
    with open(output_path, "w", encoding="utf-8") as out:
        status = subprocess.run(command, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT).returncode
    with open(output_path, encoding="utf-8", errors="replace") as f:
        output = f.read()
    return status, figures(report_dir), output


def figures(report_dir):
    """Operations, test cases and failures from the ndjson event stream of one run."""
    operations, cases, failures, errors = set(), 0, set(), 0
    for name in os.listdir(report_dir) if os.path.isdir(report_dir) else []:
        if not name.endswith(".ndjson"):
            continue
        with open(os.path.join(report_dir, name), encoding="utf-8") as f:
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                for kind, data in event.items():
                    if kind == "ScenarioFinished":
                        recorder = data.get("recorder", {})
                        label = recorder.get("label")
                        if label and recorder.get("cases") and data.get("phase") != "stateful":
                            operations.add(label)
                        cases += len(recorder.get("cases", {}))
                        for checks in recorder.get("checks", {}).values():
                            for check in checks:
                                if check.get("status") == "failure":
                                    failures.add((check.get("name"), label, check.get("failure_info", {}).get("code")))
                    elif kind == "NonFatalError":
                        errors += 1
    return {"operations": len(operations), "cases": cases, "failures": len(failures), "errors": errors}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the edgepass binary")
    parser.add_argument("--schemathesis", required=True, help="the schemathesis command")
    parser.add_argument("--seconds", type=int, help="time budget of each run (schemathesis --max-time)")
    parser.add_argument("--max-examples", type=int, help="test cases per operation in the fuzzing phase")
    parser.add_argument("--database-url", help="the server's EDGEPASS_DATABASE_URL (default: SQLite)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="edgepass-api-fuzz.")
    server = Server(args.bin, work, args.database_url)
    failed = False
    try:
        server.start()
        say(f"edgepass {server.process.pid} ready at {server.base} (data in {work}/data)")
        alice, known = arrange(server.base)
        signed_in = signed_in_config(session_scheme(server.base), alice.session, known)
        for label, config in [("anonymous", None), ("signed-in", signed_in)]:
            started, log_from = time.monotonic(), server.log_size()
            status, counted, output = schemathesis_run(args, server.base, work, label, config)
            took = time.monotonic() - started
            answered = server.answered(log_from)
            summary = (
                f"{label}: {counted['operations']} operations, {counted['cases']} test cases, "
                f"{counted['failures']} failures, {counted['errors']} errors in {took:.0f} s; the server answered "
                f"{sum(answered.values())} requests ({', '.join(f'{n} {k}' for k, n in sorted(answered.items()))})"
                f" (schemathesis exit {status})"
            )
            if status != 0 or counted["failures"] or counted["errors"] or answered.get("5xx"):
                failed = True
                print(output, file=sys.stderr)
                say(f"FAILED {summary}")
            else:
                say(summary)
            if not server.alive():
                failed = True
                say(f"FAILED: the server exited during the {label} run")
                break
    except SetupError as error:
        say(f"error: {error}")
        print(server.log_tail(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        stopped = server.stop()
        if stopped not in (None, 0):
            failed = True
            say(f"FAILED: the server exited with status {stopped} on SIGTERM")
        if failed:
            say(f"server log (last lines of {server.log_path}):")
            print(server.log_tail(), file=sys.stderr)
        if args.keep or failed:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
