// A fake of everything the views use: the api (each command a vi.fn, failing unless given),
// events that a test emits by hand, dialogs that answer what the test says.

import { vi } from "vitest";
import { api as realApi, type Events, type Settings } from "../src/api";
import type { Api, DropEvent, Services } from "../src/services";

/** The settings the Rust side gives by default (the tests change what they need). */
export function defaultSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    inputDevice: null,
    memoryBudgetMb: 2048,
    idleUnloadSeconds: 300,
    language: "en",
    polish: true,
    style: "clean",
    shortcutToggle: "CommandOrControl+Shift+Space",
    shortcutPushToTalk: "CommandOrControl+Shift+D",
    startAtLogin: false,
    ...overrides,
  };
}

export interface FakeServices extends Services {
  api: { [K in keyof Api]: ReturnType<typeof vi.fn> & Api[K] };
  emit<K extends keyof Events>(event: K, payload: Events[K]): void;
  drop(event: DropEvent): void;
  dialogAnswers: { openFiles: Array<string[] | null>; openFolder: Array<string | null>; saveFile: Array<string | null> };
  listeners(event: keyof Events): number;
}

export function fakeServices(impl: Partial<Api> = {}): FakeServices {
  const handlers = new Map<string, Array<(p: unknown) => void>>();
  const dropHandlers: Array<(e: DropEvent) => void> = [];
  const api = {} as Record<string, ReturnType<typeof vi.fn>>;
  for (const name of Object.keys(realApi)) {
    const given = (impl as Record<string, unknown>)[name];
    api[name] = vi.fn(
      typeof given === "function"
        ? (given as (...a: unknown[]) => unknown)
        : () => Promise.reject({ message: `${name}: not faked` }),
    );
  }
  const dialogAnswers: FakeServices["dialogAnswers"] = { openFiles: [], openFolder: [], saveFile: [] };
  return {
    api: api as unknown as FakeServices["api"],
    inApp: true,
    isMac: false,
    on: (async (event: string, handler: (p: unknown) => void) => {
      const list = handlers.get(event) ?? [];
      list.push(handler);
      handlers.set(event, list);
      return () => {
        const l = handlers.get(event) ?? [];
        handlers.set(event, l.filter((h) => h !== handler));
      };
    }) as Services["on"],
    emit(event, payload) {
      for (const h of handlers.get(event) ?? []) h(payload);
    },
    listeners(event) {
      return (handlers.get(event) ?? []).length;
    },
    dialogs: {
      openFiles: vi.fn(async () => dialogAnswers.openFiles.shift() ?? null),
      openFolder: vi.fn(async () => dialogAnswers.openFolder.shift() ?? null),
      saveFile: vi.fn(async () => dialogAnswers.saveFile.shift() ?? null),
    },
    async onDrop(handler) {
      dropHandlers.push(handler);
      return () => {};
    },
    drop(event) {
      for (const h of dropHandlers) h(event);
    },
    dialogAnswers,
  };
}

/** Lets pending promises and their then-callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

export function byTestId<T extends Element = HTMLElement>(root: ParentNode, id: string): T {
  const el = root.querySelector<T & Element>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no element with data-testid=${id}`);
  return el as T;
}

export function allByTestId<T extends Element = HTMLElement>(root: ParentNode, id: string): T[] {
  return [...root.querySelectorAll<T & Element>(`[data-testid="${id}"]`)] as T[];
}
