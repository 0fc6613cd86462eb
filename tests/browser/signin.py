"""Signing in on a real page: the /login form filled and sent as a person would."""

from __future__ import annotations


def sign_in(page, base: str, name: str, password: str, next_path: str = "/work") -> None:
    """Open /login?next=…, fill in name and password, submit, and wait for the page it leads to."""
    page.goto(f"{base}/login?next={next_path}")
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    with page.expect_navigation():
        page.click("#login-submit")
