// Timer: the segment's clock, counted down here from the server's remaining_ms (so every
// screen shows the same second), red in overtime.
(function (global) {
  "use strict";

  function drawClock(ui) {
    var graphic = ui.element("graphic");
    var remaining = ui.remainingMs();
    ui.field("clock", ui.formatClock(remaining), true); // every second: no animation
    graphic.classList.toggle("overtime", remaining !== null && remaining < 0);
  }

  global.PingyiOverlay.register({
    render: function (picture, overrides, ui) {
      var current = picture && picture.current;
      ui.field("segment_label", overrides.segment_label || (current ? current.segment_label : ""));
      ui.field("agency", overrides.agency || (current ? current.agency : ""));
      ui.element("graphic").classList.toggle("stopped", !current || !current.timer.running);
      ui.empty(!current);
      drawClock(ui);
    },
    tick: drawClock
  });
})(window);
