//! The deterministic rule pass.

use crate::{Edit, EditKind, Polished, PolishError, Polisher};

/// Filler removal and repetition collapsing for one language.
#[derive(Debug, Clone)]
pub struct RulePolisher {
    fillers: Vec<&'static str>,
}

impl RulePolisher {
    /// English interjections. ("um" is a word in German and Portuguese, so lists are per language.)
    pub fn english() -> Self {
        RulePolisher { fillers: vec!["um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "hmm", "mm", "mhm"] }
    }
}

/// A word with the punctuation around it split off.
struct Token<'a> {
    raw: &'a str,
    core: String,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    text.split_whitespace()
        .map(|raw| Token { raw, core: raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase() })
        .collect()
}

fn trailing_punct(raw: &str) -> &str {
    let end = raw.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\'');
    &raw[end.len()..]
}

impl Polisher for RulePolisher {
    fn polish(&mut self, raw: &str) -> Result<Polished, PolishError> {
        let toks = tokens(raw);
        let mut keep = vec![true; toks.len()];
        let mut edits = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if self.fillers.contains(&t.core.as_str()) {
                keep[i] = false;
                edits.push(Edit { start: i, end: i + 1, removed: t.raw.to_owned(), kind: EditKind::Filler });
            }
        }
        // Immediate repetitions of one or two words ("I I", "we should we should"), ignoring
        // fillers between them. Numbers are never collapsed: "two two" may be meant.
        let kept: Vec<usize> = (0..toks.len()).filter(|&i| keep[i]).collect();
        let mut k = 0;
        while k < kept.len() {
            let mut collapsed = false;
            for n in [2usize, 1] {
                if k + 2 * n > kept.len() {
                    continue;
                }
                let a: Vec<&str> = kept[k..k + n].iter().map(|&i| toks[i].core.as_str()).collect();
                let b: Vec<&str> = kept[k + n..k + 2 * n].iter().map(|&i| toks[i].core.as_str()).collect();
                let numeric = a.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()));
                let ends_sentence = kept[k..k + n].iter().any(|&i| matches!(trailing_punct(toks[i].raw), "." | "?" | "!"));
                if a == b && !a.iter().any(|w| w.is_empty()) && !numeric && !ends_sentence {
                    let (s, e) = (kept[k], kept[k + n - 1] + 1);
                    (s..e).for_each(|i| keep[i] = false);
                    let removed = toks[s..e].iter().map(|t| t.raw).collect::<Vec<_>>().join(" ");
                    edits.push(Edit { start: s, end: e, removed, kind: EditKind::Repetition });
                    k += n;
                    collapsed = true;
                    break;
                }
            }
            if !collapsed {
                k += 1;
            }
        }
        edits.sort_by_key(|e| e.start);
        Ok(Polished { text: render(&toks, &keep), edits })
    }
}

/// Joins the kept words. A comma left dangling by a removal is dropped; the first word of each
/// sentence is capitalised.
fn render(toks: &[Token<'_>], keep: &[bool]) -> String {
    let mut words: Vec<String> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !keep[i] {
            // "should, uh, ship" -> the comma before the filler goes with it.
            let punct = trailing_punct(t.raw);
            if let Some(last) = words.last_mut() {
                if last.ends_with(',') && (punct == "," || punct.is_empty()) {
                    last.pop();
                } else if matches!(punct, "." | "?" | "!") && !last.ends_with(['.', '?', '!']) {
                    last.push_str(punct.trim_start_matches(','));
                }
            }
            continue;
        }
        let mut w = t.raw.to_owned();
        let sentence_start = words.last().is_none_or(|l| l.ends_with(['.', '?', '!']));
        if sentence_start {
            w = w.trim_start_matches(',').to_owned();
            let mut c = w.chars();
            if let Some(f) = c.next() {
                w = f.to_uppercase().chain(c).collect();
            }
        }
        if !w.is_empty() {
            words.push(w);
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let out = RulePolisher::english().polish(input).expect("polish");
        assert_eq!(out.text, expected, "input: {input}");
    }

    #[test]
    fn fillers_go_with_their_commas() {
        check("um so we should, uh, ship it on Tuesday", "So we should ship it on Tuesday");
        check("I think, um, that's right.", "I think that's right.");
        check("it works. uh, mostly", "It works. Mostly");
    }

    #[test]
    fn repetitions_collapse() {
        check("I I think the the plan is fine", "I think the plan is fine");
        check("we should we should ship it", "We should ship it");
        check("I, uh, I want it", "I want it");
    }

    #[test]
    fn numbers_names_and_negations_stay() {
        check("we need 2 2 servers", "We need 2 2 servers");
        check("do not not do that", "Do not do that");
        check("It is not done. It is not done.", "It is not done. It is not done.");
    }

    #[test]
    fn nothing_is_invented() {
        let input = "um, so, uh, the the meeting moved to Wednesday, you see";
        let out = RulePolisher::english().polish(input).expect("polish");
        let inputs: Vec<String> = input.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect();
        for w in out.text.split_whitespace() {
            let core = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
            assert!(inputs.contains(&core), "{core} was not in the input");
        }
        assert_eq!(out.edits.iter().filter(|e| e.kind == EditKind::Filler).count(), 2);
    }
}
