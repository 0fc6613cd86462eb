"""Sign-in for people: /login and /logout, a signed session cookie, CSRF tokens; accounts live in twin.accounts.

Machines keep their bearer tokens and sensor keys (web/auth.py, web/sensors.py). A person's session cookie is signed
(SECRET_KEY), HttpOnly, SameSite=Lax and ends SESSION_HOURS after sign-in; it names the account and its generation,
so disabling an account or changing its password ends its sessions. Every state change made with the cookie must
carry the session's CSRF token (header X-CSRF-Token, or the form field csrf_token) and must not come from another
site (Origin / Sec-Fetch-Site).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, current_app, g, redirect, render_template, request, session
from flask.sessions import SecureCookieSessionInterface

from twin.accounts import AccountStore, SqliteAccounts
from twin.errors import Forbidden, InvalidInput, TwinError, Unauthorized

log = logging.getLogger(__name__)

bp = Blueprint("session", __name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"
HOME = {"staff": "/work", "admin": "/work", "planner": "/planner"}
MESSAGES = {
    "wrong": ("用户名或密码错误（还可尝试 {n} 次）", "Wrong name or password ({n} tries left)"),
    "locked": (
        "尝试次数过多，已锁定，请于 {until} 后再试",
        "Too many wrong tries: sign-in is locked until {until}",
    ),
    "disabled": ("该账号已停用，请联系管理员", "This account is disabled; ask an administrator"),
    "expired": ("页面已过期，请重新登录", "The page has expired; please sign in again"),
}


@bp.record_once
def _configure(state) -> None:
    """Secret key, cookie flags and the account store of the app (the twin's storage, else STATE_DIR's SQLite)."""
    app = state.app
    store = getattr(app.extensions.get("twin"), "store", None)
    if "accounts" not in app.extensions:
        table = store.open_accounts() if hasattr(store, "open_accounts") else None
        if table is None and app.config.get("STATE_DIR"):  # a twin built in memory (tests, notebooks)
            table = SqliteAccounts(Path(app.config["STATE_DIR"]) / "twin.sqlite")
        if table is not None:
            app.extensions["accounts"] = AccountStore(
                table,
                max_failures=app.config.get("LOGIN_MAX_FAILURES") or 10,
                lock_minutes=app.config.get("LOGIN_LOCK_MINUTES") or 15,
            )
    app.session_interface = CookieSessions()
    accounts = app.extensions.get("accounts")
    app.secret_key = app.config.get("SECRET_KEY") or (accounts.secret_key() if accounts else secrets.token_hex(32))
    app.config.update(
        SESSION_COOKIE_NAME="twin_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=session_hours(app)),
        SESSION_REFRESH_EACH_REQUEST=False,
    )


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, but a request without the cookie (every machine's API call) gets an empty
    session at once, without building the cookie's signer."""

    def open_session(self, app, request):
        """The session of the request's cookie; an empty one when it sent none."""
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def session_hours(app) -> int:
    """SESSION_HOURS, at least 1."""
    return max(1, int(app.config.get("SESSION_HOURS") or 12))


def accounts() -> AccountStore | None:
    """The app's account store (None when the twin has no state directory)."""
    return current_app.extensions.get("accounts")


# --- the caller of a request -------------------------------------------------------------------------------------
def session_principal():
    """The Principal of a valid session cookie, or None (no cookie, forged, expired, account disabled)."""
    name = session.get("user")
    if not name:
        return None
    store = accounts()
    account = store.active(name, session.get("gen")) if store is not None else None
    if account is None or float(session.get("exp") or 0) < time.time():
        session.clear()
        return None
    return account.principal()


