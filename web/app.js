// CephTrace viewer: opens a cephalogram, asks the server for the landmarks (25, or 39 with the
// extended model), lets the
// clinician correct them, and shows the analyses the server computes for the corrected set.
// Plain JavaScript, no dependencies; everything it needs comes from this server.
"use strict";

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const COLOURS = { high: "#10b981", medium: "#3b82f6", low: "#f59e0b", corrected: "#d946ef", gt: "#ef4444" };
const SN_ASSUMED_MM = 71;

const state = {
  token: sessionStorage.getItem("cephtrace-token") || "",
  fileName: "", image: null, width: 0, height: 0,
  result: null,            // the /v1/predict answer
  points: [],              // current positions {x, y}, canonical order
  predicted: [],           // the engine's positions
  selected: -1,
  undo: [], redo: [],
  scale: { method: "px" }, // px | ruler | dicom | sn71 (+ mmPerPx, ruler {a, b, mm})
  calibrating: null,       // {clicks: [...]} while picking the two ruler marks
  gt: null,                // ground truth: {points: [{x,y}|null], spacing}
  view: { scale: 1, ox: 0, oy: 0 },
  analysis: null, previousAnalysis: null, analysisVersion: 0,
  lastExport: null,        // {name, text} of the last JSON/CSV export (also downloaded)
};

// ---------------------------------------------------------------------------- server
async function api(path, { method = "GET", body, type, query } = {}) {
  const url = path + (query ? "?" + new URLSearchParams(query) : "");
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = {};
    if (type) headers["Content-Type"] = type;
    if (state.token) headers["Authorization"] = "Bearer " + state.token;
    const res = await fetch(url, { method, body, headers });
    if (res.status === 401 && attempt === 0 && await askToken()) continue;
    if (!res.ok) {
      let message = res.status + " " + res.statusText;
      try { message = (await res.json()).error.message; } catch (_) { /* not JSON */ }
      const error = new Error(message);
      error.status = res.status;
      throw error;
    }
    return res;
  }
}

function askToken() {
  return new Promise((resolve) => {
    const dialog = $("token-dialog");
    dialog.onclose = () => {
      state.token = $("token-input").value.trim();
      sessionStorage.setItem("cephtrace-token", state.token);
      resolve(state.token !== "");
    };
    dialog.showModal();
  });
}

function showMessage(text, kind = "error") {
  const box = $("message");
  box.hidden = !text;
  box.textContent = text || "";
  box.className = "message" + (kind === "info" ? " info" : "");
}

// ---------------------------------------------------------------------------- opening
function mediaType(name, type) {
  if (/\.dcm$/i.test(name) || type === "application/dicom") return "application/dicom";
  return type || "application/octet-stream";
}

async function openImage(file) {
  showMessage("");
  $("busy").hidden = false;
  $("drop-hint").hidden = true;
  try {
    const bytes = await file.arrayBuffer();
    const type = mediaType(file.name, file.type);
    const [bitmap, prediction] = await Promise.all([
      displayable(new Blob([bytes], { type }), type),
      api("/v1/predict", { method: "POST", body: bytes, type }).then((r) => r.json()),
    ]);
    state.fileName = file.name;
    state.image = bitmap;
    state.width = prediction.original_width;
    state.height = prediction.original_height;
    state.result = prediction;
    state.predicted = prediction.landmarks.map((l) => ({ x: l.x, y: l.y }));
    state.points = state.predicted.map((p) => ({ ...p }));
    state.undo = []; state.redo = [];
    state.selected = -1;
    state.gt = null;
    state.analysis = state.previousAnalysis = null;
    state.scale = prediction.pixel_spacing_mm
      ? { method: "dicom", mmPerPx: prediction.pixel_spacing_mm }
      : { method: "sn71" };
    if (!$("case-id").value) $("case-id").value = file.name.replace(/\.[^.]+$/, "");
    for (const id of ["export-json", "export-csv", "export-png", "print-report", "save-case", "calibrate"])
      $(id).disabled = false;
    fitView();
    updateAll();
    document.body.dataset.landmarks = String(state.points.length);
  } catch (e) {
    showMessage("Could not open " + file.name + ": " + e.message);
    $("drop-hint").hidden = state.image !== null;
  } finally {
    $("busy").hidden = true;
  }
}

// Browsers show JPEG, PNG and BMP themselves; TIFF and DICOM are decoded by the server.
async function displayable(blob, type) {
  if (type !== "application/dicom") {
    try { return await createImageBitmap(blob); } catch (_) { /* fall through */ }
  }
  const res = await api("/v1/decode", { method: "POST", body: blob, type });
  return createImageBitmap(await res.blob());
}

