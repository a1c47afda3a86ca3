// Placeholder page: shows the app version and the models from the built-in manifest.
"use strict";

function formatSize(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
}

function showModels(info) {
  document.getElementById("version").textContent = `version ${info.version}`;
  const status = document.getElementById("models-status");
  const table = document.getElementById("models");
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const model of info.models) {
    const row = body.insertRow();
    cell(row, model.id);
    cell(row, model.role === "asr" ? "speech recognition" : model.role === "polish" ? "text polishing" : model.role);
    cell(row, model.format);
    // The manifest says 0 until the installed file's size has been measured.
    cell(row, model.size_bytes > 0 ? formatSize(model.size_bytes) : "not measured", "num");
  }
  status.textContent = `${info.models.length} models. This window cannot install them yet: run “scrivo models” on the command line.`;
  table.hidden = false;
}

function showError(message) {
  const status = document.getElementById("models-status");
  status.textContent = `Could not list the models: ${message}`;
  status.classList.add("error");
}

window.addEventListener("DOMContentLoaded", () => {
  const tauri = window.__TAURI_INTERNALS__;
  if (!tauri) {
    showError("this page runs inside the Scrivo app, not a plain browser.");
    return;
  }
  tauri.invoke("app_info").then(showModels, (err) => showError(String(err)));
});
