// WIMS handheld: scan-driven screens over the gateway's own API, with an IndexedDB outbox.
// Every scan becomes an op draft with a fresh op_id (UUIDv7), stored in the outbox first and then
// POSTed to /v1/ops; the gateway's journal takes op_id as the idempotency key, so a replay after a
// lost answer stores nothing twice. The outbox is replayed on load, on reconnect, every few seconds
// and on the service worker's sync message; its size is always shown in the header.
(function () {
  "use strict";
  var MSG = JSON.parse(document.getElementById("wims-messages").textContent);
  var SITE = JSON.parse(document.getElementById("wims-site").textContent);
  var LS = window.localStorage;
  var state = { lang: SITE.lang, operator: LS.getItem("wims.operator") || "", catalog: null, flow: null,
                features: { tasks: false, putaway: null }, skew: 0, replaying: false, online: navigator.onLine };

  // ---- language -------------------------------------------------------------------------------
  function t(msg) { var c = MSG[state.lang] || MSG.en; return (c && c[msg]) || msg; }
  function tf(msg) { var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return t(msg).replace(/%s/g, function () { return String(args[i++]); }); }
  function applyLang() {
    document.documentElement.lang = state.lang === "zh_Hans" ? "zh-Hans" : "en";
    document.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = t(el.getAttribute("data-t")); });
    document.querySelectorAll("[data-t-placeholder]").forEach(function (el) {
      el.placeholder = t(el.getAttribute("data-t-placeholder")); });
    document.querySelectorAll(".lang").forEach(function (b) { b.classList.toggle("on", b.dataset.lang === state.lang); });
    if (state.flow) { renderFlow(); }
    refreshCounts();
  }
  function setLang(lang) {
    state.lang = lang;
    LS.setItem("wims.lang", lang);                        // this handheld's default
    if (state.operator) { LS.setItem("wims.lang." + state.operator, lang); }  // remembered per person
    applyLang();
  }
  function fmtNum(n) { return new Intl.NumberFormat(state.lang === "zh_Hans" ? "zh-Hans" : "en").format(n); }

  // ---- op ids and time --------------------------------------------------------------------------
  function uuid7() {
    var ms = Date.now(), b = new Uint8Array(16);
    crypto.getRandomValues(b);
    for (var i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
    b[6] = (b[6] & 0x0f) | 0x70; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function nowIso() { return new Date(Date.now() + state.skew).toISOString(); }  // gateway's clock, roughly

  // ---- IndexedDB outbox ---------------------------------------------------------------------------
  var dbp = new Promise(function (resolve, reject) {
    var req = indexedDB.open("wims-handheld", 1);
    req.onupgradeneeded = function () {
      var db = req.result;
      db.createObjectStore("outbox", { keyPath: "op_id" }).createIndex("created", "created");
      db.createObjectStore("failed", { keyPath: "op_id" });
      db.createObjectStore("kv");
    };
    req.onsuccess = function () { resolve(req.result); };
    req.onerror = function () { reject(req.error); };
  });
  function tx(store, mode, fn) {
    return dbp.then(function (db) {
      return new Promise(function (resolve, reject) {
        var x = db.transaction(store, mode), s = x.objectStore(store), out;
        var r = fn(s);
        if (r) { r.onsuccess = function () { out = r.result; }; }
        x.oncomplete = function () { resolve(out); };
        x.onerror = function () { reject(x.error); };
      });
    });
  }
  function outboxAll() { return tx("outbox", "readonly", function (s) { return s.index("created").getAll(); }); }
  function count(store) { return tx(store, "readonly", function (s) { return s.count(); }); }
  function kvGet(k) { return tx("kv", "readonly", function (s) { return s.get(k); }); }
  function kvPut(k, v) { return tx("kv", "readwrite", function (s) { return s.put(v, k); }); }

  function enqueue(entry) {
    entry.op_id = entry.op_id || uuid7();
    entry.created = entry.created || Date.now();
    entry.occurred_at = entry.occurred_at || nowIso();
    return tx("outbox", "readwrite", function (s) { return s.put(entry); }).then(function () {
      refreshCounts();
      replay();
      return entry.op_id;
    });
  }

  function refreshCounts() {
    Promise.all([count("outbox"), count("failed")]).then(function (n) {
      document.getElementById("pending-count").textContent = fmtNum(n[0]);
      document.getElementById("pending").classList.toggle("some", n[0] > 0);
      document.getElementById("failed-count").textContent = fmtNum(n[1]);
      document.getElementById("failed").classList.toggle("hidden", n[1] === 0);
    });
  }

  // ---- talking to the gateway ---------------------------------------------------------------------
  function api(method, path, body, raw) {
    var headers = {};
    var token = LS.getItem("wims.token");
    if (token) { headers.Authorization = "Bearer " + token; }
    headers["Accept-Language"] = state.lang === "zh_Hans" ? "zh-Hans" : "en"; // the gateway's refusals in our language
    var init = { method: method, headers: headers, cache: "no-store" };
    if (body !== undefined) {
      if (raw) { init.body = body; headers["Content-Type"] = body.type || "application/octet-stream"; }
      else { init.body = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
    }
    return fetch(path, init).then(function (r) {
      var date = r.headers.get("date");
      if (date) { state.skew = Date.parse(date) - Date.now(); if (Math.abs(state.skew) < 2000) { state.skew = 0; } }
      setOnline(true);
      if (r.status === 401 && SITE.needs_token) { LS.removeItem("wims.token"); show("pair"); }
      return r;
    }, function (err) { setOnline(false); throw err; });
  }
  function setOnline(on) {
    state.online = on;
    var el = document.getElementById("net");
    el.setAttribute("data-t", on ? "Online" : "Offline");
    el.textContent = t(on ? "Online" : "Offline");
    el.classList.toggle("off", !on);
  }

  function draftOf(e) {
    return { op_id: e.op_id, payload: e.payload, actor: e.actor, device_id: e.device_id, occurred_at: e.occurred_at };
  }

  // Send what waits, oldest first; stop at the first network failure (order matters: a putaway needs
  // its receipt). An answer that says the op can never be stored moves it to "failed", with the reason.
  function replayOnce() {
    return outboxAll().then(function (entries) {
      var chain = Promise.resolve(true);
      entries.forEach(function (e) {
        chain = chain.then(function (go) { return go ? sendOne(e) : false; });
      });
      return chain;
    });
  }
  function sendOne(e) {
    var before = Promise.resolve();
    if (e.photo && !e.payload.ref) {
      before = api("POST", "/v1/photos", e.photo, true).then(function (r) {
        if (!r.ok) { throw new Error("photo " + r.status); }
        return r.json().then(function (j) { e.payload.ref = j.ref; });
      });
    }
    if (e.count_intent) {  // the book quantity is read when the count reaches the gateway
      before = before.then(function () {
        var p = e.payload;
        return api("GET", "/v1/stock?sku=" + encodeURIComponent(p.sku) + "&location=" + encodeURIComponent(p.location) +
                   "&status=available").then(function (r) { return r.json(); }).then(stockItems).then(function (lines) {
          var book = lines.filter(function (l) { return (l.lot || "") === (p.lot || ""); })
            .reduce(function (a, l) { return a + l.qty; }, 0);
          p.book_qty = book; p.delta = p.counted_qty - book; e.count_intent = false;
        });
      });
    }
    return before.then(function () { return api("POST", "/v1/ops", draftOf(e)); }).then(function (r) {
      if (r.ok) { return tx("outbox", "readwrite", function (s) { return s.delete(e.op_id); }).then(function () { return true; }); }
      if (r.status >= 500 || r.status === 401 || r.status === 429) { return false; }
      return r.json().catch(function () { return {}; }).then(function (j) {
        var d = j.detail, reason = typeof d === "string" ? d : (d && (d.message || d.code)) || JSON.stringify(d || r.status);
        e.reason = reason; e.failed_at = Date.now();
        return tx("outbox", "readwrite", function (s) { return s.delete(e.op_id); })
          .then(function () { return tx("failed", "readwrite", function (s) { return s.put(e); }); })
          .then(function () { toast(tf("Not sent: %s", reason), true); return true; });
      });
    }, function () { return false; });
  }
  function replay() {
    if (state.replaying) { return Promise.resolve(); }
    state.replaying = true;
    var run = function () { return replayOnce(); };
    var p = navigator.locks ? navigator.locks.request("wims-outbox", run) : run();
    return p.catch(function () {}).then(function () { state.replaying = false; refreshCounts(); });
  }
  window.addEventListener("online", function () { setOnline(true); replay(); });
  window.addEventListener("offline", function () { setOnline(false); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { replay(); } });
  setInterval(replay, 4000);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (ev) { if (ev.data === "replay") { replay(); } });
  }

  // ---- catalog and features ----------------------------------------------------------------------
  function loadCatalog() {
    return kvGet("catalog").then(function (c) { if (c) { state.catalog = c; } }).then(function () {
      return api("GET", "/v1/catalog").then(function (r) { return r.ok ? r.json() : null; }).then(function (c) {
        if (c) { state.catalog = c; return kvPut("catalog", c); }
      }).catch(function () {});
    });
  }
  function detectFeatures() {
    // routes that land with the floor work: the task list and putaway suggestions
    api("GET", "/v1/tasks?mine=1&operator=" + encodeURIComponent(state.operator)).then(function (r) {
      state.features.tasks = r.ok;
      document.getElementById("tile-tasks").classList.toggle("hidden", !r.ok);
    }).catch(function () {});
  }
  function skuByCode(code) {
    var c = state.catalog; if (!c) { return null; }
    var g = code.replace(/\D/g, "");
    for (var i = 0; i < c.skus.length; i++) {
      var s = c.skus[i];
      if (s.code === code || (g.length >= 8 && s.gtin === g.padStart(14, "0"))) { return s; }
    }
    return null;
  }
  function location(code) {
    var c = state.catalog; if (!c) { return null; }
    for (var i = 0; i < c.locations.length; i++) { if (c.locations[i].code === code) { return c.locations[i]; } }
    return null;
  }
  // A GS1 element string, bracketed "(01)...(10)..." or raw with FNC1 (GS, \x1d): GTIN, lot, count.
  function parseGs1(text) {
    var out = {}, m;
    if (text.indexOf("(") === 0) {
      var re = /\((\d{2,4})\)([^(]*)/g;
      while ((m = re.exec(text))) { out[m[1]] = m[2]; }
    } else if (/^01\d{14}/.test(text)) {
      var s = text, fixed = { "01": 14, "17": 6, "11": 6, "15": 6 };
      while (s.length >= 2) {
        var ai = s.slice(0, 2), n = fixed[ai];
        if (n) { out[ai] = s.slice(2, 2 + n); s = s.slice(2 + n); }
        else { var end = s.indexOf("\x1d"); if (end < 0) { end = s.length; } out[ai] = s.slice(2, end); s = s.slice(end + 1); }
      }
    }
    return out["01"] ? { gtin: out["01"], lot: out["10"] || "", qty: parseInt(out["37"] || out["30"] || "0", 10) || null } : null;
  }
  function item(code) {
    var g = parseGs1(code);
    if (g) { var s = skuByCode(g.gtin); return s ? { sku: s, lot: g.lot, qty: g.qty } : null; }
    var s2 = skuByCode(code);
    return s2 ? { sku: s2, lot: "", qty: null } : null;
  }

  // ---- screens ---------------------------------------------------------------------------------------
  function show(name) {
    document.querySelectorAll(".screen").forEach(function (s) { s.classList.add("hidden"); });
    document.getElementById("screen-" + name).classList.remove("hidden");
    var input = document.querySelector("#screen-" + name + " input");
    if (input) { setTimeout(function () { input.focus(); }, 30); }
  }
  function toast(text, bad) {
    var el = document.getElementById("toast");
    el.textContent = text; el.classList.remove("hidden"); el.classList.toggle("bad", !!bad);
    clearTimeout(toast.timer); toast.timer = setTimeout(function () { el.classList.add("hidden"); }, bad ? 6000 : 2500);
    if (bad && navigator.vibrate) { navigator.vibrate([80, 60, 80]); }
  }
  function home() {
    state.flow = null; stopCamera();
    if (SITE.needs_token && !LS.getItem("wims.token")) { return show("pair"); }
    if (!state.operator) { return show("login"); }
    document.getElementById("who").textContent = state.operator;
    show("home");
  }
  function nav(target) {
    if (target === "home") { return home(); }
    if (target === "failed") { return showFailed(); }
    if (target === "tasks") { return showTasks(); }
    startFlow(target);
  }
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-nav]"); if (el) { ev.preventDefault(); nav(el.dataset.nav); return; }
    var l = ev.target.closest("[data-lang]"); if (l) { setLang(l.dataset.lang); }
  });

  // A flow is a list of steps; each step asks for one scan or value. ``done`` builds the op payload.
  var FLOWS = {
    receive: { title: "Receive", steps: ["item", "qty"], done: function (v) {
      var line = openInboundLine(v.sku.code);
      var loc = (line && line.dock) || (state.catalog.docks || [])[0];
      var p = { kind: "receive", sku: v.sku.code, lot: v.lot || (line && line.lot) || "", location: loc, qty: v.qty };
      if (line) { p.asn_id = line.order; p.asn_line = line.line; }
      return p; } },
    putaway: { title: "Putaway", steps: ["item", "qty", "suggest", "to"], done: function (v) {
      return { kind: "putaway", sku: v.sku.code, lot: v.lot || "", from_location: v.from, to_location: v.to, qty: v.qty }; } },
    pick: { title: "Pick", steps: ["order", "go", "item", "qty"], done: function (v) {
      return { kind: "pick", sku: v.sku.code, lot: v.lot || "", from_location: v.loc, to_location: state.catalog.staging,
               qty: v.qty, order_id: v.order.id, from_status: v.from_status || "available" }; } },
    qc: { title: "QC", steps: ["loc", "item", "qty", "qcaction"], done: function (v) {
      return v.release ? { kind: "qc_release", sku: v.sku.code, lot: v.lot || "", location: v.loc, qty: v.qty, to_status: "available" }
                       : { kind: "qc_hold", sku: v.sku.code, lot: v.lot || "", location: v.loc, qty: v.qty, reason: "qc" }; } },
    count: { title: "Count", steps: ["loc", "item", "counted"], done: function (v) {
      return { kind: "count", sku: v.sku.code, lot: v.lot || "", location: v.loc, counted_qty: v.qty, book_qty: 0, delta: v.qty }; } },
    exception: { title: "Exception", steps: ["loc", "reason", "photo"], done: function (v) {
      return { kind: "exception", code: v.reason, detail: v.detail || "", location: v.loc }; } }
  };

  function openInboundLine(sku) {
    var orders = (state.catalog && state.catalog.inbound_orders) || [];
    for (var i = 0; i < orders.length; i++) {
      for (var j = 0; j < orders[i].lines.length; j++) {
        var l = orders[i].lines[j];
        if (l.sku === sku) { return { order: orders[i].id, line: l.line, dock: orders[i].dock, lot: l.lot }; }
      }
    }
    return null;
  }

  function startFlow(name) {
    state.flow = { name: name, def: FLOWS[name], step: 0, v: {}, note: "" };
    show("flow");
    renderFlow();
  }
  function stepName() { var f = state.flow; return f.def.steps[f.step]; }
  function fact(label, value) {
    return '<div><span data-t="' + label + '">' + esc(t(label)) + '</span> <b translate="no">' + esc(value) + "</b></div>";
  }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); }

  function renderFlow() {
    var f = state.flow, v = f.v, step = stepName();
    document.getElementById("flow-title").textContent = t(f.def.title);
    var facts = "";
    if (v.order) { facts += fact("Order", v.order.id); }
    if (v.loc) { facts += fact("Location", v.loc); }
    if (v.sku) { facts += fact("Item", v.sku.code + (v.sku.name ? " · " + v.sku.name : "")); }
    if (v.lot) { facts += fact("Lot", v.lot); }
    if (v.qty && step !== "qty" && step !== "counted") { facts += fact("Quantity", fmtNum(v.qty)); }
    if (v.from) { facts += fact("Location", v.from); }
    document.getElementById("flow-facts").innerHTML = facts;
    var prompt = "", form = "", scan = true;
    if (step === "item") { prompt = f.name === "receive" ? t("Scan the item at the dock") : t("Scan the item"); }
    else if (step === "loc" || step === "to") { prompt = t("Scan the location"); }
    else if (step === "qty" || step === "counted") {
      scan = false;
      prompt = t(step === "counted" ? "Counted quantity" : "Quantity");
      form = '<input id="qty" class="qty" type="number" inputmode="numeric" min="' + (step === "counted" ? 0 : 1) + '" value="' + (v.qty || (step === "counted" ? "" : 1)) + '">';
    } else if (step === "suggest") {
      scan = true; prompt = t("Scan the location");
      form = '<div class="suggest" id="suggest">' + (v.suggested ? '<span data-t="Suggested location">' + esc(t("Suggested location")) +
             '</span> <b translate="no" id="suggested">' + esc(v.suggested) + "</b>" : '<span data-t="No suggestion: scan any location">' +
             esc(t("No suggestion: scan any location")) + "</span>") + "</div>";
    } else if (step === "order") {
      scan = false; prompt = t("Choose an order");
      form = ((state.catalog && state.catalog.outbound_orders) || []).map(function (o) {
        return '<button class="big choice" data-order="' + esc(o.id) + '" translate="no">' + esc(o.id) + "</button>"; }).join("");
    } else if (step === "go") {
      var line = v.order.lines[v.lineIndex];
      prompt = tf("Wrong location: scan %s", v.target).indexOf(v.target) >= 0 ? t("Scan the location") : "";
      form = '<div class="goto"><span data-t="Go to">' + esc(t("Go to")) + '</span> <b translate="no" id="goto">' + esc(v.target || "?") +
             '</b><div class="sub">' + esc(tf("line %s of %s", v.lineIndex + 1, v.order.lines.length)) + ' · <span translate="no">' +
             esc(line.sku) + " × " + fmtNum(line.qty) + "</span></div></div>";
    } else if (step === "qcaction") {
      scan = false; prompt = "";
      form = '<button class="big choice" data-qc="hold">' + esc(t("Hold")) + '</button><button class="big choice" data-qc="release">' + esc(t("Release")) + "</button>";
    } else if (step === "reason") {
      scan = false; prompt = t("Reason");
      form = [["damaged", "Damaged"], ["missing", "Missing"], ["wrong_item", "Wrong item"], ["other", "Other"]].map(function (r) {
        return '<button class="big choice" data-reason="' + r[0] + '">' + esc(t(r[1])) + "</button>"; }).join("") +
        '<label><span data-t="Detail">' + esc(t("Detail")) + '</span><input id="detail" maxlength="500"></label>';
    } else if (step === "photo") {
      scan = false; prompt = t("Photo");
      form = '<input id="photo" type="file" accept="image/*" capture="environment">';
    }
    document.getElementById("flow-prompt").textContent = prompt;
    document.getElementById("flow-form").innerHTML = form;
    document.querySelector(".scanrow").classList.toggle("hidden", !scan);
    var save = document.getElementById("flow-save");
    save.classList.toggle("hidden", !(step === "qty" || step === "counted" || step === "photo"));
    var focus = document.getElementById(scan ? "scan" : "qty");
    if (focus) { setTimeout(function () { focus.focus(); focus.select && focus.select(); }, 30); }
  }

  function next() {
    var f = state.flow;
    f.step += 1;
    if (f.step >= f.def.steps.length) { return finish(); }
    var step = stepName();
    if (step === "suggest") { return suggestFor(f.v).then(renderFlow); }
    if (step === "go") { return targetFor(f.v).then(renderFlow); }
    renderFlow();
  }

  function finish() {
    var f = state.flow, payload = f.def.done(f.v);
    var entry = { payload: payload, actor: state.operator, device_id: deviceId() };
    if (f.name === "count") { entry.count_intent = true; }
    if (f.v.photo) { entry.photo = f.v.photo; }
    return enqueue(entry).then(function () {
      count("outbox").then(function (n) { toast(tf("Saved. Waiting to send: %s", fmtNum(n))); });
      if (f.name === "pick" && f.v.lineIndex + 1 < f.v.order.lines.length) {
        var keep = { order: f.v.order, lineIndex: f.v.lineIndex + 1 };
        state.flow = { name: "pick", def: f.def, step: 1, v: keep };
        return targetFor(keep).then(renderFlow);
      }
      if (f.name === "pick") { toast(t("Order complete")); }
      startFlow(f.name);
    });
  }
  function deviceId() {
    var id = LS.getItem("wims.device");
    if (!id) { id = "handheld-" + uuid7().slice(-8); LS.setItem("wims.device", id); }
    return id;
  }

  // GET /v1/stock answers a page ({items, next_after}) like every list; the lines of the first page
  // (1,000 lines of one SKU) are all the handheld needs
  function stockItems(page) { return Array.isArray(page) ? page : (page && page.items) || []; }

  // Where to put it: the gateway's suggestion when it offers one, else where this SKU already lies
  // (consolidation), else the first rack location. Where it is now: the dock holding it.
  function suggestFor(v) {
    var c = state.catalog;
    return api("GET", "/v1/stock?sku=" + encodeURIComponent(v.sku.code) + "&status=available").then(function (r) {
      return r.ok ? r.json() : [];
    }).then(stockItems).catch(function () { return []; }).then(function (lines) {
      var isDock = function (code) { var l = location(code); return l && (l.type === "dock" || l.type === "staging"); };
      var at = lines.filter(function (l) { return isDock(l.location) && l.qty >= v.qty; })[0];
      v.from = at ? at.location : (c.docks || [])[0];
      if (at && at.lot && !v.lot) { v.lot = at.lot; }
      var stored = lines.filter(function (l) { return !isDock(l.location); })[0];
      return api("GET", "/v1/putaway/suggestions?sku=" + encodeURIComponent(v.sku.code) + "&qty=" + v.qty + "&from=" + encodeURIComponent(v.from))
        .then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; })
        .then(function (s) {
          var first = s && (s.location || (s.suggestions && s.suggestions[0] && s.suggestions[0].location));
          var rack = c.locations.filter(function (l) { return l.type === "rack" || l.type === "pick_face"; })[0];
          v.suggested = first || (stored && stored.location) || (rack && rack.code) || null;
        });
    });
  }
  function targetFor(v) {
    var line = v.order.lines[v.lineIndex];
    return api("GET", "/v1/stock?sku=" + encodeURIComponent(line.sku)).then(function (r) { return r.ok ? r.json() : []; })
      .then(stockItems).catch(function () { return []; }).then(function (lines) {
        var staging = state.catalog.staging;
        var pickable = lines.filter(function (l) {
          var loc = location(l.location);
          return l.location !== staging && loc && loc.type !== "dock" && (l.status === "available" || l.status === "reserved");
        });
        var reserved = pickable.filter(function (l) { return l.status === "reserved" && l.qty >= line.qty; })[0];
        var best = reserved || pickable.filter(function (l) { return l.status === "available" && l.qty >= line.qty; })[0] || pickable[0];
        v.target = best ? best.location : null;
        v.from_status = best ? best.status : "available";
        v.qty = line.qty;
        v.lot = best ? best.lot : (line.lot || "");
      });
  }

  // ---- input ---------------------------------------------------------------------------------------
  function onScan(code) {
    code = code.trim(); if (!code || !state.flow) { return; }
    var f = state.flow, v = f.v, step = stepName();
    if (step === "item") {
      var it = item(code);
      if (f.name === "pick") {
        var want = v.order.lines[v.lineIndex].sku;
        if (!it || it.sku.code !== want) {
          toast(tf("Wrong item: this is not %s", want), true);
          enqueue({ payload: { kind: "exception", code: "pick_mismatch", detail: "scanned " + code + " for " + want,
                               location: v.loc, ref: "order:" + v.order.id }, actor: state.operator, device_id: deviceId() });
          return;
        }
      }
      if (!it) { return toast(tf("Unknown code: %s", code), true); }
      v.sku = it.sku; v.lot = it.lot || v.lot; if (it.qty) { v.qty = it.qty; }
      if (f.name === "receive" && !openInboundLine(it.sku.code)) { toast(t("No open order line for this item"), true); }
      return next();
    }
    if (step === "loc" || step === "to" || step === "suggest") {
      if (!location(code)) { return toast(tf("Unknown code: %s", code), true); }
      if (step === "loc") { v.loc = code; } else { v.to = code; }
      if (step === "suggest") { f.step += 1; }  // the suggestion step takes the destination scan itself
      return next();
    }
    if (step === "go") {
      if (v.target && code !== v.target) { return toast(tf("Wrong location: scan %s", v.target), true); }
      if (!location(code)) { return toast(tf("Unknown code: %s", code), true); }
      v.loc = code; return next();
    }
  }
  document.getElementById("scan").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); var el = ev.target, val = el.value; el.value = ""; onScan(val); }
  });
  document.getElementById("flow-save").addEventListener("click", function () {
    var f = state.flow, step = stepName();
    if (step === "qty" || step === "counted") {
      var q = parseInt(document.getElementById("qty").value, 10);
      if (!(q >= (step === "counted" ? 0 : 1))) { return; }
      f.v.qty = q; return next();
    }
    if (step === "photo") {
      var file = document.getElementById("photo").files[0];
      if (file) { f.v.photo = file; }
      return next();
    }
  });
  document.getElementById("flow-form").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.id === "qty") { ev.preventDefault(); document.getElementById("flow-save").click(); }
  });
  document.getElementById("flow-form").addEventListener("click", function (ev) {
    var b = ev.target.closest("button"); if (!b) { return; }
    var f = state.flow;
    if (b.dataset.order) {
      var o = state.catalog.outbound_orders.filter(function (x) { return x.id === b.dataset.order; })[0];
      if (!o.lines.length) { return toast(t("Nothing to pick on this order.")); }
      f.v.order = o; f.v.lineIndex = 0; return next();
    }
    if (b.dataset.qc) { f.v.release = b.dataset.qc === "release"; return next(); }
    if (b.dataset.reason) { f.v.reason = b.dataset.reason; var d = document.getElementById("detail"); f.v.detail = d ? d.value : ""; return next(); }
  });

  // ---- camera: zxing-cpp in WebAssembly (vendored), frames from getUserMedia ------------------------
  var cam = { stream: null, timer: null };
  function stopCamera() {
    if (cam.timer) { clearInterval(cam.timer); cam.timer = null; }
    if (cam.stream) { cam.stream.getTracks().forEach(function (tr) { tr.stop(); }); cam.stream = null; }
    var video = document.getElementById("video"); video.classList.add("hidden");
    var b = document.getElementById("cam"); b.firstChild && b.firstChild.setAttribute && b.firstChild.setAttribute("data-t", "Camera");
    b.innerHTML = '<span data-t="Camera">' + esc(t("Camera")) + "</span>";
  }
  document.getElementById("cam").addEventListener("click", function () {
    if (cam.stream) { return stopCamera(); }
    if (!navigator.mediaDevices || !window.ZXingWASM) { return toast(t("Camera not available here (it needs HTTPS)"), true); }
    ZXingWASM.prepareZXingModule({ overrides: { locateFile: function (path, prefix) {
      return path.endsWith(".wasm") ? "/app/static/vendor/zxing-wasm/" + path : prefix + path; } } });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      cam.stream = stream;
      var video = document.getElementById("video"); video.srcObject = stream; video.classList.remove("hidden"); video.play();
      document.getElementById("cam").innerHTML = '<span data-t="Stop camera">' + esc(t("Stop camera")) + "</span>";
      var canvas = document.createElement("canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true }), busy = false, last = "";
      cam.timer = setInterval(function () {
        if (busy || !video.videoWidth) { return; }
        busy = true;
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        ZXingWASM.readBarcodes(ctx.getImageData(0, 0, canvas.width, canvas.height), { tryHarder: true, maxNumberOfSymbols: 1 })
          .then(function (res) {
            var hit = res.filter(function (r) { return r.isValid; })[0];
            if (hit && hit.text !== last) { last = hit.text; if (navigator.vibrate) { navigator.vibrate(40); } onScan(hit.text); setTimeout(function () { last = ""; }, 1500); }
          }).catch(function () {}).then(function () { busy = false; });
      }, 250);
    }, function () { toast(t("Camera not available here (it needs HTTPS)"), true); });
  });

  // ---- lists: failed ops, tasks ------------------------------------------------------------------------
  function showFailed() {
    document.getElementById("list-title").textContent = t("Failed");
    tx("failed", "readonly", function (s) { return s.getAll(); }).then(function (items) {
      document.getElementById("list").innerHTML = items.map(function (e) {
        return '<div class="item"><b translate="no">' + esc(e.payload.kind + " " + (e.payload.sku || e.payload.code || "")) +
          '</b><div class="sub" translate="no">' + esc(e.reason) + '</div><button class="choice" data-discard="' + esc(e.op_id) + '">' +
          esc(t("Discard")) + "</button></div>"; }).join("");
      show("list");
    });
  }
  document.getElementById("list").addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-discard]"); if (!b) { return; }
    tx("failed", "readwrite", function (s) { return s.delete(b.dataset.discard); }).then(function () { refreshCounts(); showFailed(); });
  });
  function showTasks() {
    document.getElementById("list-title").textContent = t("My tasks");
    api("GET", "/v1/tasks?mine=1&operator=" + encodeURIComponent(state.operator)).then(function (r) { return r.ok ? r.json() : []; })
      .catch(function () { return []; }).then(function (tasks) {
        var list = Array.isArray(tasks) ? tasks : (tasks.tasks || tasks.items || []);
        document.getElementById("list").innerHTML = list.length ? list.map(function (task) {
          return '<div class="item" translate="no"><b>' + esc(task.kind || task.type || "") + "</b> " + esc(task.id || task.task_id || "") +
            '<div class="sub">' + esc(task.sku || "") + " " + esc(task.location || task.from_location || "") + "</div></div>"; }).join("")
          : '<p data-t="Tasks appear here when the gateway assigns them.">' + esc(t("Tasks appear here when the gateway assigns them.")) + "</p>";
        show("list");
      });
  }

  // ---- start -----------------------------------------------------------------------------------------
  document.getElementById("pair-go").addEventListener("click", function () {
    var tok = document.getElementById("pair-token").value.trim(); if (!tok) { return; }
    LS.setItem("wims.token", tok); loadCatalog().then(detectFeatures).then(replay).then(home);
  });
  function login() {
    var id = document.getElementById("login-id").value.trim(); if (!id) { return; }
    state.operator = id; LS.setItem("wims.operator", id);
    var remembered = LS.getItem("wims.lang." + id); if (remembered) { setLang(remembered); }
    detectFeatures(); home();
  }
  document.getElementById("login-go").addEventListener("click", login);
  document.getElementById("login-id").addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); login(); } });
  document.getElementById("logout").addEventListener("click", function () { state.operator = ""; LS.removeItem("wims.operator"); home(); });
  var installPrompt = null;
  window.addEventListener("beforeinstallprompt", function (ev) { ev.preventDefault(); installPrompt = ev;
    document.getElementById("install").classList.remove("hidden"); });
  document.getElementById("install").addEventListener("click", function () { if (installPrompt) { installPrompt.prompt(); } });

  var saved = (state.operator && LS.getItem("wims.lang." + state.operator)) || LS.getItem("wims.lang");
  if (saved && MSG[saved]) { state.lang = saved; }
  applyLang();
  setOnline(navigator.onLine);
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).then(function (reg) {
      if (reg.sync) { navigator.serviceWorker.ready.then(function (r) { return r.sync.register("wims-outbox"); }).catch(function () {}); }
    }).catch(function () {});
  }
  loadCatalog().then(function () { detectFeatures(); return replay(); }).then(home);
  window.wims = { replay: replay, pending: function () { return count("outbox"); }, t: t };
})();
