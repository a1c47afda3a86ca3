//! What polishing (or a biasing list) changed, word by word: the stretches a UI highlights and
//! lets the user undo one at a time.
//!
//! Words are compared without their casing and punctuation, so "so" becoming "So," is not a
//! change, while "um" removed or "Tuesday" replaced by "Wednesday" is.

use serde::{Deserialize, Serialize};
use similar::{capture_diff_slices, Algorithm, DiffOp};

/// What one stretch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// The same words (perhaps with other casing or punctuation).
    Same,
    /// Words only in the raw text.
    Removed,
    /// Words only in the new text.
    Inserted,
    /// Raw words replaced by new ones (a correction).
    Replaced,
}

/// A stretch of the new text and the raw words it came from. Joining every `polished` with
/// spaces gives the new text; joining every `raw` gives the raw text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub raw: String,
    pub polished: String,
}

fn key(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()
}

/// The stretches that take `raw` to `polished`, in order; neighbouring stretches of one kind
/// are merged.
pub fn changes(raw: &str, polished: &str) -> Vec<Change> {
    let old: Vec<&str> = raw.split_whitespace().collect();
    let new: Vec<&str> = polished.split_whitespace().collect();
    let old_keys: Vec<String> = old.iter().map(|w| key(w)).collect();
    let new_keys: Vec<String> = new.iter().map(|w| key(w)).collect();
    let mut out: Vec<Change> = Vec::new();
    let mut push = |kind: ChangeKind, raw: &[&str], polished: &[&str]| {
        if raw.is_empty() && polished.is_empty() {
            return;
        }
        if let Some(last) = out.last_mut().filter(|l| l.kind == kind) {
            for (into, words) in [(&mut last.raw, raw), (&mut last.polished, polished)] {
                if !words.is_empty() {
                    if !into.is_empty() {
                        into.push(' ');
                    }
                    into.push_str(&words.join(" "));
                }
            }
            return;
        }
        out.push(Change { kind, raw: raw.join(" "), polished: polished.join(" ") });
    };
    for op in capture_diff_slices(Algorithm::Patience, &old_keys, &new_keys) {
        match op {
            DiffOp::Equal { old_index, new_index, len } => push(ChangeKind::Same, &old[old_index..old_index + len], &new[new_index..new_index + len]),
            DiffOp::Delete { old_index, old_len, .. } => push(ChangeKind::Removed, &old[old_index..old_index + old_len], &[]),
            DiffOp::Insert { new_index, new_len, .. } => push(ChangeKind::Inserted, &[], &new[new_index..new_index + new_len]),
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                push(ChangeKind::Replaced, &old[old_index..old_index + old_len], &new[new_index..new_index + new_len])
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, polished: &str, expected: &[(ChangeKind, &str, &str)]) {
        let got = changes(raw, polished);
        let got: Vec<(ChangeKind, &str, &str)> = got.iter().map(|c| (c.kind, c.raw.as_str(), c.polished.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn fillers_removed_and_casing_kept_as_same() {
        use ChangeKind::*;
        check("so um we meet on tuesday", "So, we meet on Tuesday.", &[(Same, "so", "So,"), (Removed, "um", ""), (Same, "we meet on tuesday", "we meet on Tuesday.")]);
    }

    #[test]
    fn a_self_correction_and_a_respelling() {
        use ChangeKind::*;
        check(
            "see you tuesday no wednesday with cube nettys",
            "See you Wednesday with Kubernetes.",
            &[(Same, "see you", "See you"), (Removed, "tuesday no", ""), (Same, "wednesday with", "Wednesday with"), (Replaced, "cube nettys", "Kubernetes.")],
        );
    }

    #[test]
    fn joining_gives_both_texts_back() {
        let (raw, polished) = ("uh the the plan is fine", "The plan is, fine okay");
        let c = changes(raw, polished);
        let join = |f: fn(&Change) -> &str| c.iter().map(f).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
        assert_eq!(join(|c| &c.raw), raw);
        assert_eq!(join(|c| &c.polished), polished);
        assert!(changes("", "").is_empty());
    }
}
