// Progressive enhancement for ordering questions: "move up" and "move down" buttons beside each
// step, so the list itself is the answer. Without this script every step's list box still
// gives its place, and the server reads the same fields.
(function () {
  "use strict";
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }
  function enhance(question) {
    if (question.dataset.enhanced) { return; }
    question.dataset.enhanced = "1";
    var list = question.querySelector("ol.steps");
    var status = question.querySelector("[data-ordering-status]");
    var steps = function () { return Array.prototype.slice.call(list.children); };
    var textOf = function (li) { return li.querySelector("label").textContent.replace(/^[^:]*:\s*/, ""); };
    var ends = function () {
      // The first step cannot go up, nor the last down: say so without taking their focus.
      var all = steps();
      all.forEach(function (li, i) {
        var buttons = li.querySelectorAll(".step-move");
        buttons[0].setAttribute("aria-disabled", String(i === 0));
        buttons[1].setAttribute("aria-disabled", String(i === all.length - 1));
      });
    };
    var busy = false;  // our own change event (for autosave) must not move the step again
    var renumber = function (moved) {
      var all = steps();
      all.forEach(function (li, i) { li.querySelector("select").value = String(i + 1); });
      ends();
      status.textContent = fill(question.dataset.moved, {
        step: textOf(moved), place: all.indexOf(moved) + 1, n: all.length
      });
      busy = true;
      moved.querySelector("select").dispatchEvent(new Event("change", { bubbles: true }));
      busy = false;
    };
    var place = function (li, index) {
      var all = steps().filter(function (other) { return other !== li; });
      list.insertBefore(li, all[index] || null);
    };
    steps().forEach(function (li) {
      var name = textOf(li);
      [["up", -1], ["down", 1]].forEach(function (pair) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button-secondary step-move";
        button.textContent = question.dataset[pair[0]];
        button.setAttribute("aria-label", question.dataset[pair[0]] + ": " + name);
        button.addEventListener("click", function () {
          var index = steps().indexOf(li) + pair[1];
          if (index < 0 || index >= steps().length) { return; }
          place(li, index);
          renumber(li);
          button.focus();
        });
        li.appendChild(button);
      });
      li.querySelector("select").addEventListener("change", function () {
        if (busy || !this.value) { return; }
        place(li, Number(this.value) - 1);
        renumber(li);
      });
    });
    ends();
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-ordering]"), enhance);
}());
