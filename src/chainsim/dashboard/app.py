"""The dashboard page (``solara run chainsim.dashboard.app``; ``chainsim dashboard``).

Left: the live run's controls, the levers and the unknowns. Right: one view at a
time (chain, over time, recidivism, offenders, compare, workshop) and the
language toggle. The page only presents: the model, the engines and the analysis
live in :mod:`chainsim` and the builders in :mod:`chainsim.dashboard.views`.
"""

from __future__ import annotations

from html import escape

import solara

from chainsim.dashboard.controls import LeverPanel, RunControls, UnknownsPanel
from chainsim.dashboard.i18n import t
from chainsim.dashboard.state import VIEWS, use_state
from chainsim.dashboard.tabs import (
    AgentView,
    ChainView,
    CompareView,
    RecidivismView,
    TimeView,
    WorkshopView,
)

VIEW_COMPONENTS = {"chain": ChainView, "time": TimeView, "recid": RecidivismView,
                   "agents": AgentView, "compare": CompareView, "workshop": WorkshopView}


@solara.component
def Page():
    """The whole dashboard."""
    state = use_state()
    lang = state.lang.value
    solara.Title("chainsim")
    with solara.Column(style={"padding": "8px 16px"}, classes=["chainsim-dashboard"]):
        with solara.Row(style={"align-items": "center"}):
            solara.HTML(tag="h2", unsafe_innerHTML=escape(t("title", lang)),
                        style={"font-weight": "400", "margin": "4px 0"})
            solara.v.Spacer()
            solara.Button(t("language", lang), outlined=True, classes=["btn-language"],
                          on_click=lambda: state.lang.set("nl" if lang == "en" else "en"))
        with solara.Columns([1, 3]):
            with solara.Column():
                RunControls(state)
                LeverPanel(state)
                UnknownsPanel(state)
            with solara.Column():
                with solara.ToggleButtonsSingle(value=state.view.value, on_value=state.view.set,
                                                classes=["view-tabs"]):
                    for view in VIEWS:
                        solara.Button(t(f"tab_{view}", lang), value=view, classes=[f"tab-{view}"])
                VIEW_COMPONENTS[state.view.value](state)
