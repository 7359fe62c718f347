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
    var renumber = function (moved) {
      var all = steps();
      all.forEach(function (li, i) { li.querySelector("select").value = String(i + 1); });
      if (moved) {
        status.textContent = fill(question.dataset.moved, {
          step: textOf(moved), place: all.indexOf(moved) + 1, n: all.length
        });
        moved.querySelector("select").dispatchEvent(new Event("change", { bubbles: true }));
      }
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
      li.querySelector("select").addEventListener("change", function (event) {
        if (!event.isTrusted || !this.value) { return; }
        place(li, Number(this.value) - 1);
        renumber(li);
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-ordering]"), enhance);
}());
