"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`.

Settings come from the environment, completed from `.env` here (and only here:
an app built by `create_app` elsewhere, as in the tests, never reads it).
"""

from support import create_app
from support.config import load_env_file

load_env_file()
app = create_app()
