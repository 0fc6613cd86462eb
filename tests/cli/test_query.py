"""`twin query` on the tiny street: the table, --json equal to the API's answer, and bad arguments."""

from __future__ import annotations

import json

import pytest

from cli import main
from tests.tiny import GA1, B, box
from web import create_app


def query(capsys, tiny_dir, *argv):
    """Run `twin query ... --data tiny_dir`; (exit code, stdout, stderr)."""
    code = main(["query", *argv, "--data", str(tiny_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def without_now(fig):
    fig["incidents"].pop("now")
    return fig


def test_grid_table_in_chinese(capsys, tiny_dir):
    code, out, _ = query(capsys, tiny_dir, "--grid", GA1)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("区域: 东风一网格")
    rows = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in lines[1:] if "·" in line}
    # grid A1: B1 and B2, 5 households of 12 people, one elderly alone (admin view: nothing suppressed)
    assert rows["楼栋 · 楼栋数"] == "2" and rows["人口 · 户数"] == "5" and rows["人口 · 人口"] == "12"
    assert rows["人口 · 独居老人"] == "1" and rows["物业状态 · 失管弃管"] == "2"
    assert "纺织厂宿舍 (C1) · 失管弃管" in out and "100.0%" in out


def test_english_and_suppressed_for_the_public(capsys, tiny_dir):
    code, out, _ = query(capsys, tiny_dir, "--community", B, "--lang", "en", "--role", "public")
    assert code == 0 and out.startswith("Area: 西园社区")
    assert "Counts of 1 or 2 people are hidden" in out
    line = next(x for x in out.splitlines() if "Elderly living alone" in x)
    assert line.split()[-1] == "–"  # B4's one elderly resident


@pytest.mark.parametrize(
    "argv, url",
    [
        (["--grid", GA1], f"/api/area?grid={GA1}"),
        (["--compound", "C3", "--rule", "area"], "/api/area?compound=C3&rule=area"),
        (["--point", "114.88295,40.80115", "--radius", "30"], "/api/area?lon=114.88295&lat=40.80115&radius=30"),
        (
            ["--grid", GA1, "--from", "2026-01-01", "--to", "2026-01-31"],
            f"/api/area?grid={GA1}&from=2026-01-01&to=2026-01-31",
        ),
    ],
)
def test_json_is_the_api_answer(capsys, tiny_dir, tmp_path, argv, url):
    code, out, _ = query(capsys, tiny_dir, *argv, "--json", "--role", "public")
    assert code == 0
    client = create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "s")}).test_client()
    assert without_now(json.loads(out)) == without_now(client.get(url).get_json())


def test_area_file_cut_by_the_rule(capsys, tiny_dir, tmp_path):
    path = tmp_path / "cut.geojson"
    path.write_text(
        json.dumps(
            {"type": "Feature", "properties": {"name": "西半"}, "geometry": box(114.8800, 40.8000, 114.88088, 40.8030)}
        ),
        encoding="utf-8",
    )
    centroid = json.loads(query(capsys, tiny_dir, "--area", str(path), "--json")[1])
    assert centroid["buildings"]["count"] == 1 and centroid["area"]["label"] == "西半"
    weighted = json.loads(query(capsys, tiny_dir, "--area", str(path), "--rule", "area", "--json")[1])
    assert weighted["buildings"]["count"] == pytest.approx(0.6, abs=1e-3)  # 60% of B1
    assert weighted["people"]["households"] == pytest.approx(1.8, abs=1e-3)


@pytest.mark.parametrize(
    "argv, word",
    [
        (["--point", "114.88,40.80"], "--radius"),
        (["--grid", GA1, "--radius", "50"], "--point"),
        (["--point", "114.88", "--radius", "50"], "LON,LAT"),
        (["--point", "114.88,40.80", "--radius", "-5"], "radius"),
        (["--point", "40.8011,114.8829", "--radius", "50"], "[lat, lon]"),
        (["--area", "/nonexistent/area.geojson"], "no such file"),
        (["--grid", "999"], "999"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, tiny_dir, argv, word):
    code, out, err = query(capsys, tiny_dir, *argv)
    assert code == 2 and out == ""
    assert err.startswith("twin: error:") and word in err


def test_bad_polygon_file_with_json_prints_the_error_body(capsys, tiny_dir, tmp_path):
    path = tmp_path / "line.geojson"
    path.write_text(json.dumps({"type": "LineString", "coordinates": [[114.88, 40.80], [114.89, 40.81]]}))
    code, _, err = query(capsys, tiny_dir, "--area", str(path), "--json")
    assert code == 2 and "Polygon or MultiPolygon" in json.loads(err)["message"]


@pytest.mark.parametrize("argv", [["--grid", GA1], ["--point", "114.88295,40.80115", "--radius", "30"]])
def test_server_gives_the_same_answer_without_loading(capsys, tiny_dir, tmp_path, argv):
    from tests.live import live_server

    code, local, _ = query(capsys, tiny_dir, *argv, "--json", "--role", "public")
    app = create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "s")})
    with live_server(app) as url:
        assert main(["query", *argv, "--json", "--server", url]) == 0
        remote = capsys.readouterr().out
        assert main(["query", "--grid", "nope", "--server", url]) == 2
        assert "404" in capsys.readouterr().err
        assert main(["query", *argv, "--server", url]) == 0
        table = capsys.readouterr().out
    assert without_now(json.loads(remote)) == without_now(json.loads(local))
    assert table.startswith("区域:") and "人口 · 户数" in table
