// Scoreboard: the agency and progress (n of m judges submitted) until the reveal; then every
// seat's mark, the dropped ones struck through, the result and its rank. See overlay.js.
(function (global) {
  "use strict";

  var drawnSeats = ""; // what the seat tiles show now, so an unchanged picture is not redrawn
  var drawnPips = "";

  function dropped(result) {
    var kinds = {};
    (result && result.dropped_high || []).forEach(function (n) { kinds[n] = "high"; });
    (result && result.dropped_low || []).forEach(function (n) { kinds[n] = "low"; });
    return kinds;
  }

  function seatTile(seat, kind, list, ui, index) {
    var item = document.createElement("li");
    var label = document.createElement("span");
    var mark = document.createElement("span");
    var tag = document.createElement("span");
    label.className = "seat-no";
    label.textContent = ui.fill(list.dataset.seatLabel, { n: seat.seat_no });
    mark.className = "mark num";
    tag.className = "tag";
    item.className = "seat";
    item.dataset.seat = seat.seat_no;
    if (seat.recused) {
      item.classList.add("recused");
      mark.textContent = list.dataset.recusedLabel;
    } else if (seat.mark === undefined) {
      item.classList.add("missing");
      mark.textContent = "—";
    } else {
      mark.textContent = seat.mark;
    }
    if (kind) {
      item.classList.add("dropped", "dropped-" + kind);
      tag.textContent = kind === "high" ? list.dataset.highLabel : list.dataset.lowLabel;
    }
    item.style.animationDelay = (index * 70) + "ms"; // the marks land one after another
    item.append(label, mark, tag);
    return item;
  }

  function drawSeats(seats, result, ui) {
    var list = ui.element("seats");
    var kinds = dropped(result);
    var signature = JSON.stringify([seats, kinds]);
    if (signature === drawnSeats) return;
    drawnSeats = signature;
    // Up to 10 seats in one row; more (the demo has 15) in two even rows.
    var columns = seats.length > 10 ? Math.ceil(seats.length / 2) : Math.max(seats.length, 5);
    list.style.setProperty("--columns", columns);
    list.replaceChildren.apply(list, seats.map(function (seat, index) {
      return seatTile(seat, kinds[seat.seat_no], list, ui, index);
    }));
  }

  function drawPips(seats, ui) {
    var signature = JSON.stringify(seats);
    if (signature === drawnPips) return;
    drawnPips = signature;
    var pips = ui.element("pips");
    pips.replaceChildren.apply(pips, seats.map(function (seat) {
      var pip = document.createElement("li");
      if (seat.recused) pip.className = "recused";
      else if (seat.submitted) pip.className = "in";
      return pip;
    }));
  }

  function rankText(picture, current, ui) {
    var standing = (picture.leaderboard || []).filter(function (row) {
      return row.agency === current.agency;
    })[0];
    if (!standing) return "";
    var element = document.querySelector('[data-field="rank"]');
    var pattern = standing.shared ? element.dataset.sharedLabel : element.dataset.rankLabel;
    return ui.fill(pattern, { n: standing.rank });
  }

  global.PingyiOverlay.register({
    render: function (picture, overrides, ui) {
      var current = picture && picture.current;
      ui.field("title", overrides.title || (picture ? picture.session.title : ""));
      ui.field("agency", overrides.agency || (current ? current.agency : ""));
      ui.field("segment_label", overrides.segment_label || (current ? current.segment_label : ""));
      ui.empty(!current && !overrides.agency);
      // Overlays get no "result" key before the reveal: then only progress is shown.
      var revealed = !!current && current.result !== undefined;
      ui.show("progress", !revealed);
      ui.show("revealed", revealed);
      if (!current) return;
      ui.field("progress", current.progress.submitted + "/" + current.progress.expected);
      drawPips(current.seats, ui);
      if (!revealed) return;
      drawSeats(current.seats, current.result, ui);
      ui.field("result", current.result ? current.result.value : "—");
      ui.field("rank", rankText(picture, current, ui));
    }
  });
})(window);
