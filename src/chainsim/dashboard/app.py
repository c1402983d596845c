"""The dashboard page (``solara run chainsim.dashboard.app``; ``chainsim dashboard``).

Left: the live run's controls, the levers and the unknowns (a column of its own that
scrolls when the window is low). Right: the status line (the scenario in use and
the levers moved, on every view), one view at a time (chain, over time, recidivism,
offenders, compare, workshop) and the language toggle. Below 820 px wide the page
is one column: the run's controls, the views, then the levers and the unknowns.
The page only presents: the model, the engines and the analysis live in
:mod:`chainsim` and the builders in :mod:`chainsim.dashboard.views`.
"""

from __future__ import annotations

from html import escape

import solara

from chainsim.dashboard.controls import LeverPanel, RunControls, StatusBar, UnknownsPanel
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

NARROW = 820
"""Window width (px) below which the page is a single column."""

CSS = f"""
.chainsim-dashboard {{ font-size: 14px; max-width: 100vw; box-sizing: border-box; }}
.chainsim-dashboard > * {{ min-width: 0; max-width: 100%; }}
.chainsim-dashboard .cs-header {{ display: flex; align-items: center; gap: 8px;
  flex-wrap: wrap; width: 100%; }}
.chainsim-dashboard .cs-header h1 {{ flex: 1 1 240px; min-width: 0; }}
.chainsim-dashboard .cs-main {{ display: flex; gap: 16px; align-items: flex-start;
  width: 100%; }}
.chainsim-dashboard .cs-side {{ flex: 0 0 330px; max-width: 330px; position: sticky; top: 4px;
  max-height: calc(100vh - 64px); overflow-y: auto; overflow-x: hidden; padding-right: 4px; }}
.chainsim-dashboard .cs-content {{ flex: 1 1 auto; min-width: 0; }}
.chainsim-dashboard .cs-content > * {{ max-width: 100%; }}
.chainsim-dashboard .cs-title {{ font-weight: 400; margin: 4px 0; font-size: 22px;
  line-height: 1.25; overflow-wrap: anywhere; hyphens: auto; }}
.chainsim-dashboard .v-card__title {{ font-size: 16px; line-height: 1.3; word-break: normal;
  overflow-wrap: anywhere; hyphens: auto; padding: 10px 12px 4px; }}
.chainsim-dashboard .v-card__text, .chainsim-dashboard .v-card > div {{ font-size: 13px; }}
.chainsim-dashboard .view-tabs {{ flex-wrap: wrap; height: auto !important; }}
.chainsim-dashboard .view-tabs .v-btn {{ height: 36px !important; font-size: 13px;
  text-transform: none; letter-spacing: 0; }}
.chainsim-dashboard .status-bar {{ background: #f3f6fa; border-left: 4px solid #4C72B0;
  padding: 6px 10px; margin: 6px 0; font-size: 13px; line-height: 1.4;
  overflow-wrap: anywhere; }}
.chainsim-dashboard .status-notice {{ color: #8a4b00; margin-top: 2px; }}
.chainsim-dashboard .chart {{ width: 100%; overflow-x: auto; }}
.chainsim-dashboard table {{ max-width: 100%; }}
.chainsim-dashboard .table-wrap {{ overflow-x: auto; }}
.chainsim-dashboard .v-label {{ font-size: 13px !important; white-space: normal;
  height: auto !important; line-height: 1.3; }}
.chainsim-dashboard .v-text-field .v-label {{ white-space: nowrap; }}
.chainsim-dashboard .v-input.v-text-field .v-label.v-label--active,
.chainsim-dashboard .v-input.v-input--is-focused .v-label.v-label--active,
.chainsim-dashboard .v-text-field--filled .v-input__slot .v-label.v-label--active {{
  transform: translateY(-18px) scale(0.93) !important; transform-origin: top left; }}
.chainsim-dashboard .v-select__selection {{ white-space: normal; font-size: 13px; }}
.chainsim-dashboard .v-btn {{ text-transform: none; letter-spacing: 0; }}
.chainsim-dashboard .run-buttons {{ flex-wrap: wrap; gap: 4px; }}
@media (max-width: {NARROW}px) {{
  .chainsim-dashboard {{ padding: 4px 6px !important; }}
  .chainsim-dashboard .cs-main {{ flex-direction: column; gap: 8px; }}
  .chainsim-dashboard .cs-side {{ display: contents; }}
  .chainsim-dashboard .run-controls {{ order: 0; width: 100%; }}
  .chainsim-dashboard .cs-content {{ order: 1; width: 100%; }}
  .chainsim-dashboard .lever-panel {{ order: 2; width: 100%; }}
  .chainsim-dashboard .unknowns-panel {{ order: 3; width: 100%; }}
  .chainsim-dashboard .cs-title {{ font-size: 17px; }}
  .chainsim-dashboard .chart svg {{ min-width: 580px; }}
  .chainsim-dashboard .chart-funnel svg {{ min-width: 720px; }}
  .chainsim-dashboard .chart-guesses svg {{ min-width: 0; }}
  .chainsim-dashboard .view-tabs .v-btn {{ min-width: 0 !important; padding: 0 8px !important;
    flex: 1 1 30%; }}
}}
"""
"""The page's layout: two columns that scroll apart, one column on phones."""


@solara.component
def Page():
    """The whole dashboard."""
    state = use_state()
    lang = state.lang.value
    solara.Title("chainsim")
    solara.Style(CSS)
    with solara.Column(style={"padding": "8px 16px"}, classes=["chainsim-dashboard"]):
        with solara.Div(classes=["cs-header"]):
            solara.HTML(tag="h1", unsafe_innerHTML=escape(t("title", lang)),
                        classes=["cs-title"])
            solara.Button(t("language", lang), outlined=True, classes=["btn-language"],
                          on_click=lambda: state.lang.set("nl" if lang == "en" else "en"))
        with solara.Div(classes=["cs-main"]):
            with solara.Div(classes=["cs-side"]):
                RunControls(state)
                LeverPanel(state)
                UnknownsPanel(state)
            with solara.Div(classes=["cs-content"]):
                StatusBar(state)
                with solara.ToggleButtonsSingle(value=state.view.value, on_value=state.view.set,
                                                classes=["view-tabs"]):
                    for view in VIEWS:
                        solara.Button(t(f"tab_{view}", lang), value=view, classes=[f"tab-{view}"])
                VIEW_COMPONENTS[state.view.value](state)
