// Vylux dashboard: the API key stays in this tab's sessionStorage and goes out only in
// X-API-Key to this origin's JSON API. Every value is written with textContent.
"use strict";

const KEY_NAME = "vylux.apiKey";
const POLL_MS = 2000;
const ACTIVE = new Set(["queued", "processing"]);
// The API retries failed jobs only (a canceled one was stopped on purpose).
const RETRYABLE = new Set(["failed"]);

let cursor = null;
let detailId = null;
let timer = null;

function apiKey() { return sessionStorage.getItem(KEY_NAME); }

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

async function api(path, method) {
  const response = await fetch(path, {
    method: method || "GET",
    headers: { "X-API-Key": apiKey() || "" },
    credentials: "omit",
    cache: "no-store",
  });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (response.status === 401) { logout("The API key was refused."); }
  if (!response.ok) {
    const message = body && body.message ? body.message : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return body;
}

function query() {
  const params = new URLSearchParams({ limit: "50" });
  for (const name of ["status", "type", "hash"]) {
    const value = document.getElementById(`filter-${name}`).value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function row(job) {
  const tr = el("tr");
  tr.dataset.jobId = job.job_id;
  tr.dataset.status = job.status;
  const idCell = el("td");
  const show = el("button", job.job_id, "link");
  show.type = "button";
  show.addEventListener("click", () => {
    detailId = job.job_id;
    renderDetail(job);
    showMedia(job);
  });
  idCell.append(show);
  tr.append(idCell, el("td", job.type), el("td", job.hash));
  tr.append(el("td", job.status, `status status-${job.status}`));
  const progressCell = el("td");
  const bar = el("progress");
  bar.max = 100;
  bar.value = job.progress;
  progressCell.append(bar, el("span", ` ${job.progress}%`, "progress-text"));
  tr.append(progressCell, el("td", job.updated_at));
  const actions = el("td");
  if (ACTIVE.has(job.status)) actions.append(action("Cancel", job, "cancel"));
  if (RETRYABLE.has(job.status)) actions.append(action("Retry", job, "retry"));
  tr.append(actions);
  return tr;
}

function action(label, job, verb) {
  const button = el("button", label, `action-${verb}`);
  button.type = "button";
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api(`/api/jobs/${encodeURIComponent(job.job_id)}/${verb}`, "POST");
      showError("");
    } catch (error) {
      showError(`${label} ${job.job_id}: ${error.message}`);
    }
    await refreshAll();
  });
  return button;
}

function renderDetail(job) {
  document.getElementById("detail").hidden = false;
  document.getElementById("detail-id").textContent = job.job_id;
  document.getElementById("detail-json").textContent = JSON.stringify(job, null, 2);
}

let hls = null;

async function showMedia(job) {
  const box = document.getElementById("media");
  const video = document.getElementById("player");
  const images = document.getElementById("images");
  if (hls) { hls.destroy(); hls = null; }
  video.removeAttribute("src");
  video.dataset.state = "";
  images.replaceChildren();
  box.hidden = true;
  if (job.status !== "completed") return;
  let media;
  try {
    media = await api(`/dashboard/api/media/${encodeURIComponent(job.job_id)}`);
  } catch (error) {
    showError(`media of ${job.job_id}: ${error.message}`);
    return;
  }
  for (const image of media.images) {
    const figure = el("figure");
    const img = el("img");
    img.src = image.url;
    img.alt = image.key;
    figure.append(img, el("figcaption", image.key));
    images.append(figure);
  }
  video.hidden = !media.hls;
  if (media.hls) {
    video.addEventListener("timeupdate", () => {
      if (video.currentTime > 0.5) video.dataset.state = "playing";
    });
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls();
      hls.on(window.Hls.Events.ERROR, (_, data) => {
        if (data.fatal) video.dataset.state = `error: ${data.details}`;
      });
      hls.loadSource(media.hls);
      hls.attachMedia(video);
    } else {
      video.src = media.hls; // a browser with HLS of its own (Safari)
    }
    video.play().catch(() => {});
  }
  box.hidden = false;
}

function showError(text) { document.getElementById("jobs-error").textContent = text; }

