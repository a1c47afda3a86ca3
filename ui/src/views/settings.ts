// Settings: microphone, memory, language, polishing, shortcuts, start at login; the models.

import type { Device, ModelProgress, ModelRow, Settings } from "../api";
import { cssString, h, replaceChildren, uid } from "../lib/dom";
import { errorMessage } from "../lib/errors";
import { formatBytes } from "../lib/format";
import { describeAccelerator, eventToAccelerator, isModifierOnly, isUsableShortcut } from "../lib/shortcut";
import type { Services } from "../services";
import { messageArea, viewSection, type View } from "./view";

const ROLE_TEXT: Record<ModelRow["role"], string> = { asr: "Speech", polish: "Polishing" };
const LANGUAGES = [{ value: "en", label: "English" }];
const STYLES = [
  { value: "clean", label: "Clean: remove fillers, repetitions and false starts" },
  { value: "verbatim", label: "Verbatim: keep every word" },
];

export interface SettingsView extends View {
  load(): Promise<void>;
}

/** A "press the keys" field: a key press becomes an accelerator string. */
function shortcutField(testid: string, label: string, isMac: boolean, onChange: () => void) {
  const id = uid(testid);
  const hintId = uid("hint");
  let value = "";
  const input = h("input", {
    type: "text",
    id,
    testid,
    class: "shortcut-input",
    attrs: { readonly: true, "aria-describedby": hintId, autocomplete: "off", "aria-roledescription": "shortcut capture" },
  });
  const hint = h("p", { class: "hint", id: hintId, text: "Click, then press the keys (Backspace clears, Esc keeps it)." });
  const error = h("p", { class: "field-error", testid: "field-error", hidden: true });
  const show = () => {
    input.value = value;
    input.title = describeAccelerator(value, isMac);
  };
  input.addEventListener("focus", () => {
    hint.textContent = "Press the keys now…";
  });
  input.addEventListener("blur", () => {
    hint.textContent = "Click, then press the keys (Backspace clears, Esc keeps it).";
    show();
  });
  input.addEventListener("keydown", (e) => {
    const plain = !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey;
    if (plain && e.key === "Tab") return; // keep Tab for moving on
    e.preventDefault();
    e.stopPropagation();
    if (plain && e.key === "Escape") {
      error.hidden = true;
      show();
      input.blur();
      return;
    }
    if (plain && (e.key === "Backspace" || e.key === "Delete")) {
      value = "";
      error.hidden = true;
      show();
      onChange();
      return;
    }
    if (isModifierOnly(e)) {
      const held = [e.ctrlKey && (isMac ? "Control" : "CommandOrControl"), e.metaKey && (isMac ? "CommandOrControl" : "Super"), e.altKey && "Alt", e.shiftKey && "Shift"].filter(Boolean);
      input.value = `${held.join("+")}+…`;
      return;
    }
    const acc = eventToAccelerator(e, isMac);
    if (!acc) {
      error.textContent = "That key cannot be used in a shortcut.";
      error.hidden = false;
      return;
    }
    if (!isUsableShortcut(acc)) {
      error.textContent = "Add Ctrl, Alt or Shift (a single key works only for F1–F24).";
      error.hidden = false;
      input.value = acc;
      return;
    }
    value = acc;
    error.hidden = true;
    show();
    onChange();
  });
  input.addEventListener("keyup", () => {
    if (input.value.endsWith("+…")) show();
  });
  const el = h("div", { class: "field" }, h("label", { for: id, text: label }), input, hint, error);
  return {
    el,
    get value() {
      return value;
    },
    set(v: string) {
      value = v;
      error.hidden = true;
      show();
    },
    setError(msg: string | null) {
      error.textContent = msg ?? "";
      error.hidden = !msg;
    },
  };
}

