//! The corrector's promise over generated text: it never panics and writes nothing but the
//! text's own words and the listed terms, whatever the text (dictation-like words near the
//! terms' sounds, or arbitrary Unicode) and whatever the list (generated terms too).

use proptest::prelude::*;
use scrivo_bias::{only_terms_written, Corrector, Entry, Lexicon};

const WORDS: &[&str] = &[
    "deploy", "to", "cube", "nettys", "cooper", "netties", "post", "gress", "postgres", "sequel", "win", "when", "Nguyen",
    "shiv", "on", "Siobhan", "tory", "story", "Tauri", "the", "a", "and", "is", "NATO", "Nato", "nato", "kubernetes",
    "tensor", "flow", "light", "lite", "I'm", "don't", "U.S.", ",", ".", "-", "'", "\u{2019}s", "Dvořák", "dvorak",
];

fn list() -> Vec<Entry> {
    let entry = |term: &str, sounds: &[&str]| Entry { term: term.into(), sounds_like: sounds.iter().map(|s| (*s).into()).collect(), note: None };
    vec![
        entry("Kubernetes", &["cube nettys", "cooper netties"]),
        entry("PostgreSQL", &["post gress"]),
        entry("Nguyen", &["win"]),
        entry("Siobhan", &[]),
        entry("Tauri", &["tory"]),
        entry("NATO", &[]),
        entry("TensorFlow Lite", &[]),
        entry("Dvořák", &[]),
    ]
}

fn dictation() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..30).prop_map(|w| w.join(" "))
}

fn check(entries: &[Entry], text: &str) -> Result<(), TestCaseError> {
    let corrector = Corrector::for_entries(entries, Lexicon::english());
    let corrected = corrector.apply(text);
    let terms = entries.iter().map(|e| e.term.as_str());
    prop_assert!(only_terms_written(text, &corrected.text, terms).is_ok(), "{:?} -> {:?}", text, corrected.text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn dictation_gets_only_listed_terms(text in dictation()) {
        check(&list(), &text)?;
    }

    #[test]
    fn any_text_gets_only_listed_terms(text in any::<String>()) {
        check(&list(), &text)?;
    }

    #[test]
    fn generated_lists_write_only_their_terms(
        terms in prop::collection::vec("[A-Za-z][a-z]{2,9}( [A-Z][a-z]{2,6})?", 1..6),
        text in dictation(),
    ) {
        let entries: Vec<Entry> = terms.iter().map(|t| Entry::new(t.as_str())).collect();
        check(&entries, &text)?;
    }
}

/// Inputs the `bias_corrector` fuzz target found breaking the promise
/// (fuzz/regressions/bias_corrector). The first: "in+b@hn" became "Nguyenb@hn", because "in+"
/// was taken as a word like "C++" although a letter followed the sign.
#[test]
fn fuzz_found_texts_get_only_listed_terms() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/bias_corrector");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        check(&list(), &text).expect("only listed terms");
        replayed += 1;
    }
    assert!(replayed > 0);
}
