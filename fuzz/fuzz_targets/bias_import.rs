//! List import (.txt one term per line, .csv term,sounds_like,note, .toml) on any bytes; the
//! first byte picks the format.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let name = ["terms.txt", "terms.csv", "terms.toml"][usize::from(kind % 3)];
    let path = scrivo_fuzz::scratch(name, rest);
    if let Ok(entries) = scrivo_bias::store::import(&path) {
        let mut list = scrivo_bias::BiasingList::new("imported");
        for entry in entries {
            list.add(entry);
        }
        let _ = list.to_toml();
    }
});
