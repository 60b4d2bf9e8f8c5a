// Result sheets: the toolbar's print button (CSP forbids inline handlers).
(function () {
  var button = document.getElementById("print-sheets");
  if (button) button.addEventListener("click", function () { window.print(); });
})();
