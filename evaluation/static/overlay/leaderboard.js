// Leaderboard: revealed agencies by rank, a page at a time. next() (or update({page: n}))
// turns the page; on a plain browser source the pages turn by themselves every 10 s.
(function (global) {
  "use strict";

  var PAGE_SIZE = 8;
  var TURN_EVERY_MS = 10000;
  var page = 0; // from 0
  var pages = 1;
  var drawn = "";
  var lastTurn = Date.now();
  var pinned = null; // the page a host asked for with update({page}); stops the turning

  function row(entry, onStage, sharedLabel, index) {
    var item = document.createElement("li");
    var rank = document.createElement("span");
    var name = document.createElement("span");
    var value = document.createElement("span");
    rank.className = "rank num";
    rank.textContent = entry.rank;
    if (entry.shared) {
      var shared = document.createElement("small");
      shared.textContent = sharedLabel;
      rank.append(shared);
    }
    name.className = "name";
    name.textContent = entry.agency;
    value.className = "value num";
    value.textContent = entry.value;
    if (entry.rank <= 3) item.classList.add("top");
    if (onStage) item.classList.add("on-stage");
    item.style.animationDelay = (index * 60) + "ms";
    item.append(rank, name, value);
    return item;
  }

  function drawRows(board, current, ui) {
    var list = ui.element("rows");
    var shown = board.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    var onStage = current && current.agency;
    var signature = JSON.stringify([shown, onStage]);
    if (signature === drawn) return;
    drawn = signature;
    list.replaceChildren.apply(list, shown.map(function (entry, index) {
      return row(entry, entry.agency === onStage, list.dataset.sharedLabel, index);
    }));
  }

  global.PingyiOverlay.register({
    render: function (picture, overrides, ui) {
      var board = (picture && picture.leaderboard) || [];
      var graphic = ui.element("graphic");
      pages = Math.max(1, Math.ceil(board.length / PAGE_SIZE));
      if (overrides.page && overrides.page !== pinned) {
        pinned = overrides.page;
        page = Math.min(pages, Math.max(1, Number(pinned) || 1)) - 1;
      }
      page = Math.min(page, pages - 1);
      ui.field("title", overrides.title || graphic.dataset.defaultTitle);
      ui.field("kicker", picture ? picture.session.title : "");
      ui.field("page", pages > 1 ? (page + 1) + " / " + pages : "");
      ui.show("empty", board.length === 0);
      ui.empty((!picture && !overrides.title) || !ui.onAir("leaderboard"));
      drawRows(board, picture && picture.current, ui);
    },
    next: function () {
      page = (page + 1) % pages;
      lastTurn = Date.now();
    },
    // On a browser source pages turn by themselves; a template host turns them with next().
    tick: function (ui) {
      if (!ui.socketDriven() || pinned || pages < 2) return;
      if (Date.now() - lastTurn >= TURN_EVERY_MS) global.next();
    }
  });
})(window);
