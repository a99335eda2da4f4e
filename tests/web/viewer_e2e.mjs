// End-to-end test of the viewer in headless Chromium, driven through chromedriver's
// WebDriver HTTP API with Node's own fetch (no npm packages). It starts `cephtrace serve`
// on a free 127.0.0.1 port with the shipped models, opens the sample ISBI image through
// the file picker, waits for the points (25, or 39 with the extended model), drags A and checks that SNA follows, calibrates
// with two clicks on the image, undoes and redoes, and compares the JSON export with the drag.
//
//   node tests/web/viewer_e2e.mjs --binary build/bin/cephtrace [--screenshots DIR]
//
// Exits 77 (CTest: skipped), saying why, when Chromium, chromedriver or the models are missing.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const arg = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const binary = path.resolve(arg("--binary", path.join(root, "build/bin/cephtrace")));
const screenshots = arg("--screenshots", null);
const image = path.join(root, "samples/isbi2015_151.jpg");
const modelDir = path.join(root, "models");
// The landmarks a result of these models has: the 25, and the 14 extended ones when the
// extended model is there.
const TRACED = existsSync(path.join(modelDir, "extended/refine_extended.onnx")) ? 39 : 25;

function skip(why) {
  console.log("SKIPPED: " + why);
  process.exit(77);
}
function which(name) {
  try { return execFileSync("sh", ["-c", `command -v ${name}`]).toString().trim(); } catch (_) { return null; }
}
const chromium = process.env.CHROMIUM || which("chromium") || which("chromium-browser") || which("google-chrome");
const chromedriver = process.env.CHROMEDRIVER || which("chromedriver");
if (!chromium) skip("no Chromium (Debian: apt-get install chromium chromium-driver; scripts/setup.sh installs it)");
if (!chromedriver) skip("no chromedriver (Debian: apt-get install chromium-driver)");
if (!existsSync(binary)) skip("cephtrace binary not built: " + binary);
if (!existsSync(path.join(modelDir, "stage1/v4_stage1.onnx"))) skip("shipped models not found in " + modelDir);

let failures = 0;
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures++;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// ---- the server under test
const children = [];
function startServer(extra = [], env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["serve", "--host", "127.0.0.1", "--port", "0", "--model-dir", modelDir,
                                 "--web-dir", path.join(root, "web"), "--quiet", ...extra],
                        { stdio: ["ignore", "pipe", "inherit"], env });
    children.push(child);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve(`http://127.0.0.1:${m[1]}/`);
    });
    child.on("exit", (code) => reject(new Error("cephtrace serve exited with " + code + ": " + out)));
    setTimeout(() => reject(new Error("cephtrace serve did not start: " + out)), 60000);
  });
}

