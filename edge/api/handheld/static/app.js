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
                features: { tasks: false, putaway: null, sessions: false, work_orders: false, floor: false }, skew: 0, replaying: false, online: navigator.onLine };

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
  var answers = {}, refusals = {}, watching = {};  // what the gateway answered each outbox entry, by its key
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
    var session = LS.getItem("wims.session");
    if (session) { headers["X-WIMS-Session"] = session; }      // the operator's session (PIN or badge)
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
      var about = r.status === 401 ? (r.headers.get("www-authenticate") || "") : "";
      if (/X-WIMS-Session/i.test(about) && path.indexOf("/v1/sessions") !== 0) {
        // no live session (it ran out, its badge left the reader, or one is required): log in again, as
        // whoever picks the handheld up next; the outbox waits meanwhile
        var had = !!session;
        endSession(); state.operator = ""; LS.removeItem("wims.operator"); home();
        if (had) { toast(t("Your session has ended: log in again"), true); }
      } else if (r.status === 401 && SITE.needs_token) { LS.removeItem("wims.token"); show("pair"); }
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
    if (e.path && e.photo_file) {  // a work order's photo goes inside its body, as base64
      before = before.then(function () { return toBase64(e.photo_file); }).then(function (b64) {
        e.body.photo_base64 = b64; e.photo_file = null; });
    }
    return before.then(function () { return e.path ? api("POST", e.path, e.body) : api("POST", "/v1/ops", draftOf(e)); }).then(function (r) {
      if (r.ok) {
        var got = r.status === 204 ? Promise.resolve(null) : r.json().catch(function () { return null; });
        return got.then(function (j) { answers[e.op_id] = j || {}; })
          .then(function () { return tx("outbox", "readwrite", function (s) { return s.delete(e.op_id); }); })
          .then(function () { return true; });
      }
      if (r.status >= 500 || r.status === 401 || r.status === 429) { return false; }
      return r.json().catch(function () { return {}; }).then(function (j) {
        var d = j.detail, reason = typeof d === "string" ? d : (d && (d.message || d.code)) || JSON.stringify(d || r.status);
        e.reason = reason; e.failed_at = Date.now();
        var watched = watching[e.op_id];  // the operator waits for this answer: it is said, not kept in "failed"
        return tx("outbox", "readwrite", function (s) { return s.delete(e.op_id); })
          .then(function () { return watched ? null : tx("failed", "readwrite", function (s) { return s.put(e); }); })
          .then(function () {  // a refusal the operator is waiting for is said as it is; a later one as "not sent"
            refusals[e.op_id] = reason; toast(watched ? reason : tf("Not sent: %s", reason), true); beep(); return true; });
      });
    }, function () { return false; });
  }
  // One replay at a time; a call during one waits for it and then runs once more (so what was queued
  // meanwhile is sent before the promise resolves: a screen waiting on its scan's answer gets it).
  function replay() {
    if (state.replaying) { return state.replaying.then(function () { return state.replaying ? state.replaying : replay(); }); }
    var run = function () { return replayOnce(); };
    var p = navigator.locks ? navigator.locks.request("wims-outbox", run) : run();
    state.replaying = p.catch(function () {}).then(function () { state.replaying = null; refreshCounts(); });
    return state.replaying;
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
    // routes that land with the floor work: the task list, sessions, work orders, inbound and outbound
    var probes = [
      api("GET", "/v1/tasks?mine=1&limit=1&operator=" + encodeURIComponent(state.operator || "-")).then(function (r) {
        state.features.tasks = r.status !== 404;
      }),
      api("GET", "/v1/sessions/current").then(function (r) { state.features.sessions = r.status !== 404 && r.status !== 405; }),
      api("GET", "/v1/work-orders?limit=1").then(function (r) { state.features.work_orders = r.ok; }),
      api("GET", "/v1/catalog/receipts").then(function (r) { state.features.floor = r.ok; })
    ];
    state.detecting = Promise.all(probes.map(function (p) { return p.catch(function () {}); })).then(function () {
      LS.setItem("wims.features", JSON.stringify(state.features));
      showFeatures();
    });
    return state.detecting;
  }
  function showFeatures() {
    document.getElementById("tile-tasks").classList.toggle("hidden", !state.features.tasks);
    document.getElementById("login-pin-row").classList.toggle("hidden", !state.features.sessions);
    document.getElementById("badge-row").classList.toggle("hidden", !state.features.sessions);
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
  // A screen drawn when its answer arrives is drawn only if the operator has not moved on meanwhile: a
  // slow answer must not pull them back from the screen they went to (moved() marks each move).
  var navGen = 0;
  function moved() { navGen += 1; }
  function stay(fn) { var g = navGen; return function (x) { return g === navGen ? fn(x) : undefined; }; }
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
    moved(); state.flow = null; stopCamera();
    if (SITE.needs_token && !LS.getItem("wims.token")) { return show("pair"); }
    if (!state.operator) { return show("login"); }
    var who = {}; try { who = JSON.parse(LS.getItem("wims.session.who") || "{}"); } catch (e) { who = {}; }
    document.getElementById("who").textContent = who.id === state.operator && who.name ? state.operator + " · " + who.name : state.operator;
    show("home");
  }
  function nav(target) {
    moved();
    if (target === "home") { return home(); }
    if (target === "failed") { return showFailed(); }
    if (target === "tasks") { return showTasks(); }
    if (target === "pick" || target === "qc") {  // which screen depends on what the gateway offers: ask first
      return (state.detecting || Promise.resolve()).then(stay(function () {
        if (!state.features.floor) { return startFlow(target); }
        return target === "pick" ? showPickOrders() : showQcQueue();
      }));
    }
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
    document.querySelector("#screen-flow .scanrow").classList.toggle("hidden", !scan);
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
    if (f.name === "exception" && state.features.work_orders) {  // a work order, its photo inside
      var key = uuid7();
      entry = { op_id: key, label: "exception " + WO_TYPES[f.v.reason], path: "/v1/work-orders",
                body: { wo_type: WO_TYPES[f.v.reason], location: f.v.loc, description: f.v.detail || "",
                        fact_key: "handheld:" + key, actor: state.operator, device_id: deviceId() },
                photo_file: f.v.photo || null };
      f.v.photo = null;
    }
    if (f.name === "count") { entry.count_intent = true; }
    if (f.v.photo) { entry.photo = f.v.photo; }
    return enqueue(entry).then(function () {
      count("outbox").then(function (n) { toast(tf("Saved. Waiting to send: %s", fmtNum(n))); });
      if (f.task) { return taskStep(f.task.task_id, "done"); }  // the count its task asked for: the task is done
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
  // One camera at a time, for the flow screens (#cam, #video) or the floor's work screen (#work-cam, #work-video).
  var cam = { stream: null, timer: null, button: "cam", video: "video" };
  function stopCamera() {
    if (cam.timer) { clearInterval(cam.timer); cam.timer = null; }
    if (cam.stream) { cam.stream.getTracks().forEach(function (tr) { tr.stop(); }); cam.stream = null; }
    var video = document.getElementById(cam.video); video.classList.add("hidden");
    var b = document.getElementById(cam.button);
    b.innerHTML = '<span data-t="Camera">' + esc(t("Camera")) + "</span>";
  }
  function scanned(text) {  // a camera read goes where a typed scan would
    if (state.work && state.work.kind === "pick" && !document.getElementById("screen-work").classList.contains("hidden")) {
      return onPickScan(text);
    }
    onScan(text);
  }
  document.getElementById("work-cam").addEventListener("click", function () { toggleCamera("work-cam", "work-video"); });
  document.getElementById("cam").addEventListener("click", function () { toggleCamera("cam", "video"); });
  function toggleCamera(buttonId, videoId) {
    if (cam.stream) { return stopCamera(); }
    cam.button = buttonId; cam.video = videoId;
    if (!navigator.mediaDevices || !window.ZXingWASM) { return toast(t("Camera not available here (it needs HTTPS)"), true); }
    ZXingWASM.prepareZXingModule({ overrides: { locateFile: function (path, prefix) {
      return path.endsWith(".wasm") ? "/app/static/vendor/zxing-wasm/" + path : prefix + path; } } });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      cam.stream = stream;
      var video = document.getElementById(cam.video); video.srcObject = stream; video.classList.remove("hidden"); video.play();
      document.getElementById(cam.button).innerHTML = '<span data-t="Stop camera">' + esc(t("Stop camera")) + "</span>";
      var canvas = document.createElement("canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true }), busy = false, last = "";
      cam.timer = setInterval(function () {
        if (busy || !video.videoWidth) { return; }
        busy = true;
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        ZXingWASM.readBarcodes(ctx.getImageData(0, 0, canvas.width, canvas.height), { tryHarder: true, maxNumberOfSymbols: 1 })
          .then(function (res) {
            var hit = res.filter(function (r) { return r.isValid; })[0];
            if (hit && hit.text !== last) { last = hit.text; if (navigator.vibrate) { navigator.vibrate(40); } scanned(hit.text); setTimeout(function () { last = ""; }, 1500); }
          }).catch(function () {}).then(function () { busy = false; });
      }, 250);
    }, function () { toast(t("Camera not available here (it needs HTTPS)"), true); });
  }

  // ---- lists: failed ops, tasks ------------------------------------------------------------------------
  function showFailed() {
    document.getElementById("list-title").textContent = t("Failed");
    tx("failed", "readonly", function (s) { return s.getAll(); }).then(stay(function (items) {
      document.getElementById("list").innerHTML = items.map(function (e) {
        return '<div class="item"><b translate="no">' + esc(e.label || (e.payload.kind + " " + (e.payload.sku || e.payload.code || ""))) +
          '</b><div class="sub" translate="no">' + esc(e.reason) + '</div><button class="choice" data-discard="' + esc(e.op_id) + '">' +
          esc(t("Discard")) + "</button></div>"; }).join("");
      show("list");
    }));
  }
  document.getElementById("list").addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-discard]"); if (!b) { return; }
    tx("failed", "readwrite", function (s) { return s.delete(b.dataset.discard); }).then(function () { refreshCounts(); showFailed(); });
  });
  // ---- the floor's own routes: tasks, released orders, QC, work orders ------------------------------
  var TASK_KINDS = { receive: "Receive", qc: "QC", putaway: "Putaway", replenish: "Replenish", pick: "Pick", pack: "Pack",
                     check: "Check", count: "Count", move: "Move", transport: "Transport" };
  var TASK_STATES = { open: "Not taken", assigned: "Assigned", in_progress: "In progress", done: "Done", cancelled: "Cancelled",
                      failed: "Failed" };
  var QC_REASONS = { damaged: "Damaged", temperature: "Temperature", expired: "Expired", wrong_item: "Wrong item",
                     contaminated: "Contaminated", other: "Other" };
  var WO_TYPES = { damaged: "damaged_goods", missing: "missing_goods", wrong_item: "wrong_item", other: "other" };
  function label(map, code) { return map[code] ? t(map[code]) : code; }
  function beep() {  // a refusal is heard as well as seen (a scanner gun's user looks at the goods)
    try {
      var A = window.AudioContext || window.webkitAudioContext; if (!A) { return; }
      var ac = beep.ac || (beep.ac = new A()), o = ac.createOscillator(), g = ac.createGain();
      o.type = "square"; o.frequency.value = 880; g.gain.value = 0.15;
      o.connect(g); g.connect(ac.destination); o.start(); o.stop(ac.currentTime + 0.25);
    } catch (e) { /* no audio: the toast and the vibration remain */ }
    if (navigator.vibrate) { navigator.vibrate([120, 60, 120]); }
  }
  function toBase64(blob) {
    return new Promise(function (resolve, reject) {
      var r = new FileReader();
      r.onload = function () { resolve(String(r.result).replace(/^data:[^,]*,/, "")); };
      r.onerror = function () { reject(r.error); };
      r.readAsDataURL(blob);
    });
  }
  function refusal(j) { var d = j && j.detail; return typeof d === "string" ? d : (d && (d.message || d.code)) || ""; }
  // Queue a floor request under its idempotency key and try to send it now: answers "sent" (with the
  // gateway's answer), "refused" (the reason is shown, with a beep) or "queued" (offline: sent later).
  function submit(entry) {
    watching[entry.op_id] = true;
    return enqueue(entry).then(function () { return replay(); }).then(function () {
      delete watching[entry.op_id];  // queued (offline): a later refusal is kept in "failed", for whoever looks
      if (refusals[entry.op_id] !== undefined) {  // refused while the operator watches: said now, not kept as failed
        return { state: "refused", reason: refusals[entry.op_id] };
      }
      if (answers[entry.op_id] !== undefined) { return { state: "sent", answer: answers[entry.op_id] }; }
      return { state: "queued" };
    });
  }
  function work(title, html, scanPrompt) {
    state.flow = null;
    if (!scanPrompt && cam.stream) { stopCamera(); }
    state.work = state.work || {};
    document.getElementById("work-title").textContent = t(title);
    document.getElementById("work-title").setAttribute("data-t", title);
    document.getElementById("work-body").innerHTML = html;
    var row = document.getElementById("work-scanrow");
    row.classList.toggle("hidden", !scanPrompt);
    document.getElementById("work-prompt").textContent = scanPrompt ? t(scanPrompt) : "";
    show("work");
    if (!scanPrompt) { document.activeElement && document.activeElement.blur && document.activeElement.blur(); }
  }
  function T(msg) { return '<span data-t="' + esc(msg) + '">' + esc(t(msg)) + "</span>"; }
  function pageItems(j) { return Array.isArray(j) ? j : (j && j.items) || []; }

  // My tasks: assigned and in progress first, then the open ones of my role and zones (the gateway orders them)
  function showTasks(note) {
    state.work = { kind: "tasks" };
    var who = LS.getItem("wims.session") ? "" : "&operator=" + encodeURIComponent(state.operator);
    api("GET", "/v1/tasks?mine=1" + who).then(function (r) { return r.ok ? r.json() : []; })
      .catch(function () { return null; }).then(stay(function (page) {
        var list = pageItems(page);
        var html = '<button class="big primary" id="claim-next">' + T("Claim the next task") + "</button>";
        if (note) { html += '<p class="note">' + esc(note) + "</p>"; }
        html += page === null ? "<p>" + T("The gateway cannot be reached") + "</p>" : list.length ? list.map(taskCard).join("")
          : "<p>" + T("Tasks appear here when the gateway assigns them.") + "</p>";
        work("My tasks", html, null);
      }));
  }
  function taskCard(task) {
    var mine = task.assignee === state.operator, st = task.state, steps = [];
    if (st === "open") { steps.push(["take", "Take it"]); }
    if (mine && st === "assigned") { steps.push(["start", "Start"]); }
    if (mine && (st === "assigned" || st === "in_progress")) {
      if (task.task_kind === "count" && task.from_location) { steps.push(["count", "Count"]); }  // the count screen, filled in
      if (task.task_kind === "pick" && task.ref) { steps.push(["gopick", "Pick"]); }  // the order's pick screen
      if (task.task_kind === "qc" && task.ref) { steps.push(["goqc", "QC"]); }        // the receipt's QC screen
      steps.push(["done", "Done"], ["release", "Give back"]);
    }
    var where = [task.from_location, task.to_location].filter(Boolean).join(" → ");
    return '<div class="item task" data-task-card="' + esc(task.task_id) + '"><div class="row"><b>' + esc(label(TASK_KINDS, task.task_kind)) +
      '</b><span class="state st-' + esc(st) + '">' + esc(label(TASK_STATES, st)) + '</span><span class="prio" translate="no">P' +
      esc(task.priority) + '</span></div><div class="sub" translate="no">' + esc([task.sku, task.qty ? "× " + fmtNum(task.qty) : "", task.lot].filter(Boolean).join(" ")) +
      "</div>" + (where ? '<div class="where" translate="no">' + esc(where) + "</div>" : "") +
      (task.ref ? '<div class="sub" translate="no">' + esc(task.ref) + "</div>" : "") +
      '<div class="steps">' + steps.map(function (s) {
        return '<button class="choice step" data-step="' + s[0] + '" data-task="' + esc(task.task_id) + '" data-ref="' + esc(task.ref || "") +
          '">' + T(s[1]) + "</button>"; }).join("") +
      "</div></div>";
  }
  function taskStep(id, step) {
    var body = { device_id: deviceId() };
    if (!LS.getItem("wims.session")) { body.actor = state.operator; }
    if (step === "take") { body.assignee = state.operator; }   // an open task of my role and zone: assign it to me
    var path = "/v1/tasks/" + encodeURIComponent(id) + "/" + (step === "take" ? "assign" : step), again = stay(showTasks);
    return api("POST", path, body).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { beep(); toast(refusal(j) || String(r.status), true); return again(); }
        toast(t(step === "done" ? "Task done" : step === "release" ? "Given back" : step === "take" ? "Assigned" : "Started"));
        return again();
      });
    }, function () { beep(); toast(t("The gateway cannot be reached"), true); });
  }
  // A count task opens the count screen at its location (and item, when the task names one); saving
  // the count marks the task done.
  function countTask(id) {
    api("GET", "/v1/tasks/" + encodeURIComponent(id)).then(function (r) { return r.ok ? r.json() : null; }, function () { return null; })
      .then(stay(function (task) {
        if (!task) { return toast(t("The gateway cannot be reached"), true); }
        startFlow("count");
        var f = state.flow, sku = task.sku ? skuByCode(task.sku) : null;
        f.task = task; f.v.loc = task.from_location; f.step = 1;
        if (sku) { f.v.sku = sku; f.v.lot = task.lot || ""; f.step = 2; }
        renderFlow();
      }));
  }
  function claimNext() {
    var body = { device_id: deviceId() };
    if (!LS.getItem("wims.session")) { body.actor = state.operator; body.operator = state.operator; }
    var again = stay(showTasks);
    api("POST", "/v1/tasks/next", body).then(function (r) {
      if (r.status === 204) { return again(t("No open task fits you now.")); }
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { beep(); toast(refusal(j) || String(r.status), true); }
        again();
      });
    }, function () { beep(); toast(t("The gateway cannot be reached"), true); });
  }

  // Pick (the outbound routes): a released order's next pick in route order; scan the location, then the item
  function showPickOrders() {
    // the released orders are kept for when the handheld's Wi-Fi drops (each with its pick list)
    api("GET", "/v1/orders?status=released").then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; })
      .then(function (got) {
        if (got === null) { return kvGet("released").then(function (c) { return c || []; }); }
        return kvPut("released", pageItems(got)).then(function () { return got; });
      })
      .then(stay(function (released) {
        var ids = {};
        var html = pageItems(released).map(function (o) {
          ids[o.id] = true;
          var open = (o.picks || []).filter(function (p) { return p.status === "open"; }).length;
          if (!open) { return ""; }  // picked here already, waiting to be sent
          return '<button class="big choice" data-forder="' + esc(o.id) + '"><b translate="no">' + esc(o.id) + '</b> <span class="sub">' +
            esc(tf("%s picks to go", fmtNum(open))) + "</span></button>";
        }).join("");
        html += ((state.catalog && state.catalog.outbound_orders) || []).filter(function (o) { return !ids[o.id]; }).map(function (o) {
          return '<button class="big choice" data-order="' + esc(o.id) + '" translate="no">' + esc(o.id) + "</button>"; }).join("");
        work("Pick", html || "<p>" + T("No order is released for picking.") + "</p>", null);
        document.getElementById("work-body").insertAdjacentHTML("afterbegin", '<p class="prompt">' + T("Choose an order") + "</p>");
      }));
  }
  function openPickOrder(id) {
    api("GET", "/v1/orders/" + encodeURIComponent(id)).then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () {
        return kvGet("released").then(function (c) { return (c || []).filter(function (o) { return o.id === id; })[0] || null; });
      }).then(stay(function (o) {
        if (!o) { return toast(t("The gateway cannot be reached"), true); }
        state.work = { kind: "pick", order: o, step: "loc" }; renderPick();
      }));
  }
  function nextPick(o) {
    return (o.picks || []).filter(function (p) { return p.status === "open"; })
      .sort(function (a, b) { return (a.seq || 0) - (b.seq || 0); })[0] || null;
  }
  function renderPick() {
    var w = state.work, o = w.order, p = nextPick(o);
    if (!p) { toast(t("Order complete")); return showPickOrders(); }
    w.pick = p;
    var done = (o.picks || []).filter(function (x) { return x.status !== "open"; }).length;
    var left = Number(p.qty) - Number(p.picked || 0);
    var html = fact("Order", o.id) +
      '<div class="goto' + (w.step === "item" ? " ok" : "") + '">' + T("Go to") + ' <b translate="no" id="goto">' + esc(p.location) + "</b>" +
      '<div class="sub">' + esc(tf("pick %s of %s", done + 1, (o.picks || []).length)) + ' · <span translate="no">' + esc(p.sku) +
      " × " + fmtNum(left) + (p.lot ? " · " + esc(p.lot) : "") + "</span></div></div>";
    work("Pick", html, w.step === "loc" ? "Scan the location" : "Scan the item");
    setTimeout(function () { document.getElementById("work-scan").focus(); }, 30);
  }
  function onPickScan(code) {
    var w = state.work, p = w.pick;
    if (w.step === "loc") {
      if (code !== p.location) { beep(); return toast(tf("Wrong location: scan %s", p.location), true); }
      w.step = "item"; return renderPick();
    }
    var g = parseGs1(code), left = Number(p.qty) - Number(p.picked || 0), key = uuid7(), redraw = stay(renderPick);
    var body = { location: p.location, item: g ? g.gtin : code, lot: g && g.lot ? g.lot : (p.lot || ""), qty: left,
                 device_id: deviceId(), actor: state.operator, request_id: key };
    submit({ op_id: key, label: "pick " + w.order.id + " " + p.sku, path: "/v1/orders/" + encodeURIComponent(w.order.id) + "/picks",
             body: body }).then(function (res) {
      if (res.state === "refused") { return; }           // the reason is on screen; scan again
      if (res.state === "sent" && res.answer && res.answer.picks) { w.order = res.answer; }
      else { p.picked = Number(p.picked || 0) + left; p.status = "done";  // offline: go on, the outbox sends it
             kvGet("released").then(function (c) {   // and remember it, so the order is not offered again
               return kvPut("released", (c || []).map(function (o) { return o.id === w.order.id ? w.order : o; })); });
             count("outbox").then(function (n) { toast(tf("Saved. Waiting to send: %s", fmtNum(n))); }); }
      w.step = "loc"; redraw();
    });
  }

  // QC: the receipts waiting on the dock; pass, or hold / reject with one of the site's reason codes
  function showQcQueue() {
    api("GET", "/v1/catalog/receipts").then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; })
      .then(stay(function (page) {
        if (page === null) { return startFlow("qc"); }  // an older gateway, or offline: QC by location
        state.work = { kind: "qc", receipts: pageItems(page) };
        var html = state.work.receipts.map(function (rc) {
          return '<button class="big choice receipt" data-receipt="' + esc(rc.id) + '"><b translate="no">' + esc(rc.sku) + " × " +
            fmtNum(rc.qty) + '</b><span class="sub" translate="no">' + esc([rc.id, rc.lot, rc.location].filter(Boolean).join(" · ")) +
            "</span>" + (rc.status === "held" ? ' <span class="state st-held">' + T("Held") + "</span>" : "") + "</button>";
        }).join("");
        work("QC", html || "<p>" + T("Nothing is waiting for QC.") + "</p>", null);
      }));
  }
  function qcFromTask(receiptId) {
    api("GET", "/v1/catalog/receipts").then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; })
      .then(stay(function (page) {
        var found = pageItems(page).filter(function (x) { return x.id === receiptId; });
        if (!found.length) { return showQcQueue(); }
        state.work = { kind: "qc", receipts: found }; qcReceipt(receiptId);
      }));
  }
  function qcReceipt(id) {
    var rc = state.work.receipts.filter(function (x) { return x.id === id; })[0];
    state.work.receipt = rc;
    var html = '<div class="goto"><b translate="no">' + esc(rc.sku + " × " + fmtNum(rc.qty)) + '</b><div class="sub" translate="no">' +
      esc([rc.id, rc.lot, rc.location].filter(Boolean).join(" · ")) + "</div></div>" +
      '<button class="big choice pass" data-qc-result="pass">' + T("Pass") + "</button>" +
      '<button class="big choice" data-qc-result="hold">' + T("Hold") + "</button>" +
      '<button class="big choice bad" data-qc-result="reject">' + T("Reject") + "</button>";
    work("QC", html, null);
  }
  function qcReasons(result) {
    state.work.result = result;
    var codes = (state.catalog && state.catalog.qc_reasons) || Object.keys(QC_REASONS);
    var rc = state.work.receipt;
    var head = '<div class="sub" translate="no">' + esc([rc.sku + " × " + fmtNum(rc.qty), rc.id, rc.lot].filter(Boolean).join(" · ")) + "</div>";
    work("QC", head + '<p class="prompt">' + T(result === "hold" ? "Why hold it?" : "Why reject it?") + "</p>" + codes.map(function (c) {
      return '<button class="big choice" data-qc-reason="' + esc(c) + '">' + esc(label(QC_REASONS, c)) + "</button>"; }).join(""), null);
  }
  function qcSend(result, reason) {
    var rc = state.work.receipt, key = uuid7(), body = { result: result, actor: state.operator }, back = stay(showQcQueue);
    if (reason) { body.reason = reason; }
    submit({ op_id: key, label: "qc " + rc.id + " " + result, path: "/v1/inbound/receipts/" + encodeURIComponent(rc.id) + "/qc", body: body })
      .then(function (res) {
        if (res.state === "refused") { return; }
        if (res.state === "sent") {
          var tasks = (res.answer && (res.answer.putaways || res.answer.tasks)) || [];
          toast(result === "pass" && tasks.length ? tf("Passed: put away to %s", tasks.map(function (x) { return x.location || x.to_location; }).join(", "))
                : t("Stored by the gateway"));
        } else { count("outbox").then(function (n) { toast(tf("Saved. Waiting to send: %s", fmtNum(n))); }); }
        back();
      });
  }

  document.getElementById("screen-work").addEventListener("click", function (ev) {
    var b = ev.target.closest("button"); if (!b) { return; }
    moved();
    if (b.id === "claim-next") { return claimNext(); }
    if (b.dataset.step === "count") { return countTask(b.dataset.task); }
    if (b.dataset.step === "gopick") { return openPickOrder(b.dataset.ref); }
    if (b.dataset.step === "goqc") { return qcFromTask(b.dataset.ref); }
    if (b.dataset.step) { return taskStep(b.dataset.task, b.dataset.step); }
    if (b.dataset.forder) { return openPickOrder(b.dataset.forder); }
    if (b.dataset.order) {
      var o = state.catalog.outbound_orders.filter(function (x) { return x.id === b.dataset.order; })[0];
      startFlow("pick"); state.flow.v.order = o; state.flow.v.lineIndex = 0; return next();
    }
    if (b.dataset.receipt) { return qcReceipt(b.dataset.receipt); }
    if (b.dataset.qcResult) { return b.dataset.qcResult === "pass" ? qcSend("pass") : qcReasons(b.dataset.qcResult); }
    if (b.dataset.qcReason) { return qcSend(state.work.result, b.dataset.qcReason); }
  });
  document.getElementById("work-scan").addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") { return; }
    ev.preventDefault(); var val = ev.target.value.trim(); ev.target.value = "";
    if (val && state.work && state.work.kind === "pick") { onPickScan(val); }
  });

  // ---- start -----------------------------------------------------------------------------------------
  document.getElementById("pair-go").addEventListener("click", function () {
    var tok = document.getElementById("pair-token").value.trim(); if (!tok) { return; }
    LS.setItem("wims.token", tok); loadCatalog().then(detectFeatures).then(replay).then(home);
  });
  function loggedIn(id) {
    state.operator = id; LS.setItem("wims.operator", id);
    document.getElementById("toast").classList.add("hidden");  // a refusal before the login is over
    var remembered = LS.getItem("wims.lang." + id); if (remembered) { setLang(remembered); }
    detectFeatures(); home();
  }
  // A PIN opens a session on the gateway (its token goes with every call from then on); without the
  // session routes (or with no PIN, where sessions are optional) the ID alone names the actor.
  function login() {
    var id = document.getElementById("login-id").value.trim(); if (!id) { return; }
    var pin = document.getElementById("login-pin").value.trim();
    if (!pin || !state.features.sessions) { endSession(); return loggedIn(id); }
    api("POST", "/v1/sessions", { operator: id, pin: pin, station: station(), device_id: deviceId() }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        document.getElementById("login-pin").value = "";
        if (!r.ok) { beep(); return toast(r.status === 429 ? refusal(j) : t("Wrong operator ID or PIN"), true); }
        startSession(j); loggedIn(j.operator_id);
      });
    }, function () { toast(t("The gateway cannot be reached"), true); });
  }
  // Badge: the operator badged in at a station's reader; the handheld takes over that session.
  function badgeLogin() {
    var st = document.getElementById("login-station").value.trim() || station();
    LS.setItem("wims.station", st);
    api("POST", "/v1/sessions", { badge: true, station: st, device_id: deviceId() }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { beep(); return toast(t("No badge is on this station's reader"), true); }
        startSession(j); loggedIn(j.operator_id);
      });
    }, function () { toast(t("The gateway cannot be reached"), true); });
  }
  function startSession(j) {
    LS.setItem("wims.session", j.token);
    LS.setItem("wims.session.who", JSON.stringify({ id: j.operator_id, name: j.name, roles: j.roles, method: j.method }));
  }
  function endSession() { LS.removeItem("wims.session"); LS.removeItem("wims.session.who"); }
  function station() { return LS.getItem("wims.station") || deviceId(); }
  function logout() {
    var had = LS.getItem("wims.session");
    var done = function () { endSession(); state.operator = ""; LS.removeItem("wims.operator"); home(); };
    if (!had) { return done(); }
    api("DELETE", "/v1/sessions/current").then(done, done);
  }
  document.getElementById("login-go").addEventListener("click", login);
  document.getElementById("login-badge").addEventListener("click", badgeLogin);
  ["login-id", "login-pin"].forEach(function (id) {
    document.getElementById(id).addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); login(); } });
  });
  document.getElementById("logout").addEventListener("click", logout);
  var installPrompt = null;
  window.addEventListener("beforeinstallprompt", function (ev) { ev.preventDefault(); installPrompt = ev;
    document.getElementById("install").classList.remove("hidden"); });
  document.getElementById("install").addEventListener("click", function () { if (installPrompt) { installPrompt.prompt(); } });

  try { var known = JSON.parse(LS.getItem("wims.features") || "null"); if (known) { state.features = known; } } catch (e) { /* first run */ }
  showFeatures();
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
  window.wims = { replay: replay, features: function () { return state.features; }, pending: function () { return count("outbox"); }, t: t };
})();
