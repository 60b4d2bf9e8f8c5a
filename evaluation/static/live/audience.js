// An audience panel member's phone: one vote per agency while it is being scored.
// A vote is kept in storage until acknowledged and resent on reconnect (same id, so once).
(function () {
  "use strict";
  var session = Number(document.body.dataset.session);
  var text = document.getElementById("i18n").dataset;
  var codeKey = "pingyi.panel." + session;
  var code = PingyiLive.tokenFromLocation(codeKey);
  var key = "pingyi.panel." + session + "." + (code || "none").slice(0, 10);
  var $ = function (id) { return document.getElementById(id); };
  var state = { member: null, voted: {}, refused: null };
  var load = PingyiLive.load, save = PingyiLive.save, randomId = PingyiLive.randomId;
  var pending = load(key + ".pending", null);  // {client_id, slot_id, level}

  var live = new PingyiLive.LiveConnection({
    session: session, token: code, crowd: true, storageKey: codeKey,
    onSnapshot: render,
    onStatus: function (connected) {
      $("status").textContent = connected ? text.online : text.offline;
      $("status").classList.toggle("offline", !connected);
      if (connected) send();
    },
    onRefused: function (error) {
      if (PingyiLive.credentialRefused(error)) PingyiLive.forget([key + ".pending"]);
      state.refused = error.message;
      render();
    },
    onEvent: {
      welcome: function (me) {
        state.member = me.member;
        me.voted.forEach(function (slot) { state.voted[slot] = true; });
        render();
      }
    }
  });

  function panelFor(cur) {
    if (state.refused) return "refused";
    if (!cur) return "wait";
    if (state.voted[cur.slot_id]) return "voted";
    if (pending && pending.slot_id === cur.slot_id) return "sending";
    return cur.scoring_open ? "vote" : "wait";
  }

  function render() {
    var cur = live.latest && live.latest.current;
    var panel = panelFor(cur);
    ["wait", "vote", "sending", "voted", "refused"].forEach(function (name) {
      $("panel-" + name).classList.toggle("hidden", name !== panel);
    });
    if (state.member) $("who").textContent = text.member.replace("{n}", state.member);
    $("agency").textContent = cur ? cur.agency : text.waiting;
    $("segment").textContent = cur ? cur.segment_label : "";
    $("wait-text").textContent = cur && ["closed", "revealed", "summary", "done"]
      .indexOf(cur.segment) >= 0 ? text.closed : text.notStarted;
    $("refused-text").textContent = state.refused || "";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-level]");
    var cur = live.latest && live.latest.current;
    if (!button || !cur) return;
    pending = { client_id: randomId(), slot_id: cur.slot_id, level: button.dataset.level };
    save(key + ".pending", pending);
    render();
    send();
  });

  function send() {
    if (!pending || !live.connected) return;
    var item = pending;
    live.call("audience_vote", item).then(function (ack) {
      if (ack.ok || ack.error.code === "already_voted") state.voted[item.slot_id] = true;
      else if (ack.error.code === "rate_limited") return;
      else $("vote-error").textContent = ack.error.message;
      pending = null;
      save(key + ".pending", null);
      render();
    }).catch(function () { /* offline: resent on reconnect */ });
  }

  setInterval(send, 3000);
  render();
})();
