"""The chain table (chainsim.chain) is consistent, and every engine follows it.

The conformance tests walk the table: each engine (the Mesa agent model, the
vectorised engine, the expected-flow twin) has a handler for every step, produces
every declared branch, and records no transition the table does not declare.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from chainsim import chain
from chainsim.analysis import flows, recidivism
from chainsim.chain import spec
from chainsim.engines import agents, fast, twin
from chainsim.engines.records import RecordArrays
from chainsim.engines.twin import expected_flows

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ the table itself


def test_every_name_in_the_table_is_declared():
    steps = set(chain.STEP)
    for step in chain.STEPS:
        assert set(step.stages) <= set(chain.STAGE_NAMES), step.name
        for d in (*step.on_entry, *step.on_exit):
            assert d.stream in chain.MECHANISMS, (step.name, d)
        if step.duration is not None:
            assert set(step.duration) <= set(spec.PARAMETERS), step.name
        for b in step.branches:
            assert b.event is None or b.event in chain.EVENT_NAMES, (step.name, b)
            assert b.to in chain.STAGE_NAMES, (step.name, b)
            assert b.then is None or b.then in steps, (step.name, b)
            assert b.source is None or b.source in step.stages, (step.name, b)
            assert all(d.stream in chain.MECHANISMS for d in b.draws), (step.name, b)


def test_every_event_and_stage_belongs_to_a_step():
    events = {b.event for s in chain.STEPS for b in s.branches}
    assert set(chain.EVENT_NAMES) <= events
    stages = {st for s in chain.STEPS for st in s.stages} | {
        b.to for s in chain.STEPS for b in s.branches} | {"none"}
    assert set(chain.STAGE_NAMES) <= stages


def test_every_step_is_reached_and_every_path_ends():
    reached = {"entry"} | {b.then for s in chain.STEPS for b in s.branches if b.then}
    assert reached == set(chain.STEP)
    leaves = [b for s in chain.STEPS for b in s.branches if b.then is None]
    assert {b.to for b in leaves} == {"desisted"}


def test_enums_follow_the_table():
    assert [s.name.lower() for s in spec.Stage] == list(chain.STAGE_NAMES)
    assert [e.name.lower() for e in spec.Event] == list(chain.EVENT_NAMES)
    assert spec.MECHANISMS == chain.MECHANISMS


def test_flow_metrics_count_declared_events():
    for m in chain.FLOW_METRICS:
        assert chain.metric_events(m.name), m.name
    assert flows.COUNT_METRICS == {m.name: chain.metric_events(m.name)
                                   for m in chain.FLOW_METRICS}
    assert flows.CHAIN_ENTRY_EVENTS == ("traced", "registered_other")


def test_draw_slots_count_each_stream_in_order():
    slots = chain.draw_slots((("prosecution", "entry"), ("prosecution", "exit"),
                              ("trial", "entry"), ("trial", "exit"), ("appeal", "entry")))
    assert [(s, k) for s, k, _, _ in slots] == [
        ("prosecution", 0), ("prosecution", 1), ("trial", 0), ("trial", 1), ("appeal", 0),
        ("appeal", 1)]


def test_an_unknown_event_name_is_an_error_not_a_zero(baseline_records):
    rec = RecordArrays.of(baseline_records)
    assert rec.codes(("convicted",)) == [list(rec.event_names).index("convicted")]
    with pytest.raises(KeyError, match="unknown event"):
        rec.codes(("convictd",))
    with pytest.raises(KeyError, match="unknown event"):
        rec.is_event(("appeal",))  # a stage, not an event


def test_event_names_in_the_analyses_are_declared():
    for names in (recidivism.INDEX_EVENTS, recidivism.REGISTRATIONS, recidivism.NOT_COUNTED,
                  recidivism.SPELL_STARTS, recidivism.TRUE_EVENTS, recidivism.GENERAL_CASES,
                  flows.OM_DECISIONS, *flows.COUNT_METRICS.values()):
        chain.check_events(names)


# ------------------------------------------------------------------ the engines


@pytest.mark.parametrize("handlers", [agents.step_handlers(), fast.STEP_HANDLERS,
                                      twin.STEP_HANDLERS], ids=["agents", "fast", "twin"])
def test_every_engine_has_a_handler_for_every_step(handlers):
    assert set(handlers) == set(chain.STEP)
    assert all(callable(h) for h in handlers.values())


def test_the_vectorised_engine_passes_the_tables_phases_in_order():
    order = [s.name for s in chain.STEPS]
    steps = [step for step, _ in fast._CHAIN_PHASES]
    assert steps == sorted(steps, key=order.index)
    # the inspection shares the investigation's phases; prison and recall take no draw of
    # their own (the term is drawn in sentencing, a recall's length with the revocation)
    assert set(steps) | {"inspection", "prison", "recall"} == set(
        order[order.index("investigation"):])


def _transitions(records) -> set[tuple[str, str, str]]:
    triples = records[["from_stage", "event", "to_stage"]].astype(str).drop_duplicates()
    return set(map(tuple, triples[["from_stage", "event", "to_stage"]].to_numpy()))


@pytest.fixture(scope="module")
def engine_records():
    """Runs of the short scenario with a binding probation capacity from 2015 (so that
    every branch, ``probation_refused`` too, can be taken)."""
    from chainsim.engines.model import ChainModel
    from conftest import capped_params

    params = capped_params()
    return {"agents": ChainModel(params, seed=11).run().records.to_frame(),
            "fast": fast.run_fast(params, 11).records}


@pytest.mark.parametrize("engine", ["agents", "fast"])
def test_every_branch_is_taken_and_nothing_undeclared_happens(engine_records, engine):
    seen = _transitions(engine_records[engine])
    declared = chain.transitions()
    assert seen <= declared, f"{engine} records undeclared transitions: {seen - declared}"
    missing = set(chain.EVENT_NAMES) - {e for _, e, _ in seen}
    assert not missing, f"{engine} never produced {missing}"


def test_the_twin_sends_mass_along_every_branch():
    from conftest import capped_params

    flows_ = expected_flows(capped_params())
    total = flows_.events.sum(axis=(0, 2, 3, 4))
    missing = [e.name.lower() for e in spec.Event if not total[e] > 0]
    assert not missing, f"the twin sends no mass along {missing}"


# ------------------------------------------------------------------ generated documents


def test_readme_diagram_is_generated_from_the_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- chain-diagram:start -->\n(.*?)<!-- chain-diagram:end -->", readme,
                      re.S)
    assert block, "README.md lacks the chain diagram's markers"
    assert block.group(1) == chain.mermaid(), (
        "README.md's chain diagram is out of date: run `python -m chainsim.chain`")


def test_odd_stage_table_is_generated_from_the_table():
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- chain-table:start -->\n(.*?)<!-- chain-table:end -->", odd, re.S)
    assert block, "docs/ODD.md lacks the chain table's markers"
    assert block.group(1) == chain.markdown_table(), (
        "docs/ODD.md's chain table is out of date: run `python -m chainsim.chain`")


def test_appeal_is_in_the_funnel_and_the_records(baseline_records):
    assert "appealed" in chain.funnel_metrics()
    counts = baseline_records["event"].value_counts()
    assert counts["appealed"] + counts["appealed_detained"] > 0
    assert np.isin(["appeal", "appeal_detained"], baseline_records["to_stage"].astype(str)).all()