// ---------------------------------------------------------------------------- view
function fitView() {
  const r = canvas.getBoundingClientRect();
  const s = Math.min(r.width / state.width, (r.height - 40) / state.height) * 0.95;
  state.view = { scale: s, ox: (r.width - state.width * s) / 2, oy: (r.height - 40 - state.height * s) / 2 };
  render();
}
const toScreen = (p) => ({ x: p.x * state.view.scale + state.view.ox, y: p.y * state.view.scale + state.view.oy });
const toImage = (x, y) => ({ x: (x - state.view.ox) / state.view.scale, y: (y - state.view.oy) / state.view.scale });

function zoomAt(factor, sx, sy) {
  const v = state.view;
  const s = Math.min(40, Math.max(0.02, v.scale * factor));
  v.ox = sx - (sx - v.ox) * (s / v.scale);
  v.oy = sy - (sy - v.oy) * (s / v.scale);
  v.scale = s;
  render();
}

function isCorrected(i) {
  const p = state.points[i], q = state.predicted[i];
  return Math.hypot(p.x - q.x, p.y - q.y) > 1e-6;
}

function pointColour(i) {
  if (isCorrected(i)) return COLOURS.corrected;
  return COLOURS[state.result.landmarks[i].confidence] || COLOURS.low;
}

const byName = (name) => LANDMARKS.findIndex((l) => l.name === name);

// Draws image, tracing, ground-truth errors and points on `c` with `view` (image → c pixels).
// `unit` scales line widths and text (screen: device pixels; export: the image's size).
function drawScene(c, view, { filters = true, labels = true, lines = true, marks = true, unit = 1 } = {}) {
  const g = c.getContext("2d");
  g.save();
  g.setTransform(view.scale, 0, 0, view.scale, view.ox, view.oy);
  if (filters)
    g.filter = `brightness(${$("brightness").value}%) contrast(${$("contrast").value}%)` +
               ($("invert").checked ? " invert(1)" : "");
  g.drawImage(state.image, 0, 0, state.width, state.height);
  g.restore();
  const at = (p) => ({ x: p.x * view.scale + view.ox, y: p.y * view.scale + view.oy });
  g.lineWidth = 1.5 * unit;
  if (lines) {
    g.strokeStyle = "rgba(250, 204, 21, 0.9)";
    g.fillStyle = "rgba(250, 204, 21, 0.95)";
    g.font = `${11 * unit}px sans-serif`;
    for (const [label, a, b] of TRACING_LINES) {
      if (!state.points[byName(a)] || !state.points[byName(b)]) continue;  // not in this result
      const p = at(state.points[byName(a)]), q = at(state.points[byName(b)]);
      g.beginPath(); g.moveTo(p.x, p.y); g.lineTo(q.x, q.y); g.stroke();
      if (labels) g.fillText(label, (p.x + q.x) / 2 + 4 * unit, (p.y + q.y) / 2 - 4 * unit);
    }
  }
  if (state.gt) {
    g.strokeStyle = COLOURS.gt;
    state.gt.points.forEach((t, i) => {
      if (!t) return;
      const p = at(state.points[i]), q = at(t);
      g.beginPath(); g.moveTo(p.x, p.y); g.lineTo(q.x, q.y); g.stroke();
      g.beginPath(); g.arc(q.x, q.y, 2.5 * unit, 0, 2 * Math.PI); g.fillStyle = COLOURS.gt; g.fill();
    });
  }
  if (marks && state.scale.ruler) {
    const { a, b, mm } = state.scale.ruler;
    const p = at(a), q = at(b);
    g.strokeStyle = "#22d3ee"; g.fillStyle = "#22d3ee";
    g.beginPath(); g.moveTo(p.x, p.y); g.lineTo(q.x, q.y); g.stroke();
    g.fillText(mm + " mm (ruler)", q.x + 6 * unit, q.y);
  }
  const radius = 5 * unit;
  const placed = [];  // label boxes drawn so far
  g.font = `bold ${12 * unit}px sans-serif`;
  state.points.forEach((pt, i) => {
    const p = at(pt);
    const low = state.result.landmarks[i].confidence === "low" && !isCorrected(i);
    g.beginPath(); g.arc(p.x, p.y, radius, 0, 2 * Math.PI);
    g.fillStyle = pointColour(i); g.fill();
    g.lineWidth = (i === state.selected ? 3 : 1.5) * unit;
    g.strokeStyle = i === state.selected ? "#ffffff" : "rgba(0,0,0,0.8)";
    g.stroke();
    if (low) {  // a ring that asks to be checked
      g.beginPath(); g.arc(p.x, p.y, radius * 2.2, 0, 2 * Math.PI);
      g.strokeStyle = COLOURS.low; g.lineWidth = 2 * unit; g.stroke();
    }
    if (labels) {
      const text = LANDMARKS[i].name + (low ? " ?" : "") + (isCorrected(i) ? " ✎" : "");
      const w = g.measureText(text).width, h = 12 * unit, gap = radius + 3 * unit;
      // The first of four places around the point that no earlier label covers (the
      // incisors and lips crowd their names otherwise).
      const places = [[gap, -radius], [gap, radius + h], [-gap - w, -radius], [-gap - w, radius + h]];
      let [dx, dy] = places[0];
      for (const [x, y] of places) {
        const box = { x: p.x + x, y: p.y + y - h, w, h };
        if (!placed.some((b) => box.x < b.x + b.w && b.x < box.x + box.w && box.y < b.y + b.h && b.y < box.y + box.h)) {
          [dx, dy] = [x, y];
          break;
        }
      }
      placed.push({ x: p.x + dx, y: p.y + dy - h, w, h });
      g.lineWidth = 3 * unit; g.strokeStyle = "rgba(0,0,0,0.85)";
      g.strokeText(text, p.x + dx, p.y + dy);
      g.fillStyle = "#ffffff";
      g.fillText(text, p.x + dx, p.y + dy);
    }
  });
}

