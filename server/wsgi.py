"""Production entry point for gunicorn with the gevent worker.

    gunicorn --worker-class gevent --workers 1 --worker-connections 10000 \
             --bind 0.0.0.0:8000 server.wsgi:app

One worker: Socket.IO keeps each client's session in the process that accepted it, and the
hub's seq-ordered dispatch lives there too; one gevent process holds thousands of WebSocket
clients. gunicorn's gevent worker monkey-patches the standard library before this module is
imported, which is what the "gevent" async mode of Flask-SocketIO expects.
"""

from server.app import create_app
from server.settings import Settings

app = create_app(Settings(async_mode="gevent"))
