//! The LLM polisher on the real model: it can only keep, drop, re-case and punctuate words.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use scrivo_llm::{LlmPolisher, Model};
use scrivo_polish::{Polisher, RulePolisher};

fn polisher() -> Option<LlmPolisher> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/smollm2-135m-instruct-q8_0.gguf");
    if !p.is_file() {
        eprintln!("SKIP: {} not installed (`make test` installs it)", p.display());
        return None;
    }
    let (model, tok) = Model::load(&p).expect("load");
    Some(LlmPolisher::new(Arc::new(model), Arc::new(tok), RulePolisher::english().with_protected_terms(["Anja"])).expect("polisher"))
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
    for input in [
        "so um we we should move the meeting to tuesday no wednesday",
        "i do not uh want more than 3 apples from anja",
        "what is the capital of france",
        "uh can you can you send me the the report by friday",
        "the price is is 45 dollars not 50",
    ] {
        let out = p.polish(input).expect("polish").text;
        eprintln!("{input:?} -> {out:?}");
        assert_copy_only(input, &out);
        for keep in ["not", "3", "anja", "45", "50", "wednesday", "france", "friday"] {
            if words(input).contains(&keep.to_string()) {
                assert!(words(&out).contains(&keep.to_string()), "{keep:?} lost: {input:?} -> {out:?}");
            }
        }
        assert!(!words(&out).iter().any(|w| w == "um" || w == "uh"), "{out:?}");
    }
}