// ---- WebDriver
let driverUrl, session;
async function wd(method, route, body) {
  const res = await fetch(driverUrl + route, {
    method, headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${JSON.stringify(json.value).slice(0, 400)}`);
  return json.value;
}
const s = (route) => `/session/${session}${route}`;
const js = (script, ...a) => wd("POST", s("/execute/sync"), { script, args: a });
const find = async (css) => Object.values(await wd("POST", s("/element"), { using: "css selector", value: css }))[0];
const click = async (css) => wd("POST", s(`/element/${await find(css)}/click`), {});
async function waitFor(what, fn, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await sleep(100);
  }
}
async function screenshot(name) {
  if (!screenshots) return;
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(path.join(screenshots, name), Buffer.from(await wd("GET", s("/screenshot")), "base64"));
}
// Viewport position of an image point.
const screenOf = (p) => js(`const r = document.getElementById("canvas").getBoundingClientRect();
  const v = window.cephtrace.state.view;
  return { x: r.left + arguments[0].x * v.scale + v.ox, y: r.top + arguments[0].y * v.scale + v.oy };`, p);
async function pointer(steps) {
  await wd("POST", s("/actions"), {
    actions: [{ type: "pointer", id: "mouse", parameters: { pointerType: "mouse" }, actions: steps }],
  });
  await wd("DELETE", s("/actions"));
}
const move = (p, duration = 0) => ({ type: "pointerMove", duration, origin: "viewport", x: Math.round(p.x), y: Math.round(p.y) });
const analysisVersion = () => js("return window.cephtrace.state.analysisVersion;");
const sna = () => js(`const a = window.cephtrace.state.analysis; const m = a && a.measurements.SNA; return m ? m.value : null;`);

async function main() {
  const base = await startServer();
  const port = await freePort();
  const driver = spawn(chromedriver, [`--port=${port}`], { stdio: "ignore" });
  children.push(driver);
  driverUrl = `http://127.0.0.1:${port}`;
  await waitFor("chromedriver", async () => { try { return (await wd("GET", "/status")).ready; } catch (_) { return false; } }, 20000);
  session = (await wd("POST", "/session", { capabilities: { alwaysMatch: {
    browserName: "chrome",
    "goog:chromeOptions": { binary: chromium, args: ["--headless=new", "--no-sandbox", "--disable-gpu",
                                                     "--disable-dev-shm-usage", "--window-size=1500,950"] },
  } } })).sessionId;

  await wd("POST", s("/url"), { url: base });
  // Open the image through the file picker, as a user would.
  await wd("POST", s(`/element/${await find("#file-input")}/value`), { text: image });
  await waitFor(`${TRACED} landmarks`, () => js(`return document.body.dataset.landmarks === "${TRACED}";`));
  await waitFor("first analysis", async () => (await analysisVersion()) >= 1);
  check((await js("return window.cephtrace.state.points.length;")) === TRACED, `${TRACED} points shown`);
  // A result where the anatomical gate moved Ba and the film was read inverted: the status
  // panel names both, and Ba is a link that selects it. Then back to the real result.
  const statusOf = `
    const c = window.cephtrace, r = c.state.result, ba = c.landmarks.findIndex((l) => l.name === "Ba");
    r.landmarks[ba].relocated = arguments[0]; r.framing = Object.assign({}, r.framing, { inverted: arguments[0] });
    c.updateAll();
    return document.getElementById("status").textContent;`;
  const flagged = await js(statusOf, true);
  check(flagged.includes("Moved by the anatomy check (1)") && flagged.includes("Ba"), "a relocated landmark is named in the status panel");
  check(flagged.includes("negative"), "an inverted film is said in the status panel");
  await screenshot("viewer_flags.png");
  const plain = await js(statusOf, false);
  check(!plain.includes("Moved by the anatomy check") && !plain.includes("negative"), "nothing of it without the flags");
  // The analyses leave out points the engine rates "low" until someone checks them (the "?" ring),
  // and which points those are on the sample film depends on the shipped models' calibration:
  // use them all, as a clinician does by ticking the box, so that SNA exists before A is dragged.
  const vLow = await analysisVersion();
  await js(`const box = document.getElementById("allow-low"); if (!box.checked) box.click(); return box.checked;`);
  await waitFor("analysis with the low-confidence points", async () => (await analysisVersion()) > vLow, 10000).catch(() => {});
  const sna0 = await sna();
  check(typeof sna0 === "number", `SNA computed by the server with the low-confidence points in (${sna0})`);
  check((await js(`return document.getElementById("scale-label").textContent;`)).includes("ASSUMED"),
        "without calibration the scale is labelled as the S–N = 71 mm assumption");
  await screenshot("viewer_opened.png");

  // Drag A 20 screen pixels towards the face (anterior) in 5 steps.
  const facing = await js("return window.cephtrace.state.result.orientation;");
  const A = await js(`return window.cephtrace.landmarks.findIndex(l => l.name === "A");`);
  const aBefore = await js(`return {...window.cephtrace.state.points[arguments[0]]};`, A);
  const start = await screenOf(aBefore);
  const dx = facing === "left" ? -20 : 20;
  const v0 = await analysisVersion();
  const steps = [move(start), { type: "pointerDown", button: 0 }];
  for (let k = 1; k <= 5; k++) steps.push(move({ x: start.x + (dx * k) / 5, y: start.y }, 50));
  steps.push({ type: "pointerUp", button: 0 });
  await pointer(steps);
  await waitFor("analysis after the drag", async () => (await analysisVersion()) > v0 && !(await js("return false;")));
  await sleep(400);  // the debounced analysis of the final position
  const aAfter = await js(`return {...window.cephtrace.state.points[arguments[0]]};`, A);
  const scale = await js("return window.cephtrace.state.view.scale;");
  check(Math.abs(aAfter.x - aBefore.x - dx / scale) < 2 / scale + 0.5 && Math.abs(aAfter.y - aBefore.y) < 2 / scale + 0.5,
        `A moved with the pointer (${(aAfter.x - aBefore.x).toFixed(1)} px in the image)`);
  const sna1 = await sna();
  check(sna1 > sna0 + 0.5, `SNA grew when A moved forward (${sna0.toFixed(2)} → ${sna1.toFixed(2)})`);
  const shown = await js(`const r = document.querySelector('#analyses tr[data-key="SNA"]'); return r ? r.cells[1].textContent : "";`);
  check(shown.startsWith(sna1.toFixed(1)), `the analyses panel shows the new SNA (${shown})`);
  check((await js(`return document.querySelector('#landmark-table tr[data-i="${A}"]').textContent;`)).includes("corrected"),
        "A is flagged as corrected in the landmark list");
  await js(`document.querySelector('#analyses tr[data-key="SNA"]').scrollIntoView({ block: "center" });`);
  await screenshot("viewer_dragged.png");

  // Calibrate: two clicks 200 image pixels apart on the ruler of ISBI image 151 (its true
  // spacing is 0.1 mm/px), typed distance 20 mm -> about 0.1 mm/px.
  const mm = await find("#ruler-mm");
  await wd("POST", s(`/element/${mm}/clear`), {});
  await wd("POST", s(`/element/${mm}/value`), { text: "20" });
  await click("#calibrate");
  const p1 = await screenOf({ x: 1645, y: 800 }), p2 = await screenOf({ x: 1645, y: 1000 });
  await pointer([move(p1), { type: "pointerDown", button: 0 }, { type: "pointerUp", button: 0 }]);
  await pointer([move(p2), { type: "pointerDown", button: 0 }, { type: "pointerUp", button: 0 }]);
  const cal = await js("return window.cephtrace.state.scale;");
  check(cal.method === "ruler", "two clicks calibrate on the ruler");
  const clicked = cal.ruler ? Math.hypot(cal.ruler.b.x - cal.ruler.a.x, cal.ruler.b.y - cal.ruler.a.y) : 0;
  check(Math.abs(clicked - 200) < 2 / scale + 1 && Math.abs(cal.mmPerPx - 20 / clicked) < 1e-9,
        `scale = 20 mm / ${clicked.toFixed(1)} px = ${cal.mmPerPx && cal.mmPerPx.toFixed(4)} mm/px`);
  await waitFor("analysis in mm", () => js(`const a = window.cephtrace.state.analysis; return a && a.length_unit === "mm";`), 10000);
  check((await js(`return document.getElementById("scale-label").textContent;`)).startsWith("Ruler"), "the scale label says Ruler");
  await screenshot("viewer_calibrated.png");

  // Undo the calibration, then the drag; redo the drag.
  await click("#undo");
  check((await js("return window.cephtrace.state.scale.method;")) === "sn71", "undo restores the previous scale");
  await click("#undo");
  const aUndone = await js(`return {...window.cephtrace.state.points[arguments[0]]};`, A);
  check(aUndone.x === aBefore.x && aUndone.y === aBefore.y, "undo puts A back where the engine had it");
  await waitFor("SNA back", async () => Math.abs((await sna()) - sna0) < 1e-9, 10000).catch(() => {});
  check(Math.abs((await sna()) - sna0) < 1e-9, "SNA returns to its first value");
  await click("#redo");
  const aRedone = await js(`return {...window.cephtrace.state.points[arguments[0]]};`, A);
  check(aRedone.x === aAfter.x && aRedone.y === aAfter.y, "redo moves A again");

  // Export JSON and compare it with the drag.
  await click("#export-json");
  const exported = JSON.parse(await js("return window.cephtrace.state.lastExport.text;"));
  const a = exported.landmarks[A];
  check(a.name === "A" && a.corrected === true && a.x === aAfter.x && a.y === aAfter.y &&
        a.predicted_x === aBefore.x && a.predicted_y === aBefore.y, "the JSON export has A at the dragged position, flagged corrected");
  check(exported.landmarks.filter((l) => l.corrected).length === 1, "only A is flagged corrected");
  check(exported.landmarks.length === TRACED, `the export holds all ${TRACED} landmarks`);
  await click("#export-csv");
  const csv = (await js("return window.cephtrace.state.lastExport.text;")).trim().split("\n");
  check(csv.length === TRACED + 1 && csv[1 + A].startsWith(`${A},A,${aAfter.x.toFixed(2)},${aAfter.y.toFixed(2)},`) && csv[1 + A].includes(",true,"),
        "the CSV export has A at the dragged position, flagged corrected");
  await click("#export-png");
  const pngExported = await waitFor("PNG export", () => js(`const e = window.cephtrace.state.lastExport;
    return e && e.name.endsWith("_overlay.png") && e.bytes > 100000;`), 20000).catch(() => false);
  check(pngExported, "the PNG overlay (image + tracing, full resolution) is exported");

  // Keyboard: select S in the list, nudge it right twice and down once, undo the last nudge.
  await click('#landmark-table tr[data-i="0"]');
  const s0 = await js("return {...window.cephtrace.state.points[0]};");
  const keys = (...values) => wd("POST", s("/actions"), { actions: [{ type: "key", id: "kb", actions:
    values.flatMap((v) => (Array.isArray(v) ? [...v.map((k) => ({ type: "keyDown", value: k })), ...v.slice().reverse().map((k) => ({ type: "keyUp", value: k }))]
                                             : [{ type: "keyDown", value: v }, { type: "keyUp", value: v }])) }] });
  const RIGHT = "\uE014", DOWN = "\uE015", CTRL = "\uE009", TAB = "\uE004";
  await keys(RIGHT, RIGHT, DOWN);
  const s1 = await js("return {...window.cephtrace.state.points[0]};");
  check(s1.x === s0.x + 2 && s1.y === s0.y + 1, "arrow keys nudge the selected point by one pixel");
  await keys([CTRL, "z"]);
  const s2 = await js("return {...window.cephtrace.state.points[0]};");
  check(s2.x === s0.x + 2 && s2.y === s0.y, "Ctrl+Z undoes the last nudge");
  await keys(TAB);
  check((await js("return window.cephtrace.state.selected;")) === 1, "Tab selects the next landmark");

  // Ground truth: every point shifted by (3, 4) px at 0.1 mm/px -> each error 0.5 mm, MRE 0.50 mm.
  const truth = await js(`const t = { _pixel_spacing_mm: 0.1 };
    window.cephtrace.state.points.forEach((p, i) => { t[window.cephtrace.landmarks[i].name] = [p.x + 3, p.y + 4]; });
    return t;`);
  const truthFile = path.join(tmpdir(), `cephtrace_e2e_truth_${process.pid}.json`);
  writeFileSync(truthFile, JSON.stringify(truth));
  await wd("POST", s(`/element/${await find("#gt-input")}/value`), { text: truthFile });
  await waitFor("MRE", () => js(`return document.getElementById("mre").textContent.includes("MRE");`), 10000);
  const mre = await js(`return document.getElementById("mre").textContent;`);
  check(mre.includes(`MRE 0.50 mm over ${TRACED}`), `ground truth gives each landmark's error and the MRE (${mre.trim()})`);
  await screenshot("viewer_final.png");

  // The printable report: the page printed to PDF with the print style sheet.
  // Headless Chromium cannot show the print dialog: note the call, print through WebDriver.
  await js("window.print = () => { window.__printed = true; };");
  await click("#print-report");
  await waitFor("report printed", () => js("return window.__printed === true;"), 10000);
  check((await js(`return document.querySelector("#report").textContent;`)).includes("SNA"), "the report holds the analyses");
  if (screenshots) {
    writeFileSync(path.join(screenshots, "report.pdf"), Buffer.from(await wd("POST", s("/print"), {}), "base64"));
    // The same page as the print style sheet lays it out, as a picture to look at.
    await wd("POST", s("/goog/cdp/execute"), { cmd: "Emulation.setEmulatedMedia", params: { media: "print" } });
    await screenshot("report.png");
    await wd("POST", s("/goog/cdp/execute"), { cmd: "Emulation.setEmulatedMedia", params: { media: "" } });
  }

  // Save the case, move S away, load the case: S comes back; undo takes the load back.
  await click("#save-case");
  const saved = await js("return window.cephtrace.state.lastExport.text;");
  const caseFile = path.join(tmpdir(), `cephtrace_e2e_case_${process.pid}.json`);
  writeFileSync(caseFile, saved);
  const sSaved = await js("return {...window.cephtrace.state.points[0]};");
  await click('#landmark-table tr[data-i="0"]');
  await keys(DOWN, DOWN, DOWN);
  await wd("POST", s(`/element/${await find("#case-input")}/value`), { text: caseFile });
  await waitFor("case loaded", async () => (await js("return window.cephtrace.state.points[0].y;")) === sSaved.y, 10000).catch(() => {});
  const sLoaded = await js("return {...window.cephtrace.state.points[0]};");
  check(sLoaded.x === sSaved.x && sLoaded.y === sSaved.y, "loading the saved case restores its points");
  check((await js("return window.cephtrace.state.scale.method;")) === JSON.parse(saved).scale.method, "and its scale");

  // DICOM through the viewer: shown via /v1/decode, its pixel spacing becomes the scale.
  if (which("img2dcm") && which("dcmodify")) {
    const dcm = path.join(tmpdir(), `cephtrace_e2e_${process.pid}.dcm`);
    execFileSync("img2dcm", ["-i", "JPEG", image, dcm]);
    execFileSync("dcmodify", ["-nb", "-i", "(0028,0030)=0.1\\0.1", dcm]);
    await js(`document.body.dataset.landmarks = "";`);
    await wd("POST", s(`/element/${await find("#file-input")}/value`), { text: dcm });
    await waitFor(`${TRACED} landmarks on the DICOM`, () => js(`return document.body.dataset.landmarks === "${TRACED}";`));
    const st = await js("return { method: window.cephtrace.state.scale.method, mm: window.cephtrace.state.scale.mmPerPx, w: window.cephtrace.state.image.width };");
    check(st.method === "dicom" && st.mm === 0.1 && st.w === 1935, `a DICOM opens, shown at full size, with its spacing as the scale (${JSON.stringify(st)})`);
    check((await js(`return document.getElementById("scale-label").textContent;`)).startsWith("DICOM"), "the scale label says DICOM");
  } else {
    console.log("skip DICOM part: DCMTK's img2dcm/dcmodify not installed");
  }

  // A server with a token and --open: the viewer asks for the token, then opens the image.
  const tokenBase = await startServer(["--open", image], { ...process.env, CEPHTRACE_TOKEN: "e2e-secret" });
  await wd("POST", s("/url"), { url: tokenBase });
  await waitFor("token dialog", () => js(`return document.getElementById("token-dialog").open;`), 10000);
  await wd("POST", s(`/element/${await find("#token-input")}/value`), { text: "e2e-secret" });
  await click("#token-dialog button");
  await waitFor(`${TRACED} landmarks with the token`, () => js(`return document.body.dataset.landmarks === "${TRACED}";`));
  check((await js("return window.cephtrace.state.fileName;")) === "isbi2015_151.jpg", "with the token, the viewer opens the --open image");
  await wd("DELETE", s(""));
}

try {
  await main();
} catch (e) {
  console.log("FAIL " + e.message);
  failures++;
} finally {
  for (const c of children) c.kill("SIGTERM");
}
console.log(failures ? `${failures} check(s) failed` : "all viewer checks passed");
process.exit(failures ? 1 : 0);
