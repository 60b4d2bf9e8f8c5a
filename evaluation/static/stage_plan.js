// Live sum of the stage weights while typing; the server still decides (in Decimal).
(function () {
  var form = document.getElementById("stage-plan");
  var out = document.getElementById("weight-total");
  if (!form || !out) return;
  var inputs = form.querySelectorAll("input[name^='weight-']");
  // A weight's cents, or NaN unless it is a valid weight (0 to 100, two decimals): like the
  // server, no total is shown while a weight breaks its own rule (30 digits gave "1e+30").
  function cents(text) {
    // NFKC like the server: full-width digits and point (３０．５) from a Chinese input method.
    var match = /^\s*(\d+)(?:\.(\d{0,2}))?\s*$/.exec(text.normalize("NFKC"));
    if (!match) return NaN;
    var value = parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10);
    return value <= 10000 ? value : NaN;
  }
  function update() {
    var total = 0;
    inputs.forEach(function (input) { total += cents(input.value); });
    var shown = isNaN(total) ? "—" : (total / 100).toFixed(2);
    out.textContent = out.dataset.label.replace("{total}", shown);
    out.classList.toggle("off", total !== 10000);
  }
  inputs.forEach(function (input) { input.addEventListener("input", update); });
  update();
})();
