// Biasing lists: every list with an enable switch on the left; the selected list's terms in a
// table editor on the right (validated as you type, saved with a conflict check); a "Try it" box.

import type { ListSummary } from "../api";
import { debounce } from "../lib/debounce";
import { h, icon, replaceChildren, uid } from "../lib/dom";
import { errorMessage } from "../lib/errors";
import { plural } from "../lib/format";
import { ICONS } from "../lib/icons";
import { ListEditor } from "../lib/listEditor";
import type { TermField } from "../lib/termTable";
import type { Services } from "../services";
import { modelFor, renderChanges } from "./changeView";
import { messageArea, viewSection, type View } from "./view";

const FIELD_LABEL: Record<TermField, string> = { term: "Term", soundsLike: "Sounds like", note: "Note" };
const FIELD_TESTID: Record<TermField, string> = { term: "term-input", soundsLike: "sounds-like-input", note: "note-input" };
const FIELD_PLACEHOLDER: Record<TermField, string> = {
  term: "Kubernetes",
  soundsLike: "cube nettys, cooper netties",
  note: "optional",
};

export interface ListsView extends View {
  editor: ListEditor;
  /** Reloads the lists on the left. */
  refresh(): Promise<void>;
  select(name: string): Promise<void>;
}

interface RowParts {
  tr: HTMLTableRowElement;
  inputs: Record<TermField, HTMLInputElement>;
  errors: Record<TermField, HTMLElement>;
}

