"""The application factory: registrations only."""

from __future__ import annotations

import atexit
import secrets
from contextlib import nullcontext

from flask import Flask
from flask_socketio import SocketIO
from werkzeug.middleware.proxy_fix import ProxyFix

from counter import bp as counter_bp
from counter import orientation
from display import bp as display_bp
from display import manage_bp as displays_bp
from kiosk import bp as kiosk_bp
from kiosk import follow_bp
from server import i18n, pages, sockets
from server.api import bp as api_bp
from server.api import direct, errors
from server.auth import admin as staff_admin
from server.auth import csrf, headers
from server.auth import views as staff_auth
from server.config import load_config
from server.context import Turnos
from server.cookie_session import CookieSessions
from server.db import Database
from server.extensions import Extensions, init_app
from server.migrate import upgrade
from server.peers import Peers, one_at_a_time, run_directory
from server.realtime import Hub
from server.services import print_worker, receipt_worker
from server.services.catalog import sync_catalog
from server.services.tokens import TokenChecker
from server.settings import Settings
from server.verify import bp as verify_bp


def create_app(settings: Settings | None = None) -> Flask:
    """Build the CSA server: config, database, API, pages and live push."""
    settings = settings or Settings()
    config = load_config(settings.config_path)
    db = Database(settings.database_url)
    # Several server processes start at once under gunicorn: one at a time here.
    with one_at_a_time(run_directory(db.url), "start") if settings.start_hub else nullcontext():
        if settings.migrate:
            upgrade(db.engine)
        sync_catalog(db, config)

    app = Flask(__name__)
    # Without TURNOS_SECRET_KEY each start gets a fresh random key: nothing signed survives a
    # restart, which is safe; there is no fixed fallback secret.
    app.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.session_interface = CookieSessions()
    app.config["KIOSK_IDLE_SECONDS"] = settings.kiosk_idle_seconds

    socketio = SocketIO(
        app,
        async_mode=settings.async_mode,
        cors_allowed_origins=sockets.allowed_origin(config.base_url),
        ping_interval=10,
        ping_timeout=10,
    )
    ctx = Turnos(config=config, db=db, clock=settings.clock, sink=None)  # type: ignore[arg-type]
    # The other server processes on this database (gunicorn runs several); none in tests that
    # drive the background work by hand.
    peers = Peers(run_directory(db.url)) if settings.start_hub else None
    hub = Hub(ctx, socketio, peers)
    ctx.sink = hub
    extensions = Extensions(ctx=ctx, socketio=socketio, hub=hub, tokens=TokenChecker(ctx),
                            connections=sockets.Connections(socketio, peers))
    init_app(app, extensions)
    direct.install(app, ctx, extensions.tokens)
    if settings.proxy_hops:
        # Outside the Socket.IO middleware and the direct API, so that they see the public
        # scheme too (the origin check, HSTS).
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    app.config["BABEL_DEFAULT_TIMEZONE"] = config.timezone.key
    i18n.init_app(app, config.default_locale)
    app.context_processor(lambda: {"csa_name": config.name})

    errors.register(app)
    csrf.init_app(app)
    headers.init_app(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(follow_bp)
    app.register_blueprint(staff_auth.bp)
    app.register_blueprint(staff_admin.bp)
    app.register_blueprint(counter_bp)
    app.register_blueprint(orientation.bp)
    app.register_blueprint(display_bp)
    app.register_blueprint(displays_bp)
    app.register_blueprint(verify_bp)
    sockets.register(socketio, extensions)
    printing = print_worker.install(app, ctx, socketio, peers)
    receipts = receipt_worker.install(app, ctx, socketio, settings)
    if peers is not None:
        peers.on("events", hub.peer_committed)
        peers.open()
        atexit.register(peers.close)
        socketio.start_background_task(peers.listen)
        hub.start()

        def lead() -> None:
            printing.start()
            receipts.start()

        # Printing and signing run once per CSA: in the process that leads.
        socketio.start_background_task(peers.lead_then, lead, socketio.sleep)
    return app
