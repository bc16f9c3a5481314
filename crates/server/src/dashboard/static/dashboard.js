// kinoflow's dashboard: what the server-rendered pages cannot do alone.
// Uploads go straight to storage through the presign routes; live state
// comes over Server-Sent Events; CSV becomes a sortable table and a chart.
// Everything it fetches is on this server (or the storage's presigned URL).
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json", "x-csrf-token": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data?.error?.message || `${method} ${url}: ${response.status}`);
  }
  return data;
}

// ---- Uploads: presigned, in parts sent straight to storage, resumed after a
// dropped connection (only the parts that did not arrive are sent again, also
// after the page was reloaded and the same file chosen again).

const PART_BYTES = 8 * 1024 * 1024;
const PART_TRIES = 5;

function putWithProgress(url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    for (const [name, value] of Object.entries(headers || {})) {
      request.setRequestHeader(name, value);
    }
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () =>
      request.status < 300 ? resolve() : reject(new Error(`the storage answered ${request.status}`));
    request.onerror = () => reject(new Error("the connection dropped"));
    request.send(body);
  });
}

const pause = (ms) => new Promise((wake) => setTimeout(wake, ms));

// An upload of this file that was begun and has not expired, to resume.
function begunUpload(file) {
  const who = document.querySelector(".who")?.textContent || "";
  const key = `kinoflow-upload:${who}:${file.name}:${file.size}:${file.lastModified}`;
  const saved = JSON.parse(localStorage.getItem(key) || "null");
  const usable = saved && Date.parse(saved.expires_at) > Date.now() + 60000;
  return {
    saved: usable ? saved : null,
    keep: (presigned) => localStorage.setItem(key, JSON.stringify(presigned)),
    forget: () => localStorage.removeItem(key),
  };
}

async function sendInParts(file, partBytes, report) {
  const begun = begunUpload(file);
  let presigned = begun.saved;
  let status = null;
  if (presigned) {
    // An upload begun earlier, unless it is gone (swept, completed, refused).
    status = await api("GET", `/v1/uploads/${presigned.upload_id}/parts?part_size=${presigned.part_size}`)
      .catch(() => null);
    if (!status) begun.forget();
  }
  if (!status) {
    presigned = await api("POST", "/v1/uploads/presign", {
      filename: file.name, size: file.size, content_type: file.type || undefined, part_size: partBytes,
    });
    presigned.part_size = partBytes;
    begun.keep(presigned);
    status = { received: [] };
  }
  const { part_size: size } = presigned;
  const arrived = new Set(status.received);
  let done = [...arrived].reduce((sum, n) => sum + Math.min(size, file.size - (n - 1) * size), 0);
  for (const part of presigned.parts) {
    if (arrived.has(part.number)) continue;
    const slice = file.slice((part.number - 1) * size, part.number * size);
    for (let attempt = 1; ; attempt++) {
      try {
        await putWithProgress(part.url, presigned.headers, slice, (loaded) => report(done + loaded, attempt));
        break;
      } catch (error) {
        if (attempt >= PART_TRIES) throw error;
        report(done, attempt + 1, error);
        await pause(500 * attempt);
      }
    }
    done += slice.size;
    report(done, 1);
  }
  await api("POST", `/v1/uploads/${presigned.upload_id}/complete`, { part_size: size });
  begun.forget();
  return presigned.upload_id;
}

function setupUpload(zone) {
  const input = zone.querySelector("#file");
  const hidden = zone.querySelector("#upload_id");
  const bar = zone.querySelector("#upload-progress");
  const status = zone.querySelector("#upload-status");
  const retry = zone.querySelector("#upload-retry");
  const submit = document.querySelector("#submit");
  let chosen = null;

  async function send(file) {
    chosen = file;
    retry.hidden = true;
    hidden.value = "";
    submit.disabled = true;
    bar.hidden = false;
    const partBytes = Number(zone.dataset.partBytes) || PART_BYTES;
    const report = (sent, attempt, error) => {
      bar.value = Math.round((sent / file.size) * 100);
      status.textContent = error
        ? `${error.message}; sending the part again (try ${attempt} of ${PART_TRIES})…`
        : `Uploading ${file.name}: ${bar.value}%`;
    };
    try {
      hidden.value = await sendInParts(file, partBytes, report);
      bar.value = 100;
      status.textContent = `Uploaded: ${file.name}`;
      zone.dataset.uploaded = "true";
    } catch (error) {
      status.textContent = `The upload stopped: ${error.message}. Try again to send the rest.`;
      retry.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  input.addEventListener("change", () => input.files[0] && send(input.files[0]));
  retry.addEventListener("click", () => chosen && send(chosen));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) send(file);
  });
}