function render() {
  const r = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(r.width * dpr) || canvas.height !== Math.round(r.height * dpr)) {
    canvas.width = Math.round(r.width * dpr);
    canvas.height = Math.round(r.height * dpr);
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!state.image) return;
  const v = state.view;
  drawScene(canvas, { scale: v.scale * dpr, ox: v.ox * dpr, oy: v.oy * dpr },
            { labels: $("show-names").checked, lines: $("show-lines").checked, unit: dpr });
  if (state.calibrating) {
    ctx.fillStyle = "#22d3ee";
    for (const c of state.calibrating.clicks) {
      const p = toScreen(c);
      ctx.beginPath(); ctx.arc(p.x * dpr, p.y * dpr, 4 * dpr, 0, 2 * Math.PI); ctx.fill();
    }
  }
}

// ---------------------------------------------------------------------------- editing
function apply(action, direction) {
  if (action.kind === "move") state.points[action.i] = { ...(direction > 0 ? action.to : action.from) };
  if (action.kind === "scale") state.scale = structuredClone(direction > 0 ? action.to : action.from);
  if (action.kind === "case") {
    const s = direction > 0 ? action.to : action.from;
    state.points = s.points.map((p) => ({ ...p }));
    state.scale = structuredClone(s.scale);
  }
}

function commit(action) {
  state.undo.push(action);
  state.redo = [];
  updateAll();
}

function undo() {
  const a = state.undo.pop();
  if (!a) return;
  apply(a, -1);
  state.redo.push(a);
  updateAll();
}

function redo() {
  const a = state.redo.pop();
  if (!a) return;
  apply(a, +1);
  state.undo.push(a);
  updateAll();
}

function select(i) {
  state.selected = i;
  render();
  renderLandmarkTable();
  const row = document.querySelector(`#landmark-table tr[data-i="${i}"]`);
  if (row) row.scrollIntoView({ block: "nearest" });
}

function nudge(dx, dy) {
  const i = state.selected;
  if (i < 0) return;
  const from = { ...state.points[i] };
  state.points[i] = { x: from.x + dx, y: from.y + dy };
  commit({ kind: "move", i, from, to: { ...state.points[i] } });
}

function setScale(to) {
  const from = structuredClone(state.scale);
  state.scale = structuredClone(to);
  commit({ kind: "scale", from, to: structuredClone(to) });
}

// ---------------------------------------------------------------------------- mouse
let drag = null;  // {kind: "point", i, from} | {kind: "pan", x, y, ox, oy}

function hit(sx, sy) {
  let best = -1, bestD = 12;
  state.points.forEach((p, i) => {
    const s = toScreen(p);
    const d = Math.hypot(s.x - sx, s.y - sy);
    if (d < bestD) { best = i; bestD = d; }
  });
  return best;
}

function localXY(e) {
  const r = canvas.getBoundingClientRect();
  return { sx: e.clientX - r.left, sy: e.clientY - r.top };
}

canvas.addEventListener("pointerdown", (e) => {
  if (!state.image) return;
  const { sx, sy } = localXY(e);
  canvas.setPointerCapture(e.pointerId);
  if (state.calibrating) {
    state.calibrating.clicks.push(toImage(sx, sy));
    if (state.calibrating.clicks.length === 2) finishCalibration();
    else showMessage("Now click the second mark on the ruler.", "info");
    render();
    return;
  }
  const i = hit(sx, sy);
  if (i >= 0) {
    drag = { kind: "point", i, from: { ...state.points[i] } };
    select(i);
    $("stage").classList.add("dragging");
  } else {
    drag = { kind: "pan", x: sx, y: sy, ox: state.view.ox, oy: state.view.oy };
  }
});

canvas.addEventListener("pointermove", (e) => {
  if (!state.image) return;
  const { sx, sy } = localXY(e);
  if (drag && drag.kind === "point") {
    state.points[drag.i] = toImage(sx, sy);
    render();
    renderLandmarkTable();
    scheduleAnalysis();
  } else if (drag && drag.kind === "pan") {
    state.view.ox = drag.ox + sx - drag.x;
    state.view.oy = drag.oy + sy - drag.y;
    render();
  } else {
    showTooltip(hit(sx, sy), sx, sy);
  }
});

