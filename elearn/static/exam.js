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
    retrying: {
      nb: "Ikke lagret ennå. Svaret er tatt vare på i nettleseren, og vi prøver igjen av oss selv.",
      da: "Ikke gemt endnu. Svaret er gemt i browseren, og vi prøver igen af os selv.",
      en: "Not saved yet. Your answer is kept in this browser and is sent again by itself."
    },
    minutes: { nb: " min", da: " min", en: " min" },
    left: { nb: "minutter igjen", da: "minutter tilbage", en: "minutes left" }
  };
  function t(key) { return (text[key] || {})[lang] || text[key].en; }

  if (form) {
    // Each answer is kept in this browser (localStorage) until the server has it: a busy
    // server (503) or a lost connection is tried again with a growing pause, and a reload
    // puts the kept answer back into the page and sends it again.
    var token = form.querySelector("input[name=csrf_token]").value;
    var key = "elearn.unsaved:" + form.dataset.save;
    var pending = null, retryTimer = null, delay = 0, busy = false, again = false;
    var MAX_DELAY = 30000;
    var fields = function () {
      var list = [];
      new FormData(form).forEach(function (value, name) {
        if (name !== "go" && name !== "csrf_token") { list.push([name, String(value)]); }
      });
      return list;
    };
    var kept = function () {
      try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
    };
    var keep = function (list) {
      try { window.localStorage.setItem(key, JSON.stringify(list)); } catch (e) { /* full, private */ }
    };
    var forget = function (list) {  // only if nothing newer was kept meanwhile
      try {
        if (window.localStorage.getItem(key) === JSON.stringify(list)) { window.localStorage.removeItem(key); }
      } catch (e) { /* nothing kept */ }
    };
    var show = function (message) {  // a live region: say it once, not on every try
      if (statusEl.textContent !== message) { statusEl.textContent = message; }
    };
    var later = function (retryAfter) {
      delay = delay ? Math.min(delay * 2, MAX_DELAY) : 1000;
      var wait = Math.max(delay, (retryAfter || 0) * 1000) * (0.8 + Math.random() * 0.4);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(send, wait);
    };
    var send = function () {
      var list = kept();
      if (!list) { return; }
      if (busy) { again = true; return; }
      busy = true;
      clearTimeout(retryTimer);
      var data = new FormData();
      list.forEach(function (pair) { data.append(pair[0], pair[1]); });
      data.append("csrf_token", token);
      fetch(form.dataset.save, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": token, "Accept": "application/json" }
      }).then(function (response) {
        if (response.status === 409) {
          forget(list);
          return response.json().then(function (body) { window.location = body.result; });
        }
        if (response.ok) {
          forget(list);
          delay = 0;
          if (!kept()) { show(t("saved")); }
          return;
        }
        if (response.status >= 500 || response.status === 408 || response.status === 429) {
          show(t("retrying"));
          later(Number(response.headers.get("Retry-After")) || 0);
          return;
        }
        forget(list);  // refused as it is (400, 403, 422): trying again would not help
        show(t("offline"));
      }).catch(function () {  // no answer at all: offline, or the server went away
        show(t("retrying"));
        later(0);
      }).then(function () {
        busy = false;
        if (again) { again = false; send(); }
      });
    };
    var save = function () { keep(fields()); send(); };
    var restore = function (list) {  // put a kept answer back into the page
      var values = {};
      list.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || !/^(answer|flag)/.test(el.name)) { return; }
        var given = values[el.name] || [];
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = given.indexOf(el.value) >= 0;
        } else if (el.tagName === "SELECT" || el.type !== "hidden") {
          el.value = given.length ? given[0] : "";
        }
      });
    };
    form.addEventListener("change", function () { save(); });
    form.addEventListener("input", function (event) {
      if (event.target.type !== "text") { return; }
      clearTimeout(pending);
      pending = setTimeout(save, 800);
    });
    window.addEventListener("online", function () { delay = 0; send(); });
    var unsaved = kept();
    if (unsaved) {
      restore(unsaved);
      show(t("retrying"));
      send();
    }
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
