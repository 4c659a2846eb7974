// The console.  Every value from the server is written with textContent, never as HTML.
// Updates arrive as server-sent events (live); nothing polls the job lists.
"use strict";

const STATES = ["waiting", "active", "delayed", "completed", "failed"];
const RANK = {viewer: 1, operator: 2, admin: 3};
const PAGE_SIZE = 50;
const LOG_PAGE = 100;
let session = {name: "", role: "viewer", csrf: ""};
let queues = [];
let search = null;          // {name, field, value, cursor, matches, scanned_to, total, next_cursor}
let logStart = null;        // first log line shown on the job page (null: the newest page)
let live = null;            // the EventSource
let lastEventId = "";
let refreshTimer = null;
let retryTimer = null;

// -- small helpers ---------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : "—";
}

function json(value) {
  return value === undefined || value === null ? "—" : JSON.stringify(value, null, 2);
}

function can(role) {
  return RANK[session.role] >= RANK[role];
}

function route() {
  const p = new URLSearchParams(location.hash.slice(1));
  return {queue: p.get("queue"), state: p.get("state") || "waiting",
          page: Math.max(parseInt(p.get("page") || "1", 10) || 1, 1), job: p.get("job")};
}

function go(parts) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(parts)) if (v !== null && v !== undefined) p.set(k, v);
  location.hash = p.toString();
}

function queuePath(name) {
  return "queues/" + encodeURIComponent(name);
}

// -- talking to the API ------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body.message || ("HTTP " + status));
    this.status = status;
  }
}

async function call(method, path, body) {
  const headers = {"Accept": "application/json"};
  if (method !== "GET") headers["X-CSRF-Token"] = session.csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {method, headers, credentials: "same-origin",
                                  body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    unavailable("Cannot reach the API server (" + e.message + "). Retrying…");
    throw e;
  }
  const data = await response.json().catch(() => ({message: response.statusText}));
  if (response.status === 401) {
    location.assign("login");
    throw new ApiError(401, data);
  }
  if (response.status === 503) {
    unavailable(data.message || "Redis is unreachable. Retrying…");
    throw new ApiError(503, data);
  }
  available();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function show(text, isError) {
  const s = $("status");
  s.textContent = text;
  s.className = isError ? "error" : "muted";
}

function unavailable(message) {
  const b = $("banner");
  b.textContent = message;
  b.hidden = false;
  if (!retryTimer) retryTimer = setInterval(() => render().catch(() => {}), 3000);
}

function available() {
  if ($("banner").hidden) return;
  $("banner").hidden = true;
  if (retryTimer) { clearInterval(retryTimer); retryTimer = null; }
  if (!live) connect();
  scheduleRefresh(0);
}

function button(parent, label, action, opts = {}) {
  const b = el("button", label, opts.danger ? "danger" : "");
  b.type = "button";
  if (opts.role && !can(opts.role)) {
    b.disabled = true;
    b.title = "needs the " + opts.role + " role";
  }
  b.addEventListener("click", async () => {
    if (opts.confirm && !window.confirm(opts.confirm)) return;
    try {
      const out = await action();
      if (out && out.message) show(out.message, false);
    } catch (e) {
      if (e.status !== 503) show(e.message, true);
    }
    scheduleRefresh(0);
  });
  parent.appendChild(b);
  return b;
}

// -- the overview ----------------------------------------------------------------------------

async function renderOverview() {
  queues = await call("GET", "queues");
  const body = document.querySelector("#queues tbody");
  body.replaceChildren();
  for (const q of queues) {
    const row = body.insertRow();
    const name = row.insertCell();
    const a = el("a", q.name);
    a.href = "#" + new URLSearchParams({queue: q.name}).toString();
    name.appendChild(a);
    if (q.paused) name.appendChild(el("span", " (paused)", "paused"));
    for (const s of STATES) {
      const n = q.counts[s] + (s === "waiting" ? (q.counts.paused || 0) : 0);
      cell(row, n, "num").dataset.state = s;
    }
    row.dataset.queue = q.name;
    row.insertCell().dataset.spark = q.name;
  }
  for (const q of queues) sparkline(q.name).catch(() => {});
  const audit = $("audit-panel");
  if (audit.open) await renderAudit();
}

async function sparkline(name) {
  const m = await call("GET", queuePath(name) + "/metrics?minutes=60");
  const td = document.querySelector(`td[data-spark="${CSS.escape(name)}"]`);
  if (!td) return;
  const points = m.completed.data.slice().reverse();   // oldest minute first
  const max = Math.max(1, ...points);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", "120");
  svg.setAttribute("height", "24");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points.map((v, i) => `${(i * 120 / Math.max(points.length - 1, 1)).toFixed(1)},${(22 - v * 20 / max).toFixed(1)}`).join(" "));
  svg.appendChild(line);
  const total = points.reduce((a, b) => a + b, 0);
  td.replaceChildren(svg, el("span", " " + total + " done", "muted"));
}

