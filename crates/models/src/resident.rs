//! The models a long-running process keeps in memory, under one budget.
//!
//! The speech model and the polishing model are loaded independently, each on first use
//! ([`Resident::get`]). The manager knows what each takes (the process's resident memory
//! measured before and after the load, or the caller's estimate where that cannot be read) and,
//! when a load would go over the budget, first unloads the least recently used model that no
//! one is using (a model is in use while a caller holds its `Arc`). Models idle for longer than
//! the idle timeout are unloaded by [`Resident::unload_idle`] (call it from a timer).
//! [`Resident::status`] says what is loaded, and every load and unload is also reported to an
//! optional listener (an app's event).
//!
//! A model larger than the whole budget is still loaded, with a warning: a dictation that
//! cannot run at all would be worse than one over budget.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Asks glibc's allocator to give the system back the free pages of every arena
/// (`malloc_trim`). glibc returns freed memory only from the top of its heap on its own, so the
/// many small allocations an unloaded model freed below live ones stayed resident: 86 MB after a
/// dictation and the idle unload, 67.5 MB once trimmed (`scrivo eval dictation`). Returns
/// whether anything was given back. Other allocators return memory themselves: nothing to do.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_freed_memory() -> bool {
    // SAFETY: malloc_trim takes no pointers and has no preconditions; glibc locks each arena
    // while it walks it.
    unsafe { libc::malloc_trim(0) != 0 }
}

/// Other allocators return freed memory themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed_memory() -> bool {
    false
}

/// A loaded model, type-erased.
type Loaded = Arc<dyn Any + Send + Sync>;

struct Slot {
    model: Loaded,
    bytes: u64,
    last_used: Instant,
}

/// What happened to a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ResidentEvent {
    Loaded { id: String, bytes: u64, seconds: f64 },
    Unloaded { id: String, bytes: u64, reason: UnloadReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnloadReason {
    /// Room was needed for another model.
    Budget,
    /// Not used for the idle timeout.
    Idle,
    /// Another copy of the same model, which serves its callers too, was loaded.
    Replaced,
}

/// One model's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelState {
    pub id: String,
    pub bytes: u64,
    /// Seconds since it was last handed out.
    pub idle_seconds: f64,
    /// Whether a caller holds it now.
    pub in_use: bool,
}

/// The manager's state: the budget and the loaded models.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub budget_bytes: u64,
    pub idle_timeout_seconds: f64,
    pub resident_bytes: u64,
    pub models: Vec<ModelState>,
}

type Listener = Box<dyn Fn(&ResidentEvent) + Send + Sync>;

/// Loads models on demand within a memory budget. Share it with `Arc`.
pub struct Resident {
    budget: u64,
    idle_timeout: Duration,
    slots: Mutex<HashMap<String, Slot>>,
    /// Held while a model loads, so two loads do not both count the same free memory.
    loading: Mutex<()>,
    listener: Option<Listener>,
    /// Reads the process's resident memory (None: use the estimates).
    measure: fn() -> Option<u64>,
}

/// The process's resident set size in bytes (Linux `/proc/self/statm`); None elsewhere.
pub fn resident_set_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

impl Resident {
    /// A manager that keeps at most `budget` bytes of models and unloads a model unused for
    /// `idle_timeout`.
    pub fn new(budget: u64, idle_timeout: Duration) -> Self {
        Resident { budget, idle_timeout, slots: Mutex::new(HashMap::new()), loading: Mutex::new(()), listener: None, measure: resident_set_bytes }
    }

    /// Sizes from the callers' estimates only, not measured (for a process whose other
    /// threads allocate while models load).
    pub fn estimates_only(mut self) -> Self {
        self.measure = || None;
        self
    }

