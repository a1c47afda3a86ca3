//! The biasing-list TOML parser on any text: an error with a line and column, or a list that
//! saves and reads back as itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = std::path::Path::new("list.toml");
    match scrivo_bias::list::parse(text, path) {
        Ok(list) => {
            let again = scrivo_bias::list::parse(&list.to_toml(), path).expect("a list reads back what it saves");
            assert_eq!(again, list);
        }
        Err(problems) => {
            assert!(!problems.0.is_empty());
            let _ = problems.to_string();
        }
    }
});
