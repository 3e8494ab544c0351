"""`make run`: everything a newcomer needs to try the whole flow offline.

Creates `.env` from `.env.example` (with a random SECRET_KEY) when missing,
migrates the database, creates a demo staff login when there is none, starts
the Stripe emulator when STRIPE_SECRET_KEY is unset, starts the app and the
webhook worker, prints the URLs, and stops all three on Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
DEMO_LOGIN = ROOT / "instance" / "demo-staff-login.txt"
# The emulator keeps its objects here, so a restart still knows the customers that
# the development database remembers; `make reset` deletes both.
EMULATOR_STATE = ROOT / "instance" / "stripe-emulator.json"
HOST = "127.0.0.1"
EMULATOR_PORT = int(os.environ.get("RUN_EMULATOR_PORT", "12111"))
EMULATOR_WEBHOOK_SECRET = "whsec_emulator_development"


def ensure_env_file() -> None:
    """Copy .env.example to .env with a fresh SECRET_KEY, once."""
    if ENV_FILE.exists():
        return
    text = (ROOT / ".env.example").read_text()
    text = text.replace("SECRET_KEY=change-me", f"SECRET_KEY={secrets.token_urlsafe(48)}")
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
    ensure_env_file()
    env, use_emulator = app_environment()
    warning = public_url_warning(env)
    if warning:
        print(f"Warning: {warning}")
    flask(env, "db", "upgrade")
    print("Database migrated")
    login = ensure_demo_staff(env)

    port = app_port()
    children: list[subprocess.Popen] = []
    if use_emulator:
        children.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "devtools.stripe_emulator",
                    "--host", HOST, "--port", str(EMULATOR_PORT),
                    "--webhook-url", f"http://{HOST}:{port}/stripe/webhook",
                    "--webhook-secret", EMULATOR_WEBHOOK_SECRET,
                    "--state-file", str(EMULATOR_STATE),
                ],
                cwd=ROOT,
            )
        )  # fmt: skip
    children.append(
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", HOST,
             "--port", str(port), "--with-threads"],
            cwd=ROOT,
            env=env,
        )
    )  # fmt: skip
    # The worker applies the webhooks the app stores, and sends the mail.
    children.append(
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "stripe", "worker", "--threads", "2"],
            cwd=ROOT,
            env=env,
        )
    )

    def stop(*_):
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    base = f"http://{HOST}:{port}"
    stripe = (
        f"emulator at http://{HOST}:{EMULATOR_PORT} (pay with any name and email)"
        if use_emulator
        else "Stripe (STRIPE_SECRET_KEY from .env)"
    )
    if not wait_for(base + "/healthz"):
        print(f"The app did not start on {base}; is the port free? (RUN_PORT=5001 make run)")
        stop()
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
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    print("A process exited; stopping.")
    stop()
    return 1


if __name__ == "__main__":
    sys.exit(main())
