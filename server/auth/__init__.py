"""Staff accounts and security: passwords, sessions, CSRF, headers, rate limits, audit log.

Modules hold one concept each and this file imports none of them, so that services (such as
server/services/tokens.py, which audits token changes) can use `server.auth.audit` without
pulling in the views. server/app.py registers the hooks and the two blueprints
(`server.auth.views.bp`: login and logout; `server.auth.admin.bp`: /admin pages).
"""