    /// Reports every load and unload to `listener`.
    pub fn with_listener(mut self, listener: impl Fn(&ResidentEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Box::new(listener));
        self
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(&self, event: ResidentEvent) {
        tracing::info!(?event, "model manager");
        if let Some(l) = &self.listener {
            l(&event);
        }
    }

    /// The model `id`, loaded by `load` if it is not resident. `estimate` is its expected
    /// resident size (the file size will do), used to make room before loading; the size kept
    /// is the measured one when the platform tells. A model of another type under the same id
    /// is reloaded.
    pub fn get<T, E>(&self, id: &str, estimate: u64, load: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
    {
        if let Some(found) = self.touch::<T>(id) {
            return Ok(found);
        }
        let _loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        // Another caller may have loaded it while this one waited.
        if let Some(found) = self.touch::<T>(id) {
            return Ok(found);
        }
        self.make_room(id, estimate);
        let before = (self.measure)();
        let started = Instant::now();
        let model = Arc::new(load()?);
        let bytes = match (before, (self.measure)()) {
            // Memory the allocator reused can make the difference small: never below a third
            // of the estimate.
            (Some(b), Some(a)) if a > b => (a - b).max(estimate / 3),
            _ => estimate,
        };
        let erased: Loaded = model.clone();
        self.slots().insert(id.to_string(), Slot { model: erased, bytes, last_used: Instant::now() });
        self.emit(ResidentEvent::Loaded { id: id.to_string(), bytes, seconds: started.elapsed().as_secs_f64() });
        // The model may have taken more than its estimate: make room now for what it took.
        self.make_room(id, 0);
        if self.resident_bytes() > self.budget {
            tracing::warn!("{id} takes {} MB; the models in use now take more than the {} MB budget", bytes >> 20, self.budget >> 20);
        }
        Ok(model)
    }

    /// The model `id` if it is resident now (marked as used), without loading it.
    pub fn loaded<T: Send + Sync + 'static>(&self, id: &str) -> Option<Arc<T>> {
        self.touch::<T>(id)
    }

    /// Unloads the resident models whose id `which` accepts and that no one holds (a copy
    /// another model now replaces); returns how many went.
    pub fn unload_unused(&self, which: impl Fn(&str) -> bool) -> usize {
        let ids: Vec<String> = self.slots().iter().filter(|(id, s)| which(id) && Arc::strong_count(&s.model) == 1).map(|(id, _)| id.clone()).collect();
        for id in &ids {
            self.unload(id, UnloadReason::Replaced);
        }
        ids.len()
    }

    /// The resident model `id` of type `T`, marked as used now.
    fn touch<T: Send + Sync + 'static>(&self, id: &str) -> Option<Arc<T>> {
        let mut slots = self.slots();
        let slot = slots.get_mut(id)?;
        let model = Arc::clone(&slot.model).downcast::<T>().ok()?;
        slot.last_used = Instant::now();
        Some(model)
    }

    /// Unloads idle models, least recently used first, until `needed` more bytes fit.
    fn make_room(&self, loading: &str, needed: u64) {
        loop {
            let victim = {
                let slots = self.slots();
                let resident: u64 = slots.values().map(|s| s.bytes).sum();
                if resident + needed <= self.budget {
                    return;
                }
                slots
                    .iter()
                    .filter(|(id, s)| id.as_str() != loading && Arc::strong_count(&s.model) == 1)
                    .min_by_key(|(_, s)| s.last_used)
                    .map(|(id, _)| id.clone())
            };
            match victim {
                Some(id) => {
                    self.unload(&id, UnloadReason::Budget);
                    // The model about to load would otherwise come from fresh pages while the
                    // evicted one's stay resident in the heap.
                    let released = release_freed_memory();
                    tracing::debug!(released, "freed memory handed back after an unload for room");
                }
                None => return,
            }
        }
    }

    fn unload(&self, id: &str, reason: UnloadReason) {
        let removed = self.slots().remove(id);
        if let Some(slot) = removed {
            let bytes = slot.bytes;
            drop(slot);
            self.emit(ResidentEvent::Unloaded { id: id.to_string(), bytes, reason });
        }
    }

    /// Unloads every model no one has used for the idle timeout (and no one holds), then
    /// hands the memory they freed back to the system.
    pub fn unload_idle(&self) {
        let idle: Vec<String> = self
            .slots()
            .iter()
            .filter(|(_, s)| s.last_used.elapsed() >= self.idle_timeout && Arc::strong_count(&s.model) == 1)
            .map(|(id, _)| id.clone())
            .collect();
        if idle.is_empty() {
            return;
        }
        for id in idle {
            self.unload(&id, UnloadReason::Idle);
        }
        let released = release_freed_memory();
        tracing::debug!(released, "freed memory handed back after the idle unload");
    }

