"""`make run`: everything a newcomer needs to try the whole flow offline.

Creates `.env` from `.env.example` (with a random SECRET_KEY, and the newsroom's
names asked for when a terminal can answer) when missing, checks that its ports
are free, migrates the database, creates a demo staff login when there is none,
starts the Stripe emulator when STRIPE_SECRET_KEY is unset, starts the app and
the webhook worker, prints the URLs, and stops all three on Ctrl-C.

The children run in their own process group, so the terminal's Ctrl-C reaches
this process alone and each child is asked to stop once (SIGTERM), not twice.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

from dotenv import dotenv_values

from support.config import DEFAULT_NEWSROOM_NAME, DEFAULT_NEWSROOM_NAME_AR

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
DEMO_LOGIN = ROOT / "instance" / "demo-staff-login.txt"
# The emulator keeps its objects here, so a restart still knows the customers that
# the development database remembers; `make reset` deletes both.
EMULATOR_STATE = ROOT / "instance" / "stripe-emulator.json"
HOST = "127.0.0.1"
EMULATOR_PORT = int(os.environ.get("RUN_EMULATOR_PORT", "12111"))
EMULATOR_WEBHOOK_SECRET = "whsec_emulator_development"


def terminal_prompt() -> Callable[[str], str] | None:
    """`input` when someone can answer at a terminal; None for a run without one."""
    return input if sys.stdin.isatty() and sys.stdout.isatty() else None


def _ask(ask: Callable[[str], str], question: str) -> str:
    """One answer, on one line, without control characters; "" when none is given."""
    try:
        answer = ask(question)
    except EOFError:
        return ""
    return "".join(ch for ch in answer if ch.isprintable()).strip()


def newsroom_names(ask: Callable[[str], str] | None) -> tuple[str, str]:
    """The newsroom's English and Arabic names, asked for when `ask` is given ("" = default)."""
    if ask is None:
        print(
            f'Newsroom names: "{DEFAULT_NEWSROOM_NAME}" and "{DEFAULT_NEWSROOM_NAME_AR}" '
            f"(defaults; set SUPPORT_NEWSROOM_NAME and SUPPORT_NEWSROOM_NAME_AR in {ENV_FILE.name})"
        )
        return "", ""
    english = _ask(ask, f"Your newsroom's name in English [{DEFAULT_NEWSROOM_NAME}]: ")
    arabic = _ask(ask, f"Its name in Arabic [{english or DEFAULT_NEWSROOM_NAME_AR}]: ")
    return english, arabic


def set_env_value(text: str, name: str, value: str) -> str:
    """`text` (a .env) with `name` set to `value`, in place of its commented-out example."""
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    line = f'{name}="{quoted}"'
    pattern = re.compile(rf"^#? ?{re.escape(name)}=.*$", re.MULTILINE)
    if pattern.search(text):
        return pattern.sub(lambda _: line, text, count=1)
    return text.rstrip("\n") + f"\n{line}\n"


def ensure_env_file(ask: Callable[[str], str] | None = None) -> None:
    """Copy .env.example to .env with a fresh SECRET_KEY and the newsroom's names, once."""
    if ENV_FILE.exists():
        return
    text = (ROOT / ".env.example").read_text()
    text = text.replace("SECRET_KEY=change-me", f"SECRET_KEY={secrets.token_urlsafe(48)}")
    english, arabic = newsroom_names(ask)
    if english:
        text = set_env_value(text, "SUPPORT_NEWSROOM_NAME", english)
    if arabic:
        text = set_env_value(text, "SUPPORT_NEWSROOM_NAME_AR", arabic)
    ENV_FILE.write_text(text)
    print(f"Created {ENV_FILE.name} from .env.example with a random SECRET_KEY")


def app_port() -> int:
    """The app's port: `RUN_PORT`, default 5000."""
    return int(os.environ.get("RUN_PORT", "5000"))


def app_environment() -> tuple[dict[str, str], bool]:
    """The app's environment, and whether it uses the emulator.

    Without `SUPPORT_PUBLIC_URL`, Stripe's return URLs and the mails' links point
    at the port the app runs on here (`RUN_PORT`).
    """
    env = {**os.environ, **{k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}}
    if not env.get("SUPPORT_PUBLIC_URL", "").strip():
        env["SUPPORT_PUBLIC_URL"] = f"http://{HOST}:{app_port()}"
    use_emulator = not env.get("STRIPE_SECRET_KEY")
    if use_emulator:
        env.update(
            STRIPE_SECRET_KEY="sk_test_emulator",
            STRIPE_API_BASE=f"http://{HOST}:{EMULATOR_PORT}",
            STRIPE_WEBHOOK_SECRET=EMULATOR_WEBHOOK_SECRET,
            STRIPE_PUBLISHABLE_KEY="pk_test_emulator",
            # The emulator's stand-in for Stripe.js, for the pay and supporter pages.
            STRIPE_JS_URL=f"http://{HOST}:{EMULATOR_PORT}/v3/stripe.js",
        )
    return env, use_emulator


def public_url_warning(env: dict[str, str]) -> str | None:
    """A warning when `SUPPORT_PUBLIC_URL` names this machine on another port than the app's.

    An older .env pinned it to port 5000, so `RUN_PORT=5001 make run` would send
    readers coming back from Stripe to the wrong port.
    """
    url = urlsplit(env["SUPPORT_PUBLIC_URL"])
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return None  # the app's own settings check names a malformed URL
    if url.hostname not in (HOST, "localhost") or port == app_port():
        return None
    return (
        f"SUPPORT_PUBLIC_URL is {env['SUPPORT_PUBLIC_URL']} but the app runs on port "
        f"{app_port()}: Stripe would send readers back to the wrong port. Remove it from "
        f"{ENV_FILE.name} to follow RUN_PORT."
    )