canvas.addEventListener("pointerup", () => {
  if (drag && drag.kind === "point") {
    const to = { ...state.points[drag.i] };
    if (Math.hypot(to.x - drag.from.x, to.y - drag.from.y) > 1e-6)
      commit({ kind: "move", i: drag.i, from: drag.from, to });
  }
  drag = null;
  $("stage").classList.remove("dragging");
});

canvas.addEventListener("pointerleave", () => { $("tooltip").hidden = true; });

canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  const { sx, sy } = localXY(e);
  zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, sx, sy);
}, { passive: false });

function showTooltip(i, sx, sy) {
  const tip = $("tooltip");
  if (i < 0) { tip.hidden = true; return; }
  const l = LANDMARKS[i], r = state.result.landmarks[i];
  tip.innerHTML = "";
  const title = document.createElement("b");
  title.textContent = `${l.name} — ${l.title}`;
  tip.append(title, document.createElement("br"), l.definition, document.createElement("br"));
  const conf = document.createElement("span");
  conf.textContent = `Engine confidence: ${r.confidence} (${r.confidence_score.toFixed(2)})` +
                     (r.relocated ? " · moved by the anatomy check" : "") +
                     (isCorrected(i) ? " · corrected by you" : "");
  tip.append(conf);
  tip.style.left = sx + 16 + "px";
  tip.style.top = sy + 16 + "px";
  tip.hidden = false;
}

// ---------------------------------------------------------------------------- calibration
function startCalibration() {
  state.calibrating = { clicks: [] };
  $("stage").classList.add("calibrating");
  showMessage("Calibration: click the first mark on the ruler (Esc cancels).", "info");
}

function cancelCalibration() {
  state.calibrating = null;
  $("stage").classList.remove("calibrating");
  showMessage("");
  render();
}

function finishCalibration() {
  const [a, b] = state.calibrating.clicks;
  cancelCalibration();
  const mm = parseFloat($("ruler-mm").value);
  const px = Math.hypot(b.x - a.x, b.y - a.y);
  if (!(mm > 0) || px < 2) {
    showMessage("Calibration needs two different marks and a positive distance in mm.");
    return;
  }
  setScale({ method: "ruler", mmPerPx: mm / px, ruler: { a, b, mm } });
}

function scaleLabel() {
  const s = state.scale;
  if (s.method === "ruler")
    return [`Ruler: ${s.mmPerPx.toFixed(4)} mm/px (two marks ${s.ruler.mm} mm apart)`, "measured"];
  if (s.method === "dicom") return [`DICOM pixel spacing: ${s.mmPerPx.toFixed(4)} mm/px`, "measured"];
  if (s.method === "sn71")
    return [`ASSUMED scale: S–N taken as ${SN_ASSUMED_MM} mm (not calibrated) — lengths are estimates`, "assumed"];
  return ["Pixels: no calibration, lengths in px", ""];
}

// ---------------------------------------------------------------------------- analyses
let analysisTimer = null, analysisBusy = false, analysisAgain = false;

function scheduleAnalysis() {
  clearTimeout(analysisTimer);
  analysisTimer = setTimeout(runAnalysis, 80);
}

function landmarksPayload() {
  return state.points.map((p, i) => ({
    name: LANDMARKS[i].name, x: p.x, y: p.y,
    // A point the clinician placed is verified, whatever the engine thought of it.
    confidence: isCorrected(i) ? "high" : state.result.landmarks[i].confidence,
  }));
}

async function runAnalysis() {
  if (!state.result) return;
  if (analysisBusy) { analysisAgain = true; return; }
  analysisBusy = true;
  try {
    const s = state.scale;
    const query = {};
    if (s.method === "sn71") query.sn_scale = "1";
    if ($("allow-low").checked) query.allow_low_confidence = "1";
    const body = JSON.stringify({
      landmarks: landmarksPayload(),
      pixel_spacing_mm: s.method === "ruler" || s.method === "dicom" ? s.mmPerPx : null,
    });
    const res = await api("/v1/analyze", { method: "POST", body, type: "application/json", query });
    state.previousAnalysis = state.analysis;
    state.analysis = await res.json();
    state.analysisVersion++;
    renderAnalyses();
    document.body.dataset.analysisVersion = String(state.analysisVersion);
  } catch (e) {
    showMessage("Analysis failed: " + e.message);
  } finally {
    analysisBusy = false;
    if (analysisAgain) { analysisAgain = false; runAnalysis(); }
  }
}

const fmt = (v, digits = 1) => (v === null || v === undefined ? "" : Number(v).toFixed(digits));

