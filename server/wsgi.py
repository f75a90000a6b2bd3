"""Production entry point for gunicorn with gevent workers (settings and reasons in
server/gunicorn_settings.py):

    gunicorn --config python:server.gunicorn_settings server.wsgi:app

gunicorn's gevent worker monkey-patches the standard library before this module is imported,
which is what the "gevent" async mode of Flask-SocketIO expects. Each worker process builds its
own app; they meet through the database and server/peers.py.
"""

from server.app import create_app
from server.settings import Settings

app = create_app(Settings(async_mode="gevent"))