def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run `flask --app wsgi ARGS` and return its output; exit on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def ensure_demo_staff(env: dict[str, str]) -> str:
    """Create an admin login when there is no staff account; return how to sign in."""
    if flask(env, "staff", "count").strip() == "0":
        email, password = "staff@example.org", secrets.token_urlsafe(12)
        flask(env, "staff", "create", email, "--role", "admin", "--password-stdin", stdin=password)
        DEMO_LOGIN.parent.mkdir(exist_ok=True)
        DEMO_LOGIN.write_text(f"{email} / {password}\n")
        DEMO_LOGIN.chmod(0o600)
    if DEMO_LOGIN.exists():
        return DEMO_LOGIN.read_text().strip()
    return "(staff accounts exist; create another with `flask --app wsgi staff create EMAIL`)"


def port_taken(port: int) -> bool:
    """Whether something already listens on HOST:`port` (bound as a server would bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def busy_ports_message(ports: dict[str, int]) -> str | None:
    """What to tell the user when a port we need is taken (`ports`: what → port), or None."""
    taken = [f"{port} ({what})" for what, port in ports.items() if port_taken(port)]
    if not taken:
        return None
    said = f"port {taken[0]} is" if len(taken) == 1 else f"ports {' and '.join(taken)} are"
    return (
        f"Cannot start: {said} already in use on {HOST}. "
        "Is another `make run` still running? Stop it (Ctrl-C in its terminal), or use "
        "other ports: RUN_PORT=5001 RUN_EMULATOR_PORT=12112 make run"
    )


class Children:
    """The processes `make run` starts, each in its own process group, stopped once."""

    def __init__(self):
        self.processes: list[subprocess.Popen] = []
        self.stopping = False

    def start(self, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        # Not in our process group: the terminal's Ctrl-C reaches us alone, and
        # `stop` asks each child to stop once.
        process = subprocess.Popen(args, cwd=ROOT, env=env, process_group=0)
        self.processes.append(process)
        return process

    def running(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def stop(self, seconds: float = 5) -> None:
        """SIGTERM each child once, wait, and kill what is still running; later calls do nothing."""
        if self.stopping:
            return
        self.stopping = True
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(url: str, seconds: float = 15) -> bool:
    """Poll `url` until it answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    ensure_env_file(terminal_prompt())
    env, use_emulator = app_environment()
    port = app_port()
    ports = {"the app, RUN_PORT": port}
    if use_emulator:
        ports["the Stripe emulator, RUN_EMULATOR_PORT"] = EMULATOR_PORT
    busy = busy_ports_message(ports)
    if busy:
        print(busy, file=sys.stderr)
        return 1
    warning = public_url_warning(env)
    if warning:
        print(f"Warning: {warning}")
    flask(env, "db", "upgrade")
    print("Database migrated")
    login = ensure_demo_staff(env)

    children = Children()

    def stop(*_):
        # Once: a second Ctrl-C while the children stop changes nothing (`Children.stop`
        # returns at once; a flag, not SIG_IGN, which raises for a signal already pending).
        if children.stopping:
            return
        children.stop()
        print("Stopped.", flush=True)
        sys.exit(0)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)

    if use_emulator:
        children.start(
            [
                sys.executable, "-m", "devtools.stripe_emulator",
                "--host", HOST, "--port", str(EMULATOR_PORT),
                "--webhook-url", f"http://{HOST}:{port}/stripe/webhook",
                "--webhook-secret", EMULATOR_WEBHOOK_SECRET,
                "--state-file", str(EMULATOR_STATE),
            ]
        )  # fmt: skip
    children.start(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", HOST,
         "--port", str(port), "--with-threads"],
        env,
    )  # fmt: skip
    # The worker applies the webhooks the app stores, and sends the mail.
    children.start(
        [sys.executable, "-m", "flask", "--app", "wsgi", "stripe", "worker", "--threads", "2"],
        env,
    )

    base = f"http://{HOST}:{port}"
    stripe = (
        f"emulator at http://{HOST}:{EMULATOR_PORT} (pay with any name and email)"
        if use_emulator
        else "Stripe (STRIPE_SECRET_KEY from .env)"
    )
    if not wait_for(base + "/healthz"):
        print(f"The app did not start on {base}; its log is above.", file=sys.stderr)
        children.stop()
        return 1
    print(
        f"""
Reader support is running.
  Appeal (English)  {base}/en/
  Appeal (Arabic)   {base}/ar/
  Banner preview    {base}/embed/
  Staff             {base}/staff/   login: {login}
                    (an admin: first sign-in sets up two-step sign-in, any authenticator app)
  Health            {base}/healthz
  Stripe            {stripe}
  Worker            applies webhooks and sends mail (its log is below)
Press Ctrl-C to stop.""",
        flush=True,
    )
    while children.running():
        time.sleep(0.5)
    print("A process exited; stopping.", file=sys.stderr)
    children.stop()
    return 1


def cli() -> int:
    """`main`, with a Ctrl-C before the children start (while migrating, say) ending
    quietly rather than in a traceback."""
    try:
        return main()
    except KeyboardInterrupt:
        print("\nStopped before reader support started.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(cli())