function analysisTables(a, { highlightChanges = true } = {}) {
  const frag = document.createDocumentFragment();
  const groups = new Map();
  for (const [key, m] of Object.entries(a.measurements)) {
    if (!groups.has(m.analysis)) groups.set(m.analysis, []);
    groups.get(m.analysis).push([key, m]);
  }
  const before = highlightChanges && state.previousAnalysis ? state.previousAnalysis.measurements : {};
  for (const [name, rows] of groups) {
    const h = document.createElement("h3");
    h.textContent = name;
    const table = document.createElement("table");
    table.innerHTML = "<tr><th>measure</th><th>value</th><th>norm</th><th>dev</th></tr>";
    for (const [key, m] of rows) {
      const tr = document.createElement("tr");
      const dev = m.deviation_sd;
      if (dev !== null && dev !== undefined) tr.className = Math.abs(dev) > 2 ? "out2" : Math.abs(dev) > 1 ? "out1" : "";
      if (before[key] && Math.abs(before[key].value - m.value) > 1e-9) tr.classList.add("changed");
      tr.dataset.key = key;
      tr.title = `${m.description}. ${m.interpretation || ""} (norm: ${m.norm_source || "—"})`;
      // "mm (S-N scaled)" is marked with * and explained under the table: the column stays narrow.
      const unit = m.unit === "deg" ? "°" : m.unit === "mm (S-N scaled)" ? " mm*" : " " + m.unit;
      const cells = [key, fmt(m.value) + unit,
                     m.norm_mean !== null && m.norm_mean !== undefined ? `${fmt(m.norm_mean)} ± ${fmt(m.norm_sd)}` : "—",
                     dev !== null && dev !== undefined ? (dev > 0 ? "+" : "") + fmt(dev) + " SD" : ""];
      cells.forEach((text, k) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (k === 3) td.className = "dev";
        tr.append(td);
      });
      table.append(tr);
    }
    frag.append(h, table);
  }
  if (a.length_unit === "mm (S-N scaled)") {
    const p = document.createElement("p");
    p.className = "na";
    p.textContent = `* mm estimated by assuming S–N = ${SN_ASSUMED_MM} mm (no calibration): calibrate on the ruler for true lengths.`;
    frag.append(p);
  }
  const missing = Object.entries(a.not_available || {});
  if (missing.length) {
    const p = document.createElement("p");
    p.className = "na";
    // The server words its reasons for the CLI; name the viewer's own switch instead.
    const reason = (r) => r.replaceAll("--allow-low-confidence", "“Use low-confidence points”");
    p.textContent = "Not available: " + missing.map(([k, v]) => `${k} (${reason(v.reason)})`).join("; ");
    frag.append(p);
  }
  for (const w of a.warnings || []) {
    const p = document.createElement("p");
    p.className = "na";
    p.textContent = "⚠ " + w;
    frag.append(p);
  }
  return frag;
}

function renderAnalyses() {
  const box = $("analyses");
  box.innerHTML = "";
  if (!state.analysis) return;
  box.append(analysisTables(state.analysis));
  $("analysis-unit").textContent = "· lengths: " + state.analysis.length_unit +
    (state.scale.method === "ruler" ? " (ruler)" : state.scale.method === "dicom" ? " (DICOM)" : "");
}

// ---------------------------------------------------------------------------- panels
function renderStatus() {
  const r = state.result;
  const box = $("status-box"), out = $("status");
  out.innerHTML = "";
  const add = (cls, text) => { const p = document.createElement("p"); p.className = cls; p.textContent = text; out.append(p); return p; };
  if (r.degraded)
    add("bad", "DEGRADED: Stage 0 did not run (a model is missing); the landmarks come from Stage 1 alone. Check every point.");
  const failed = Object.entries(r.stage0_status || {}).filter(([, ok]) => !ok).map(([k]) => k);
  if (failed.length && !r.degraded) add("warn", "Stage 0 phases that fell back to defaults: " + failed.join(", ") + ".");
  const low = r.landmarks.map((l, i) => i).filter((i) => r.landmarks[i].confidence === "low" && !isCorrected(i));
  // A warning line ending in the named landmarks, each a link that selects it.
  const addLinks = (text, indices) => {
    const p = add("warn", text);
    for (const i of indices) {
      const b = document.createElement("button");
      b.className = "link"; b.textContent = LANDMARKS[i].name;
      b.onclick = () => select(i);
      p.append(b);
    }
  };
  if (low.length) addLinks(`Low confidence (${low.length}) — check these first: `, low);
  // The anatomical gate moved these: Stage 1's first answer lay far from where the rest of
  // the skull puts the point (they are "low" too; named apart because the first answer was wrong).
  const moved = r.landmarks.map((l, i) => i).filter((i) => r.landmarks[i].relocated && !isCorrected(i));
  if (moved.length)
    addLinks(`Moved by the anatomy check (${moved.length}): the first answer lay far from where the rest of the skull puts it — `, moved);
  if (r.orientation_method === "stage1_peaks") add("warn", `Facing direction (${r.orientation}) was hard to tell; check it.`);
  if (r.framing && r.framing.inverted)
    add("warn", "The film looked like a negative (bone dark); it was read with its grey levels reversed. Check the points.");
  const worries = out.childElementCount > 0;
  const counts = { high: 0, medium: 0, low: 0 };
  for (const l of r.landmarks) counts[l.confidence] = (counts[l.confidence] || 0) + 1;
  add("ok", `Engine: ${r.degraded ? "Stage 1 only" : "Stage 0 → Stage 1" + (r.refinement === "stage2" ? " → Stage 2" : "")}` +
      ` · facing ${r.orientation} · confidence ${counts.high} high, ${counts.medium} medium, ${counts.low} low` +
      (worries ? "" : " · nothing flagged"));
  $("status-title").textContent = worries ? "Check first" : "Engine status";
  box.hidden = false;
  box.classList.toggle("worries", worries);
  box.classList.toggle("degraded", !!r.degraded);
}

