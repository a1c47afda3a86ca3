//! The rule polisher on any text: no panic, and it only deletes (every word it writes is a
//! word of the input, in order).
#![no_main]
use libfuzzer_sys::fuzz_target;
use scrivo_polish::{Polisher, RulePolisher};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut polisher = RulePolisher::english();
    let polished = polisher.polish(text).expect("the rule polisher does not fail");
    if let Err(e) = scrivo_polish::only_deletes(text, &polished.text) {
        panic!("{e}: {text:?} -> {:?}", polished.text);
    }
});
