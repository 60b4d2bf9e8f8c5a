// The director's console: run-of-show, segment and timer controls, the seat map, the reveal.
// Every button sends one command; the screen changes only when the server's snapshot says so.
(function () {
  "use strict";
  var session = Number(document.body.dataset.session);
  var text = document.getElementById("i18n").dataset;
  var $ = function (id) { return document.getElementById(id); };
  var tokenKey = "pingyi.console." + session;
  var token = PingyiLive.tokenFromLocation(tokenKey);

  var live = new PingyiLive.LiveConnection({
    session: session, token: token, role: "director",  // no token: an organizer's login
    storageKey: tokenKey,  // forgotten when the server refuses it
    onSnapshot: render,
    onStatus: function (connected) {
      $("status").textContent = connected ? text.online : text.offline;
      $("status").classList.toggle("offline", !connected);
    },
    onRefused: function (error) {
      $("message").textContent = error.message;
      $("status").textContent = text.offline;  // not "connecting…": it will not retry
    }
  });

  var fill = PingyiLive.fill;
  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function send(payload) {
    $("message").textContent = "";
    return live.call("director", payload).then(function (ack) {
      if (!ack.ok) showRefusal(ack.error, payload);
      return ack;
    }).catch(function () { $("message").textContent = text.offline; });
  }

  function showRefusal(error, payload) {
    $("message").textContent = error.message;
    var canForce = error.code === "waiting_for_seats" || error.code === "reason_required";
    $("force").classList.toggle("hidden", !(canForce && payload.action !== "select"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-command]");
    if (!button) return;
    var payload = { action: button.dataset.command };
    if (button.dataset.seconds) payload.seconds = Number(button.dataset.seconds);
    if (button.dataset.position) payload.position = Number(button.dataset.position);
    if (button.dataset.seat) payload.seat_no = Number(button.dataset.seat);
    if (button.dataset.graphic) payload.graphic = button.dataset.graphic;
    send(payload);
  });

  $("force").addEventListener("submit", function (event) {
    event.preventDefault();
    send({ action: "reveal", reason: $("force-reason").value }).then(function (ack) {
      if (ack && ack.ok) { $("force").classList.add("hidden"); $("force-reason").value = ""; }
    });
  });

  var voidSeat = null;
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-void-seat]");
    if (!button) return;
    voidSeat = Number(button.dataset.voidSeat);
    $("void-reason").placeholder = fill(text.voidFor, { n: voidSeat });
    $("void").classList.remove("hidden");
    $("void-reason").focus();
  });
  $("void-cancel").addEventListener("click", function () { $("void").classList.add("hidden"); });
  $("void").addEventListener("submit", function (event) {
    event.preventDefault();
    send({ action: "void_request", seat_no: voidSeat, reason: $("void-reason").value })
      .then(function (ack) {
        if (ack && ack.ok) { $("void").classList.add("hidden"); $("void-reason").value = ""; }
      });
  });

  function render(picture) {
    $("title").textContent = picture.session.title;
    $("rehearsal").classList.toggle("hidden", !picture.session.rehearsal);
    renderSlots(picture);
    renderOnAir(picture.on_air);
    var cur = picture.current;
    $("on-stage").textContent = cur ? cur.agency : text.pick;
    $("segment").textContent = cur ? cur.segment_label : "";
    $("next").textContent = cur ? text["next" + cur.segment[0].toUpperCase() +
                                       cur.segment.slice(1)] : text.pick;
    $("next").disabled = !cur || cur.segment === "done";
    renderSeats(cur);
    renderBoard(picture.leaderboard);
    var pending = (picture.void_requests || []).map(function (r) {
      return r.seat_no + "号（" + r.reason + "）";
    });
    $("void-pending").textContent = pending.length ?
      fill(text.voidWaiting, { items: pending.join("；") }) : "";
    if (!cur || cur.segment !== "closed") $("force").classList.add("hidden");
  }

  function renderSlots(picture) {
    var list = $("slots");
    list.replaceChildren();
    var busy = picture.current && ["waiting", "done"].indexOf(picture.current.segment) < 0;
    picture.slots.forEach(function (slot) {
      var item = element("li", picture.current && picture.current.slot_id === slot.id ?
                         "current" : "");
      item.appendChild(element("span", "", (slot.position + 1) + ". " + slot.agency));
      var go = element("button", "", text.go);
      go.dataset.command = "select";
      go.dataset.position = slot.position;
      go.disabled = busy || slot.segment === "done";
      item.appendChild(go);
      list.appendChild(item);
    });
  }

  function renderSeats(cur) {
    var seats = $("seats");
    seats.replaceChildren();
    $("progress").textContent = cur ? fill(text.progress, { n: cur.progress.submitted,
                                                            m: cur.progress.expected }) : "";
    $("waiting").textContent = cur && cur.progress.waiting_seats.length &&
      ["scoring", "closed"].indexOf(cur.segment) >= 0 ?
      fill(text.waiting, { seats: cur.progress.waiting_seats.join("、") }) : "";
    // A running figure while judges are still scoring would only distract: show it once closed.
    var settled = cur && ["closed", "revealed", "summary", "done"].indexOf(cur.segment) >= 0;
    var result = settled ? cur.result : null;
    $("result").textContent = result ? (cur.segment === "closed" ? text.provisional + " " : "") +
      result.value + (result.fallback ? "（" + text.fallback + "）" : "") : "";
    if (!cur) return;
    var dropped = result ? result.dropped_high.concat(result.dropped_low) : [];
    cur.seats.forEach(function (seat) {
      var card = element("div", "seat" + (seat.connected ? " connected" : "") +
                         (seat.submitted ? " submitted" : "") + (seat.recused ? " recused" : ""));
      card.appendChild(element("div", "no", seat.seat_no + " " + (seat.judge || "")));
      card.appendChild(element("div", "hint", seat.recused ? text.recused : seat.group || ""));
      if (seat.mark) {
        card.appendChild(element("div", "mark" + (dropped.indexOf(seat.seat_no) >= 0 ?
                                                  " dropped" : ""), seat.mark));
      }
      var actions = element("div", "actions");
      if (seat.mark && ["scoring", "closed"].indexOf(cur.segment) >= 0) {
        var voidButton = element("button", "", text.void);
        voidButton.dataset.voidSeat = seat.seat_no;
        actions.appendChild(voidButton);
      }
      var release = element("button", "", text.release);
      release.dataset.command = "release_seat";
      release.dataset.seat = seat.seat_no;
      actions.appendChild(release);
      card.appendChild(actions);
      seats.appendChild(card);
    });
  }

  function renderOnAir(graphic) {
    $("on-air").textContent = graphic ? text["air" + graphic[0].toUpperCase() +
                                             graphic.slice(1)] : "";
    $("on-air").classList.toggle("hidden", !graphic);
    document.querySelectorAll("button[data-graphic]").forEach(function (button) {
      button.classList.toggle("active", button.dataset.graphic === graphic);
    });
  }

  function renderBoard(board) {
    var body = $("board");
    body.replaceChildren();
    board.forEach(function (row) {
      var line = element("tr");
      line.appendChild(element("td", "num", row.rank));
      line.appendChild(element("td", "", row.agency));
      line.appendChild(element("td", "num", row.value));
      body.appendChild(line);
    });
  }

  setInterval(function () {
    var ms = live.remainingMs();
    $("clock").textContent = PingyiLive.formatClock(ms);
    $("clock").classList.toggle("overtime", ms !== null && ms < 0);
  }, 250);
})();