function gtErrors() {
  if (!state.gt) return null;
  const mm = state.gt.spacing || (["ruler", "dicom"].includes(state.scale.method) ? state.scale.mmPerPx : null);
  const errors = state.points.map((p, i) => {
    const t = state.gt.points[i];
    return t ? Math.hypot(p.x - t.x, p.y - t.y) * (mm || 1) : null;
  });
  const present = errors.filter((e) => e !== null);
  const mre = present.reduce((a, b) => a + b, 0) / Math.max(1, present.length);
  return { errors, mre, unit: mm ? "mm" : "px", count: present.length };
}

function renderLandmarkTable() {
  const tbody = $("landmark-table").tBodies[0];
  tbody.innerHTML = "";
  const gt = gtErrors();
  state.points.forEach((p, i) => {
    const l = LANDMARKS[i], r = state.result.landmarks[i];
    const tr = document.createElement("tr");
    tr.dataset.i = i;
    tr.className = (i === state.selected ? "selected " : "") + (r.confidence === "low" ? "low" : "");
    tr.title = `${l.title}: ${l.definition}`;
    tr.innerHTML = `<td><span class="dot" style="background:${pointColour(i)}"></span></td><td></td><td class="conf"></td><td></td><td></td><td class="err"></td>`;
    const cells = tr.cells;
    cells[1].textContent = l.name;
    cells[2].textContent = r.confidence;
    cells[3].textContent = `${p.x.toFixed(0)}, ${p.y.toFixed(0)}`;
    if (isCorrected(i)) { cells[4].textContent = "✎ corrected"; cells[4].className = "flag"; }
    if (gt && gt.errors[i] !== null) cells[5].textContent = gt.errors[i].toFixed(2) + " " + gt.unit;
    tr.onclick = () => select(i);
    tbody.append(tr);
  });
  $("mre").textContent = gt ? `· MRE ${gt.mre.toFixed(2)} ${gt.unit} over ${gt.count} (ground truth)` : "";
}

function updateAll() {
  const [label, cls] = scaleLabel();
  $("scale-label").textContent = label;
  $("scale-label").className = "scale-label " + cls;
  for (const radio of document.querySelectorAll('input[name="scale"]')) {
    radio.checked = radio.value === state.scale.method;
    if (radio.value === "ruler") radio.disabled = !state.lastRuler && state.scale.method !== "ruler";
    if (radio.value === "dicom") radio.disabled = !(state.result && state.result.pixel_spacing_mm);
  }
  if (state.scale.ruler) state.lastRuler = state.scale;
  $("undo").disabled = state.undo.length === 0;
  $("redo").disabled = state.redo.length === 0;
  if (!state.result) return;
  render();
  renderStatus();
  renderLandmarkTable();
  scheduleAnalysis();
}

// ---------------------------------------------------------------------------- export
function download(name, blob) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

const caseStem = () => ($("case-id").value.trim() || state.fileName.replace(/\.[^.]+$/, "") || "case").replace(/[^\w.-]+/g, "_");

function exportObject() {
  const r = state.result, s = state.scale;
  return {
    case_id: $("case-id").value.trim(),
    source: state.fileName,
    original_width: state.width, original_height: state.height,
    pixel_spacing_mm: s.method === "ruler" || s.method === "dicom" ? s.mmPerPx : null,
    scale: { method: s.method, mm_per_pixel: s.mmPerPx ?? null, label: scaleLabel()[0] },
    degraded: r.degraded, stage0_status: r.stage0_status, orientation: r.orientation,
    landmarks: state.points.map((p, i) => ({
      index: i, name: LANDMARKS[i].name, x: p.x, y: p.y,
      confidence: r.landmarks[i].confidence, confidence_score: r.landmarks[i].confidence_score,
      corrected: isCorrected(i), predicted_x: state.predicted[i].x, predicted_y: state.predicted[i].y,
    })),
    analysis: state.analysis,
  };
}

