//! The hand-written dictation set in `tests/polish/` (measured by `scrivo eval polish`) is
//! well formed: 200 pairs whose fluent side only deletes words of the disfluent side, so a
//! polisher that only deletes can reach every reference.

use std::collections::HashSet;
use std::path::Path;

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(scrivo_polish::core_of).filter(|w| !w.is_empty()).collect()
}

fn is_subsequence(short: &[String], long: &[String]) -> bool {
    let mut it = long.iter();
    short.iter().all(|w| it.any(|x| x == w))
}

#[test]
fn every_fluent_side_only_deletes_words() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/polish/dictation.tsv");
    let text = std::fs::read_to_string(&path).expect("tests/polish/dictation.tsv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id\tkind\tdisfluent\tfluent"));
    let mut ids = HashSet::new();
    let mut unchanged = 0;
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split('\t').collect();
        assert_eq!(cells.len(), 4, "line {}: {line}", n + 2);
        assert!(ids.insert(cells[0]), "line {}: id {} twice", n + 2, cells[0]);
        let (disfluent, fluent) = (words(cells[2]), words(cells[3]));
        assert!(is_subsequence(&fluent, &disfluent), "line {}: the fluent side is not the disfluent side with words deleted", n + 2);
        unchanged += usize::from(cells[2] == cells[3]);
    }
    assert_eq!(ids.len(), 200);
    assert!(unchanged >= 10, "some rows need nothing removed");
}
