/* 实地考察 sheet: a draft that survives losing the network.
 *
 * Every edit goes to localStorage first, then to the server. A save carries a save id made
 * here and kept with the draft (so a resend after a lost answer or a reload is recognized and
 * stored once) and the version it was based on (so a save from a second device is a visible
 * conflict, never a silent overwrite). */
(function () {
  "use strict";
  var form = document.getElementById("sheet-form");
  if (!form) { return; }
  var data = form.dataset;
  var key = "pingyi.inspection." + data.user + "." + data.sheet;
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var sync = document.getElementById("sync");
  var state = { version: parseInt(data.version, 10), inFlight: false, retry: null, timer: null };

  function inputs() { return form.querySelectorAll("[data-indicator]"); }

  function collect() {
    var lines = {};
    inputs().forEach(function (el) {
      var id = el.dataset.indicator;
      lines[id] = lines[id] || { points: "", notes: "" };
      lines[id][el.dataset.field] = el.value;
    });
    return lines;
  }

  function apply(lines) {
    inputs().forEach(function (el) {
      var line = lines[el.dataset.indicator];
      el.value = line ? (line[el.dataset.field] || "") : "";
    });
  }

  function same(a, b) {
    var ids = Object.keys(Object.assign({}, a, b));
    return ids.every(function (id) {
      var x = a[id] || {}, y = b[id] || {};
      return (x.points || "").trim() === (y.points || "").trim() &&
        (x.notes || "").trim() === (y.notes || "").trim();
    });
  }

  function read() {
    try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
  }
  function write(record) { localStorage.setItem(key, JSON.stringify(record)); }
  function forget() { localStorage.removeItem(key); }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    return Date.now().toString(16) + Math.random().toString(16).slice(2);
  }

  function show(text, kind) {
    sync.hidden = false;
    sync.textContent = text;
    sync.className = "sync " + (kind || "");
  }

  function clearErrors() {
    form.querySelectorAll(".error[id$='-error']").forEach(function (p) {
      if (p.id.indexOf("photo-") === 0) { return; }
      p.hidden = true; p.textContent = "";
    });
    inputs().forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showErrors(errors) {
    Object.keys(errors).forEach(function (field) {
      var p = document.getElementById(field + "-error");
      var input = document.getElementById(field);
      if (p) { p.textContent = errors[field]; p.hidden = false; }
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", field + "-error");
      }
    });
  }

  function progress() {
    var shown = document.getElementById("progress");
    if (!shown) { return; }
    var fields = form.querySelectorAll("[data-field=points]");
    var done = Array.prototype.filter.call(fields, function (el) { return el.value.trim(); });
    shown.textContent = shown.dataset.template.replace("{n}", done.length)
      .replace("{total}", fields.length);
  }

  function edited() {
    progress();
    var record = read() || {};
    record.lines = collect();
    record.saveId = null;      // new content: a new save id when it is sent
    record.pending = true;
    record.blocked = false;
    write(record);
    clearTimeout(state.timer);
    state.timer = setTimeout(send, 800);
  }

  function retryLater() {
    clearTimeout(state.retry);
    state.retry = setTimeout(send, 5000);
  }

  function send() {
    var record = read();
    if (state.inFlight || !record || !record.pending || record.blocked) { return Promise.resolve(); }
    if (navigator.onLine === false) {
      // Certainly offline: keep it here; the "online" event sends it.
      show(data.msgOffline, "offline");
      return Promise.resolve();
    }
    if (!record.saveId) {
      record.saveId = newId();
      record.base = state.version;
      write(record);
    }
    state.inFlight = true;
    show(data.msgSaving, "busy");
    var sent = record.saveId;
    return fetch(data.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify({ save_id: record.saveId, base_version: record.base, lines: record.lines })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        state.inFlight = false;
        handle(response.status, body, sent);
      });
    }, function () {
      state.inFlight = false;
      show(data.msgOffline, "offline");
      retryLater();
    });
  }

  function settled(version, sent) {
    state.version = version;
    var record = read();
    if (record && record.saveId === sent) {
      record.pending = false;
      write(record);
      show(data.msgSaved.replace("{v}", version), "saved");
    } else if (record && record.pending) {
      send();  // edited while that save was on its way
    }
  }

  function handle(status, body, sent) {
    if (status === 200 && body.draft) {
      clearErrors();
      settled(body.draft.version, sent);
    } else if (status === 409 && body.conflict) {
      var record = read();
      if (record && same(body.conflict.lines, record.lines)) {
        settled(body.conflict.version, record.saveId);  // the server already holds exactly this
        if (record.saveId !== sent) { send(); }
      } else {
        conflict(body.conflict);
      }
    } else if (status === 400 && body.errors) {
      var blocked = read();
      if (blocked && blocked.saveId === sent) { blocked.blocked = true; write(blocked); }
      clearErrors();
      showErrors(body.errors);
      show(data.msgError, "error");
    } else if (status >= 500 || status === 0) {
      show(data.msgPending, "offline");
      retryLater();
    } else {
      // e.g. an expired form token (the page must be reloaded): the draft stays on this device.
      var problem = body.error || {};
      show(problem.detail || problem.message || data.msgError, "error");
    }
  }

  function conflict(server) {
    var panel = document.getElementById("conflict");
    var rows = document.getElementById("conflict-rows");
    var mine = read().lines;
    rows.textContent = "";
    inputs().forEach(function (el) {
      if (el.dataset.field !== "points") { return; }
      var id = el.dataset.indicator;
      var a = mine[id] || {}, b = server.lines[id] || {};
      if (same({ x: a }, { x: b })) { return; }
      var tr = document.createElement("tr");
      [el.dataset.label, (a.points || "—") + " " + (a.notes || ""),
        (b.points || "—") + " " + (b.notes || "")].forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    panel.hidden = false;
    panel.scrollIntoView({ block: "center" });
    document.getElementById("keep-mine").onclick = function () {
      state.version = server.version;
      var record = read();
      record.saveId = null;
      write(record);
      panel.hidden = true;
      send();
    };
    document.getElementById("take-theirs").onclick = function () {
      state.version = server.version;
      apply(server.lines);
      progress();
      forget();
      panel.hidden = true;
      show(data.msgSaved.replace("{v}", server.version), "saved");
    };
  }

  function start() {
    var record = read();
    if (data.editable !== "true") {
      // Submitted or confirmed meanwhile: unsent edits cannot be kept; say which were lost.
      if (record && record.pending && !same(record.lines, collect())) {
        var warn = document.createElement("p");
        warn.className = "error";
        warn.setAttribute("role", "alert");
        warn.textContent = data.msgStale + " " + Object.keys(record.lines).filter(function (id) {
          var el = form.querySelector("[data-indicator='" + id + "'][data-field=points]");
          return el && !same({ x: record.lines[id] }, { x: collect()[id] || {} });
        }).map(function (id) {
          return form.querySelector("[data-indicator='" + id + "'][data-field=points]").dataset.label;
        }).join("、");
        form.parentNode.insertBefore(warn, form);
      }
      forget();
      return;
    }
    if (record && record.pending) {
      if (same(record.lines, collect())) {
        record.pending = false;
        write(record);
      } else {
        apply(record.lines);
        show(data.msgPending, "offline");
        send();
      }
    }
    form.addEventListener("input", function (event) {
      if (event.target.dataset && event.target.dataset.indicator) { edited(); }
    });
    document.getElementById("save-now").addEventListener("click", function () {
      var record = read();
      if (!record || !record.pending) { edited(); }
      clearTimeout(state.timer);
      send();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!navigator.onLine) { show(data.msgSubmitOffline, "offline"); return; }
      clearTimeout(state.timer);
      var record = read();
      var before = (record && record.pending && !record.blocked) ? send() : Promise.resolve();
      before.then(function () {
        var after = read();
        if (after && after.pending && !after.blocked) { show(data.msgSubmitOffline, "offline"); return; }
        form.querySelector("input[name=base_version]").value = state.version;
        form.querySelector("input[name=save_id]").value = newId();
        form.submit();
      });
    });
    window.addEventListener("online", send);
  }

  function keepForOffline() {
    // The service worker keeps this page, so a reload without network still shows the sheet.
    if (!("serviceWorker" in navigator) || !data.swUrl) { return; }
    navigator.serviceWorker.register(data.swUrl).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) {
        if (event.data === "cached") { document.documentElement.dataset.offlineReady = "true"; }
      };
      var urls = [location.href];
      document.querySelectorAll("script[src], link[rel=stylesheet]").forEach(function (el) {
        urls.push(el.src || el.href);
      });
      registration.active.postMessage({ cache: urls }, [channel.port2]);
    }).catch(function () { /* no offline copy: the draft is still kept in localStorage */ });
  }

  start();
  progress();
  if (data.editable === "true") { keepForOffline(); }
}());