function exportJson() {
  const text = JSON.stringify(exportObject(), null, 2) + "\n";
  state.lastExport = { name: caseStem() + "_landmarks.json", text };
  download(state.lastExport.name, new Blob([text], { type: "application/json" }));
}

function exportCsv() {
  const rows = [["index", "name", "x", "y", "confidence", "corrected", "predicted_x", "predicted_y"]];
  for (const l of exportObject().landmarks)
    rows.push([l.index, l.name, l.x.toFixed(2), l.y.toFixed(2), l.confidence, l.corrected,
               l.predicted_x.toFixed(2), l.predicted_y.toFixed(2)]);
  const text = rows.map((r) => r.join(",")).join("\n") + "\n";
  state.lastExport = { name: caseStem() + "_landmarks.csv", text };
  download(state.lastExport.name, new Blob([text], { type: "text/csv" }));
}

function overlayCanvas(maxSide = Infinity) {
  const k = Math.min(1, maxSide / Math.max(state.width, state.height));
  const c = document.createElement("canvas");
  c.width = Math.round(state.width * k);
  c.height = Math.round(state.height * k);
  drawScene(c, { scale: k, ox: 0, oy: 0 }, { filters: false, unit: Math.max(1, Math.max(c.width, c.height) / 1000) });
  return c;
}

function exportPng() {
  overlayCanvas().toBlob((blob) => {
    state.lastExport = { name: caseStem() + "_overlay.png", bytes: blob.size };
    download(state.lastExport.name, blob);
  }, "image/png");
}

function printReport() {
  const report = $("report");
  report.innerHTML = "";
  const h = document.createElement("h1");
  h.textContent = "Cephalometric report";
  const meta = document.createElement("p");
  const corrected = state.points.filter((_, i) => isCorrected(i)).length;
  meta.textContent = `Case: ${$("case-id").value || "—"} · Image: ${state.fileName} · ${new Date().toLocaleString()} · ` +
    `Scale: ${scaleLabel()[0]} · ${corrected} of ${state.points.length} landmarks corrected by the clinician` +
    (state.result.degraded ? " · ENGINE RAN DEGRADED" : "");
  const img = document.createElement("img");
  img.src = overlayCanvas(1600).toDataURL("image/png");
  const cols = document.createElement("div");
  cols.className = "cols";
  if (state.analysis) cols.append(analysisTables(state.analysis, { highlightChanges: false }));
  const foot = document.createElement("p");
  foot.textContent = "Landmarks found automatically by CephTrace and reviewed by the clinician. Norms and sources: docs/analyses.md.";
  report.append(h, meta, img, cols, foot);
  img.onload = () => window.print();
}

function saveCase() {
  const data = {
    format: "cephtrace-case", version: 1,
    case_id: $("case-id").value.trim(),
    image: { name: state.fileName, width: state.width, height: state.height },
    scale: state.scale,
    points: state.points.map((p, i) => ({ name: LANDMARKS[i].name, x: p.x, y: p.y, corrected: isCorrected(i) })),
    prediction: state.result,
  };
  const text = JSON.stringify(data, null, 2) + "\n";
  state.lastExport = { name: caseStem() + ".cephtrace-case.json", text };
  download(state.lastExport.name, new Blob([text], { type: "application/json" }));
}

async function loadCase(file) {
  try {
    const data = JSON.parse(await file.text());
    if (data.format !== "cephtrace-case") throw new Error("not a CephTrace case file");
    if (!state.image) throw new Error(`open its image (${data.image.name}) first, then load the case`);
    if (data.image.width !== state.width || data.image.height !== state.height)
      throw new Error(`it belongs to ${data.image.name} (${data.image.width}×${data.image.height}), not to this image`);
    // The 25 must be in the case; an extended landmark it lacks (a case saved before the
    // extended model) keeps this result's position.
    const points = LANDMARKS.slice(0, state.points.length).map((l, i) => {
      const p = data.points.find((q) => q.name === l.name);
      if (p && Number.isFinite(p.x) && Number.isFinite(p.y)) return { x: p.x, y: p.y };
      if (i >= 25) return { ...state.points[i] };
      throw new Error("landmark " + l.name + " missing");
    });
    const from = { points: state.points.map((p) => ({ ...p })), scale: structuredClone(state.scale) };
    const to = { points, scale: data.scale };
    apply({ kind: "case", to }, +1);
    $("case-id").value = data.case_id || "";
    commit({ kind: "case", from, to });
    showMessage(`Case ${data.case_id || file.name} loaded.`, "info");
  } catch (e) {
    showMessage("Could not load the case: " + e.message);
  }
}

