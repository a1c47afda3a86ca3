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
    /// One of its raw words is a removal worth a second look (the polisher was not sure of
    /// it, or of a word beside it; see [`changes_marked`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsure: bool,
}

fn key(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()
}

/// The stretches that take `raw` to `polished`, in order; neighbouring stretches of one kind
/// are merged.
pub fn changes(raw: &str, polished: &str) -> Vec<Change> {
    changes_marked(raw, polished, &[])
}

fn keys(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| key(w)).collect()
}

fn diff(old: &[String], new: &[String]) -> Vec<DiffOp> {
    capture_diff_slices(Algorithm::Patience, old, new)
}

/// `marked` as one flag per word of `old`, with each flag the diff put on a kept word moved to a
/// removed word of the same key beside it: the polisher removes the first copy of a repetition
/// ("[the] the plan"), where the diff keeps the first and removes the second.
fn settle_marks(ops: &[DiffOp], old_keys: &[String], marked: &[bool]) -> Vec<bool> {
    let mut marks: Vec<bool> = (0..old_keys.len()).map(|i| marked.get(i).copied().unwrap_or(false)).collect();
    for (k, op) in ops.iter().enumerate() {
        let DiffOp::Equal { old_index, len, .. } = *op else { continue };
        for i in old_index..old_index + len {
            if !marks[i] {
                continue;
            }
            let beside = [k.checked_sub(1), Some(k + 1)].into_iter().flatten().filter_map(|n| ops.get(n));
            let removed = beside.filter_map(|op| match *op {
                DiffOp::Delete { old_index, old_len, .. } | DiffOp::Replace { old_index, old_len, .. } => Some(old_index..old_index + old_len),
                _ => None,
            });
            if let Some(j) = removed.flatten().find(|&j| old_keys[j] == old_keys[i] && !marks[j]) {
                (marks[i], marks[j]) = (false, true);
            }
        }
    }
    marks
}

/// [`changes`], with `unsure` set on each stretch that holds a raw word flagged in `marked`
/// (one flag per word of `raw`; missing flags are `false`).
pub fn changes_marked(raw: &str, polished: &str, marked: &[bool]) -> Vec<Change> {
    let old: Vec<&str> = raw.split_whitespace().collect();
    let new: Vec<&str> = polished.split_whitespace().collect();
    let old_keys = keys(&old);
    let ops = diff(&old_keys, &keys(&new));
    let marked = settle_marks(&ops, &old_keys, marked);
    let mut out: Vec<Change> = Vec::new();
    let mut push = |kind: ChangeKind, from: usize, raw: &[&str], polished: &[&str]| {
        if raw.is_empty() && polished.is_empty() {
            return;
        }
        let unsure = kind != ChangeKind::Same && (from..from + raw.len()).any(|i| marked.get(i).copied().unwrap_or(false));
        if let Some(last) = out.last_mut().filter(|l| l.kind == kind) {
            last.unsure |= unsure;
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
        out.push(Change { kind, raw: raw.join(" "), polished: polished.join(" "), unsure });
    };
    for op in ops {
        match op {
            DiffOp::Equal { old_index, new_index, len } => push(ChangeKind::Same, old_index, &old[old_index..old_index + len], &new[new_index..new_index + len]),
            DiffOp::Delete { old_index, old_len, .. } => push(ChangeKind::Removed, old_index, &old[old_index..old_index + old_len], &[]),
            DiffOp::Insert { old_index, new_index, new_len } => push(ChangeKind::Inserted, old_index, &[], &new[new_index..new_index + new_len]),
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                push(ChangeKind::Replaced, old_index, &old[old_index..old_index + old_len], &new[new_index..new_index + new_len])
            }
        }
    }
    out
}

/// Flags on the words of `to` carried back to the words of `from` they are (the same word,
/// compared as [`changes`] compares words); a word of `from` that `to` changed or lacks gets
/// `false`. For a text that went through two steps (the lists, then polishing): the second
/// step's flags on the first step's words, as flags on the raw words.
pub fn marks_back(from: &str, to: &str, marks: &[bool]) -> Vec<bool> {
    let old: Vec<&str> = from.split_whitespace().collect();
    let new: Vec<&str> = to.split_whitespace().collect();
    let mut back = vec![false; old.len()];
    for op in diff(&keys(&old), &keys(&new)) {
        if let DiffOp::Equal { old_index, new_index, len } = op {
            for k in 0..len {
                back[old_index + k] = marks.get(new_index + k).copied().unwrap_or(false);
            }
        }
    }
    back
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
    fn unsure_removals_mark_their_stretch_through_a_list_change() {
        // The list joined "cube nettys" first; the polisher then removed "so" unsure and "um"
        // by rule.
        let raw = "so um deploy it to cube nettys";
        let corrected = "so um deploy it to Kubernetes";
        let unsure_on_corrected = [true, false, false, false, false, false];
        let marked = marks_back(raw, corrected, &unsure_on_corrected);
        assert_eq!(marked, [true, false, false, false, false, false, false]);
        let c = changes_marked(raw, "Deploy it to Kubernetes.", &marked);
        let got: Vec<(ChangeKind, &str, bool)> = c.iter().map(|c| (c.kind, c.raw.as_str(), c.unsure)).collect();
        use ChangeKind::*;
        assert_eq!(got, [(Removed, "so um", true), (Same, "deploy it to", false), (Replaced, "cube nettys", false)]);
        // Unmarked, nothing is unsure, and the flag stays out of the JSON.
        assert!(changes(raw, "Deploy it to Kubernetes.").iter().all(|c| !c.unsure));
        let json = serde_json::to_string(&c[1]).expect("json");
        assert!(!json.contains("unsure"), "{json}");
        assert!(serde_json::to_string(&c[0]).expect("json").contains("\"unsure\":true"));
    }

    #[test]
    fn an_unsure_first_copy_marks_the_repetition_the_diff_removes() {
        // The polisher removed the first "the" (unsure); the diff keeps it and removes the second.
        let c = changes_marked("the the plan is fine", "The plan is fine.", &[true, false, false, false, false]);
        let got: Vec<(ChangeKind, &str, bool)> = c.iter().map(|c| (c.kind, c.raw.as_str(), c.unsure)).collect();
        use ChangeKind::*;
        assert_eq!(got, [(Same, "the", false), (Removed, "the", true), (Same, "plan is fine", false)]);
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