// ---- Live state and progress.

function showProgress(root, progress, stage) {
  const percent = Math.round(Math.max(0, Math.min(1, progress)) * 100);
  root.querySelectorAll('[data-field="progress"]').forEach((bar) => { bar.value = percent; });
  root.querySelectorAll('[data-field="percent"]').forEach((text) => { text.textContent = `${percent}%`; });
  if (stage !== undefined) {
    root.querySelectorAll('[data-field="stage"]').forEach((text) => { text.textContent = stage || ""; });
  }
}

function showState(root, state) {
  root.dataset.state = state;
  root.querySelectorAll('[data-field="state"]').forEach((text) => { text.textContent = state; });
}

const TERMINAL = ["succeeded", "failed", "cancelled"];

function followJob(summary) {
  if (TERMINAL.includes(summary.dataset.state)) return;
  const events = new EventSource(summary.dataset.events);
  events.addEventListener("progress", (event) => {
    const data = JSON.parse(event.data);
    showProgress(summary, data.progress, data.stage);
  });
  events.addEventListener("state", (event) => showState(summary, JSON.parse(event.data).state));
  events.addEventListener("end", async (event) => {
    events.close();
    const job = JSON.parse(event.data);
    showState(summary, job.state);
    showProgress(summary, job.progress, job.stage);
    summary.querySelector(".actions")?.replaceChildren(...endedActions(job));
    if (job.error) {
      const error = document.createElement("p");
      error.className = "error";
      error.setAttribute("role", "alert");
      error.textContent = job.error;
      summary.append(error);
    }
    if (job.state === "succeeded") {
      const results = document.querySelector("#results");
      const response = await fetch(results.dataset.src);
      // A session that ended meanwhile is sent to the sign-in page: not results.
      if (response.ok && !response.redirected) {
        results.innerHTML = await response.text();
        enhanceResults(results);
      }
    }
  });
}

// The forms of what can be done to a job that has ended.
function endedActions(job) {
  const actions = job.state === "succeeded" ? ["delete"] : ["retry", "delete"];
  return actions.map((action) => {
    const form = document.createElement("form");
    form.className = "inline";
    form.method = "post";
    form.action = `/jobs/${job.id}/${action}`;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf";
    token.value = csrfToken();
    const button = document.createElement("button");
    button.type = "submit";
    button.textContent = action[0].toUpperCase() + action.slice(1);
    if (action === "delete") button.className = "danger";
    form.append(token, button);
    return form;
  });
}

function actionButton(action, id) {
  const button = document.createElement("button");
  button.type = "submit";
  button.name = "one";
  button.value = `${action}:${id}`;
  button.className = action === "delete" ? "small danger" : "small";
  button.textContent = action[0].toUpperCase() + action.slice(1);
  button.setAttribute("aria-label", `${button.textContent} job …${id.slice(-8)}`);
  return button;
}

function showNewerJobs(count) {
  let notice = document.querySelector("#newer-jobs");
  if (!notice) {
    notice = document.createElement("p");
    notice.id = "newer-jobs";
    notice.className = "notice";
    notice.setAttribute("role", "status");
    document.querySelector("#bulk").before(notice);
  }
  const link = document.createElement("a");
  link.href = window.location.href;
  link.textContent = `${count} new job${count === 1 ? "" : "s"}: show them`;
  notice.replaceChildren(link);
}

function followJobList(table) {
  const rows = new Map([...table.querySelectorAll("tr[data-job]")].map((row) => [row.dataset.job, row]));
  const live = [...rows.values()].filter((row) => !TERMINAL.includes(row.dataset.state));
  const ids = live.map((row) => row.dataset.job).join(",");
  const since = table.dataset.since ? `&since=${table.dataset.since}` : "";
  const events = new EventSource(`${table.dataset.live}?ids=${encodeURIComponent(ids)}${since}`);
  const update = (event) => {
    const snapshot = JSON.parse(event.data);
    if (snapshot.newer > 0) showNewerJobs(snapshot.newer);
    for (const job of snapshot.jobs) {
      const row = rows.get(job.id);
      if (!row) continue;
      const changed = row.dataset.state !== job.state;
      showState(row, job.state);
      showProgress(row, job.progress);
      if (changed) {
        const cell = row.querySelector(".actions");
        cell.replaceChildren(...job.actions.map((action) => actionButton(action, job.id)));
      }
    }
  };
  events.addEventListener("snapshot", update);
  events.addEventListener("last", (event) => {
    update(event);
    events.close();
  });
}

