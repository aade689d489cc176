// trimatte web page: pick photos, run a batch job, look at and download the cutouts,
// and correct one photo's trimap with a brush (the server applies the strokes with the
// trimap editor's own brush and mattes again).
"use strict";

const $ = (id) => document.getElementById(id);
const IMAGE_NAME = /\.(png|jpe?g|bmp|tiff?|webp)$/i;
let chosen = [];          // File objects to upload
let job = null;           // last job id
const cards = new Map();  // item index -> {card, item, file, trimapBlob}
let background = { mode: "checker", colour: "#2080ff", url: null };

// ----------------------------------------------------------------------------- API

function headers() {
  const token = $("token").value.trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...headers(), ...(options.headers || {}) } });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (e) { /* not JSON */ }
    if (response.status === 503) detail += ` (server busy; retry in ${response.headers.get("Retry-After") || "a few"} s)`;
    throw new Error(detail);
  }
  return response;
}

async function blobUrl(path) {
  const response = await api(path);
  return URL.createObjectURL(await response.blob());
}

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

// ----------------------------------------------------------------------------- choosing photos

function setChosen(files) {
  chosen = files.filter((f) => IMAGE_NAME.test(f.name));
  const skipped = files.length - chosen.length;
  $("picked").textContent = chosen.length
    ? `${chosen.length} photo(s) chosen` + (skipped ? `, ${skipped} other file(s) ignored` : "")
    : "No photos chosen.";
  $("run").disabled = chosen.length === 0;
}

async function entryFiles(entry) {
  if (entry.isFile) return new Promise((ok, fail) => entry.file((f) => ok([f]), fail));
  if (!entry.isDirectory) return [];
  const reader = entry.createReader();
  const all = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    for (const child of batch) all.push(...(await entryFiles(child)));
  }
  return all;
}

async function dropped(event) {
  event.preventDefault();
  $("drop").classList.remove("over");
  const items = [...(event.dataTransfer.items || [])];
  const entries = items.map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  let files = [];
  if (entries.length) for (const entry of entries) files.push(...(await entryFiles(entry)));
  else files = [...event.dataTransfer.files];
  setChosen(files);
}

// ----------------------------------------------------------------------------- running a job

async function loadPipelines() {
  try {
    const info = await (await api("/v1/pipelines")).json();
    const select = $("pipeline");
    select.innerHTML = "";
    for (const name of Object.keys(info.pipelines)) {
      const option = document.createElement("option");
      const flags = info.pipelines[name];
      option.value = name;
      option.textContent = `${name} (${flags.trimap_method} → ${flags.matting})`;
      option.selected = name === info.default;
      select.appendChild(option);
    }
    showError("");
  } catch (e) {
    showError(`Cannot list pipelines: ${e.message}`);
  }
}

async function run() {
  showError("");
  $("run").disabled = true;
  $("download-all").disabled = true;
  $("results").innerHTML = "";
  cards.clear();
  const form = new FormData();
  for (const file of chosen) form.append("files", file, file.name);
  form.append("pipeline", $("pipeline").value);
  form.append("outputs", "alpha,cutout,trimap");
  if ($("rect").value.trim()) form.append("rect", $("rect").value.trim());
  try {
    const answer = await (await api("/v1/jobs", { method: "POST", body: form })).json();
    job = answer.id;
    $("progress").hidden = false;
    await poll(job, chosen.slice());
  } catch (e) {
    showError(e.message);
  } finally {
    $("run").disabled = chosen.length === 0;
  }
}

async function poll(id, files) {
  for (;;) {
    const state = await (await api(`/v1/jobs/${id}`)).json();
    const c = state.counts;
    $("progress").value = state.progress;
    $("status").textContent = `${c.done} done, ${c.failed} failed, ` +
      `${c.queued + c.running} to go of ${state.total}` + (state.status === "running" ? " …" : ` (${state.status})`);
    for (const item of state.items) {
      const known = cards.get(item.index);
      if (known && known.item.status === item.status) continue;
      if (item.status === "done" || item.status === "failed" || item.status === "cancelled") {
        await showItem(id, item, files[item.index]);
      }
    }
    if (!["queued", "running"].includes(state.status)) {
      $("download-all").disabled = !state.result;
      return;
    }
    await new Promise((r) => setTimeout(r, 600));
  }
}

// ----------------------------------------------------------------------------- results

function applyBackground(stage) {
  stage.classList.toggle("checker", background.mode === "checker");
  stage.style.backgroundColor = background.mode === "colour" ? background.colour : "";
  stage.style.backgroundImage = background.mode === "image" && background.url ? `url(${background.url})` : "";
}

