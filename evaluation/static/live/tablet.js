// The judge's tablet: one total mark per agency, confirmed, acknowledged, never lost.
//
// A mark goes into an outbox in localStorage before it is sent, and leaves it only when the
// server acknowledged it (after committing it). The outbox is resent on every reconnect and
// after a page reload; when the socket stays down, the same payload goes over HTTP. Each mark
// carries an id made here once, so a resend is recognised and never counted twice.
(function () {
  "use strict";
  var session = Number(document.body.dataset.session);
  var text = document.getElementById("i18n").dataset;
  var token = PingyiLive.tokenFromLocation("pingyi.judge." + session);
  var seatKey = "pingyi." + session + "." + (token || "none").slice(0, 16);
  var state = { me: null, entry: "", confirming: false, error: "", refused: null,
                offlineSince: Date.now() };
  var $ = function (id) { return document.getElementById(id); };

  var load = PingyiLive.load, save = PingyiLive.save, randomId = PingyiLive.randomId;
  var outbox = load(seatKey + ".outbox", []);      // [{client_id, slot_id, total}]
  var sent = load(seatKey + ".sent", {});          // slot_id -> {total, submission_id}

  function deviceId() {
    var id = load("pingyi.device", null);
    if (!id) { id = randomId(); save("pingyi.device", id); }
    return id;
  }
  var fill = PingyiLive.fill;

  var live = new PingyiLive.LiveConnection({
    session: session, token: token, device: deviceId(),
    onSnapshot: render,
    onStatus: function (connected) {
      if (!connected) state.offlineSince = Date.now();
      render();  // who decides "submitted" depends on being connected (see panelFor)
      if (connected) flush();
    },
    onRefused: function (error) { state.refused = error.message; render(); },
    onEvent: {
      welcome: function (me) { state.me = me; render(); },
      seat_released: function () { state.refused = null; }
    }
  });

  // ---- what the screen shows -------------------------------------------------------------
  function current() { return live.latest && live.latest.current; }
  function mySeat(cur) {
    if (!cur || !state.me) return null;
    return cur.seats.filter(function (s) { return s.seat_no === state.me.seat_no; })[0] || null;
  }
  function pendingFor(slotId) {
    return outbox.filter(function (item) { return item.slot_id === slotId; })[0] || null;
  }

  function panelFor(cur) {
    if (state.refused) return "refused";
    if (!cur) return outbox.length ? "sending" : "idle";  // e.g. reloaded while offline
    var seat = mySeat(cur);
    if (seat && seat.recused) return "recused";
    // Connected, the server's word wins (a voided mark makes the seat mark again); offline,
    // the last snapshot is stale and our own record of acknowledged marks decides.
    // A snapshot older than our own acknowledgement has not heard of the mark yet.
    var mine = sent[cur.slot_id];
    var serverKnows = seat && live.connected && (!mine || !mine.revision ||
                                                 live.latest.revision >= mine.revision);
    var submitted = serverKnows ? seat.submitted : Boolean(mine);
    if (submitted) return "done";
    if (pendingFor(cur.slot_id)) return "sending";
    if (!cur.scoring_open) return "idle";
    return state.confirming ? "confirm" : "entry";
  }

  function render() {
    var cur = current();
    var panel = panelFor(cur);
    ["idle", "recused", "entry", "confirm", "sending", "done", "refused"].forEach(function (name) {
      $("panel-" + name).classList.toggle("hidden", name !== panel);
    });
    $("who").textContent = state.me ? fill(text.seat, { n: state.me.seat_no }) + " · " +
      state.me.judge : $("who").textContent;
    $("agency").textContent = cur ? cur.agency : text.waiting;
    $("rehearsal").classList.toggle("hidden",
                                    !(live.latest && live.latest.session.rehearsal));
    $("segment").textContent = cur ? cur.segment_label : "";
    $("idle-text").textContent = cur && ["closed", "revealed", "summary", "done"]
      .indexOf(cur.segment) >= 0 ? text.closed : text.notStarted;
    $("refused-text").textContent = state.refused || "";
    if (cur && panel === "done") {
      var mine = sent[cur.slot_id];
      $("done-mark").textContent = mine && mine.total ? fill(text.points, { mark: mine.total }) : "";
    }
    if (panel === "entry") renderEntry();
    if (panel === "confirm") {
      $("confirm-agency").textContent = cur.agency;
      $("confirm-mark").textContent = fill(text.points, { mark: state.entry });
    }
    renderVoidRequests(live.latest && live.latest.void_requests);
    showStatus();
  }

  // Only the chief judge's tablet is sent void requests: approve or reject each.
  function renderVoidRequests(requests) {
    var list = $("void-list");
    list.replaceChildren();
    $("panel-void").classList.toggle("hidden", !(requests && requests.length));
    (requests || []).forEach(function (request) {
      var item = document.createElement("li");
      item.appendChild(document.createTextNode(fill(text.voidItem, {
        n: request.seat_no, reason: request.reason })));
      [["approve", true], ["reject", false]].forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = choice[1] ? "primary" : "";
        button.textContent = text[choice[0]];
        button.addEventListener("click", function () {
          live.call("void_decision", { request_id: request.id, approve: choice[1] });
        });
        item.appendChild(button);
      });
      list.appendChild(item);
    });
  }

  function renderEntry() {
    var scale = live.latest.session;
    $("entry").textContent = state.entry || "\u00a0";
    $("entry-hint").textContent = fill(text.range, { max: trim(scale.score_max),
                                                     step: trim(scale.score_step) });
    $("entry-error").textContent = state.error;
  }

  function trim(decimalText) { return String(Number(decimalText)); }

  function showStatus() {
    var status = $("status");
    var waiting = outbox.length ? " · " + fill(text.pending, { n: outbox.length }) : "";
    status.textContent = (live.connected ? text.online : text.offline) + waiting;
    status.classList.toggle("offline", !live.connected);
  }

  setInterval(function () {
    var ms = live.remainingMs();
    $("clock").textContent = ms === null ? "" : PingyiLive.formatClock(ms);
    $("clock").classList.toggle("overtime", ms !== null && ms < 0);
  }, 250);

  // ---- entering a mark ---------------------------------------------------------------------
  // Marks are compared in hundredths (integers): no binary fractions on the way.
  function hundredths(value) {
    var match = /^(\d{1,4})(?:\.(\d{1,2}))?$/.exec(value);
    if (!match) return null;
    return Number(match[1]) * 100 + Number(((match[2] || "") + "00").slice(0, 2));
  }
  function problemWith(entry) {
    var scale = live.latest.session;
    var mark = hundredths(entry);
    if (mark === null) return text.empty;
    if (mark > hundredths(trim(scale.score_max))) {
      return fill(text.outOfRange, { max: trim(scale.score_max) });
    }
    if (mark % hundredths(trim(scale.score_step)) !== 0) {
      return fill(text.badStep, { step: trim(scale.score_step) });
    }
    return "";
  }

  $("keypad").addEventListener("click", function (event) {
    var key = event.target.closest("button") && event.target.closest("button").dataset.key;
    if (!key) return;
    if (key === "⌫") state.entry = state.entry.slice(0, -1);
    else if (state.entry.length < 6 && !(key === "." && state.entry.indexOf(".") >= 0)) {
      state.entry = (state.entry === "0" && key !== ".") ? key : state.entry + key;
    }
    state.error = "";
    renderEntry();
  });
  $("review").addEventListener("click", function () {
    state.error = problemWith(state.entry);
    if (state.error) { renderEntry(); return; }
    state.confirming = true;
    render();
  });
  $("back").addEventListener("click", function () { state.confirming = false; render(); });
  $("send").addEventListener("click", function () {
    var cur = current();
    var normalized = (hundredths(state.entry) / 100).toFixed(2);
    outbox.push({ client_id: randomId(), slot_id: cur.slot_id, total: normalized });
    save(seatKey + ".outbox", outbox);
    state.confirming = false;
    state.entry = "";
    render();
    flush();
  });

  // ---- delivery ----------------------------------------------------------------------------
  var flushing = false;
  function flush() {
    if (flushing || !outbox.length) return;
    var item = outbox[0];
    var viaHttp = !live.connected && Date.now() - state.offlineSince > 8000;
    if (!live.connected && !viaHttp) return;
    flushing = true;
    var attempt = viaHttp ? postOverHttp(item) : live.call("submit_mark", item);
    attempt.then(function (ack) { settle(item, ack); })
      .catch(function () { /* still offline: keep it, try again */ })
      .then(function () { flushing = false; if (outbox.length) setTimeout(flush, 300); });
  }

  function postOverHttp(item) {
    return fetch("/live/" + session + "/marks", {
      method: "POST", headers: { "Content-Type": "application/json",
                                  "Authorization": "Bearer " + token },
      body: JSON.stringify(item)
    }).then(function (response) { return response.json(); });
  }

  function settle(item, ack) {
    if (!ack.ok && ack.error.code === "rate_limited") return;  // keep it; retry later
    outbox = outbox.filter(function (other) { return other.client_id !== item.client_id; });
    save(seatKey + ".outbox", outbox);
    if (ack.ok) {
      sent[item.slot_id] = { total: item.total, submission_id: ack.submission_id,
                             revision: ack.revision };
    } else if (ack.error.code === "already_submitted") {
      sent[item.slot_id] = sent[item.slot_id] || { total: null };
    } else {
      state.error = ack.error.message;
    }
    save(seatKey + ".sent", sent);
    render();
  }

  setInterval(flush, 3000);
  render();
})();
