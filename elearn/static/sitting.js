// The waiting room's countdown: the server's clock decides, this only shows it and
// enables the Start button when the server says the sitting has begun.
(function () {
  "use strict";
  var box = document.getElementById("sitting-clock");
  var button = document.getElementById("start-sitting");
  var text = document.getElementById("countdown");
  if (!box || !button || !text) { return; }
  var left = parseInt(box.getAttribute("data-opens-in"), 10) || 0;
  var url = box.getAttribute("data-clock");
  function show() {
    if (left > 0) {
      text.textContent = text.textContent.replace(/\d+/, String(left));
    }
  }
  function ask() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        left = data.opens_in;
        if (left <= 0) { window.location.reload(); } else { setTimeout(tick, 1000); }
      })
      .catch(function () { setTimeout(ask, 2000); });
  }
  function tick() {
    left -= 1;
    if (left <= 0) { ask(); return; }  // the server confirms, then the page shows Start
    show();
    setTimeout(tick, 1000);
  }
  if (left > 0) { setTimeout(tick, 1000); }
}());