function refreshBackgrounds() {
  const mode = document.querySelector("input[name=bg]:checked").value;
  background.mode = mode;
  background.colour = $("bg-colour").value;
  document.querySelectorAll(".stage").forEach(applyBackground);
}

async function showItem(id, item, file) {
  const card = document.createElement("article");
  card.className = "card";
  card.dataset.status = item.status;
  card.dataset.index = item.index;
  const title = document.createElement("h3");
  title.textContent = item.name;
  card.appendChild(title);
  if (item.status !== "done") {
    const msg = document.createElement("p");
    msg.className = "msg error";
    msg.textContent = item.error || item.status;
    card.appendChild(msg);
  } else {
    const stage = document.createElement("div");
    stage.className = "stage";
    const cutout = document.createElement("img");
    cutout.className = "cutout";
    cutout.alt = `cutout of ${item.name}`;
    cutout.src = await blobUrl(item.outputs.cutout);
    const before = document.createElement("img");
    before.className = "before";
    before.alt = `${item.name} before`;
    before.src = file ? URL.createObjectURL(file) : await blobUrl(item.input);
    stage.append(cutout, before);
    applyBackground(stage);
    const slider = document.createElement("input");
    slider.type = "range"; slider.min = 0; slider.max = 100; slider.value = 0;
    slider.className = "compare";
    slider.title = "drag to compare with the original";
    const clip = () => { before.style.clipPath = `inset(0 ${100 - slider.value}% 0 0)`; };
    slider.addEventListener("input", clip);
    clip();
    const actions = document.createElement("div");
    actions.className = "actions";
    const download = document.createElement("a");
    download.textContent = "Download cutout";
    download.href = cutout.src;
    download.download = `${item.name.replace(/\.[^.]+$/, "")}_cutout.png`;
    const edit = document.createElement("button");
    edit.textContent = "Edit trimap";
    edit.addEventListener("click", () => openEditor(item.index));
    actions.append(download, edit);
    if (item.warnings && item.warnings.length) {
      const warn = document.createElement("p");
      warn.className = "msg muted";
      warn.textContent = `⚠ ${item.warnings.join("; ")}`;
      card.append(warn);
    }
    if (item.confidence) {
      const trust = document.createElement("p");
      trust.className = item.confidence.low ? "msg error" : "msg muted";
      trust.textContent = `confidence ${item.confidence.score.toFixed(2)}` +
        (item.confidence.flags.length ? ` (${item.confidence.flags.join(", ")})` : "");
      card.append(trust);
    }
    card.append(stage, slider, actions);
  }
  const old = cards.get(item.index);
  if (old) old.card.replaceWith(card); else $("results").appendChild(card);
  cards.set(item.index, { card, item, file, jobId: id, trimapBlob: null });
}

async function downloadAll() {
  try {
    const url = await blobUrl(`/v1/jobs/${job}/result.zip`);
    const a = document.createElement("a");
    a.href = url;
    a.download = `trimatte-${job}.zip`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  } catch (e) {
    showError(e.message);
  }
}

// ----------------------------------------------------------------------------- trimap editor

const editor = { index: null, image: null, trimap: null, strokes: [], current: null };
const TINT = { 0: [230, 25, 75], 128: [255, 215, 0], 255: [25, 230, 50] };

async function openEditor(index) {
  const entry = cards.get(index);
  editor.index = index;
  editor.strokes = [];
  $("editor-title").textContent = `Trimap of ${entry.item.name}`;
  $("editor-status").textContent = "";
  if (!entry.trimapBlob) entry.trimapBlob = await (await api(entry.item.outputs.trimap)).blob();
  editor.image = await loadImage(entry.file ? URL.createObjectURL(entry.file) : await blobUrl(entry.item.input));
  editor.trimap = await loadImage(URL.createObjectURL(entry.trimapBlob));
  draw();
  $("editor").showModal();
}

function loadImage(url) {
  return new Promise((ok, fail) => {
    const img = new Image();
    img.onload = () => ok(img);
    img.onerror = () => fail(new Error("cannot show the image"));
    img.src = url;
  });
}

