//! The biasing corrector on any text with a user-like list: no panic, and nothing written that
//! is neither in the text nor in a listed term.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use scrivo_bias::{Corrector, Entry, Lexicon};

fn corrector() -> &'static (Corrector, Vec<Entry>) {
    static CORRECTOR: OnceLock<(Corrector, Vec<Entry>)> = OnceLock::new();
    CORRECTOR.get_or_init(|| {
        let entries = scrivo_fuzz::sample_entries();
        (Corrector::for_entries(&entries, Lexicon::english()), entries)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (corrector, entries) = corrector();
    let corrected = corrector.apply(text);
    if let Err(e) = scrivo_bias::only_terms_written(text, &corrected.text, entries.iter().map(|e| e.term.as_str())) {
        panic!("{e}: {text:?} -> {:?}", corrected.text);
    }
});