    /// Bytes the loaded models take.
    pub fn resident_bytes(&self) -> u64 {
        self.slots().values().map(|s| s.bytes).sum()
    }

    pub fn status(&self) -> Status {
        let slots = self.slots();
        let mut models: Vec<ModelState> = slots
            .iter()
            .map(|(id, s)| ModelState {
                id: id.clone(),
                bytes: s.bytes,
                idle_seconds: s.last_used.elapsed().as_secs_f64(),
                in_use: Arc::strong_count(&s.model) > 1,
            })
            .collect();
        models.sort_by(|a, b| a.id.cmp(&b.id));
        Status {
            budget_bytes: self.budget,
            idle_timeout_seconds: self.idle_timeout.as_secs_f64(),
            resident_bytes: models.iter().map(|m| m.bytes).sum(),
            models,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A stand-in weight buffer of `n` bytes, touched so it is resident (held, never read).
    struct Weights(#[allow(dead_code)] Vec<u8>);

    fn weights(n: usize) -> Result<Weights, String> {
        Ok(Weights(vec![1u8; n]))
    }

    const MB: u64 = 1 << 20;

    #[test]
    fn models_load_once_and_are_shared() {
        let r = Resident::new(100 * MB, Duration::from_secs(60));
        let loads = AtomicUsize::new(0);
        let load = || {
            loads.fetch_add(1, Ordering::Relaxed);
            weights(MB as usize)
        };
        let a = r.get("asr", MB, load).expect("load");
        let b = r.get("asr", MB, || weights(MB as usize)).expect("resident");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(loads.load(Ordering::Relaxed), 1);
        let s = r.status();
        assert_eq!(s.models.len(), 1);
        assert!(s.models[0].in_use && s.models[0].bytes >= MB / 3);
    }

    #[test]
    fn a_load_over_budget_unloads_the_least_recently_used_idle_model() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&events);
        let r = Resident::new(50 * MB, Duration::from_secs(60)).estimates_only().with_listener(move |e| seen.lock().expect("lock").push(e.clone()));
        drop(r.get("asr", 30 * MB, || weights(30 * MB as usize)).expect("asr"));
        drop(r.get("polish", 15 * MB, || weights(15 * MB as usize)).expect("polish"));
        // Both fit; a third needs room: the older idle one goes.
        drop(r.get("asr", 30 * MB, || weights(30 * MB as usize)).expect("asr again"));
        let big = r.get("other", 30 * MB, || weights(30 * MB as usize)).expect("other");
        let ids: Vec<String> = r.status().models.into_iter().map(|m| m.id).collect();
        assert!(ids.contains(&"other".to_string()) && !ids.contains(&"polish".to_string()), "{ids:?}");
        assert!(events.lock().expect("lock").iter().any(|e| matches!(e, ResidentEvent::Unloaded { id, reason: UnloadReason::Budget, .. } if id == "polish")));
        // A model in use is never unloaded to make room: over budget instead.
        let _also = r.get("asr", 30 * MB, || weights(30 * MB as usize)).expect("asr held");
        let more = r.get("polish", 15 * MB, || weights(15 * MB as usize)).expect("over budget, still loaded");
        assert!(r.status().models.iter().any(|m| m.id == "other"), "held by `big`");
        drop((big, more));
    }

    #[test]
    fn idle_models_are_unloaded_after_the_timeout_unless_held() {
        let r = Resident::new(100 * MB, Duration::from_millis(30)).estimates_only();
        let held = r.get("asr", MB, || weights(MB as usize)).expect("asr");
        drop(r.get("polish", MB, || weights(MB as usize)).expect("polish"));
        std::thread::sleep(Duration::from_millis(50));
        r.unload_idle();
        let ids: Vec<String> = r.status().models.into_iter().map(|m| m.id).collect();
        assert_eq!(ids, ["asr"], "the held model stays");
        drop(held);
        r.unload_idle();
        assert!(r.status().models.is_empty());
        assert_eq!(r.resident_bytes(), 0);
    }

    #[test]
    fn a_failed_load_leaves_nothing_behind() {
        let r = Resident::new(100 * MB, Duration::from_secs(60));
        let e = r.get::<Weights, String>("asr", MB, || Err("bad file".into()));
        assert_eq!(e.err().as_deref(), Some("bad file"));
        assert!(r.status().models.is_empty());
    }
}