function draw() {
  const canvas = $("editor-canvas");
  const { width, height } = editor.image;
  canvas.width = width; canvas.height = height;
  // small photos are shown larger (at least 480 px wide), large ones fit the window
  const shown = Math.min(window.innerWidth * 0.9, Math.max(width, 480),
                         window.innerHeight * 0.7 * width / height);
  canvas.style.width = `${Math.round(shown)}px`;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(editor.image, 0, 0);
  const photo = ctx.getImageData(0, 0, width, height);
  const off = document.createElement("canvas");
  off.width = width; off.height = height;
  const octx = off.getContext("2d");
  octx.drawImage(editor.trimap, 0, 0);
  const tri = octx.getImageData(0, 0, width, height).data;
  const px = photo.data;
  for (let i = 0; i < px.length; i += 4) {
    const v = tri[i] < 64 ? 0 : tri[i] >= 192 ? 255 : 128;
    const t = TINT[v];
    for (let k = 0; k < 3; k++) px[i + k] = 0.55 * px[i + k] + 0.45 * t[k];
  }
  ctx.putImageData(photo, 0, 0);
  for (const stroke of editor.strokes) paintStroke(ctx, stroke);
}

function paintStroke(ctx, stroke) {
  const t = TINT[{ foreground: 255, background: 0, unknown: 128 }[stroke.label]];
  ctx.fillStyle = `rgba(${t[0]},${t[1]},${t[2]},0.8)`;
  for (const [x, y] of stroke.points) {
    ctx.beginPath(); ctx.arc(x, y, stroke.radius, 0, 2 * Math.PI); ctx.fill();
  }
}

function imagePoint(event) {
  const canvas = $("editor-canvas");
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
}

function brushRadius() {
  const canvas = $("editor-canvas");
  const scale = canvas.width / Math.max(1, canvas.getBoundingClientRect().width);
  return Math.max(1, Math.round(Number($("brush-size").value) * scale / 2));
}

function startStroke(event) {
  event.preventDefault();
  $("editor-canvas").setPointerCapture(event.pointerId);
  editor.current = { label: document.querySelector("input[name=brush]:checked").value,
                     radius: brushRadius(), points: [imagePoint(event)] };
  editor.strokes.push(editor.current);
  paintStroke($("editor-canvas").getContext("2d"), editor.current);
}

function moveStroke(event) {
  if (!editor.current) return;
  editor.current.points.push(imagePoint(event));
  const last = { ...editor.current, points: editor.current.points.slice(-1) };
  paintStroke($("editor-canvas").getContext("2d"), last);
}

async function rerun() {
  const entry = cards.get(editor.index);
  if (!editor.strokes.length) { $("editor-status").textContent = "paint something first"; return; }
  $("editor-status").textContent = "matting again …";
  const form = new FormData();
  form.append("image", entry.file || await (await api(entry.item.input)).blob(), entry.item.name);
  form.append("trimap", entry.trimapBlob, "trimap.png");
  form.append("strokes", JSON.stringify(editor.strokes));
  form.append("pipeline", $("pipeline").value);
  form.append("outputs", "cutout,alpha,trimap");
  try {
    const answer = await (await api("/v1/refine", { method: "POST", body: form })).json();
    const png = (b64) => new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: "image/png" });
    entry.trimapBlob = png(answer.outputs.trimap);
    const cutoutUrl = URL.createObjectURL(png(answer.outputs.cutout));
    entry.card.querySelector("img.cutout").src = cutoutUrl;
    entry.card.querySelector(".actions a").href = cutoutUrl;
    editor.trimap = await loadImage(URL.createObjectURL(entry.trimapBlob));
    editor.strokes = [];
    draw();
    $("editor-status").textContent = "done" + (answer.warnings.length ? ` (⚠ ${answer.warnings.join("; ")})` : "");
  } catch (e) {
    $("editor-status").textContent = e.message;
  }
}

// ----------------------------------------------------------------------------- wiring

function init() {
  $("token").value = localStorage.getItem("trimatte-token") || "";
  $("token").addEventListener("change", () => {
    localStorage.setItem("trimatte-token", $("token").value.trim());
    loadPipelines();
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", dropped);
  $("files").addEventListener("change", (e) => setChosen([...e.target.files]));
  $("folder").addEventListener("change", (e) => setChosen([...e.target.files]));
  $("run").addEventListener("click", run);
  $("download-all").addEventListener("click", downloadAll);
  document.querySelectorAll("input[name=bg]").forEach((r) => r.addEventListener("change", refreshBackgrounds));
  $("bg-colour").addEventListener("input", refreshBackgrounds);
  $("bg-image").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) background.url = URL.createObjectURL(file);
    document.querySelector("input[name=bg][value=image]").checked = true;
    refreshBackgrounds();
  });
  const canvas = $("editor-canvas");
  canvas.addEventListener("pointerdown", startStroke);
  canvas.addEventListener("pointermove", moveStroke);
  canvas.addEventListener("pointerup", () => { editor.current = null; });
  $("editor-clear").addEventListener("click", () => { editor.strokes = []; draw(); });
  $("editor-rerun").addEventListener("click", rerun);
  loadPipelines();
}

init();
