// Live view of the password rule (seed 001). The composition list follows the typing at once; "Fort"
// waits for the server's answer (accounts:password_check, with the form's sealed context), which applies
// the very functions the form will: the personal words, the common passwords, the dates. No answer (offline,
// throttled, still typing): never "Fort". The strength words come translated from the page.
(function () {
  "use strict";
  var input = document.getElementById("id_password");
  var list = document.getElementById("password-rules");
  var meter = document.getElementById("password-meter");
  var label = document.getElementById("password-strength");
  var help = document.getElementById("password-help");
  var problems = document.getElementById("password-problems");
  var birth = document.getElementById("id_birth_date");
  if (!input || !list || !label || !help) { return; }
  var words = { weak: label.dataset.weak, medium: label.dataset.medium, strong: label.dataset.strong };
  var csrf = input.form ? input.form.querySelector("input[name=csrfmiddlewaretoken]") : null;
  var specials = "!?@#$%&'()*+,-.:;";
  var checks = {
    upper: function (p) { return p !== p.toLowerCase(); },
    lower: function (p) { return p !== p.toUpperCase(); },
    digit: function (p) { return /[0-9]/.test(p); },
    special: function (p) { return p.split("").some(function (c) { return specials.indexOf(c) >= 0; }); },
    length: function (p) { return p.length >= 8; }
  };
  var verdict = null;  // the server's answer, for `verdict.key` only
  var timer = null;

  function key() { return input.value + "\u0000" + (birth ? birth.value : ""); }

  function showProblems(texts) {
    if (!problems) { return; }
    problems.textContent = "";
    texts.forEach(function (text) {
      var line = document.createElement("p");
      line.className = "fr-error-text";
      line.textContent = text;
      problems.appendChild(line);
    });
  }

  function show() {
    var value = input.value, met = 0;
    var known = verdict !== null && verdict.key === key() ? verdict : null;
    list.querySelectorAll("li[data-rule]").forEach(function (li) {
      var rule = li.getAttribute("data-rule");
      var ok = known ? known.unmet.indexOf(rule) < 0 : checks[rule](value);
      li.classList.toggle("tr-ok", ok);
      if (ok) { met += 1; }
    });
    var refused = known !== null && known.others.length > 0;
    var strong = known !== null && known.accepted;
    showProblems(known && value ? known.others : []);
    if (meter) { meter.value = strong ? 5 : Math.min(met, refused ? 2 : 4); }
    label.textContent = strong ? words.strong : (met >= 3 && !refused ? words.medium : words.weak);
  }

  function ask() {
    var asked = key();
    if (!input.value || !help.dataset.checkContext || !window.fetch) { return; }
    var body = new URLSearchParams();
    body.set("password", input.value);
    body.set("context", help.dataset.checkContext);
    if (birth) { body.set("birth_date", birth.value); }
    fetch(help.dataset.checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.value : "" },
      body: body
    }).then(function (answer) {
      return answer.ok ? answer.json() : null;
    }).then(function (data) {
      if (data && asked === key()) {
        verdict = { key: asked, accepted: data.accepted, unmet: data.unmet, others: data.others };
        show();
      }
    }).catch(function () { /* no answer: the help stays short of "Fort" */ });
  }

  function changed() {
    show();
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 250);
  }

  input.addEventListener("input", changed);
  // The form's answer judges the password anyway: no check left to run alongside it.
  if (input.form) { input.form.addEventListener("submit", function () { window.clearTimeout(timer); }); }
  if (birth) { birth.addEventListener("change", changed); }
  show();
})();
