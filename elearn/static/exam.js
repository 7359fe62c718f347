// Progressive enhancement for exams: save each answer as it is given, and count down.
// Without this script every button still saves, and the server's clock still decides.
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  var statusEl = document.getElementById("save-status");
  var lang = document.documentElement.lang;
  var text = {
    saved: { nb: "Lagret", da: "Gemt", en: "Saved" },
    offline: {
      nb: "Ikke lagret ennå: sjekk nettforbindelsen. Svaret lagres når du går videre.",
      da: "Ikke gemt endnu: tjek forbindelsen. Svaret gemmes, når du går videre.",
      en: "Not saved yet: check your connection. The answer is saved when you go on."
    },
    minutes: { nb: " min", da: " min", en: " min" },
    left: { nb: "minutter igjen", da: "minutter tilbage", en: "minutes left" }
  };
  function t(key) { return (text[key] || {})[lang] || text[key].en; }

  if (form) {
    var token = form.querySelector("input[name=csrf_token]").value;
    var pending = null;
    var save = function () {
      var data = new FormData(form);
      data.delete("go");
      fetch(form.dataset.save, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": token, "Accept": "application/json" }
      }).then(function (response) {
        if (response.status === 409) {
          return response.json().then(function (body) { window.location = body.result; });
        }
        if (!response.ok) { throw new Error(String(response.status)); }
        statusEl.textContent = t("saved");
      }).catch(function () { statusEl.textContent = t("offline"); });
    };
    form.addEventListener("change", function () { save(); });
    form.addEventListener("input", function (event) {
      if (event.target.type !== "text") { return; }
      clearTimeout(pending);
      pending = setTimeout(save, 800);
    });
  }

  var timer = document.getElementById("timer");
  if (timer) {
    var value = document.getElementById("timer-value");
    var alertEl = document.getElementById("timer-alert");
    var end = Date.now() + Number(timer.dataset.remaining) * 1000;
    var announced = {};
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      value.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      [10, 5, 1].forEach(function (mark) {
        if (m < mark && !announced[mark] && left > 0) {
          announced[mark] = true;
          alertEl.textContent = mark + " " + t("left");
        }
      });
      if (left === 0) {
        // The server decides; a reload shows the result once the deadline has passed.
        setTimeout(function () { window.location.reload(); }, 1500);
        return;
      }
      setTimeout(tick, 1000);
    };
    tick();
  }
}());
