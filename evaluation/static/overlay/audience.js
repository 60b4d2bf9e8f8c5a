// Audience result: the audience panel's (大众评审团) satisfaction index, rate and counts for the
// agency on stage. It has figures only after the reveal, and shows while the director has it
// on air (see overlay.js). A template host may feed it a snapshot or feed.json with update().
(function (global) {
  "use strict";

  function drawLevels(counts, total) {
    Array.prototype.forEach.call(document.querySelectorAll("#levels li"), function (item) {
      var count = counts[item.dataset.level] || 0;
      item.querySelector(".au-count").textContent = count;
      // The bar grows with the share of votes (its width animates, see overlay.css).
      item.querySelector(".au-bar i").style.width = total ? (100 * count / total) + "%" : "0";
    });
  }

  global.PingyiOverlay.register({
    render: function (picture, overrides, ui) {
      var current = picture && picture.current;
      var audience = current && current.audience;
      var revealed = !!(audience && audience.index !== undefined);
      var foot = ui.element("graphic").querySelector(".au-foot");
      ui.field("agency", overrides.agency || (current ? current.agency : ""));
      ui.field("index", revealed ? audience.index : "");
      ui.field("rate", revealed ? audience.rate : "");
      ui.field("votes", revealed
        ? ui.fill(foot.dataset.votesLabel, { n: audience.votes }) +
          (audience.below_minimum ? foot.dataset.smallLabel : "")
        : "");
      drawLevels(revealed ? audience.counts || {} : {}, revealed ? audience.votes : 0);
      ui.empty(!revealed || !ui.onAir("audience"));
    }
  });
})(window);
