"""A clickable SVG widget: shows an SVG string and reports clicks on ``data-agent`` elements.

A minimal :class:`ipyvue.VuetifyTemplate`: the template renders the SVG with
``v-html`` and delegates clicks to the element carrying a ``data-agent``
attribute, whose value it sends to Python (``vue_select``). No JavaScript library
is loaded.
"""

from __future__ import annotations

from collections.abc import Callable

import ipyvue
import solara
import traitlets

_TEMPLATE = """
<template>
  <div class="chainsim-clickable-svg" v-html="svg" @click="onClick"></div>
</template>
<script>
module.exports = {
  methods: {
    onClick(e) {
      const el = e.target.closest ? e.target.closest('[data-agent]') : null;
      if (el) { this.select(el.getAttribute('data-agent')); }
    },
  },
};
</script>
"""


class ClickableSvgWidget(ipyvue.VueTemplate):
    """The widget; use :func:`ClickableSvg` in Solara components."""

    template = traitlets.Unicode(_TEMPLATE).tag(sync=True)
    svg = traitlets.Unicode("").tag(sync=True)
    on_select = traitlets.Callable(None, allow_none=True)

    def vue_select(self, data: str) -> None:
        """Called from the browser with the clicked element's ``data-agent`` value."""
        if self.on_select is not None:
            self.on_select(str(data))


@solara.component
def ClickableSvg(svg: str, on_select: Callable[[str], None] | None = None):
    """An SVG whose ``data-agent`` elements can be clicked.

    Args:
        svg: The SVG document (trusted: built by :mod:`chainsim.dashboard.svg`).
        on_select: Called with the clicked element's ``data-agent`` value.
    """
    return ClickableSvgWidget.element(svg=svg, on_select=on_select)
