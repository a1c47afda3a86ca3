// @vitest-environment jsdom
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { HistoryEntry } from "../src/api";
import { createHistoryView, toWavBlob } from "../src/views/history";
import { allByTestId, byTestId, fakeServices, settle } from "./fakes";

const entries: HistoryEntry[] = [
  {
    id: 1,
    created: Date.now() - 3_600_000,
    seconds: 4.2,
    raw: "um hello there no hello world",
    text: "Hello world.",
    changes: [
      { kind: "removed", raw: "um", polished: "", unsure: false },
      { kind: "removed", raw: "hello there no", polished: "", unsure: true },
      { kind: "replaced", raw: "hello", polished: "Hello", unsure: false },
      { kind: "replaced", raw: "world", polished: "world.", unsure: false },
    ],
    status: "transcribed",
    error: null,
    asrModel: "whisper-base.en",
    polisher: "tagger",
  },
  { id: 2, created: Date.now(), seconds: 9, raw: null, text: null, changes: [], status: "failed", error: "the model ran out of memory", asrModel: null, polisher: null },
];

function setup() {
  const services = fakeServices({
    historyList: async () => structuredClone(entries),
    historyRerun: async (id: number) => ({ ...entries[1], id, status: "transcribed", text: "Second try.", raw: "second try", error: null }),
    historySetText: async (id: number, _raw: string, text: string) => ({ ...entries[0], id, text }),
    historyDelete: async () => {},
    historyAudio: async () => new Uint8Array([82, 73, 70, 70]).buffer,
    copyText: async () => {},
  });
  const view = createHistoryView(services);
  document.body.appendChild(view.el);
  return { services, view, root: view.el };
}

