"""Settings: the layering of defaults, config file, environment and overrides; the README's table stays true."""

import json
import re
from pathlib import Path

import pytest

from twin import settings
from twin.errors import InvalidInput

README = Path(__file__).resolve().parents[2] / "README.md"


def test_layers_in_order(tmp_path):
    cfg = tmp_path / "twin.json"
    cfg.write_text(json.dumps({"port": 9000, "refresh_seconds": 5, "tokens": [{"role": "admin", "token": "x"}]}))
    values = settings.load(environ={"TWIN_REFRESH_SECONDS": "7"}, config_file=cfg, overrides={"THREADS": "3"})
    assert values["PORT"] == 9000  # file over default
    assert values["REFRESH_SECONDS"] == 7  # environment over file, cast to int
    assert values["THREADS"] == 3  # overrides last
    assert json.loads(values["TOKENS"]) == [{"role": "admin", "token": "x"}]  # JSON given as a structure
    assert values["HOST"] == "127.0.0.1"  # default kept


def test_unknown_setting_in_file_is_refused(tmp_path):
    cfg = tmp_path / "twin.json"
    cfg.write_text(json.dumps({"prot": 9000}))
    with pytest.raises(InvalidInput, match="unknown setting 'prot'"):
        settings.load(environ={}, config_file=cfg)


def test_bad_type_and_unreadable_file(tmp_path):
    with pytest.raises(InvalidInput, match="PORT must be a int"):
        settings.load(environ={"TWIN_PORT": "eighty"})
    with pytest.raises(InvalidInput, match="cannot read config file"):
        settings.load(environ={}, config_file=tmp_path / "missing.json")


def test_readme_lists_every_setting_as_declared():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- settings -->\n(.*?)\n<!-- /settings -->", text, re.S)
    assert block, "README.md lacks the <!-- settings --> block"
    assert block.group(1) == settings.markdown_table(), (
        "README's settings table is stale: paste python -c 'from twin.settings import markdown_table as m; print(m())'"
    )


def test_text_settings_with_choices_are_normalised_or_refused():
    assert settings.load(environ={"TWIN_TILE_CRS": "GCJ-02"})["TILE_CRS"] == "gcj02"
    assert settings.load(environ={}, overrides={"DEFAULT_LANG": "EN"})["DEFAULT_LANG"] == "en"
    with pytest.raises(InvalidInput, match="TILE_CRS must be one of wgs84, gcj02, not 'bd09'"):
        settings.load(environ={"TWIN_TILE_CRS": "bd09"})