async function loadGroundTruth(file) {
  try {
    if (!state.image) throw new Error("open an image first");
    const j = JSON.parse(await file.text());
    const read = (v) => (Array.isArray(v) && v.length === 2 ? { x: v[0], y: v[1] } : v && Number.isFinite(v.x) ? { x: v.x, y: v.y } : null);
    let points;
    const traced = LANDMARKS.slice(0, state.points.length);  // the landmarks this result has
    if (Array.isArray(j.landmarks)) points = traced.map((l) => read(j.landmarks.find((e) => e.name === l.name) || null));
    else points = traced.map((l) => read(j[l.name]));
    if (!points.some((p) => p)) throw new Error("none of this tracing's landmarks is in it");
    state.gt = { points, spacing: j._pixel_spacing_mm || j.pixel_spacing_mm || null };
    updateAll();
  } catch (e) {
    showMessage("Could not load the ground truth: " + e.message);
  }
}

// ---------------------------------------------------------------------------- wiring
$("file-input").addEventListener("change", (e) => { if (e.target.files[0]) openImage(e.target.files[0]); e.target.value = ""; });
$("case-input").addEventListener("change", (e) => { if (e.target.files[0]) loadCase(e.target.files[0]); e.target.value = ""; });
$("gt-input").addEventListener("change", (e) => { if (e.target.files[0]) loadGroundTruth(e.target.files[0]); e.target.value = ""; });
$("undo").onclick = undo;
$("redo").onclick = redo;
$("export-json").onclick = exportJson;
$("export-csv").onclick = exportCsv;
$("export-png").onclick = exportPng;
$("print-report").onclick = printReport;
$("save-case").onclick = saveCase;
$("calibrate").onclick = startCalibration;
$("fit").onclick = fitView;
$("help-button").onclick = () => $("help-dialog").showModal();
$("allow-low").onchange = scheduleAnalysis;
for (const id of ["brightness", "contrast", "invert", "show-names", "show-lines"]) $(id).addEventListener("input", render);
for (const radio of document.querySelectorAll('input[name="scale"]'))
  radio.addEventListener("change", () => {
    const m = radio.value;
    if (m === "ruler" && state.lastRuler) setScale(structuredClone(state.lastRuler));
    else if (m === "dicom") setScale({ method: "dicom", mmPerPx: state.result.pixel_spacing_mm });
    else if (m === "sn71" || m === "px") setScale({ method: m });
  });
$("ruler-mm").addEventListener("change", () => {
  const s = state.scale, mm = parseFloat($("ruler-mm").value);
  if (s.method !== "ruler" || !(mm > 0)) return;
  const px = Math.hypot(s.ruler.b.x - s.ruler.a.x, s.ruler.b.y - s.ruler.a.y);
  setScale({ method: "ruler", mmPerPx: mm / px, ruler: { ...s.ruler, mm } });
});

const stage = $("stage");
stage.addEventListener("dragover", (e) => { e.preventDefault(); stage.classList.add("dragover"); });
stage.addEventListener("dragleave", () => stage.classList.remove("dragover"));
stage.addEventListener("drop", (e) => {
  e.preventDefault();
  stage.classList.remove("dragover");
  if (e.dataTransfer.files[0]) openImage(e.dataTransfer.files[0]);
});

document.addEventListener("keydown", (e) => {
  if (e.target.matches("input[type=text], input[type=number], input[type=password]")) return;
  const k = e.key, ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && (k === "z" || k === "Z")) { e.preventDefault(); (e.shiftKey ? redo : undo)(); return; }
  if (ctrl && (k === "y" || k === "Y")) { e.preventDefault(); redo(); return; }
  if (!state.result || ctrl) return;
  const step = e.shiftKey ? 10 : 1;
  const n = state.points.length;
  const r = canvas.getBoundingClientRect();
  switch (k) {
    case "Tab": e.preventDefault(); select(e.shiftKey ? (state.selected - 1 + n) % n : (state.selected + 1) % n); break;
    case "n": select((state.selected + 1) % n); break;
    case "p": select((state.selected - 1 + n) % n); break;
    case "ArrowLeft": e.preventDefault(); nudge(-step, 0); break;
    case "ArrowRight": e.preventDefault(); nudge(step, 0); break;
    case "ArrowUp": e.preventDefault(); nudge(0, -step); break;
    case "ArrowDown": e.preventDefault(); nudge(0, step); break;
    case "+": case "=": zoomAt(1.25, r.width / 2, r.height / 2); break;
    case "-": zoomAt(1 / 1.25, r.width / 2, r.height / 2); break;
    case "0": fitView(); break;
    case "Escape": if (state.calibrating) cancelCalibration(); break;
  }
});

window.addEventListener("resize", () => { if (state.image) render(); });

// The image given with `cephtrace serve --open`, if any.
(async () => {
  try {
    const health = await (await api("/v1/health")).json();
    if (health.open_image) {
      const blob = await (await api("/v1/open-image")).blob();
      await openImage(new File([blob], health.open_image, { type: blob.type }));
    }
  } catch (e) {
    showMessage("The server does not answer: " + e.message);
  }
})();

// For scripts and end-to-end tests: the live state and the main actions.
window.cephtrace = { state, openImage, undo, redo, select, exportObject, updateAll, landmarks: LANDMARKS };