function followBoard(board) {
  const events = new EventSource(board.dataset.live);
  events.addEventListener("snapshot", (event) => {
    // Not under someone's keyboard: replacing the board would lose their focus.
    const focused = document.activeElement;
    if (focused && focused !== board && board.contains(focused)) return;
    board.innerHTML = JSON.parse(event.data).html;
  });
}

// ---- Results: CSV as a sortable table and a chart, JSON pretty, frames whole.

function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows.filter((r) => r.length > 1 || r[0] !== "");
}

const TABLE_ROWS = 500;
const SERIES_COLOURS = ["#0b5cad", "#b3261e", "#1b7f3b", "#7a4cc2", "#a15c00", "#006d77", "#c2185b", "#4e5b31"];

function sortableTable(header, body) {
  const table = document.createElement("table");
  table.className = "sortable";
  const head = table.createTHead().insertRow();
  const tbody = table.createTBody();
  const fill = (rows) => tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = tr.insertCell();
      td.textContent = cell;
      if (cell !== "" && !isNaN(Number(cell))) td.className = "number";
    }
    return tr;
  }));
  header.forEach((name, column) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.setAttribute("aria-sort", "none");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = name;
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      head.querySelectorAll("th").forEach((other) => other.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const key = (cells) => cells[column];
      body.sort((a, b) => {
        const x = Number(key(a)), y = Number(key(b));
        const order = !isNaN(x) && !isNaN(y) && key(a) !== "" && key(b) !== ""
          ? x - y : String(key(a)).localeCompare(String(key(b)));
        return ascending ? order : -order;
      });
      fill(body.slice(0, TABLE_ROWS));
    });
    th.append(button);
    head.append(th);
  });
  fill(body.slice(0, TABLE_ROWS));
  return table;
}

function svgElement(name, attributes) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

// Columns that count rows rather than measure something.
const COUNTERS = /^(frame|index|rank|id)$/i;

// A line chart of every numeric column against time (a column named time…),
// else against the first column.
function lineChart(header, body, title) {
  const timeColumn = header.findIndex((name) => /^time/i.test(name));
  const xColumn = timeColumn >= 0 ? timeColumn : 0;
  const xs = body.map((cells) => Number(cells[xColumn]));
  if (xs.some(isNaN) || xs.length < 2) return null;
  // Several rows at one time (a row per face) are not one line each.
  if (xs.some((value, i) => i > 0 && value <= xs[i - 1])) return null;
  const columns = header.map((_, i) => i)
    .filter((i) => i !== xColumn && !COUNTERS.test(header[i]))
    .filter((i) => body.every((cells) => cells[i] === "" || !isNaN(Number(cells[i]))))
    .filter((i) => body.some((cells) => cells[i] !== ""))
    .slice(0, SERIES_COLOURS.length);
  if (columns.length === 0) return null;
  const values = columns.flatMap((i) => body.map((cells) => cells[i]).filter((v) => v !== "").map(Number));
  // Not Math.min(...values): a long CSV has more values than a call takes arguments.
  const extent = (list) => list.reduce(([low, high], v) => [Math.min(low, v), Math.max(high, v)], [Infinity, -Infinity]);
  const [xMin, xMax] = extent(xs);
  const [yMin, yMax] = extent(values);
  const W = 640, H = 240, L = 48, B = 24;
  const x = (v) => L + ((v - xMin) / (xMax - xMin || 1)) * (W - L - 8);
  const xOf = (cells) => x(Number(cells[xColumn]));
  const y = (v) => 8 + (1 - (v - yMin) / (yMax - yMin || 1)) * (H - B - 8);
  const svg = svgElement("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart line",
    "aria-label": `${title}: ${columns.map((i) => header[i]).join(", ")} against ${header[xColumn]}` });
  svg.append(svgElement("line", { x1: L, y1: H - B, x2: W, y2: H - B, class: "axis" }));
  svg.append(svgElement("line", { x1: L, y1: 0, x2: L, y2: H - B, class: "axis" }));
  const label = (text, attributes) => {
    const t = svgElement("text", attributes);
    t.textContent = text;
    svg.append(t);
  };
  label(yMax.toFixed(1), { x: L - 4, y: 14, "text-anchor": "end" });
  label(yMin.toFixed(1), { x: L - 4, y: H - B, "text-anchor": "end" });
  label(`${header[xColumn]} ${xMin}–${xMax}`, { x: W - 4, y: H - 6, "text-anchor": "end" });
  columns.forEach((column, index) => {
    const points = body.filter((cells) => cells[column] !== "")
      .map((cells) => `${xOf(cells).toFixed(1)},${y(Number(cells[column])).toFixed(1)}`);
    svg.append(svgElement("polyline", { points: points.join(" "), fill: "none",
      stroke: SERIES_COLOURS[index], "stroke-width": 1.5 }));
  });
  const legend = document.createElement("ul");
  legend.className = "legend";
  columns.forEach((column, index) => {
    const item = document.createElement("li");
    item.style.setProperty("--swatch", SERIES_COLOURS[index]);
    item.textContent = header[column];
    legend.append(item);
  });
  const wrapper = document.createElement("div");
  wrapper.className = "chart-wrap";
  wrapper.append(svg, legend);
  return wrapper;
}