def check_csrf() -> None:
    """Forbidden unless a cookie-authenticated state change comes from this site with the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise Forbidden("a request from another site may not act with your session", reason="cross_site")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise Forbidden("a request from another site may not act with your session", reason="cross_site")
    sent = request.headers.get(CSRF_HEADER) or (request.form.get("csrf_token") if request.form else None) or ""
    want = session.get("csrf") or ""
    if not want or not hmac.compare_digest(str(sent), want):
        raise Forbidden(
            f"the CSRF token is missing or wrong: send the page's token in the {CSRF_HEADER} header", reason="csrf"
        )


def csrf_token(create: bool = False) -> str | None:
    """The session's CSRF token (made when `create`)."""
    if create and not session.get("csrf"):
        session["csrf"] = secrets.token_urlsafe(32)
    return session.get("csrf")


@bp.app_context_processor
def _user_context() -> dict:
    """page_user (dict or None), csrf_token and alert_seconds for every template (base.html shows who is in)."""
    if not request:
        return {}
    p = g.get("principal")
    signed_in = bool(session.get("user")) and p is not None and p.role != "public"
    user = {"name": p.name, "role": p.role, "grids": sorted(p.grids) if p.grids else None} if signed_in else None
    seconds = max(1, int(current_app.config.get("ALERT_POLL_SECONDS") or 2))
    return {"page_user": user, "csrf_token": session.get("csrf") if signed_in else None, "alert_seconds": seconds}


# --- pages -------------------------------------------------------------------------------------------------------
def safe_next(raw: str | None, role: str | None = None) -> str:
    """A local path to go to after sign-in (never another site); the role's home page by default."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return HOME.get(role or "", "/dashboard")


def _message(key: str, **kw) -> str:
    zh, en = MESSAGES[key]
    return (en if request.args.get("lang") == "en" else zh).format(**kw)


def _login_page(message: str | None = None, status: int = 200, name: str = ""):
    token = csrf_token(create=True)
    html = render_template(
        "login.html", message=message, login_csrf=token, next=request.values.get("next") or "", name=name
    )
    return html, status


def _refused(key: str, status: int, name: str, error: TwinError, **kw):
    """A refused sign-in: the form again with the message for a browser, else the one JSON error body."""
    if not request.accept_mimetypes.accept_html:
        raise error
    return _login_page(_message(key, **kw), status, name)


@bp.get("/login")
def login_page():
    """The sign-in page (Chinese first, ?lang=en)."""
    return _login_page()


@bp.post("/login")
def login():
    """Check name and password; on success a fresh session (new CSRF token) and a redirect to ?next or home."""
    name = (request.form.get("name") or "").strip()
    sent = request.form.get("csrf_token") or ""
    want = session.get("csrf") or ""
    if not want or not hmac.compare_digest(sent, want):
        error = InvalidInput("the sign-in form's CSRF token is missing or wrong: load /login again", reason="csrf")
        return _refused("expired", 400, name, error)
    store = accounts()
    if store is None:
        return _refused("disabled", 403, name, Forbidden("this service has no accounts", reason="disabled"))
    result = store.sign_in(name, request.form.get("password") or "", request.remote_addr or "?")
    if result.account is None:
        if result.reason == "locked":
            until = time.strftime("%H:%M", time.localtime(result.locked_until))
            error = Forbidden(f"too many wrong tries: sign-in is locked until {until}", reason="locked")
            return _refused("locked", 429, name, error, until=until)
        if result.reason == "disabled":
            return _refused("disabled", 403, name, Forbidden("this account is disabled", reason="disabled"))
        error = Unauthorized("wrong name or password", tries_left=result.tries_left)
        return _refused("wrong", 401, name, error, n=result.tries_left)
    account = result.account
    session.clear()  # no fixation: everything from before sign-in goes
    session.permanent = True
    session.update(
        user=account.name,
        gen=account.generation,
        exp=time.time() + session_hours(current_app) * 3600,
        csrf=secrets.token_urlsafe(32),
    )
    log.info("%s (%s) signed in from %s", account.name, account.role, request.remote_addr)
    return redirect(safe_next(request.form.get("next"), account.role), 303)


@bp.post("/logout")
def logout():
    """End the session (CSRF-checked like every other cookie state change) and go to the sign-in page."""
    who = session.get("user")
    session.clear()
    if who:
        log.info("%s signed out", who)
    return redirect("/login", 303)