export function createListsView(services: Services, validateDelayMs = 300): ListsView {
  const { api, dialogs } = services;
  const { section } = viewSection("lists", "Biasing lists", "Names and jargon the recogniser should prefer, with how they tend to be misheard.");
  const editor = new ListEditor(api);
  let summaries: ListSummary[] = [];
  let selected: string | null = null;
  let pendingSwitch: string | null = null;
  let confirmingDelete: string | null = null;
  let search = "";

  // ---- left: the lists -----------------------------------------------------------------
  const listMessage = messageArea("lists-message");
  const listUl = h("ul", { class: "list-list", attrs: { "aria-label": "Biasing lists" } });
  const newNameId = uid("list-new-name");
  const newName = h("input", { type: "text", id: newNameId, testid: "list-new-name", placeholder: "e.g. Team names", attrs: { autocomplete: "off", maxlength: 64 } });
  const newButton = h("button", { type: "submit", class: "button", testid: "list-new" }, icon([...ICONS.plus]), " New list");
  const newForm = h(
    "form",
    {
      class: "new-list",
      on: {
        submit: (e) => {
          e.preventDefault();
          void createList();
        },
      },
    },
    h("label", { for: newNameId, text: "New list" }),
    h("div", { class: "inline" }, newName, newButton),
  );
  const left = h("aside", { class: "lists-pane", attrs: { "aria-label": "All lists" } }, h("h3", { class: "pane-title", text: "Lists" }), listUl, newForm, listMessage);

  // ---- right: the editor ---------------------------------------------------------------
  const editorTitle = h("h3", { class: "pane-title", id: "list-editor-title" });
  const editorPath = h("p", { class: "file-path" });
  const importButton = h("button", { type: "button", class: "button", testid: "list-import", text: "Import…", on: { click: () => void importTerms() } });
  const exportButton = h("button", { type: "button", class: "button", testid: "list-export", text: "Export…", on: { click: () => void exportList() } });
  const saveButton = h("button", {
    type: "button",
    class: "button primary",
    testid: "list-save",
    text: "Save",
    disabled: true,
    title: "Save (Ctrl+S)",
    attrs: { "aria-keyshortcuts": "Control+S" },
    on: { click: () => void save() },
  });
  const saved = h("span", { class: "saved-indicator", testid: "list-saved", role: "status", text: "Saved", hidden: true });

  const conflictText = h("span", { class: "banner-text" });
  const conflict = h(
    "div",
    { class: "banner banner-warning", testid: "list-conflict", role: "alert", hidden: true },
    conflictText,
    h("span", { class: "spacer" }),
    h("button", { type: "button", class: "button", testid: "list-reload", text: "Reload from disk", on: { click: () => void reload() } }),
    h("button", { type: "button", class: "button primary", testid: "list-overwrite", text: "Overwrite", on: { click: () => void overwrite() } }),
  );
  const unsavedText = h("span", { class: "banner-text" });
  const unsaved = h(
    "div",
    { class: "banner banner-warning", testid: "list-unsaved", role: "alert", hidden: true },
    unsavedText,
    h("span", { class: "spacer" }),
    h("button", { type: "button", class: "button", testid: "list-discard", text: "Discard changes", on: { click: () => void discardAndSwitch() } }),
    h("button", {
      type: "button",
      class: "button",
      testid: "list-keep",
      text: "Keep editing",
      on: {
        click: () => {
          pendingSwitch = null;
          renderChrome();
        },
      },
    }),
  );
  const listProblems = h("ul", { class: "list-problems", testid: "list-problems", hidden: true, role: "alert" });
  const editorMessage = messageArea("list-message");

  const searchId = uid("term-search");
  const searchInput = h("input", {
    type: "search",
    id: searchId,
    testid: "term-search",
    placeholder: "Search terms",
    attrs: { "aria-label": "Search terms", autocomplete: "off" },
    on: {
      input: () => {
        search = searchInput.value;
        renderRows();
      },
    },
  });
  const termCount = h("span", { class: "muted term-count", attrs: { "aria-live": "polite" } });
  const addButton = h(
    "button",
    { type: "button", class: "button", testid: "term-add", on: { click: () => addTerm() } },
    icon([...ICONS.plus]),
    " Add term",
  );
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "table term-table", testid: "term-table", attrs: { "aria-labelledby": "list-editor-title" } },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { attrs: { scope: "col" }, text: "Term" }),
        h("th", { attrs: { scope: "col" }, text: "Sounds like (comma separated)" }),
        h("th", { attrs: { scope: "col" }, text: "Note" }),
        h("th", { class: "col-actions", attrs: { scope: "col" } }, h("span", { class: "visually-hidden", text: "Actions" })),
      ),
    ),
    tbody,
  );

  const editorBody = h(
    "div",
    { class: "editor-body" },
    h("div", { class: "toolbar" }, h("div", { class: "editor-heading" }, editorTitle, editorPath), saved, importButton, exportButton, saveButton),
    conflict,
    unsaved,
    listProblems,
    editorMessage,
    h("div", { class: "toolbar editor-toolbar" }, searchInput, termCount, h("span", { class: "spacer" }), addButton),
    h("div", { class: "table-wrap" }, table),
  );
  const editorEmpty = h("p", { class: "placeholder", testid: "list-editor-empty", role: "status", text: "Choose a list on the left, or make a new one." });

  // ---- try it --------------------------------------------------------------------------
  const tryId = uid("try-input");
  const tryInput = h("textarea", {
    id: tryId,
    testid: "try-input",
    placeholder: "Type a sentence as the recogniser might hear it, e.g. “we deploy on cube nettys”",
    attrs: { rows: 2 },
  });
  const tryOutput = h("div", { class: "try-output", testid: "try-output", attrs: { "aria-live": "polite", "aria-label": "Corrected sentence" } });
  const tryMessage = messageArea("try-message");
  const tryCard = h(
    "div",
    { class: "card try-card" },
    h("label", { class: "card-title", for: tryId, text: "Try it" }),
    h("p", { class: "muted", text: "What the enabled lists (as saved) change in a sentence." }),
    tryInput,
    tryOutput,
    tryMessage,
  );

  const right = h("div", { class: "editor-pane" }, editorEmpty, editorBody, tryCard);
  section.append(h("div", { class: "lists-layout" }, left, right));

  // ---- rendering: the lists ------------------------------------------------------------
  function renderLists(): void {
    const items: Node[] = summaries.map((s) => {
      const enabled = h("input", {
        type: "checkbox",
        class: "switch",
        testid: "list-enabled",
        role: "switch",
        checked: s.enabled,
        attrs: { "aria-label": `Use the list ${s.name}`, "aria-checked": s.enabled ? "true" : "false" },
        on: { change: () => void setEnabled(s, enabled) },
      });
      const selectButton = h(
        "button",
        {
          type: "button",
          class: "list-select",
          testid: "list-select",
          attrs: { "aria-current": selected === s.name ? "true" : null },
          on: { click: () => void select(s.name) },
        },
        h("span", { class: "list-name", text: s.name }),
        h("span", { class: "list-count muted", text: plural(s.terms, "term") }),
      );
      const main = h("div", { class: "list-row-main" }, selectButton, enabled);
      const children: Node[] = [main];
      if (s.problem) children.push(h("p", { class: "list-problem", testid: "list-problem", text: s.problem }));
      if (confirmingDelete === s.name) {
        children.push(
          h(
            "div",
            { class: "confirm", role: "group", attrs: { "aria-label": `Delete ${s.name}?` } },
            h("span", { text: "Delete this list?" }),
            h("button", { type: "button", class: "button small danger", testid: "list-delete-confirm", text: "Delete", on: { click: () => void deleteList(s.name) } }),
            h("button", {
              type: "button",
              class: "button small",
              testid: "list-delete-cancel",
              text: "Keep",
              on: {
                click: () => {
                  confirmingDelete = null;
                  renderLists();
                },
              },
            }),
          ),
        );
      } else {
        main.appendChild(
          h(
            "button",
            {
              type: "button",
              class: "icon-button list-delete",
              testid: "list-delete",
              title: `Delete ${s.name}`,
              attrs: { "aria-label": `Delete the list ${s.name}` },
              on: {
                click: () => {
                  confirmingDelete = s.name;
                  renderLists();
                  listUl.querySelector<HTMLButtonElement>('[data-testid="list-delete-cancel"]')?.focus();
                },
              },
            },
            icon([...ICONS.trash]),
          ),
        );
      }
      return h(
        "li",
        {
          class: `list-row${selected === s.name ? " is-selected" : ""}${s.problem ? " has-problem" : ""}`,
          testid: "list-row",
          attrs: { "data-name": s.name, "data-enabled": s.enabled ? "true" : "false" },
        },
        children,
      );
    });
    if (items.length === 0) items.push(h("li", { class: "placeholder", text: "No lists yet." }));
    replaceChildren(listUl, items);
  }

  // ---- rendering: the editor -----------------------------------------------------------
  const rows = new Map<number, RowParts>();

  function makeRow(id: number, position: number): RowParts {
    const inputs = {} as Record<TermField, HTMLInputElement>;
    const errors = {} as Record<TermField, HTMLElement>;
    const cells: HTMLTableCellElement[] = [];
    const row = editor.table?.row(id);
    for (const field of ["term", "soundsLike", "note"] as TermField[]) {
      const errorId = uid("field-error");
      const input = h("input", {
        type: "text",
        testid: FIELD_TESTID[field],
        value: row ? row[field] : "",
        placeholder: FIELD_PLACEHOLDER[field],
        attrs: { "aria-label": `${FIELD_LABEL[field]}, row ${position + 1}`, "aria-describedby": errorId, autocomplete: "off", spellcheck: "false", "data-field": field },
        on: {
          input: () => {
            editor.table?.edit(id, field, input.value);
            editor.edited();
            validateSoon();
          },
        },
      });
      const error = h("p", { class: "field-error", testid: "field-error", id: errorId, hidden: true, attrs: { "data-field": field } });
      inputs[field] = input;
      errors[field] = error;
      cells.push(h("td", { class: `cell-${field}` }, input, error));
    }
    const del = h(
      "button",
      {
        type: "button",
        class: "icon-button",
        testid: "term-delete",
        title: "Delete this term",
        attrs: { "aria-label": `Delete row ${position + 1}` },
        on: { click: () => deleteTerm(id) },
      },
      icon([...ICONS.trash]),
    );
    const tr = h("tr", { testid: "term-row", attrs: { "data-id": id } }, cells, h("td", { class: "col-actions" }, del));
    return { tr, inputs, errors };
  }

  function renderRows(): void {
    const t = editor.table;
    rows.clear();
    if (!t) {
      replaceChildren(tbody);
      return;
    }
    const visible = t.filter(search);
    const nodes: Node[] = visible.map((r, i) => {
      const parts = makeRow(r.id, i);
      rows.set(r.id, parts);
      return parts.tr;
    });
    if (nodes.length === 0) {
      nodes.push(
        h("tr", { class: "empty-row" }, h("td", { attrs: { colspan: 4 }, text: search ? "No term matches the search." : "No terms yet. Add one." })),
      );
    }
    replaceChildren(tbody, nodes);
    const all = t.allRows().length;
    termCount.textContent = search ? `${visible.length} of ${plural(all, "term")}` : plural(all, "term");
    renderErrors();
  }

  function renderErrors(): void {
    const t = editor.table;
    if (!t) return;
    for (const [id, parts] of rows) {
      const errs = t.errorsFor(id);
      for (const field of ["term", "soundsLike", "note"] as TermField[]) {
        const msg = errs[field];
        parts.errors[field].textContent = msg ?? "";
        parts.errors[field].hidden = !msg;
        if (msg) parts.inputs[field].setAttribute("aria-invalid", "true");
        else parts.inputs[field].removeAttribute("aria-invalid");
      }
    }
    const problems = t.listProblems();
    replaceChildren(listProblems, problems.map((p) => h("li", { class: "field-error", text: p })));
    listProblems.hidden = problems.length === 0;
  }

  function renderChrome(): void {
    const t = editor.table;
    editorEmpty.hidden = !!t;
    editorBody.hidden = !t;
    if (!t) {
      conflict.hidden = true;
      // A list that cannot be opened (a broken file) says why here.
      editorEmpty.textContent = editor.error ?? "Choose a list on the left, or make a new one.";
      editorEmpty.classList.toggle("message-error", editor.error !== null);
      return;
    }
    editorTitle.textContent = t.name;
    editorPath.textContent = t.path;
    editorPath.title = t.path;
    const dirty = t.isDirty();
    saveButton.disabled = !t.canSave() || editor.saving;
    saveButton.textContent = editor.saving ? "Saving…" : "Save";
    saved.hidden = !(editor.justSaved && !dirty);
    section.dataset.dirty = dirty ? "true" : "false";
    conflict.hidden = editor.conflict === null;
    conflictText.textContent = `This list changed on disk since you opened it. ${editor.conflict ?? ""}`.trim();
    unsaved.hidden = pendingSwitch === null;
    unsavedText.textContent = `“${t.name}” has unsaved changes.`;
    editorMessage.set(editor.error, "error");
    renderErrors();
  }

  editor.onChange(renderChrome);

  // ---- actions -------------------------------------------------------------------------
  const validateSoon = debounce(() => void editor.validate(), validateDelayMs);

  async function refresh(): Promise<void> {
    try {
      summaries = await api.biasLists();
      listMessage.set(null);
    } catch (e) {
      listMessage.set(errorMessage(e), "error");
    }
    if (selected && !summaries.some((s) => s.name === selected)) {
      selected = null;
      editor.close();
      renderRows();
    }
    renderLists();
    if (!selected && summaries.length > 0) await select(summaries[0].name);
  }

  async function select(name: string): Promise<void> {
    if (editor.table && editor.table.isDirty() && name !== editor.table.name) {
      pendingSwitch = name;
      renderChrome();
      return;
    }
    if (selected === name && editor.table?.name === name) return;
    pendingSwitch = null;
    selected = name;
    renderLists();
    validateSoon.cancel();
    await editor.open(name);
    search = "";
    searchInput.value = "";
    renderRows();
    renderChrome();
  }

  async function discardAndSwitch(): Promise<void> {
    const name = pendingSwitch;
    pendingSwitch = null;
    if (!name) return;
    editor.close();
    await select(name);
  }

  async function createList(): Promise<void> {
    const name = newName.value.trim();
    if (!name) {
      listMessage.set("Give the new list a name.", "error");
      newName.focus();
      return;
    }
    if (editor.table?.isDirty()) {
      listMessage.set(`Save or discard the changes to “${editor.table.name}” first.`, "error");
      return;
    }
    newButton.disabled = true;
    try {
      const doc = await api.biasListCreate(name);
      newName.value = "";
      listMessage.set(null);
      selected = doc.name;
      editor.showDoc(doc);
      search = "";
      searchInput.value = "";
      renderRows();
      await refresh();
      tbody.querySelector<HTMLInputElement>('[data-testid="term-input"]')?.focus();
      if (doc.terms.length === 0) addTerm();
    } catch (e) {
      listMessage.set(errorMessage(e), "error");
    } finally {
      newButton.disabled = false;
    }
  }

  async function deleteList(name: string): Promise<void> {
    confirmingDelete = null;
    try {
      await api.biasListDelete(name);
      if (selected === name) {
        selected = null;
        editor.close();
        renderRows();
      }
      await refresh();
    } catch (e) {
      listMessage.set(errorMessage(e), "error");
      renderLists();
    }
  }

  async function setEnabled(s: ListSummary, input: HTMLInputElement): Promise<void> {
    const value = input.checked;
    input.disabled = true;
    try {
      await api.biasSetEnabled(s.name, value);
      s.enabled = value;
      input.setAttribute("aria-checked", value ? "true" : "false");
      input.closest("li")?.setAttribute("data-enabled", value ? "true" : "false");
      if (editor.table?.name === s.name) editor.table.enabled = value;
      listMessage.set(null);
      runTry();
    } catch (e) {
      input.checked = !value;
      listMessage.set(errorMessage(e), "error");
    } finally {
      input.disabled = false;
    }
  }

  function addTerm(): void {
    const t = editor.table;
    if (!t) return;
    const row = t.add();
    renderRows();
    editor.edited();
    rows.get(row.id)?.inputs.term.focus();
  }

  function deleteTerm(id: number): void {
    const t = editor.table;
    if (!t) return;
    const order = t.filter(search).map((r) => r.id);
    const at = order.indexOf(id);
    t.remove(id);
    renderRows();
    editor.edited();
    validateSoon();
    const nextId = order[at + 1] ?? order[at - 1];
    const next = nextId !== undefined ? rows.get(nextId) : undefined;
    if (next) next.tr.querySelector<HTMLButtonElement>('[data-testid="term-delete"]')?.focus();
    else addButton.focus();
  }

  async function save(): Promise<void> {
    validateSoon.cancel();
    const outcome = await editor.save();
    if (outcome === "saved") {
      runTry();
      void refreshSummariesQuietly();
    }
  }

  async function reload(): Promise<void> {
    await editor.reloadFromDisk();
    renderRows();
    renderChrome();
  }

  async function overwrite(): Promise<void> {
    const outcome = await editor.overwrite();
    if (outcome === "saved") {
      runTry();
      void refreshSummariesQuietly();
    }
  }

  async function refreshSummariesQuietly(): Promise<void> {
    try {
      summaries = await api.biasLists();
      renderLists();
    } catch {
      /* the list on the left stays as it was */
    }
  }

  async function importTerms(): Promise<void> {
    const t = editor.table;
    if (!t) return;
    if (t.isDirty()) {
      editorMessage.set("Save or discard your changes before importing.", "error");
      return;
    }
    try {
      const picked = await dialogs.openFiles({
        title: `Import terms into ${t.name}`,
        multiple: false,
        filters: [{ name: "Term lists", extensions: ["txt", "csv", "toml"] }],
      });
      const path = picked?.[0];
      if (!path) return;
      const doc = await api.biasImport(t.name, path);
      editor.showDoc(doc);
      renderRows();
      editorMessage.set(`Imported. The list has ${plural(doc.terms.length, "term")} now.`, "ok");
      void refreshSummariesQuietly();
      runTry();
    } catch (e) {
      editorMessage.set(errorMessage(e), "error");
    }
  }

  async function exportList(): Promise<void> {
    const t = editor.table;
    if (!t) return;
    try {
      const path = await dialogs.saveFile({
        title: `Export ${t.name}`,
        defaultPath: `${t.name}.toml`,
        filters: [
          { name: "TOML", extensions: ["toml"] },
          { name: "CSV", extensions: ["csv"] },
          { name: "Text, a term per line", extensions: ["txt"] },
        ],
      });
      if (!path) return;
      await api.biasExport(t.name, path);
      editorMessage.set(t.isDirty() ? `Exported the saved version to ${path} (unsaved changes not included).` : `Exported to ${path}.`, "ok");
    } catch (e) {
      editorMessage.set(errorMessage(e), "error");
    }
  }

  let trySeq = 0;
  async function tryNow(): Promise<void> {
    const sentence = tryInput.value;
    const seq = ++trySeq;
    if (!sentence.trim()) {
      replaceChildren(tryOutput);
      tryMessage.set(null);
      return;
    }
    try {
      const r = await api.biasTry(sentence, null);
      if (seq !== trySeq) return;
      const model = modelFor(sentence, r.text, r.changes);
      renderChanges(tryOutput, model);
      if (!model.hasChanges() && tryOutput.childNodes.length === 0) tryOutput.textContent = r.text;
      tryMessage.set(model.hasChanges() || r.text !== sentence ? null : "No list changes this sentence.", "info");
    } catch (e) {
      if (seq !== trySeq) return;
      replaceChildren(tryOutput);
      tryMessage.set(errorMessage(e), "error");
    }
  }
  const tryLater = debounce(() => void tryNow(), validateDelayMs);
  function runTry(): void {
    if (tryInput.value.trim()) tryLater();
  }
  tryInput.addEventListener("input", () => tryLater());

  renderLists();
  renderChrome();

  return {
    id: "lists",
    el: section,
    editor,
    refresh,
    select,
    activate() {
      void refresh();
    },
    onKey(e) {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "s") {
        e.preventDefault();
        if (editor.table) void save();
        return true;
      }
      return false;
    },
  };
}
