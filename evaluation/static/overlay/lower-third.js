// Lower third: the agency on stage, its segment and its place in the running order.
(function (global) {
  "use strict";

  global.PingyiOverlay.register({
    render: function (picture, overrides, ui) {
      var current = picture && picture.current;
      var order = document.querySelector('[data-field="order"]');
      ui.field("agency", overrides.agency || (current ? current.agency : ""));
      ui.field("subtitle", overrides.subtitle ||
        overrides.segment_label || (current ? current.segment_label : ""));
      ui.field("order", current && !overrides.subtitle
        ? ui.fill(order.dataset.orderLabel, { n: current.position + 1, m: picture.slots.length })
        : "");
      ui.empty(!current && !overrides.agency);
    }
  });
})(window);