export function createSettingsView(services: Services): SettingsView {
  const { api, on, dialogs } = services;
  const { section } = viewSection("settings", "Settings");
  let current: Settings | null = null;
  let devices: Device[] = [];
  let models: ModelRow[] = [];
  const fetching = new Map<string, ModelProgress | null>();
  const confirmingRemove = new Set<string>();
  const modelNotes = new Map<string, { text: string; kind: "error" | "ok" }>();

  const message = messageArea("settings-message");

  // ---- fields --------------------------------------------------------------------------
  const deviceId = uid("settings-device");
  const device = h("select", { id: deviceId, testid: "settings-device" });
  const budgetId = uid("settings-budget");
  const budget = h("input", { type: "number", id: budgetId, testid: "settings-budget", attrs: { min: 256, step: 64, inputmode: "numeric" } });
  const idleId = uid("settings-idle");
  const idle = h("input", { type: "number", id: idleId, testid: "settings-idle", attrs: { min: 0, step: 10, inputmode: "numeric" } });
  const languageId = uid("settings-language");
  const language = h("select", { id: languageId, testid: "settings-language" }, LANGUAGES.map((l) => h("option", { value: l.value, text: l.label })));
  const polishId = uid("settings-polish");
  const polish = h("input", {
    type: "checkbox",
    id: polishId,
    testid: "settings-polish",
    on: { change: () => (style.disabled = !polish.checked) },
  });
  const styleId = uid("settings-style");
  const style = h(
    "select",
    { id: styleId, testid: "settings-style" },
    STYLES.map((s) => h("option", { value: s.value, text: s.label })),
  );
  const loginId = uid("settings-login");
  const login = h("input", { type: "checkbox", id: loginId, testid: "settings-login" });
  const toggle = shortcutField("settings-shortcut-toggle", "Start/stop dictation", services.isMac, () => checkShortcuts());
  const ptt = shortcutField("settings-shortcut-ptt", "Push to talk (hold)", services.isMac, () => checkShortcuts());
  const saveButton = h("button", { type: "submit", class: "button primary", testid: "settings-save", text: "Save settings" });
  const budgetError = h("p", { class: "field-error", testid: "field-error", hidden: true });
  const idleError = h("p", { class: "field-error", testid: "field-error", hidden: true });

  const form = h(
    "form",
    {
      class: "card settings-form",
      attrs: { "aria-label": "Settings", novalidate: true },
      on: {
        submit: (e) => {
          e.preventDefault();
          void save();
        },
      },
    },
    h(
      "fieldset",
      {},
      h("legend", { text: "Recording" }),
      h("div", { class: "field" }, h("label", { for: deviceId, text: "Microphone" }), device),
      h("div", { class: "field" }, h("label", { for: languageId, text: "Language" }), language),
      h("label", { class: "check", for: polishId }, polish, " Polish the text (remove fillers, fix punctuation)"),
      h("div", { class: "field" }, h("label", { for: styleId, text: "Polishing style" }), style),
    ),
    h(
      "fieldset",
      {},
      h("legend", { text: "Memory" }),
      h("div", { class: "field" }, h("label", { for: budgetId, text: "Memory budget (MB)" }), budget, budgetError),
      h("div", { class: "field" }, h("label", { for: idleId, text: "Unload models after idle (seconds, 0 = never)" }), idle, idleError),
    ),
    h("fieldset", {}, h("legend", { text: "Shortcuts" }), h("div", { class: "field-row" }, toggle.el, ptt.el)),
    h("fieldset", {}, h("legend", { text: "System" }), h("label", { class: "check", for: loginId }, login, " Start Scrivo when I log in")),
    h("div", { class: "form-actions" }, saveButton, message),
  );

  // ---- models --------------------------------------------------------------------------
  const modelsBody = h("tbody");
  const modelsMessage = messageArea("models-message");
  const modelsCard = h(
    "div",
    { class: "card" },
    h("h3", { class: "card-title", text: "Models" }),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "table models-table", testid: "models-table", attrs: { "aria-label": "Models" } },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { attrs: { scope: "col" }, text: "Model" }),
            h("th", { attrs: { scope: "col" }, text: "Role" }),
            h("th", { attrs: { scope: "col" }, text: "Installed" }),
            h("th", { class: "num", attrs: { scope: "col" }, text: "Size" }),
            h("th", { class: "num", attrs: { scope: "col" }, text: "In memory" }),
            h("th", { class: "col-actions", attrs: { scope: "col" } }, h("span", { class: "visually-hidden", text: "Actions" })),
          ),
        ),
        modelsBody,
      ),
    ),
    modelsMessage,
  );

  section.append(form, modelsCard);

  // ---- rendering -----------------------------------------------------------------------
  function renderDevices(): void {
    const chosen = current?.inputDevice ?? null;
    const options: HTMLOptionElement[] = [h("option", { value: "", text: "System default" })];
    for (const d of devices) options.push(h("option", { value: d.name, text: d.isDefault ? `${d.name} (default)` : d.name }));
    if (chosen && !devices.some((d) => d.name === chosen)) options.push(h("option", { value: chosen, text: `${chosen} (not connected)` }));
    replaceChildren(device, options);
    device.value = chosen ?? "";
  }

  function fill(s: Settings): void {
    current = s;
    renderDevices();
    budget.value = String(s.memoryBudgetMb);
    idle.value = String(s.idleUnloadSeconds);
    if (!LANGUAGES.some((l) => l.value === s.language)) language.appendChild(h("option", { value: s.language, text: s.language }));
    language.value = s.language;
    polish.checked = s.polish;
    if (!STYLES.some((x) => x.value === s.style)) style.appendChild(h("option", { value: s.style, text: s.style }));
    style.value = s.style;
    style.disabled = !s.polish;
    login.checked = s.startAtLogin;
    toggle.set(s.shortcutToggle);
    ptt.set(s.shortcutPushToTalk);
  }

  function checkShortcuts(): boolean {
    if (toggle.value && toggle.value === ptt.value) {
      ptt.setError("Both shortcuts are the same.");
      return false;
    }
    ptt.setError(null);
    return true;
  }

  function readNumber(input: HTMLInputElement, error: HTMLElement, min: number, what: string): number | null {
    const n = Number(input.value);
    if (input.value.trim() === "" || !Number.isFinite(n) || !Number.isInteger(n) || n < min) {
      error.textContent = `${what} must be a whole number of at least ${min}.`;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      return null;
    }
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    return n;
  }

  function renderModels(): void {
    const nodes: Node[] = models.map((m) => {
      const progress = fetching.get(m.id);
      const isFetching = fetching.has(m.id);
      const actions: Node[] = [];
      if (isFetching) {
        const bar = h("progress", { class: "progress", testid: "model-progress", attrs: { max: 1, "aria-label": `Fetching ${m.id}` } });
        if (progress && progress.total) bar.value = Math.min(1, progress.done / progress.total);
        const stage = progress ? `${progress.stage}${progress.total ? ` ${formatBytes(progress.done)} of ${formatBytes(progress.total)}` : progress.done ? ` ${formatBytes(progress.done)}` : ""}` : "Starting…";
        actions.push(h("div", { class: "fetch-progress" }, bar, h("span", { class: "muted", text: stage })));
      } else if (confirmingRemove.has(m.id)) {
        actions.push(
          h(
            "div",
            { class: "confirm", role: "group", attrs: { "aria-label": `Remove ${m.id}?` } },
            h("span", { text: "Remove?" }),
            h("button", { type: "button", class: "button small danger", testid: "model-remove-confirm", text: "Remove", on: { click: () => void removeModel(m.id) } }),
            h("button", {
              type: "button",
              class: "button small",
              testid: "model-remove-cancel",
              text: "Keep",
              on: {
                click: () => {
                  confirmingRemove.delete(m.id);
                  renderModels();
                },
              },
            }),
          ),
        );
      } else {
        if (!m.installed) {
          actions.push(
            h("button", { type: "button", class: "button small", testid: "model-fetch", text: "Fetch", attrs: { "aria-label": `Download ${m.id}` }, on: { click: () => void fetchModel(m.id) } }),
          );
        }
        actions.push(
          h("button", { type: "button", class: "button small", testid: "model-import", text: "Import…", attrs: { "aria-label": `Import ${m.id} from a file` }, on: { click: () => void importModel(m.id) } }),
        );
        if (m.installed) {
          actions.push(
            h("button", {
              type: "button",
              class: "button small subtle",
              testid: "model-remove",
              text: "Remove",
              attrs: { "aria-label": `Remove ${m.id}` },
              on: {
                click: () => {
                  confirmingRemove.add(m.id);
                  renderModels();
                  modelsBody.querySelector<HTMLButtonElement>(`[data-id="${cssString(m.id)}"] [data-testid="model-remove-cancel"]`)?.focus();
                },
              },
            }),
          );
        }
      }
      const note = modelNotes.get(m.id);
      return h(
        "tr",
        { testid: "model-row", attrs: { "data-id": m.id, "data-installed": m.installed ? "true" : "false", "data-loaded": m.loaded ? "true" : "false" } },
        h("td", {}, h("span", { class: "model-id", text: m.id }), m.isDefault ? h("span", { class: "badge", text: "default" }) : null),
        h("td", { text: ROLE_TEXT[m.role] ?? m.role }),
        h("td", { text: m.installed ? "Yes" : "No" }),
        h("td", { class: "num", text: formatBytes(m.sizeBytes) }),
        h("td", { class: "num", text: m.loaded ? (m.residentBytes !== null ? `loaded, ${formatBytes(m.residentBytes)}` : "loaded") : "—" }),
        h("td", { class: "col-actions" }, h("div", { class: "inline" }, actions), note ? h("p", { class: note.kind === "error" ? "field-error" : "row-note", text: note.text }) : null),
      );
    });
    if (nodes.length === 0) nodes.push(h("tr", { class: "empty-row" }, h("td", { attrs: { colspan: 6 }, text: "No models known." })));
    // Rebuilding the rows must not lose the keyboard focus of a button in them.
    const active = document.activeElement;
    const focusedRow = active instanceof HTMLElement && modelsBody.contains(active) ? active.closest("tr")?.dataset.id : undefined;
    const focusedTestid = active instanceof HTMLElement ? active.dataset.testid : undefined;
    replaceChildren(modelsBody, nodes);
    if (focusedRow !== undefined && focusedTestid) {
      const again = modelsBody.querySelector<HTMLElement>(`tr[data-id="${cssString(focusedRow)}"] [data-testid="${focusedTestid}"]`);
      (again ?? modelsBody.querySelector<HTMLElement>(`tr[data-id="${cssString(focusedRow)}"] button`))?.focus();
    }
  }

  // ---- actions -------------------------------------------------------------------------
  async function load(): Promise<void> {
    const [s, d, m] = await Promise.allSettled([api.settingsGet(), api.devices(), api.models()]);
    const errors: string[] = [];
    if (d.status === "fulfilled") devices = d.value;
    else errors.push(errorMessage(d.reason));
    if (s.status === "fulfilled") fill(s.value);
    else errors.push(errorMessage(s.reason));
    if (m.status === "fulfilled") {
      models = m.value;
      modelsMessage.set(null);
    } else modelsMessage.set(errorMessage(m.reason), "error");
    renderDevices();
    renderModels();
    message.set(errors.length > 0 ? [...new Set(errors)].join(" ") : null, "error");
  }

  async function reloadModels(): Promise<void> {
    try {
      models = await api.models();
      modelsMessage.set(null);
    } catch (e) {
      modelsMessage.set(errorMessage(e), "error");
    }
    renderModels();
  }

  async function save(): Promise<void> {
    const mb = readNumber(budget, budgetError, 1, "The memory budget");
    const secs = readNumber(idle, idleError, 0, "The idle time");
    if (mb === null || secs === null || !checkShortcuts()) {
      message.set("Fix the fields marked above.", "error");
      return;
    }
    const settings: Settings = {
      inputDevice: device.value === "" ? null : device.value,
      memoryBudgetMb: mb,
      idleUnloadSeconds: secs,
      language: language.value || "en",
      polish: polish.checked,
      style: style.value || "clean",
      shortcutToggle: toggle.value,
      shortcutPushToTalk: ptt.value,
      startAtLogin: login.checked,
    };
    saveButton.disabled = true;
    try {
      const saved = await api.settingsSet(settings);
      fill(saved ?? settings);
      message.set("Settings saved.", "ok");
    } catch (e) {
      message.set(errorMessage(e), "error");
    } finally {
      saveButton.disabled = false;
    }
  }

  async function fetchModel(id: string): Promise<void> {
    fetching.set(id, null);
    modelNotes.delete(id);
    renderModels();
    try {
      await api.modelFetch(id);
      modelNotes.set(id, { text: "Installed.", kind: "ok" });
    } catch (e) {
      modelNotes.set(id, { text: errorMessage(e), kind: "error" });
    } finally {
      fetching.delete(id);
      await reloadModels();
    }
  }

  async function importModel(id: string): Promise<void> {
    try {
      const picked = await dialogs.openFiles({ title: `Import a model file for ${id}`, multiple: false });
      const path = picked?.[0];
      if (!path) return;
      modelNotes.set(id, { text: "Importing…", kind: "ok" });
      renderModels();
      await api.modelImport(id, path);
      modelNotes.set(id, { text: "Imported.", kind: "ok" });
    } catch (e) {
      modelNotes.set(id, { text: errorMessage(e), kind: "error" });
    }
    await reloadModels();
  }

  async function removeModel(id: string): Promise<void> {
    confirmingRemove.delete(id);
    try {
      await api.modelRemove(id);
      modelNotes.set(id, { text: "Removed.", kind: "ok" });
    } catch (e) {
      modelNotes.set(id, { text: errorMessage(e), kind: "error" });
    }
    await reloadModels();
  }

  void on("model-progress", (p) => {
    if (/^(done|installed|finished|complete)$/i.test(p.stage)) {
      if (fetching.delete(p.id)) void reloadModels();
      return;
    }
    fetching.set(p.id, p);
    renderModels();
  });

  renderDevices();
  renderModels();

  return {
    id: "settings",
    el: section,
    load,
    activate() {
      void load();
    },
  };
}
