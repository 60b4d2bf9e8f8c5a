// pingyi live: one connection to the /live namespace, shared by tablet, console and overlays.
//
// The server sends full snapshots, each with a revision. We keep the newest and ignore any
// older one (a late packet, a second worker), so the screen never goes back in time.
// While disconnected the last picture stays up and `onStatus(false)` lets the page hide its
// "live" marker; on reconnect the server sends a fresh snapshot first.
(function (global) {
  "use strict";

  function tokenFromLocation(storageKey) {
    // The token arrives in the link (?token= for OBS/vMix, #token= for tablets and the console).
    // Keep it in storage and take it out of the address bar (not shown or bookmarked).
    var url = new URL(global.location.href);
    var fromHash = new URLSearchParams(url.hash.replace(/^#/, "")).get("token");
    var token = url.searchParams.get("token") || fromHash;
    if (token && storageKey) {
      try { global.localStorage.setItem(storageKey, token); } catch (e) { /* private mode */ }
    }
    if (!token && storageKey) {
      try { token = global.localStorage.getItem(storageKey); } catch (e) { token = null; }
    }
    if (url.searchParams.has("token") || fromHash) {
      url.searchParams.delete("token");
      url.hash = "";
      global.history.replaceState(null, "", url.pathname + url.search);
    }
    return token;
  }

  // Refusals that mean the credential itself is no good (revoked, expired, re-issued links,
  // no seat): retrying will not help, and the stored copy must go (ASVS V14.3.1).
  // A link of another role (wrong_role: a judge's link opened on the console) is no good here.
  var CREDENTIAL_REFUSED = ["unauthorized", "no_seat", "unknown_session", "wrong_role"];

  function credentialRefused(error) {
    return Boolean(error) && CREDENTIAL_REFUSED.indexOf(error.code) >= 0;
  }

  function forget(keys) {
    keys.forEach(function (key) {
      try { global.localStorage.removeItem(key); } catch (e) { /* private mode */ }
    });
  }

  function LiveConnection(options) {
    this.session = options.session;
    this.token = options.token;
    this.storageKey = options.storageKey || null;  // where tokenFromLocation kept the token
    this.device = options.device || null;
    // The page's role ("judge", "director", "overlay"): the server refuses a link of another
    // role instead of letting, say, the console take a judge's seat.
    this.role = options.role || null;
    this.crowd = Boolean(options.crowd);  // many clients of one kind: a gentler retry
    this.onSnapshot = options.onSnapshot || function () {};
    this.onStatus = options.onStatus || function () {};
    this.onRefused = options.onRefused || function () {};
    this.onEvent = options.onEvent || {};
    this.latest = null;
    this.clockOffset = 0; // server time - local time, in ms
    this.connected = false;
    this._connect();
  }

  // Retrying after the server went away (a restart mid-show takes a few seconds): the first
  // retry after 250-750 ms, then about every second. With socket.io's default ceiling (5 s) a
  // tablet could notice a restarted server up to 5 s late. The random part spreads the first
  // retries over half a second, which staggers every later one: the tablets and overlays
  // (a few dozen) come back over a second, not all at once. bench/chaos_live.py's simulated
  // clients read these numbers from this line (tests/live/simtablet.py).
  var RECONNECT = { reconnectionDelay: 500, reconnectionDelayMax: 1000, randomizationFactor: 0.5 };
  // The audience panel's phones can be hundreds: they back off to 5 s, as before.
  var RECONNECT_CROWD = { reconnectionDelay: 500, reconnectionDelayMax: 5000, randomizationFactor: 0.5 };

  LiveConnection.prototype._connect = function () {
    var self = this;
    var auth = { session: this.session };
    if (this.token) auth.token = this.token;
    if (this.device) auth.device = this.device;
    if (this.role) auth.role = this.role;
    var backoff = this.crowd ? RECONNECT_CROWD : RECONNECT;
    // WebSocket only: no long-polling, so no sticky sessions are needed behind a proxy.
    this.socket = global.io("/live", {
      transports: ["websocket"], auth: auth,
      reconnectionDelay: backoff.reconnectionDelay,
      reconnectionDelayMax: backoff.reconnectionDelayMax,
      randomizationFactor: backoff.randomizationFactor,
      // A handshake that hangs (captive portal, half-open Wi-Fi) is abandoned and retried.
      timeout: 5000
    });
    this.socket.on("connect", function () { self._status(true); });
    this.socket.on("disconnect", function () { self._status(false); });
    this.socket.on("connect_error", function (error) {
      self._status(false);
      // A refusal from the server (bad token, seat taken) will not fix itself by retrying.
      if (error && error.data) {
        self.refused = true;
        self.socket.disconnect();
        if (self.storageKey && credentialRefused(error.data)) forget([self.storageKey]);
        self.onRefused(error.data);
      }
    });
    // Venue Wi-Fi fails in odd ways (a socket closed mid-handshake can leave the client idle):
    // keep knocking until the server answers. connect() is a no-op while a retry is running.
    setInterval(function () {
      if (!self.socket.connected && !self.refused) self.socket.connect();
    }, 4000);
    this.socket.on("snapshot", function (picture) { self._accept(picture); });
    Object.keys(this.onEvent).forEach(function (name) {
      self.socket.on(name, self.onEvent[name]);
    });
  };

  LiveConnection.prototype._status = function (connected) {
    if (this.connected === connected) return;  // report changes, not every failed retry
    this.connected = connected;
    this.onStatus(connected);
  };

  LiveConnection.prototype._accept = function (picture) {
    if (this.latest && picture.revision < this.latest.revision) return; // older: ignore
    this.clockOffset = picture.server_time_ms - Date.now();
    this.latest = picture;
    this.onSnapshot(picture);
  };

  LiveConnection.prototype.serverNow = function () {
    return Date.now() + this.clockOffset;
  };

  // Milliseconds left on the current segment's clock, as of now (negative: overtime).
  LiveConnection.prototype.remainingMs = function () {
    var current = this.latest && this.latest.current;
    if (!current) return null;
    var timer = current.timer;
    if (!timer.running) return timer.remaining_ms;
    return timer.remaining_ms - (this.serverNow() - this.latest.server_time_ms);
  };

  LiveConnection.prototype.call = function (event, payload, timeoutMs) {
    var socket = this.socket;
    return new Promise(function (resolve, reject) {
      if (!socket.connected) { reject(new Error("offline")); return; }
      socket.timeout(timeoutMs || 10000).emit(event, payload, function (error, ack) {
        if (error) reject(error); else resolve(ack);
      });
    });
  };

  function formatClock(ms) {
    if (ms === null || ms === undefined) return "--:--";
    var negative = ms < 0;
    var seconds = Math.floor(Math.abs(ms) / 1000);
    if (!negative && ms % 1000 !== 0) seconds = Math.ceil(ms / 1000);
    var text = String(Math.floor(seconds / 60)).padStart(2, "0") + ":" +
      String(seconds % 60).padStart(2, "0");
    return negative ? "-" + text : text;
  }

  // The outbox and other small state kept on the device (a full or private storage is not
  // fatal: the page keeps working from memory).
  function load(key, fallback) {
    try { return JSON.parse(global.localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { global.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full or private */ }
  }

  // crypto.randomUUID needs https; getRandomValues works on a plain-http venue network too.
  function randomId() {
    var bytes = new Uint8Array(16);
    global.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // Fills "{name}" slots of a translated template (texts come from the page's data-*).
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  global.PingyiLive = {
    fill: fill,
    credentialRefused: credentialRefused,
    forget: forget,
    LiveConnection: LiveConnection,
    tokenFromLocation: tokenFromLocation,
    formatClock: formatClock,
    load: load,
    save: save,
    randomId: randomId
  };
})(window);