async function renderAudit() {
  const entries = await call("GET", "audit?count=50");
  const body = document.querySelector("#audit tbody");
  body.replaceChildren();
  for (const e of entries) {
    const row = body.insertRow();
    for (const v of [when(e.at), e.who, e.role, e.action, e.queue, e.job, e.outcome]) cell(row, v);
  }
}

// -- one queue -------------------------------------------------------------------------------

async function renderQueue(r) {
  const q = queues.find((x) => x.name === r.queue);
  $("queue-title").textContent = r.queue + (q && q.paused ? " (paused)" : "");
  renderQueueActions(r.queue, q);
  const nav = $("states");
  nav.replaceChildren();
  for (const s of STATES) {
    const n = q ? q.counts[s] + (s === "waiting" ? (q.counts.paused || 0) : 0) : "";
    const a = el("a", `${s} (${n})`, s === r.state ? "current" : "");
    a.href = "#" + new URLSearchParams({queue: r.queue, state: s}).toString();
    a.dataset.state = s;
    nav.appendChild(a);
  }
  if (search) await renderSearch(r);
  else await renderPage(r);
  await Promise.all([renderWorkers(r.queue), renderRepeats(r.queue), renderRateLimit(r.queue)]);
}

function renderQueueActions(name, q) {
  const box = $("queue-actions");
  box.replaceChildren();
  const path = queuePath(name);
  if (q && q.paused) button(box, "Resume", () => call("POST", path + "/resume"), {role: "operator"});
  else button(box, "Pause", () => call("POST", path + "/pause"), {role: "operator"});
  button(box, "Promote all delayed", () => call("POST", path + "/promote-all"),
         {role: "operator", confirm: `Run every delayed job of ${name} now?`});
  button(box, "Retry all failed", () => call("POST", path + "/retry-failed"),
         {role: "operator", confirm: `Retry every failed job of ${name}?`});
  for (const status of ["completed", "failed"]) {
    button(box, "Clean " + status, () => {
      const grace = window.prompt(`Delete ${status} jobs of ${name} that finished more than how many seconds ago?`, "0");
      if (grace === null) return null;
      return call("DELETE", `${path}/clean?status=${status}&grace_ms=${Math.max(0, Math.round(Number(grace) * 1000)) || 0}`);
    }, {role: "operator", danger: true});
  }
  button(box, "Empty", () => call("DELETE", path + "/waiting"),
         {role: "admin", danger: true, confirm: `Delete every waiting and delayed job of ${name}?`});
  button(box, "Remove queue", async () => {
    const typed = window.prompt(`This deletes queue ${name} with all its jobs, logs and settings. Type its name to confirm.`);
    if (typed !== name) return {message: "Queue not removed (the name did not match)"};
    const out = await call("DELETE", path);
    go({});
    return out;
  }, {role: "admin", danger: true});
}

async function renderPage(r) {
  const data = await call("GET", `${queuePath(r.queue)}/jobs?state=${r.state}&page=${r.page}&page_size=${PAGE_SIZE}`);
  $("search-info").textContent = "";
  pager($("pager"), data.page, data.pages, data.total, (page) => go({queue: r.queue, state: r.state, page}));
  jobRows(r.queue, data.jobs);
}

async function renderSearch(r) {
  $("pager").replaceChildren();
  jobRows(r.queue, search.matches);
  const info = $("search-info");
  info.replaceChildren(el("span", `${search.matches.length} match(es) among the first ${search.scanned_to} of ${search.total} ${r.state} jobs. `));
  if (search.next_cursor !== null) button(info, "Look further", () => searchMore(r));
}

async function searchMore(r) {
  const p = new URLSearchParams({state: r.state, cursor: search.next_cursor, window: 1000});
  for (const k of ["name", "field", "value"]) if (search[k]) p.set(k, search[k]);
  const out = await call("GET", `${queuePath(r.queue)}/jobs/search?${p}`);
  search = {...search, matches: search.matches.concat(out.matches), scanned_to: out.scanned_to,
            total: out.total, next_cursor: out.next_cursor};
  await renderSearch(r);
}

function pager(box, page, pages, total, goTo, unit = "jobs") {
  box.replaceChildren();
  const b = (label, target, disabled) => {
    const x = el("button", label);
    x.type = "button";
    x.disabled = disabled;
    x.addEventListener("click", () => goTo(target));
    box.appendChild(x);
  };
  b("« first", 1, page <= 1);
  b("‹ prev", page - 1, page <= 1);
  box.appendChild(el("span", ` page ${page} of ${pages} (${total} ${unit}) `, "page-info"));
  b("next ›", page + 1, page >= pages);
  b("last »", pages, page >= pages);
}

