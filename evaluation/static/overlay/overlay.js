// pingyi broadcast overlays: OBS / vMix browser sources and CasparCG / SPX HTML templates.
//
// Two ways to run a page (/overlay/<session>/<scoreboard|lower-third|timer|leaderboard|audience>):
//   * With ?token=<overlay token> (OBS, vMix, or CasparCG loading the URL): the page connects to
//     /live, redraws on every snapshot and is on screen at once. Add ?autoplay=0 to keep it
//     off until play() is called (CasparCG: `CG ADD … 1` plays it).
//   * Without a token, or with ?host=1: a template host drives it, and it shows only what
//     update() gives it, after play().
// The leaderboard and the audience result are full-screen graphics: on a socket-driven page
// they show only while the director has taken them to air (?always=1: always).
// The LIVE marker shows only while the socket is connected and the picture is in sync; a page
// whose connection drops keeps its last picture and hides the marker until it is back.
//
// Template host functions (on window, as CasparCG's HTML producer and SPX call them):
//   play()        animate the graphic in.
//   stop()        animate it out.
//   next()        the overlay's next step: the leaderboard's next page (others: nothing).
//   update(data)  data is a JSON string, an object, or CasparCG templateData XML
//                 (<templateData><componentData id="title"><data id="text" value="…"/>
//                 </componentData></templateData>). It may be:
//                   - a whole snapshot as the socket sends it ("revision", "slots" a list), or
//                   - a feed.json body ("seats" and "leaderboard" lists at the top level), or
//                   - fields that override what is shown:
//                       title          the title line (leaderboard: its heading)
//                       agency         the agency name
//                       subtitle       the lower third's second line
//                       segment_label  the segment's name
//                       page           the leaderboard page, from 1
//                     SPX field ids f0, f1, f2 are read as title, agency, subtitle.
//                   An empty value removes an override.
(function (global) {
  "use strict";

  var doc = global.document;
  var body = doc.body;
  var params = new URLSearchParams(global.location.search);
  var SPX_FIELDS = { f0: "title", f1: "agency", f2: "subtitle" };
  var OVERRIDES = ["title", "agency", "subtitle", "segment_label", "page"];

  var state = {
    picture: null,       // the newest snapshot (from the socket or update())
    pictureAt: 0,        // when it arrived, for counting a host-given timer down
    overrides: {},
    connection: null,
    renderer: null
  };

  // ---- small DOM helpers given to each overlay's renderer ----

  function all(selector) {
    return Array.prototype.slice.call(doc.querySelectorAll(selector));
  }

  function restartAnimation(element, className) {
    element.classList.remove(className);
    void element.offsetWidth; // reflow, so the animation runs again
    element.classList.add(className);
  }

  var ui = {
    // Sets every [data-field=name]; a changed value comes in with a short animation.
    field: function (name, value, quiet) {
      var text = value === null || value === undefined ? "" : String(value);
      all('[data-field="' + name + '"]').forEach(function (element) {
        if (element.textContent === text) return;
        element.textContent = text;
        if (!quiet && text) restartAnimation(element, "changed");
      });
    },
    // Shows or hides every [data-show=name] (with a fade, see .swap in overlay.css).
    show: function (name, visible) {
      all('[data-show="' + name + '"]').forEach(function (element) {
        element.classList.toggle("is-hidden", !visible);
      });
    },
    // Nothing to put on air (no agency on stage yet): the graphic fades out.
    empty: function (isEmpty) {
      var graphic = doc.getElementById("graphic");
      if (graphic) graphic.classList.toggle("empty", !!isEmpty);
    },
    // "{n}号评委" and the like: the translated pattern lives in a data attribute.
    fill: function (pattern, values) {
      return String(pattern || "").replace(/\{(\w+)\}/g, function (_, key) {
        return values[key] === undefined ? "" : values[key];
      });
    },
    remainingMs: function () {
      if (state.connection && state.connection.latest) return state.connection.remainingMs();
      var timer = state.picture && state.picture.current && state.picture.current.timer;
      if (!timer || timer.remaining_ms === null || timer.remaining_ms === undefined) return null;
      return timer.running ? timer.remaining_ms - (Date.now() - state.pictureAt)
        : timer.remaining_ms;
    },
    socketDriven: function () { return state.connection !== null; },
    // A full-screen graphic (leaderboard, audience result) is on screen while the director has
    // it on air. A template host decides itself with play()/stop(); ?always=1 ignores the
    // director (a preview monitor).
    onAir: function (graphic) {
      if (params.get("always") === "1" || !state.connection) return true;
      return !!state.picture && state.picture.on_air === graphic;
    },
    formatClock: function (ms) { return global.PingyiLive.formatClock(ms); },
    element: function (id) { return doc.getElementById(id); }
  };

  function render() {
    if (state.renderer) state.renderer.render(state.picture, state.overrides, ui);
  }

  function setInSync(inSync) {
    body.classList.toggle("in-sync", inSync);
  }

  // ---- what update() accepts ----

  function parseTemplateData(xml) {
    var parsed = new global.DOMParser().parseFromString(xml, "application/xml");
    var fields = {};
    Array.prototype.forEach.call(parsed.getElementsByTagName("componentData"), function (node) {
      var data = node.getElementsByTagName("data")[0];
      if (data) fields[node.getAttribute("id")] = data.getAttribute("value") || "";
    });
    return fields;
  }

  function parseData(data) {
    if (data === null || data === undefined || data === "") return {};
    if (typeof data === "object") return data;
    var text = String(data).trim();
    if (text.charAt(0) === "<") return parseTemplateData(text);
    return JSON.parse(text);
  }

  // A feed.json body (flat rows, see live/feeds.py) as the snapshot shape the renderers read.
  function pictureFromFeed(feed) {
    var seats = (feed.seats || []).filter(function (row) { return row.seat !== ""; });
    var current = feed.agency ? {
      agency: feed.agency,
      position: Number(feed.order || 1) - 1,
      segment: feed.segment,
      segment_label: feed.segment_label,
      timer: {
        running: Number(feed.timer_running) === 1,
        remaining_ms: feed.timer_remaining_s === "" ? null : Number(feed.timer_remaining_s) * 1000
      },
      progress: { submitted: Number(feed.submitted), expected: Number(feed.expected) },
      seats: seats.map(function (row) {
        var seat = { seat_no: Number(row.seat), submitted: Number(row.seat_submitted) === 1,
                     recused: Number(row.recused) === 1 };
        if (row.mark !== "") seat.mark = row.mark;
        return seat;
      })
    } : null;
    if (current && Number(feed.revealed) === 1) {
      current.result = {
        value: feed.result,
        dropped_high: seats.filter(function (r) { return r.dropped === "high"; })
          .map(function (r) { return Number(r.seat); }),
        dropped_low: seats.filter(function (r) { return r.dropped === "low"; })
          .map(function (r) { return Number(r.seat); })
      };
    }
    if (current && feed.audience_votes !== "" && feed.audience_votes !== undefined) {
      current.audience = { votes: Number(feed.audience_votes) };
      if (feed.audience_index !== "") {
        current.audience.index = feed.audience_index;
        current.audience.rate = feed.audience_rate;
      }
    }
    return {
      revision: feed.revision,
      on_air: feed.on_air || null,
      session: { title: feed.title, rehearsal: Number(feed.rehearsal) === 1 },
      slots: new Array(Number(feed.slots) || 0),
      current: current,
      leaderboard: (feed.leaderboard || []).map(function (row) {
        return { rank: Number(row.rank), agency: row.agency, value: row.value,
                 shared: Number(row.shared) === 1 };
      })
    };
  }

  function applyOverrides(fields) {
    Object.keys(fields).forEach(function (key) {
      var name = SPX_FIELDS[key] || key;
      if (OVERRIDES.indexOf(name) < 0) return;
      var value = fields[key];
      if (value === "" || value === null) delete state.overrides[name];
      else state.overrides[name] = value;
    });
  }

  function acceptPicture(picture) {
    state.picture = picture;
    state.pictureAt = Date.now();
  }

  // ---- the template host functions ----

  global.play = function () { body.classList.add("playing"); };
  global.stop = function () { body.classList.remove("playing"); };
  global.next = function () {
    if (state.renderer && state.renderer.next) state.renderer.next(ui);
    render();
  };
  global.update = function (data) {
    var fields;
    try { fields = parseData(data); } catch (error) {
      global.console.warn("pingyi overlay: update() could not read its data", error);
      return;
    }
    // A snapshot lists its slots; a feed.json body counts them and lists its seat rows.
    if (fields.revision !== undefined && Array.isArray(fields.slots)) acceptPicture(fields);
    else if (Array.isArray(fields.seats) && Array.isArray(fields.leaderboard)) {
      acceptPicture(pictureFromFeed(fields));
    } else applyOverrides(fields); // a feed's own "title" is data, not an override
    render();
  };

  // ---- start ----

  // In sync = connected and holding a snapshot sent since the last drop. (Socket.IO hands over
  // the snapshot the server sends on connect just before its own "connect" event, so both
  // orders must work.)
  var fresh = false;

  function refreshMarker() {
    var socket = state.connection && state.connection.socket;
    setInSync(fresh && !!socket && socket.connected);
  }

  function connect(session, token) {
    state.connection = new global.PingyiLive.LiveConnection({
      session: session,
      token: token,
      role: "overlay",  // read-only, whatever the token: no mark goes on air before the reveal
      onSnapshot: function (picture) {
        acceptPicture(picture);
        fresh = true;
        body.classList.remove("refused");
        refreshMarker();
        render();
      },
      // Disconnected: keep the last picture, take the LIVE marker down until a new snapshot.
      onStatus: function (connected) {
        if (!connected) fresh = false;
        refreshMarker();
      },
      onRefused: function () { fresh = false; refreshMarker(); body.classList.add("refused"); }
    });
  }

  function start() {
    var session = parseInt(body.getAttribute("data-session"), 10);
    var hosted = params.get("host") === "1";
    var token = hosted ? null : global.PingyiLive.tokenFromLocation("pingyi.overlay." + session);
    if (token) {
      connect(session, token);
      if (params.get("autoplay") !== "0") global.play();
    }
    render();
  }

  global.PingyiOverlay = {
    // Each overlay's script registers {render(picture, overrides, ui), next(ui)?, tick(ui)?}.
    register: function (renderer) {
      state.renderer = renderer;
      if (renderer.tick) global.setInterval(function () { renderer.tick(ui); }, 250);
    },
    pictureFromFeed: pictureFromFeed
  };

  // Each overlay's own script comes after this one; start once they have all run.
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
  else global.setTimeout(start, 0);
})(window);
