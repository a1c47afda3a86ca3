// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BatchFile } from "../src/api";
import { createApp as makeApp, NOT_IN_APP_BANNER, VIEW_ORDER, type App } from "../src/app";
import { browserServices } from "../src/services";
import { allByTestId, byTestId, defaultSettings, fakeServices, settle } from "./fakes";

function visibleViews(): string[] {
  return VIEW_ORDER.filter((id) => !byTestId(document, `view-${id}`).hidden);
}

const files: BatchFile[] = [
  { path: "/rec/a.wav", name: "a.wav", bytes: 48_000 },
  { path: "/rec/b.wav", name: "b.wav", bytes: 96_000 },
  { path: "/rec/c.wav", name: "c.wav", bytes: 12_000 },
];

function services() {
  return fakeServices({
    appInfo: async () => ({ version: "0.3.0", notices: [] }),
    batchExpand: async (paths: string[]) => files.filter((f) => paths.some((p) => f.path.startsWith(p))),
    batchStart: async () => {},
    batchCancel: async () => {},
    openPath: async () => {},
    historyList: async () => [],
    biasLists: async () => [],
    settingsGet: async () => defaultSettings(),
    devices: async () => [],
    models: async () => [],
  });
}

const apps: App[] = [];
function createApp(...args: Parameters<typeof makeApp>): App {
  const app = makeApp(...args);
  apps.push(app);
  return app;
}

describe("app shell", () => {
  beforeEach(() => {
    document.body.replaceChildren();
  });
  afterEach(() => {
    apps.splice(0).forEach((a) => a.destroy());
  });

  it("shows what was mended at start as text, one dismissable banner each", async () => {
    const notice = "settings.toml: <img src=x onerror=\"window.hacked=1\"> (kept as settings.toml.damaged-1)";
    const s = services();
    s.api.appInfo.mockResolvedValue({ version: "0.3.0", notices: [notice, "2 recording(s) listed again"] });
    createApp(document.body, s);
    await settle();
    const banners = allByTestId(document, "app-notice");
    expect(banners.map((b) => b.querySelector(".banner-text")?.textContent)).toEqual([notice, "2 recording(s) listed again"]);
    expect(document.querySelector("img")).toBeNull();
    byTestId<HTMLButtonElement>(banners[0], "app-notice-dismiss").click();
    expect(allByTestId(document, "app-notice")).toHaveLength(1);
  });

  it("shows one view at a time, from the nav and from Ctrl+1..5", async () => {
    const s = services();
    createApp(document.body, s);
    await settle();
    expect(visibleViews()).toEqual(["dictate"]);
    expect(byTestId(document, "nav-dictate").getAttribute("aria-current")).toBe("page");
    expect(byTestId(document, "app-version").textContent).toBe("v0.3.0");
    byTestId<HTMLButtonElement>(document, "nav-history").click();
    expect(visibleViews()).toEqual(["history"]);
    expect(s.api.historyList).toHaveBeenCalled();
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "2", code: "Digit2", ctrlKey: true, bubbles: true }));
    expect(visibleViews()).toEqual(["batch"]);
    expect(byTestId(document, "nav-dictate").getAttribute("aria-current")).toBeNull();
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "5", code: "Digit5", ctrlKey: true, bubbles: true }));
    expect(visibleViews()).toEqual(["settings"]);
    expect(document.querySelector('[data-testid="no-tauri-banner"]')).toBeNull();
  });

  it("in a plain browser shows the banner and does not crash", async () => {
    createApp(document.body, browserServices());
    await settle();
    expect(byTestId(document, "no-tauri-banner").textContent).toBe(NOT_IN_APP_BANNER);
    expect(NOT_IN_APP_BANNER).toContain("runs inside the Scrivo app");
    byTestId<HTMLButtonElement>(document, "record-button").click();
    await settle();
    expect(byTestId(document, "dictation-status").textContent).toContain("runs inside the Scrivo app");
  });

  it("runs a batch: rows, progress, a failure, open and the summary", async () => {
    const s = services();
    const app = createApp(document.body, s);
    app.show("batch");
    await app.addBatchPaths(["/rec"]);
    let rows = allByTestId(document, "batch-row");
    expect(rows.map((r) => r.dataset.state)).toEqual(["queued", "queued", "queued"]);
    // remove one while queued
    rows[2].querySelector<HTMLButtonElement>('[data-testid="batch-remove"]')!.click();
    rows = allByTestId(document, "batch-row");
    expect(rows).toHaveLength(2);

    byTestId<HTMLSelectElement>(document, "batch-format").value = "srt";
    byTestId<HTMLButtonElement>(document, "batch-start").click();
    await settle();
    expect(s.api.batchStart).toHaveBeenCalledWith({ files: ["/rec/a.wav", "/rec/b.wav"], format: "srt", outDir: null, polish: true });
    expect(byTestId<HTMLButtonElement>(document, "batch-cancel").disabled).toBe(false);
    expect(byTestId<HTMLButtonElement>(document, "batch-start").disabled).toBe(true);

    s.emit("batch-progress", { index: 0, path: "/rec/a.wav", state: "running", fraction: 0.5, output: null, error: null });
    expect(rows[0].dataset.state).toBe("running");
    expect(byTestId<HTMLProgressElement>(document, "batch-total").value).toBeCloseTo(0.25);
    s.emit("batch-progress", { index: 0, path: "/rec/a.wav", state: "done", fraction: 1, output: "/rec/a.srt", error: null });
    s.emit("batch-progress", { index: 1, path: "/rec/b.wav", state: "failed", fraction: 0, output: null, error: "not a WAV file" });
    s.emit("batch-done", { done: 1, failed: 1, cancelled: 0 });

    rows = allByTestId(document, "batch-row");
    expect(rows.map((r) => r.dataset.state)).toEqual(["done", "failed"]);
    const error = rows[1].querySelector<HTMLElement>('[data-testid="batch-error"]')!;
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe("not a WAV file");
    expect(byTestId(document, "batch-summary").textContent).toBe("1 done, 1 failed");
    expect(byTestId<HTMLButtonElement>(document, "batch-cancel").disabled).toBe(true);
    const open = rows[0].querySelector<HTMLButtonElement>('[data-testid="batch-open"]')!;
    expect(open.hidden).toBe(false);
    open.click();
    await settle();
    expect(s.api.openPath).toHaveBeenCalledWith("/rec/a.srt");
  });

  it("files dropped on the window go to the batch queue", async () => {
    const s = services();
    createApp(document.body, s);
    s.drop({ type: "enter", paths: ["/rec/a.wav"] });
    expect(byTestId(document, "view-batch").classList.contains("is-drop-target")).toBe(true);
    s.drop({ type: "drop", paths: ["/rec/a.wav"] });
    await settle();
    expect(visibleViews()).toEqual(["batch"]);
    expect(allByTestId(document, "batch-row")).toHaveLength(1);
    expect(s.api.batchExpand).toHaveBeenCalledWith(["/rec/a.wav"]);
  });

  it("an expand failure shows inline", async () => {
    const s = services();
    s.api.batchExpand.mockRejectedValueOnce({ message: "no such folder: /gone" });
    const app = createApp(document.body, s);
    await app.addBatchPaths(["/gone"]);
    expect(byTestId(document, "batch-message").textContent).toBe("no such folder: /gone");
    expect(allByTestId(document, "batch-row")).toHaveLength(0);
  });
});
