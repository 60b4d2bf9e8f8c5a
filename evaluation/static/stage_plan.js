// Live sum of the stage weights while typing; the server still decides (in Decimal).
(function () {
  var form = document.getElementById("stage-plan");
  var out = document.getElementById("weight-total");
  if (!form || !out) return;
  var inputs = form.querySelectorAll("input[name^='weight-']");
  function cents(text) {
    var match = /^\s*(\d+)(?:\.(\d{0,2}))?\s*$/.exec(text);
    return match ? parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10) : NaN;
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
