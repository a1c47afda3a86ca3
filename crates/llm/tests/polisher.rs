//! The LLM polishers on the real model: they can only keep, drop, re-case and punctuate words.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use scrivo_llm::{LlmPolisher, Model, TaggerHead, TaggerPolisher, TextTokenizer};
use scrivo_polish::{Polisher, RulePolisher};

fn model() -> Option<(Arc<Model>, Arc<TextTokenizer>)> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/smollm2-135m-instruct-q8_0.gguf");
    if !p.is_file() {
        eprintln!("SKIP: {} not installed (`make test` installs it)", p.display());
        return None;
    }
    let (model, tok) = Model::load(&p).expect("load");
    Some((Arc::new(model), Arc::new(tok)))
}

fn rules() -> RulePolisher {
    RulePolisher::english().with_protected_terms(["Anja"])
}

fn polisher() -> Option<LlmPolisher> {
    let (model, tok) = model()?;
    Some(LlmPolisher::new(model, tok, rules()).expect("polisher"))
}

fn tagger() -> Option<TaggerPolisher> {
    let (model, tok) = model()?;
    Some(TaggerPolisher::new(model, tok, TaggerHead::shipped().expect("shipped head"), rules()).expect("tagger"))
}

/// Sentences with fillers, repetitions, corrections, numbers, negations and a listed name.
const HARD: [&str; 5] = [
    "so um we we should move the meeting to tuesday no wednesday",
    "i do not uh want more than 3 apples from anja",
    "what is the capital of france",
    "uh can you can you send me the the report by friday",
    "the price is is 45 dollars not 50",
];

/// What must survive polishing, where the input has it.
const KEEP: [&str; 8] = ["not", "3", "anja", "45", "50", "wednesday", "france", "friday"];

fn check_hard_sentences(p: &mut dyn Polisher) {
    for input in HARD {
        let out = p.polish(input).expect("polish").text;
        eprintln!("{input:?} -> {out:?}");
        assert_copy_only(input, &out);
        for keep in KEEP {
            if words(input).contains(&keep.to_string()) {
                assert!(words(&out).contains(&keep.to_string()), "{keep:?} lost: {input:?} -> {out:?}");
            }
        }
        assert!(!words(&out).iter().any(|w| w == "um" || w == "uh"), "{out:?}");
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).filter(|w| !w.is_empty()).collect()
}

/// Every output word is an input word, no more often than in the input, in input order.
fn assert_copy_only(input: &str, output: &str) {
    let mut bag: HashMap<String, usize> = HashMap::new();
    for w in words(input) {
        *bag.entry(w).or_default() += 1;
    }
    for w in words(output) {
        let n = bag.get_mut(&w).unwrap_or_else(|| panic!("{w:?} is not in the input: {input:?} -> {output:?}"));
        assert!(*n > 0, "{w:?} used more often than in the input: {output:?}");
        *n -= 1;
    }
    let (inp, out) = (words(input), words(output));
    let mut it = inp.iter();
    assert!(out.iter().all(|w| it.any(|x| x == w)), "order changed: {input:?} -> {output:?}");
}

#[test]
fn it_only_copies_and_keeps_numbers_negations_and_terms() {
    let Some(mut p) = polisher() else { return };
    check_hard_sentences(&mut p);
}

#[test]
fn the_tagger_only_deletes_and_keeps_numbers_negations_and_terms() {
    let Some(mut p) = tagger() else { return };
    check_hard_sentences(&mut p);
}

#[test]
fn the_tagger_repairs_self_corrections_and_leaves_clean_text_alone() {
    let Some(mut p) = tagger() else { return };
    for (input, expected) in [
        ("What do petrologists no what do unstable isotope studies indicate?", "What do unstable isotope studies indicate?"),
        ("um move the meeting to Tuesday, no, Wednesday", "Move the meeting to Wednesday"),
        ("The report is ready and I sent it to the board this morning.", "The report is ready and I sent it to the board this morning."),
    ] {
        let out = p.polish(input).expect("polish");
        assert_eq!(out.text, expected, "{input:?}");
        assert_copy_only(input, &out.text);
        let removed: usize = out.edits.iter().map(|e| e.end - e.start).sum();
        assert_eq!(words(input).len() - removed, words(&out.text).len(), "edits account for every removed word: {:?}", out.edits);
    }
}

#[test]
fn the_tagger_keeps_the_rule_output_past_its_time_budget() {
    let Some(p) = tagger() else { return };
    let mut p = p.with_budget(std::time::Duration::ZERO, std::time::Duration::ZERO);
    for input in ["um so we we should ship it", "The report is ready. Um, I sent it to, uh, the board."] {
        let (out, expected) = (p.polish(input).expect("polish"), rules().polish(input).expect("rules"));
        assert_eq!(out.text, expected.text, "{input:?}");
        let removed = |e: &[scrivo_polish::Edit]| e.iter().map(|e| e.end - e.start).sum::<usize>();
        assert_eq!(removed(&out.edits), removed(&expected.edits), "{input:?}");
    }
}

#[test]
fn a_style_swapped_in_or_made_from_an_earlier_base_run_polishes_as_one_made_fresh() {
    let Some((model, tok)) = model() else { return };
    let (clean, frozen) = (TaggerHead::shipped().expect("clean"), TaggerHead::frozen().expect("frozen"));
    let fresh = |head: &TaggerHead| TaggerPolisher::new(Arc::clone(&model), Arc::clone(&tok), head.clone(), rules()).expect("fresh");
    let mut swapped = fresh(&clean);
    let base = swapped.base().expect("a tagger made without a prefix keeps the base run");
    swapped.set_head(frozen.clone(), None).expect("swap to frozen");
    let mut made = TaggerPolisher::reusing(Arc::clone(&model), Arc::clone(&tok), frozen.clone(), rules(), None, Some(base)).expect("from the base run");
    let mut back = fresh(&frozen);
    back.set_head(clean.clone(), None).expect("swap to clean");
    for input in HARD {
        let want = fresh(&frozen).polish(input).expect("fresh frozen");
        assert_eq!(swapped.polish(input).expect("swapped").confidence, want.confidence, "{input:?}");
        assert_eq!(made.polish(input).expect("made").confidence, want.confidence, "{input:?}");
        let want = fresh(&clean).polish(input).expect("fresh clean");
        assert_eq!(back.polish(input).expect("swapped back").confidence, want.confidence, "{input:?}");
    }
}
