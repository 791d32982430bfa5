// Follows a background check or import: polls its state every 1.5 s, updates the bar and the
// status line (read by screen readers, politely), and reloads the page when the job has ended,
// which then shows its result. Without JavaScript, the page's "Actualiser" link does the same.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var bar = document.getElementById("import-progress-bar");
  var text = document.getElementById("import-progress-text");
  var shown = text.textContent.trim();

  function describe(status) {
    if (status.state === "queued") { return box.dataset.labelQueued; }
    var phase = box.dataset["label" + status.phase.charAt(0).toUpperCase() + status.phase.slice(1)] || "";
    var rows = status.rows.toLocaleString(document.documentElement.lang || "fr") + " " + box.dataset.labelRows;
    return phase ? phase + " : " + rows : rows;
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        if (status.finished) { window.location.reload(); return; }
        if (typeof status.fraction === "number") { bar.value = Math.round(status.fraction * 100); }
        var line = describe(status);
        if (line !== shown) { text.textContent = line; shown = line; }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
