/* The inspector's pages keep working through a dead network: a sheet page loaded once is
 * served from this cache when the network fails (a reload in a basement still shows the sheet,
 * and inspection_sheet.js then puts the unsent draft from localStorage back into it).
 * Only GETs are cached, network first; saves always go to the network (the page keeps what
 * fails). Logging out empties the cache, so the next person on a shared tablet sees nothing. */
"use strict";
var CACHE = "pingyi-inspection-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function cacheable(url) {
  return url.origin === self.location.origin &&
    (url.pathname.indexOf("/inspector/sheets/") === 0 || url.pathname.indexOf("/static/") === 0);
}

self.addEventListener("message", function (event) {
  // The page asks for itself and its scripts and styles to be kept (they were loaded
  // before this worker was there to see them).
  var urls = ((event.data && event.data.cache) || []).filter(function (url) {
    return cacheable(new URL(url));
  });
  var reply = function (answer) { if (event.ports[0]) { event.ports[0].postMessage(answer); } };
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(urls.map(function (url) {
      return new Request(url, { credentials: "same-origin" });
    }));
  }).then(function () { reply("cached"); }, function () { reply("failed"); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method === "POST" && url.pathname === "/logout") {
    event.waitUntil(caches.delete(CACHE));
    return;
  }
  if (request.method !== "GET" || !cacheable(url)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected && response.type === "basic") {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }, function () {
    return caches.match(request, { ignoreSearch: true }).then(function (hit) {
      return hit || Response.error();
    });
  }));
});