async function refresh(append) {
  if (!apiKey()) return;
  const params = query();
  if (append && cursor) params.set("cursor", cursor);
  let page;
  try {
    page = await api(`/api/jobs?${params}`);
  } catch (error) {
    showError(error.message);
    return;
  }
  const rows = document.getElementById("job-rows");
  if (!append) rows.replaceChildren();
  for (const job of page.jobs) {
    rows.append(row(job));
    if (job.job_id === detailId) renderDetail(job);
  }
  cursor = page.next_cursor;
  document.getElementById("more").hidden = !cursor;
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  const whole = Math.floor(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor(whole / 60) % 60).padStart(2, "0")}m`;
}

async function refreshQueues() {
  let body;
  try {
    body = await api("/dashboard/api/queues");
  } catch (error) {
    showError(`queues: ${error.message}`);
    return;
  }
  const rows = document.getElementById("queue-rows");
  rows.replaceChildren();
  for (const queue of body.queues) {
    const tr = el("tr");
    tr.dataset.queue = queue.queue;
    tr.append(el("td", queue.queue));
    for (const state of ["pending", "active", "scheduled", "retry", "archived"]) {
      const cell = el("td", queue[state]);
      cell.dataset.state = state;
      tr.append(cell);
    }
    tr.append(el("td", age(queue.oldest_pending_age_seconds)));
    const done = queue.finished;
    const finished = el("td", `${done.completed} / ${done.failed} / ${done.canceled}`);
    finished.dataset.state = "finished";
    tr.append(finished);
    rows.append(tr);
  }
  // The window comes from the server, which owns it.
  const done = body.finished;
  const seconds = body.finished_window_seconds;
  const span = seconds === 3600 ? "hour" : age(seconds);
  document.getElementById("throughput").textContent =
    `Finished in the last ${span}: ${done.completed} completed, ${done.failed} failed, ` +
    `${done.canceled} canceled`;
}

function archivedAction(label, task, verb, method, path) {
  const button = el("button", label, `action-${verb}`);
  button.type = "button";
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api(path, method);
      showError("");
    } catch (error) {
      showError(`${label} ${task.task_id}: ${error.message}`);
    }
    await refreshAll();
  });
  return button;
}

async function refreshArchived() {
  let body;
  try {
    body = await api("/dashboard/api/archived");
  } catch (error) {
    showError(`archived tasks: ${error.message}`);
    return;
  }
  const rows = document.getElementById("archived-rows");
  rows.replaceChildren();
  for (const task of body.tasks) {
    const tr = el("tr");
    tr.dataset.taskId = task.task_id;
    tr.append(el("td", task.task_id), el("td", task.queue), el("td", task.type));
    tr.append(el("td", task.retried), el("td", task.archived_at), el("td", task.last_error));
    const actions = el("td");
    const id = encodeURIComponent(task.task_id);
    actions.append(
      archivedAction("Requeue", task, "requeue", "POST", `/dashboard/api/archived/${id}/requeue`),
      archivedAction("Delete", task, "delete", "DELETE",
        `/dashboard/api/archived/${encodeURIComponent(task.queue)}/${id}`),
    );
    tr.append(actions);
    rows.append(tr);
  }
}

async function refreshAll() {
  await Promise.all([refresh(), refreshQueues(), refreshArchived()]);
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => { await refreshAll(); schedule(); }, POLL_MS);
}

function showJobs() {
  document.getElementById("login").hidden = true;
  document.getElementById("jobs").hidden = false;
  document.getElementById("queues").hidden = false;
  document.getElementById("archived").hidden = false;
  document.getElementById("logout").hidden = false;
  refreshAll().then(schedule);
}

function logout(reason) {
  sessionStorage.removeItem(KEY_NAME);
  clearTimeout(timer);
  document.getElementById("jobs").hidden = true;
  document.getElementById("queues").hidden = true;
  document.getElementById("archived").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = reason || "";
}

async function login(event) {
  event.preventDefault();
  const input = document.getElementById("api-key");
  sessionStorage.setItem(KEY_NAME, input.value);
  input.value = "";
  try {
    await api("/api/jobs?limit=1");
  } catch (error) {
    logout(`Login failed: ${error.message}`);
    return;
  }
  document.getElementById("login-error").textContent = "";
  showJobs();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login-form").addEventListener("submit", login);
  document.getElementById("logout").addEventListener("click", () => logout(""));
  document.getElementById("filters").addEventListener("change", () => refresh());
  document.getElementById("filters").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  document.getElementById("more").addEventListener("click", () => refresh(true));
  if (apiKey()) showJobs();
});