describe("History view", () => {
  beforeEach(() => document.body.replaceChildren());

  it("lists entries newest first with text or error, and refreshes after a dictation", async () => {
    const { view, root, services } = setup();
    view.activate!();
    await settle();
    const rows = allByTestId(root, "history-row");
    expect(rows.map((r) => r.dataset.id)).toEqual(["2", "1"]);
    expect(rows[0].textContent).toContain("the model ran out of memory");
    expect(rows[0].querySelector('[data-testid="history-status"]')?.textContent).toBe("Failed");
    expect(rows[1].textContent).toContain("Hello world.");
    expect(rows[1].textContent).toContain("0:04");
    services.emit("dictation-final", { historyId: 3, raw: "", text: "", changes: [], seconds: 1, latencyMs: 1, stopReason: "stopped", warning: null });
    await settle();
    expect(services.api.historyList).toHaveBeenCalledTimes(2);
  });

  it("re-run shows busy, then replaces the row", async () => {
    const { view, root, services } = setup();
    let release: () => void = () => {};
    services.api.historyRerun.mockImplementationOnce(
      (id: number) => new Promise((r) => (release = () => r({ ...entries[1], id, status: "transcribed", text: "Second try.", raw: "second try", error: null }))),
    );
    view.activate!();
    await settle();
    allByTestId(root, "history-row")[0].querySelector<HTMLButtonElement>('[data-testid="history-rerun"]')!.click();
    await settle();
    const busyRow = allByTestId(root, "history-row")[0];
    expect(busyRow.getAttribute("aria-busy")).toBe("true");
    expect(busyRow.querySelector<HTMLButtonElement>('[data-testid="history-rerun"]')!.disabled).toBe(true);
    release();
    await settle();
    const row = allByTestId(root, "history-row")[0];
    expect(row.dataset.status).toBe("transcribed");
    expect(row.textContent).toContain("Second try.");
    expect(row.getAttribute("aria-busy")).toBeNull();
  });

  it("shows what polishing changed on request, with the removals it was not sure of marked", async () => {
    const { view, root } = setup();
    view.activate!();
    await settle();
    const row = () => allByTestId(root, "history-row")[1];
    expect(row().querySelector('[data-testid="history-unsure"]')?.textContent).toBe("1 removal to check");
    const toggle = () => row().querySelector<HTMLButtonElement>('[data-testid="history-changes-toggle"]')!;
    expect(toggle().getAttribute("aria-pressed")).toBe("false");
    expect(toggle().classList.contains("has-unsure")).toBe(true);
    expect(row().querySelector('[data-testid="history-changes"]')).toBeNull();
    toggle().click();
    const shown = row().querySelector<HTMLElement>('[data-testid="history-changes"]')!;
    expect(Array.from(shown.querySelectorAll("del")).map((d) => d.textContent)).toEqual(["um", "hello there no", "hello", "world"]);
    const marked = shown.querySelectorAll('.change[data-unsure="true"]');
    expect(Array.from(marked).map((m) => m.querySelector("del")?.textContent)).toEqual(["hello there no"]);
    // The button keeps the focus and says what it does now.
    expect(toggle().textContent).toBe("Hide changes");
    expect(toggle().getAttribute("aria-controls")).toBe(shown.id);
    expect(document.activeElement).toBe(toggle());
    toggle().click();
    expect(row().querySelector('[data-testid="history-changes"]')).toBeNull();
    expect(row().textContent).toContain("Hello world.");
    // A failed entry offers no changes.
    expect(allByTestId(root, "history-row")[0].querySelector('[data-testid="history-changes-toggle"]')).toBeNull();
  });

  it("saves the text when a change is undone in the history, and puts it back when the save fails", async () => {
    const { view, root, services } = setup();
    view.activate!();
    await settle();
    const row = () => allByTestId(root, "history-row")[1];
    row().querySelector<HTMLButtonElement>('[data-testid="history-changes-toggle"]')!.click();
    const undoOf = (raw: string) =>
      Array.from(row().querySelectorAll<HTMLButtonElement>('[data-testid="change-undo"]')).find((b) => b.parentElement?.querySelector("del")?.textContent === raw)!;
    undoOf("hello there no").click();
    await settle();
    expect(services.api.historySetText).toHaveBeenCalledWith(1, "um hello there no hello world", "hello there no Hello world.");
    // What was unsure is now back in the text: nothing left to check; the focus stays on the button.
    expect(row().querySelector('[data-testid="history-unsure"]')).toBeNull();
    expect(document.activeElement?.getAttribute("data-testid")).toBe("change-undo");
    row().querySelector<HTMLButtonElement>('[data-testid="history-changes-toggle"]')!.click();
    expect(row().querySelector(".history-text")?.textContent).toBe("hello there no Hello world.");
    row().querySelector<HTMLButtonElement>('[data-testid="history-copy"]')!.click();
    await settle();
    expect(services.api.copyText).toHaveBeenCalledWith("hello there no Hello world.");

    // A save that fails puts the change back and says why.
    services.api.historySetText.mockImplementationOnce(() => Promise.reject({ message: "history.sqlite3: disk full" }));
    row().querySelector<HTMLButtonElement>('[data-testid="history-changes-toggle"]')!.click();
    Array.from(row().querySelectorAll<HTMLButtonElement>('[data-testid="change-undo"]'))
      .find((b) => b.parentElement?.querySelector("del")?.textContent === "um")!
      .click();
    await settle();
    expect(row().textContent).toContain("disk full");
    row().querySelector<HTMLButtonElement>('[data-testid="history-changes-toggle"]')!.click();
    expect(row().querySelector(".history-text")?.textContent).toBe("hello there no Hello world.");
  });

  it("a refresh while an edit is saved keeps the edit", async () => {
    const { view, root, services } = setup();
    view.activate!();
    await settle();
    let release: () => void = () => {};
    services.api.historySetText.mockImplementationOnce(
      (id: number, _raw: string, text: string) => new Promise((r) => (release = () => r({ ...entries[0], id, text }))),
    );
    const row = () => allByTestId(root, "history-row")[1];
    row().querySelector<HTMLButtonElement>('[data-testid="history-changes-toggle"]')!.click();
    Array.from(row().querySelectorAll<HTMLButtonElement>('[data-testid="change-undo"]'))
      .find((b) => b.parentElement?.querySelector("del")?.textContent === "hello there no")!
      .click();
    // Re-run and delete wait for the save.
    expect(row().querySelector<HTMLButtonElement>('[data-testid="history-rerun"]')!.disabled).toBe(true);
    byTestId<HTMLButtonElement>(root, "history-refresh").click();
    await settle();
    release();
    await settle();
    row().querySelector<HTMLButtonElement>('[data-testid="history-changes-toggle"]')!.click();
    expect(row().querySelector(".history-text")?.textContent).toBe("hello there no Hello world.");
    expect(row().querySelector<HTMLButtonElement>('[data-testid="history-rerun"]')!.disabled).toBe(false);
  });

  it("delete asks inline first", async () => {
    const { view, root, services } = setup();
    view.activate!();
    await settle();
    allByTestId(root, "history-row")[1].querySelector<HTMLButtonElement>('[data-testid="history-delete"]')!.click();
    expect(services.api.historyDelete).not.toHaveBeenCalled();
    byTestId<HTMLButtonElement>(root, "history-delete-confirm").click();
    await settle();
    expect(services.api.historyDelete).toHaveBeenCalledWith(1);
    expect(allByTestId(root, "history-row").map((r) => r.dataset.id)).toEqual(["2"]);
  });

  it("copies the text and plays the audio through a blob URL", async () => {
    const { view, root, services } = setup();
    const createObjectURL = vi.fn(() => "blob:fake");
    const revokeObjectURL = vi.fn();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockImplementation(() => Promise.resolve());
    vi.spyOn(HTMLMediaElement.prototype, "pause").mockImplementation(() => {});
    view.activate!();
    await settle();
    const row = () => allByTestId(root, "history-row")[1];
    row().querySelector<HTMLButtonElement>('[data-testid="history-copy"]')!.click();
    await settle();
    expect(services.api.copyText).toHaveBeenCalledWith("Hello world.");
    row().querySelector<HTMLButtonElement>('[data-testid="history-play"]')!.click();
    await settle();
    expect(services.api.historyAudio).toHaveBeenCalledWith(1);
    expect(createObjectURL).toHaveBeenCalledTimes(1);
    const blob = (createObjectURL.mock.calls[0] as unknown[])[0] as Blob;
    expect(blob.type).toBe("audio/wav");
    expect(play).toHaveBeenCalled();
    expect(row().querySelector('[data-testid="history-play"]')?.getAttribute("aria-pressed")).toBe("true");
    row().querySelector<HTMLButtonElement>('[data-testid="history-play"]')!.click(); // stop
    expect(revokeObjectURL).toHaveBeenCalledWith("blob:fake");
  });

  it("toWavBlob takes an ArrayBuffer or a JSON array of bytes", async () => {
    expect(toWavBlob(new Uint8Array([1, 2, 3]).buffer).size).toBe(3);
    expect(toWavBlob([1, 2, 3, 4]).size).toBe(4);
  });
});
