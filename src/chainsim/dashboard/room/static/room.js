// chainsim workshop room: keep the page current without reloading it.
// Long-polls the page's poll URL with the room's version; swaps each part
// (an element with an id and data-key) only when its key changed, so a half-typed
// answer survives other people's activity. No framework, no external script.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-poll");
  if (!url) { return; }
  var version = body.getAttribute("data-version") || "-1";
  var lang = document.documentElement.getAttribute("lang");
  var failures = 0;

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function apply(data) {
    if (data.lang && data.lang !== lang) { window.location.reload(); return false; }
    Object.keys(data.parts || {}).forEach(function (id) {
      var part = data.parts[id];
      var el = document.getElementById(id);
      if (el && el.getAttribute("data-key") !== part.key) {
        el.outerHTML = part.html;
      }
    });
    version = String(data.version);
    body.setAttribute("data-version", version);
    body.setAttribute("data-updated", String(Date.now()));
    return true;
  }

  async function loop() {
    for (;;) {
      try {
        var r = await fetch(url + "?since=" + encodeURIComponent(version),
                            {cache: "no-store", credentials: "same-origin"});
        var data = await r.json();
        if (data.redirect) { window.location.href = data.redirect; return; }
        if (!r.ok) { throw new Error(String(r.status)); }
        if (!apply(data)) { return; }
        failures = 0;
      } catch (e) {
        failures += 1;
        await wait(Math.min(500 * failures, 5000));
      }
    }
  }
  body.setAttribute("data-live", "1");
  loop();
})();