function jobRows(queue, jobs) {
  const body = document.querySelector("#jobs tbody");
  body.replaceChildren();
  for (const j of jobs) {
    const row = body.insertRow();
    row.dataset.job = j.id;
    const id = row.insertCell();
    const a = el("a", j.id);
    a.href = "#" + new URLSearchParams({queue, job: j.id}).toString();
    id.appendChild(a);
    cell(row, j.name);
    cell(row, j.attempts_made, "num");
    cell(row, typeof j.progress === "number" ? j.progress + "%" : JSON.stringify(j.progress));
    const data = row.insertCell();
    data.appendChild(el("pre", JSON.stringify(j.data)));
    cell(row, j.state === "failed" ? j.failed_reason
         : j.state === "delayed" ? "due " + when(j.delayed_until)
         : j.state === "completed" ? JSON.stringify(j.result) : "—");
    jobButtons(row.insertCell(), queue, j);
  }
}

function jobButtons(box, queue, j) {
  const path = `${queuePath(queue)}/jobs/${encodeURIComponent(j.id)}`;
  if (j.state === "failed") button(box, "retry", () => call("POST", path + "/retry"), {role: "operator"});
  if (j.state === "delayed") button(box, "promote", () => call("POST", path + "/promote"), {role: "operator"});
  if (["waiting", "delayed", "active"].includes(j.state))
    button(box, "cancel", () => call("POST", path + "/cancel", {reason: "cancelled from the console"}),
           {role: "operator", confirm: `Cancel job ${j.id}?`});
  if (j.state !== "active")
    button(box, "remove", () => call("DELETE", path), {role: "operator", danger: true, confirm: `Delete job ${j.id}?`});
}

async function renderWorkers(name) {
  const body = document.querySelector("#workers tbody");
  const workers = await call("GET", queuePath(name) + "/workers");
  body.replaceChildren();
  for (const w of workers) {
    const row = body.insertRow();
    for (const v of [w.host, w.pid, (w.queues || []).join(", "), when(w.last_heartbeat)]) cell(row, v);
  }
  if (!workers.length) cell(body.insertRow(), "no live worker");
}

async function renderRepeats(name) {
  const body = document.querySelector("#repeats tbody");
  const repeats = await call("GET", queuePath(name) + "/repeats");
  body.replaceChildren();
  for (const r of repeats) {
    const row = body.insertRow();
    cell(row, r.name);
    cell(row, r.cron ? r.cron + (r.tz ? " " + r.tz : "") : "every " + r.every + " ms");
    cell(row, when(r.next_run));
    cell(row, r.count, "num");
    button(row.insertCell(), "remove",
           () => call("DELETE", `${queuePath(name)}/repeats/${encodeURIComponent(r.key)}`),
           {role: "admin", danger: true, confirm: `Stop repeat ${r.name}?`});
  }
  if (!repeats.length) cell(body.insertRow(), "none");
}

async function renderRateLimit(name) {
  const m = await call("GET", queuePath(name) + "/metrics?minutes=1");
  const r = m.rate_limit;
  $("rate-limit").textContent = r ? `at most ${r.max} per ${r.duration} ms` + (r.group_key ? ` per ${r.group_key}` : "") : "none";
}

// -- one job ---------------------------------------------------------------------------------

async function renderJob(r) {
  const path = `${queuePath(r.queue)}/jobs/${encodeURIComponent(r.job)}`;
  const j = await call("GET", path + "?log_count=0");
  $("job-back").href = "#" + new URLSearchParams({queue: r.queue, state: j.state}).toString();
  $("job-title").textContent = `${j.name} · ${j.id} · ${j.state}`;
  const actions = $("job-actions");
  actions.replaceChildren();
  jobButtons(actions, r.queue, j);
  const pct = typeof j.progress === "number" ? Math.max(0, Math.min(100, j.progress)) : 0;
  $("job-progress-bar").style.width = pct + "%";
  $("job-progress-text").textContent = "progress: " + JSON.stringify(j.progress);
  const facts = $("job-timeline").tBodies[0];
  facts.replaceChildren();
  const fact = (label, value) => { const row = facts.insertRow(); row.appendChild(el("th", label)); cell(row, value); };
  fact("added", when(j.timestamp));
  if (j.delayed_until) fact("delayed until", when(j.delayed_until));
  fact("started", when(j.processed_on));
  fact("finished", when(j.finished_on));
  fact("attempts made", j.attempts_made + (j.opts.attempts ? " of " + j.opts.attempts : ""));
  fact("priority", j.priority || "none");
  $("job-data").textContent = json(j.data);
  $("job-opts").textContent = json(j.opts);
  $("job-result").textContent = json(j.result);
  $("job-reason").textContent = j.failed_reason || "—";
  const traces = $("job-stacktraces");
  traces.replaceChildren();
  j.stacktrace.forEach((t) => traces.appendChild(el("pre", t, "trace")));
  if (!j.stacktrace.length) traces.appendChild(el("p", "none", "muted"));
  await renderLogs(path);
}

