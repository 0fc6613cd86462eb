"""`twin user add|list|disable|enable|passwd` on the tiny street's state directory, and in PostgreSQL with
DATABASE_URL."""

from __future__ import annotations

import io
import json

from cli import main
from tests.tiny import GA1
from twin.accounts import AccountStore


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_list_disable_passwd(tiny_dir, capsys, monkeypatch):
    d = ["user", "--data", str(tiny_dir)]
    code, out, _ = run(capsys, *d, "add", "clerk", "--role", "staff", "--grids", GA1, "--password-stdin",
                       stdin="from-stdin-1\n", monkeypatch=monkeypatch)  # fmt: skip
    assert code == 0 and "clerk" in out
    assert run(capsys, *d, "add", "head", "--role", "admin", "--password", "head-pass-1")[0] == 0
    code, out, _ = run(capsys, *d, "list", "--json")
    assert json.loads(out) == [
        {"name": "clerk", "role": "staff", "grids": [GA1], "disabled": False},
        {"name": "head", "role": "admin", "grids": None, "disabled": False},
    ]
    store = AccountStore(tiny_dir / "twin.sqlite")
    assert store.sign_in("clerk", "from-stdin-1", "t").account is not None
    assert run(capsys, *d, "passwd", "clerk", "--password", "changed-pass-2")[0] == 0
    assert store.sign_in("clerk", "changed-pass-2", "t").account is not None
    assert run(capsys, *d, "disable", "head")[0] == 0
    assert store.get("head").disabled


def test_bad_grid_duplicate_name_and_short_password_are_errors(tiny_dir, capsys):
    d = ["user", "--data", str(tiny_dir)]
    code, _, err = run(capsys, *d, "add", "x1", "--role", "staff", "--grids", "NOPE", "--password", "long-enough-1")
    assert code == 2 and "unknown grid code(s) NOPE" in err
    code, _, err = run(capsys, *d, "add", "x1", "--role", "staff", "--password", "short")
    assert code == 2 and "password" in err
    assert run(capsys, *d, "add", "x1", "--role", "planner", "--password", "long-enough-1")[0] == 0
    code, _, err = run(capsys, *d, "add", "x1", "--role", "planner", "--password", "long-enough-1")
    assert code == 2 and "already exists" in err


def test_with_database_url_accounts_go_to_postgresql(tiny_dir, tiny_database_url, capsys, monkeypatch):
    from twin.postgres import PostgresStore

    monkeypatch.setenv("TWIN_DATABASE_URL", tiny_database_url)
    d = ["user", "--data", str(tiny_dir)]
    assert run(capsys, *d, "add", "clerk", "--role", "staff", "--grids", GA1, "--password", "clerk-pass-1")[0] == 0
    code, _, err = run(capsys, *d, "add", "x1", "--role", "staff", "--grids", "NOPE", "--password", "long-enough-1")
    assert code == 2 and "unknown grid code(s) NOPE" in err  # checked against the grids in the database
    db = PostgresStore(tiny_database_url)
    store = AccountStore(db.open_accounts())
    assert store.get("clerk").grids == {GA1} and store.sign_in("clerk", "clerk-pass-1", "t").account is not None
    assert not (tiny_dir / "twin.sqlite").exists()  # nothing in the state directory
    assert json.loads(run(capsys, *d, "list", "--json")[1])[0]["name"] == "clerk"
    db.close()
