// Live view of the password rule (seed 001). The server checks the same rules and decides.
(function () {
  "use strict";
  var input = document.getElementById("id_password");
  var list = document.getElementById("password-rules");
  var meter = document.getElementById("password-meter");
  var label = document.getElementById("password-strength");
  if (!input || !list) { return; }
  var specials = "!?@#$%&'()*+,-.:;";
  var checks = {
    upper: function (p) { return p !== p.toLowerCase(); },
    lower: function (p) { return p !== p.toUpperCase(); },
    digit: function (p) { return /[0-9]/.test(p); },
    special: function (p) { return p.split("").some(function (c) { return specials.indexOf(c) >= 0; }); },
    length: function (p) { return p.length >= 8; }
  };
  var words = document.documentElement.lang === "en" ? ["Weak", "Medium", "Strong"] : ["Faible", "Moyen", "Fort"];
  function update() {
    var value = input.value, met = 0;
    list.querySelectorAll("li[data-rule]").forEach(function (li) {
      var ok = checks[li.getAttribute("data-rule")](value);
      li.classList.toggle("tr-ok", ok);
      if (ok) { met += 1; }
    });
    if (meter) { meter.value = met; }
    if (label) { label.textContent = met >= 5 ? words[2] : (met >= 3 ? words[1] : words[0]); }
  }
  input.addEventListener("input", update);
  update();
})();