async function renderLogs(path) {
  const head = await call("GET", path + "/logs?start=0&count=1");
  const total = head.total;
  const start = logStart === null ? Math.max(total - LOG_PAGE, 0) : logStart;
  const page = await call("GET", `${path}/logs?start=${start}&count=${LOG_PAGE}`);
  $("job-log-total").textContent = `(${total} lines)`;
  $("job-logs").textContent = page.logs.join("\n") || "no log lines";
  const pages = Math.max(Math.ceil(total / LOG_PAGE), 1);
  pager($("log-pager"), Math.floor(start / LOG_PAGE) + 1, pages, total, (p) => {
    logStart = (p - 1) * LOG_PAGE;
    scheduleRefresh(0);
  }, "lines");
}

// -- rendering and live updates ----------------------------------------------------------------

let rendering = null;
let renderAgain = false;

// One render at a time; a refresh asked for meanwhile runs once the current one ends, so
// a change made during a render is never shown stale.
async function render() {
  if (rendering) {
    renderAgain = true;
    return rendering;
  }
  rendering = (async () => {
    do {
      renderAgain = false;
      await renderOnce();
    } while (renderAgain);
  })().finally(() => { rendering = null; });
  return rendering;
}

async function renderOnce() {
  const r = route();
  await renderOverview();
  $("overview").hidden = Boolean(r.queue);
  $("queue-view").hidden = !r.queue || Boolean(r.job);
  $("job-view").hidden = !r.job;
  if (r.queue && r.job) await renderJob(r);
  else if (r.queue) await renderQueue(r);
  $("live").textContent = live && live.readyState === EventSource.OPEN ? "● live" : "○ connecting";
}

function scheduleRefresh(delay) {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { refreshTimer = null; render().catch(() => {}); }, delay);
}

function connect() {
  if (live) live.close();
  live = new EventSource("live" + (lastEventId ? "?last_id=" + encodeURIComponent(lastEventId) : ""));
  live.addEventListener("open", () => { $("live").textContent = "● live"; });
  live.addEventListener("job", (e) => {
    lastEventId = e.lastEventId || lastEventId;
    const ev = JSON.parse(e.data);
    const r = route();
    // Bursts of events become one refresh; the job page refreshes at once for its own job.
    scheduleRefresh(r.job && r.job === ev.job_id ? 50 : 400);
  });
  live.addEventListener("queues", (e) => { lastEventId = e.lastEventId || lastEventId; scheduleRefresh(0); });
  live.addEventListener("unavailable", (e) => unavailable(JSON.parse(e.data).message + ". Retrying…"));
  live.addEventListener("available", () => available());
  live.addEventListener("error", () => {
    $("live").textContent = "○ reconnecting";
    if (live.readyState === EventSource.CLOSED) {   // refused (401/503): try again ourselves
      live = null;
      setTimeout(() => { render().then(connect).catch(() => {}); }, 3000);
    }
  });
}

async function start() {
  try {
    session = await call("GET", "auth/session");
  } catch (e) {
    if (e.status !== 401) setTimeout(start, 3000);
    return;
  }
  $("who").textContent = `${session.name} (${session.role})`;
  $("logout").hidden = session.via === "open";
  $("logout").addEventListener("click", async () => {
    await call("POST", "auth/logout").catch(() => {});
    location.assign("login");
  });
  $("audit-panel").addEventListener("toggle", () => { if ($("audit-panel").open) renderAudit().catch(() => {}); });
  $("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const r = route();
    if (event.submitter && event.submitter.value === "id") {
      if (form.id.value) go({queue: r.queue, job: form.id.value.trim()});
      return;
    }
    search = {name: form.name.value || null, field: form.field.value || null, value: form.value.value || null,
              matches: [], next_cursor: 0, scanned_to: 0, total: 0};
    try { await searchMore(r); } catch (e) { search = null; show(e.message, true); }
  });
  $("search-clear").addEventListener("click", () => { search = null; $("search").reset(); scheduleRefresh(0); });
  window.addEventListener("hashchange", () => { search = null; logStart = null; scheduleRefresh(0); });
  connect();
  await render().catch(() => {});
}

start();
