// The judge's tablet: one total mark per agency (or, when the session scores by indicator,
// one mark per indicator line), confirmed, acknowledged, never lost.
//
// A mark goes into an outbox in localStorage before it is sent, and leaves it only when the
// server acknowledged it (after committing it). The outbox is resent on every reconnect and
// after a page reload; when the socket stays down, the same payload goes over HTTP. Each mark
// carries an id made here once, so a resend is recognised and never counted twice.
(function () {
  "use strict";
  var session = Number(document.body.dataset.session);
  var text = document.getElementById("i18n").dataset;
  var tokenKey = "pingyi.judge." + session;
  var token = PingyiLive.tokenFromLocation(tokenKey);
  var seatKey = "pingyi." + session + "." + (token || "none").slice(0, 16);
  var state = { me: null, entry: "", confirming: false, error: "", refused: null,
                offlineSince: Date.now(), unsent: null,  // unsent: a mark the server refused
                lines: {}, active: null, linesSlot: null };  // per-indicator sheets
  var $ = function (id) { return document.getElementById(id); };

  var load = PingyiLive.load, save = PingyiLive.save, randomId = PingyiLive.randomId;
  var outbox = load(seatKey + ".outbox", []);  // [{client_id, slot_id, total | marks, shown}]
  var sent = load(seatKey + ".sent", {});          // slot_id -> {total, submission_id}

  function deviceId() {
    var id = load("pingyi.device", null);
    if (!id) { id = randomId(); save("pingyi.device", id); }
    return id;
  }
  var fill = PingyiLive.fill;

  var live = new PingyiLive.LiveConnection({
    session: session, token: token, device: deviceId(), storageKey: tokenKey, role: "judge",
    onSnapshot: render,
    onStatus: function (connected) {
      if (!connected) state.offlineSince = Date.now();
      render();  // who decides "submitted" depends on being connected (see panelFor)
      if (connected) flush();
    },
    onRefused: function (error) {
      // The token is gone from storage (connection.js); so is what this seat kept, except
      // marks the server never acknowledged: they stay until the director has them.
      if (PingyiLive.credentialRefused(error)) {
        PingyiLive.forget(outbox.length ? [seatKey + ".sent"]
                                        : [seatKey + ".sent", seatKey + ".outbox"]);
      }
      state.refused = error.message;
      render();
    },
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
    // A mark the server refused (scoring closed while it was on its way): the judge must not
    // take "评分已结束" for "counted".
    $("idle-error").textContent = cur && state.unsent && state.unsent.slot_id === cur.slot_id
      ? state.unsent.text : "";
    if (cur && panel === "done") {
      var mine = sent[cur.slot_id];
      $("done-mark").textContent = mine && mine.total ? fill(text.points, { mark: mine.total }) : "";
    }
    if (cur && cur.slot_id !== state.linesSlot) {  // a new agency: a blank sheet
      state.linesSlot = cur.slot_id;
      state.lines = {};
      state.active = sheet() ? sheet()[0].id : null;
    }
    if (panel === "entry") renderEntry();
    if (panel === "confirm") renderConfirm(cur);
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

  // The session's per-indicator sheet ([{id, name, max, step, kind}]), or null: one total.
  function sheet() { return live.latest && live.latest.session.sheet; }
  function activeLine() {
    return (sheet() || []).filter(function (line) { return line.id === state.active; })[0];
  }
  function entryText() { return sheet() ? state.lines[state.active] || "" : state.entry; }
  function setEntry(value) {
    if (sheet()) state.lines[state.active] = value; else state.entry = value;
  }

  function renderEntry() {
    var scale = live.latest.session;
    var line = activeLine();
    $("entry").textContent = entryText() || "\u00a0";
    $("entry-hint").textContent = line
      ? fill(text.lineRange, { name: line.name, max: trim(line.max),
                               step: trim(line.step || "0.01") })
      : fill(text.range, { max: trim(scale.score_max), step: trim(scale.score_step) });
    $("entry-error").textContent = state.error;
    renderLines();
  }

  function renderLines() {
    var list = $("sheet-lines");
    var lines = sheet();
    list.classList.toggle("hidden", !lines);
    $("panel-entry").classList.toggle("by-indicator", !!lines);
    list.replaceChildren();
    (lines || []).forEach(function (line) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      var name = document.createElement("span");
      var value = document.createElement("span");
      button.type = "button";
      button.className = "line" + (line.id === state.active ? " active" : "");
      button.dataset.line = line.id;
      button.setAttribute("aria-pressed", line.id === state.active ? "true" : "false");
      name.className = "line-name";
      name.textContent = line.name + "（" + trim(line.max) + "）";
      value.className = "line-value";
      value.textContent = state.lines[line.id] || "—";
      button.append(name, value);
      item.appendChild(button);
      list.appendChild(item);
    });
    if (lines) {
      var total = sheetTotal();
      $("entry-hint").textContent += total === null ? "" :
        " · " + fill(text.sheetTotal, { mark: total });
    }
  }

  // The sheet's running total as the server will count it (deductions subtract), or null.
  function sheetTotal() {
    var sum = 0, any = false;
    (sheet() || []).forEach(function (line) {
      var mark = hundredths(state.lines[line.id] || "");
      if (mark === null) return;
      any = true;
      sum += line.kind === "deduction" ? -mark : mark;
    });
    return any ? (sum / 100).toFixed(2) : null;
  }

  function renderConfirm(cur) {
    var list = $("confirm-lines");
    list.replaceChildren();
    $("confirm-agency").textContent = cur.agency;
    (sheet() || []).forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line.name + "：" + fill(text.points, { mark: state.lines[line.id] });
      list.appendChild(item);
    });
    $("confirm-mark").textContent = fill(text.points, {
      mark: sheet() ? sheetTotal() : String(hundredths(state.entry) / 100) });
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
  // A trailing point ("88.") is 88; any number of digits parses, so that "123456" is told it is
  // out of range rather than "请输入分数" as if nothing had been typed.
  function hundredths(value) {
    var match = /^(\d+)(?:\.(\d{0,2}))?$/.exec(value);
    if (!match) return null;
    return Number(match[1]) * 100 + Number(((match[2] || "") + "00").slice(0, 2));
  }
  function problemWith(entry, max, step) {
    var mark = hundredths(entry);
    if (mark === null) return text.empty;
    if (mark > hundredths(trim(max))) return fill(text.outOfRange, { max: trim(max) });
    if (mark % hundredths(trim(step)) !== 0) return fill(text.badStep, { step: trim(step) });
    return "";
  }

  // The first thing wrong with the sheet (its line made active), or "".
  function sheetProblem() {
    var lines = sheet();
    if (!lines) {
      var scale = live.latest.session;
      return problemWith(state.entry, scale.score_max, scale.score_step);
    }
    for (var i = 0; i < lines.length; i += 1) {
      var problem = problemWith(state.lines[lines[i].id] || "", lines[i].max,
                                lines[i].step || "0.01");
      if (problem) {
        state.active = lines[i].id;
        return fill(text.lineProblem, { name: lines[i].name, problem: problem });
      }
    }
    return "";
  }

  $("sheet-lines").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-line]");
    if (!button) return;
    state.active = Number(button.dataset.line);
    state.error = "";
    renderEntry();
  });

  $("keypad").addEventListener("click", function (event) {
    var key = event.target.closest("button") && event.target.closest("button").dataset.key;
    if (!key) return;
    var entry = entryText();
    var full = /\.\d\d$/.test(entry);  // marks have at most two decimals
    if (key === "⌫") entry = entry.slice(0, -1);
    else if (entry.length < 6 && !full && !(key === "." && entry.indexOf(".") >= 0)) {
      entry = (entry === "0" && key !== ".") ? key : entry + key;
    }
    setEntry(entry);
    state.error = "";
    renderEntry();
  });
  $("review").addEventListener("click", function () {
    state.error = sheetProblem();
    if (state.error) { renderEntry(); return; }
    state.confirming = true;
    render();
  });
  $("back").addEventListener("click", function () { state.confirming = false; render(); });
  $("send").addEventListener("click", function () {
    var cur = current();
    var normalized = function (entry) { return (hundredths(entry) / 100).toFixed(2); };
    var item = { client_id: randomId(), slot_id: cur.slot_id };
    if (sheet()) {
      item.marks = {};
      sheet().forEach(function (line) { item.marks[line.id] = normalized(state.lines[line.id]); });
      item.shown = sheetTotal();  // for 已提交: never sent (the server refuses unknown fields)
    } else {
      item.total = normalized(state.entry);
    }
    outbox.push(item);
    save(seatKey + ".outbox", outbox);
    state.unsent = null;
    state.confirming = false;
    state.entry = "";
    state.lines = {};
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
    var payload = { client_id: item.client_id, slot_id: item.slot_id };
    if (item.marks) payload.marks = item.marks; else payload.total = item.total;
    var attempt = viaHttp ? postOverHttp(payload) : live.call("submit_mark", payload);
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
      sent[item.slot_id] = { total: item.total || item.shown, submission_id: ack.submission_id,
                             revision: ack.revision };
    } else if (ack.error.code === "already_submitted") {
      sent[item.slot_id] = sent[item.slot_id] || { total: null };
    } else {
      state.error = ack.error.message;
      state.unsent = { slot_id: item.slot_id, text: fill(text.unsent, {
        mark: item.total || item.shown, reason: ack.error.message }) };
    }
    save(seatKey + ".sent", sent);
    render();
  }

  setInterval(flush, 3000);
  render();
})();