const CSV_SHOWN_BYTES = 20 * 1024 * 1024;

async function showCsv(figure) {
  const note = figure.querySelector(".help");
  if (Number(figure.dataset.size) > CSV_SHOWN_BYTES) {
    note.textContent = "Too large to show here; download it below.";
    return;
  }
  const response = await fetch(figure.dataset.src);
  if (!response.ok) { note.textContent = "The table could not be read."; return; }
  const rows = parseCsv(await response.text());
  if (rows.length < 2) { note.textContent = "No rows."; return; }
  const [header, ...body] = rows;
  note.textContent = `${body.length} rows${body.length > TABLE_ROWS ? `; the first ${TABLE_ROWS} shown` : ""}. Sort by a column with its heading.`;
  const chart = lineChart(header, body, figure.dataset.name);
  if (chart) figure.append(chart);
  const scroll = document.createElement("div");
  scroll.className = "scroll";
  // A region that scrolls is reached by keyboard too.
  scroll.tabIndex = 0;
  scroll.setAttribute("role", "region");
  scroll.setAttribute("aria-label", `${figure.dataset.name}, table`);
  scroll.append(sortableTable(header, body));
  figure.append(scroll);
}

const JSON_SHOWN_BYTES = 512 * 1024;

async function showJson(pre) {
  if (Number(pre.dataset.size) > JSON_SHOWN_BYTES) {
    pre.textContent = "Too large to show here; download it below.";
    return;
  }
  const response = await fetch(pre.dataset.src);
  if (!response.ok) { pre.textContent = "Could not be read."; return; }
  const data = await response.json();
  pre.textContent = JSON.stringify(data, null, 2);
  for (const chart of timelineCharts(data)) pre.before(chart);
}

const PEOPLE_CHARTED = 6;

// An emotion timeline ({persons: [{face_id, times_s, probabilities: {emotion: [...]}}]})
// as one chart per person of each emotion's probability over time.
function timelineCharts(data) {
  const persons = Array.isArray(data?.persons) ? data.persons : [];
  return persons
    .filter((person) => Array.isArray(person.times_s) && person.probabilities)
    .slice(0, PEOPLE_CHARTED)
    .map((person) => {
      const emotions = Object.keys(person.probabilities);
      const body = person.times_s.map((time, i) =>
        [String(time), ...emotions.map((emotion) => String(person.probabilities[emotion][i] ?? ""))]);
      const chart = lineChart(["time_s", ...emotions], body, `Person ${person.face_id}`);
      if (!chart) return null;
      const heading = document.createElement("h3");
      heading.textContent = `Person ${person.face_id}`;
      chart.prepend(heading);
      return chart;
    })
    .filter(Boolean);
}

function frameViewer() {
  let dialog = document.querySelector("dialog.viewer");
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.className = "viewer";
  dialog.setAttribute("aria-label", "Frame");
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Close";
  close.addEventListener("click", () => dialog.close());
  const image = document.createElement("img");
  dialog.append(close, image);
  document.body.append(dialog);
  return dialog;
}

function enhanceResults(root) {
  root.querySelectorAll("figure.csv[data-src]").forEach(showCsv);
  root.querySelectorAll("pre.json[data-src]").forEach(showJson);
  root.querySelectorAll("a.frame").forEach((link) => link.addEventListener("click", (event) => {
    event.preventDefault();
    const dialog = frameViewer();
    const image = dialog.querySelector("img");
    image.src = link.href;
    image.alt = link.getAttribute("aria-label");
    dialog.showModal();
  }));
}

// ---- Small things.

function selectAll(box) {
  box.addEventListener("change", () => {
    document.querySelectorAll('#jobs-table input[name="id"]').forEach((other) => { other.checked = box.checked; });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-upload]").forEach(setupUpload);
  document.querySelectorAll("#job[data-events]").forEach(followJob);
  document.querySelectorAll("#jobs-table[data-live]").forEach(followJobList);
  document.querySelectorAll("#board[data-live]").forEach(followBoard);
  document.querySelectorAll("#select-all").forEach(selectAll);
  enhanceResults(document);
});
