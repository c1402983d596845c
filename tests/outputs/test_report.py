"""The HTML report of a saved comparison (one replication per arm on the short horizon)."""

from __future__ import annotations

import base64
import re
import shutil

import pytest

from chainsim import cli
from chainsim.chain.config import Scenario, scenario_from_dict
from chainsim.experiments.compare import compare, comparison_document
from chainsim.outputs.folders import save_comparison
from chainsim.outputs.report import SAVED_FILES, build_report
from conftest import short_doc

DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def scenario(name: str, description: str, interventions: list[dict]) -> Scenario:
    doc = short_doc()
    doc["scenario"].update(name=name, description=description)
    doc["interventions"] = interventions
    return scenario_from_dict(doc, f"{name}.toml")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved comparison directory with its report built."""
    base = scenario("status_quo", "Nothing changes.", [])
    supervised = scenario("supervise_more", "Most prison releases supervised from 2014.", [
        {"name": "supervision", "parameter": "probation_share_prison", "operation": "set",
         "value": 0.9, "start": "2014-01", "note": "a lever for the test"}])
    cmp = compare(base, [supervised], reps=1, seed=4, workers=1)
    out = tmp_path_factory.mktemp("report") / "cmp"
    save_comparison(cmp, comparison_document(cmp), out)
    saved_files = {p.name for p in out.iterdir()}
    path = build_report(out)
    return out, path, saved_files


def test_save_comparison_writes_what_the_report_reads(saved):
    _, _, saved_files = saved
    assert set(SAVED_FILES) <= saved_files
    assert saved_files == {*SAVED_FILES, "draws.csv"}  # and no temporary files


def test_report_embeds_four_png_figures(saved):
    out, path, _ = saved
    assert path == out / "report.html"
    text = path.read_text(encoding="utf-8")
    uris = DATA_URI.findall(text)
    assert len(uris) == 4
    assert text.count("data:image/") == 4
    for uri in uris:
        assert base64.b64decode(uri)[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(set(uris)) == 4  # four different figures


def test_report_names_the_scenarios_and_summarises_in_plain_language(saved):
    _, path, _ = saved
    text = path.read_text(encoding="utf-8")
    for name in ("status_quo", "supervise_more"):
        assert name in text
    assert "Most prison releases supervised from 2014." in text
    short = text.split("<h2>In short</h2>", 1)[1].split("</ul>", 1)[0]
    (sentence,) = re.findall(r"<li>(.*?)</li>", short, flags=re.S)
    assert sentence.startswith("<b>supervise_more</b> ")
    assert re.search(r"\b(raises|lowers|leaves)\b", sentence)
    assert "probation caseload" in sentence  # more supervision shows in the caseload
    assert "detection effort" in text  # the caveat on observed recidivism
    assert "observed recidivism" in text.split('<div class=caveat>', 1)[1].split("</div>")[0]


@pytest.mark.slow
def test_report_command_rebuilds_from_the_saved_files_only(saved, tmp_path, capsys):
    out, _, _ = saved
    copy = tmp_path / "moved"
    shutil.copytree(out, copy)
    (copy / "report.html").unlink()
    assert cli.main(["report", str(copy)]) == 0
    assert str(copy / "report.html") in capsys.readouterr().out
    assert len(DATA_URI.findall((copy / "report.html").read_text(encoding="utf-8"))) == 4


@pytest.mark.parametrize("missing", ["comparison.json", "survival.csv"])
def test_report_on_an_incomplete_directory_exits_2(saved, tmp_path, capsys, missing):
    out, _, _ = saved
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "report.html").unlink()
    (broken / missing).unlink()
    assert cli.main(["report", str(broken)]) == 2
    captured = capsys.readouterr()
    assert missing in captured.err
    assert str(broken) in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not (broken / "report.html").exists()


def test_report_on_a_directory_that_does_not_exist_exits_2(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "comparison.json" in err
    assert "Traceback" not in err
