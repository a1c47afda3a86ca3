// The contract between the page and the Rust side (src-tauri): every command and event the
// page uses, with its types.
//
// Tauri 2: command arguments are passed in camelCase and arrive in Rust as snake_case.
// Every command rejects with an AppError ({ message }) naming what went wrong.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export interface AppError { message: string }

// The types are generated from the Rust structs in src-tauri/src/dto.rs (ts-rs, on
// `cargo test -p scrivo-app`); never edit ./bindings by hand.
import type { AppInfo } from "./bindings/AppInfo";
import type { Change } from "./bindings/Change";
import type { ChangeKind } from "./bindings/ChangeKind";
import type { DictationPhase } from "./bindings/DictationPhase";
import type { DictationState } from "./bindings/DictationState";
import type { Level } from "./bindings/Level";
import type { Partial } from "./bindings/Partial";
import type { DictationResult } from "./bindings/DictationResult";
import type { StopReason } from "./bindings/StopReason";
import type { DictationOptions } from "./bindings/DictationOptions";
import type { PasteMethod } from "./bindings/PasteMethod";
import type { PasteOutcome } from "./bindings/PasteOutcome";
import type { OutputFormat } from "./bindings/OutputFormat";
import type { BatchFile } from "./bindings/BatchFile";
import type { BatchRequest } from "./bindings/BatchRequest";
import type { BatchFileState } from "./bindings/BatchFileState";
import type { BatchProgress } from "./bindings/BatchProgress";
import type { BatchSummary } from "./bindings/BatchSummary";
import type { ListSummary } from "./bindings/ListSummary";
import type { TermRow } from "./bindings/TermRow";
import type { ListDoc } from "./bindings/ListDoc";
import type { ProblemField } from "./bindings/ProblemField";
import type { RowProblem } from "./bindings/RowProblem";
import type { SaveOutcome } from "./bindings/SaveOutcome";
import type { TryResult } from "./bindings/TryResult";
import type { HistoryEntry } from "./bindings/HistoryEntry";
import type { HistoryStatus } from "./bindings/HistoryStatus";
import type { Settings } from "./bindings/Settings";
import type { Device } from "./bindings/Device";
import type { ModelRole } from "./bindings/ModelRole";
import type { ModelRow } from "./bindings/ModelRow";
import type { ModelProgress } from "./bindings/ModelProgress";
export type {
  AppInfo,
  Change,
  ChangeKind,
  DictationPhase,
  DictationState,
  Level,
  Partial,
  DictationResult,
  StopReason,
  DictationOptions,
  PasteMethod,
  PasteOutcome,
  OutputFormat,
  BatchFile,
  BatchRequest,
  BatchFileState,
  BatchProgress,
  BatchSummary,
  ListSummary,
  TermRow,
  ListDoc,
  ProblemField,
  RowProblem,
  SaveOutcome,
  TryResult,
  HistoryEntry,
  HistoryStatus,
  Settings,
  Device,
  ModelRole,
  ModelRow,
  ModelProgress,
};

/** Save rejects with this message prefix when the file changed on disk since `version`. */
export const CONFLICT_PREFIX = "conflict:";

// ---- commands --------------------------------------------------------------------------
export const api = {
  appInfo: () => invoke<AppInfo>("app_info"),

  dictationStart: (options: DictationOptions) => invoke<void>("dictation_start", { options }),
  dictationStop: () => invoke<void>("dictation_stop"),
  dictationCancel: () => invoke<void>("dictation_cancel"),
  copyText: (text: string) => invoke<void>("copy_text", { text }),
  pasteText: (text: string) => invoke<PasteOutcome>("paste_text", { text }),

  batchExpand: (paths: string[]) => invoke<BatchFile[]>("batch_expand", { paths }),
  batchStart: (request: BatchRequest) => invoke<void>("batch_start", { request }),
  batchCancel: () => invoke<void>("batch_cancel"),
  openPath: (path: string) => invoke<void>("open_path", { path }),

  biasLists: () => invoke<ListSummary[]>("bias_lists"),
  biasSetEnabled: (name: string, enabled: boolean) => invoke<void>("bias_set_enabled", { name, enabled }),
  biasListGet: (name: string) => invoke<ListDoc>("bias_list_get", { name }),
  biasListCreate: (name: string) => invoke<ListDoc>("bias_list_create", { name }),
  biasListDelete: (name: string) => invoke<void>("bias_list_delete", { name }),
  biasValidate: (name: string, terms: TermRow[]) => invoke<RowProblem[]>("bias_validate", { name, terms }),
  /** Rejects with CONFLICT_PREFIX... when the file changed on disk since `version`. */
  biasListSave: (name: string, terms: TermRow[], version: string) => invoke<SaveOutcome>("bias_list_save", { name, terms, version }),
  /** Adds the terms of a .txt/.csv/.toml file to the list; returns the list as saved. */
  biasImport: (name: string, path: string) => invoke<ListDoc>("bias_import", { name, path }),
  biasExport: (name: string, path: string) => invoke<void>("bias_export", { name, path }),
  /** What the enabled lists (or only `name`, when given) would change in `sentence`. */
  biasTry: (sentence: string, name: string | null) => invoke<TryResult>("bias_try", { sentence, name }),

  historyList: () => invoke<HistoryEntry[]>("history_list"),
  /** The recording as WAV bytes (play it through a Blob URL). */
  historyAudio: (id: number) => invoke<ArrayBuffer>("history_audio", { id }),
  historyRerun: (id: number) => invoke<HistoryEntry>("history_rerun", { id }),
  historySetText: (id: number, raw: string, text: string) => invoke<HistoryEntry>("history_set_text", { id, raw, text }),
  historyDelete: (id: number) => invoke<void>("history_delete", { id }),

  settingsGet: () => invoke<Settings>("settings_get"),
  settingsSet: (settings: Settings) => invoke<Settings>("settings_set", { settings }),
  devices: () => invoke<Device[]>("devices"),
  models: () => invoke<ModelRow[]>("models"),
  modelFetch: (id: string) => invoke<void>("model_fetch", { id }),
  modelImport: (id: string, path: string) => invoke<void>("model_import", { id, path }),
  modelRemove: (id: string) => invoke<void>("model_remove", { id }),
};

// ---- events ----------------------------------------------------------------------------
export interface Events {
  "dictation-state": DictationState;
  "dictation-level": Level;
  "dictation-partial": Partial;
  "dictation-final": DictationResult;
  "batch-progress": BatchProgress;
  "batch-done": BatchSummary;
  "model-progress": ModelProgress;
  /** The tray menu or a global shortcut asked to start or stop. */
  "dictation-toggle": null;
}

export function on<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void): Promise<UnlistenFn> {
  return listen<Events[K]>(event, (e) => handler(e.payload));
}
