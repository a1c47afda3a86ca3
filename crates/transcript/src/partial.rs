//! Partial transcripts while the user speaks: the growing utterance is re-decoded every so
//! often, and the words two consecutive passes agree on from the start are committed (they
//! will not change any more); the rest is shown as tentative.
//!
//! Words are compared without case and punctuation, since the recogniser re-punctuates as the
//! sentence grows ("Americans." becomes "Americans,"); the committed text keeps the latest
//! pass's spelling of each word.

/// The committed prefix and the tentative rest of the latest pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partial {
    pub committed: String,
    pub tentative: String,
}

impl Partial {
    /// Both parts, as one line.
    pub fn text(&self) -> String {
        match (self.committed.is_empty(), self.tentative.is_empty()) {
            (true, _) => self.tentative.clone(),
            (_, true) => self.committed.clone(),
            _ => format!("{} {}", self.committed, self.tentative),
        }
    }
}

fn key(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Commits the prefix that consecutive passes agree on.
#[derive(Debug, Default)]
pub struct PrefixAgreement {
    committed: Vec<String>,
    previous: Vec<String>,
}

impl PrefixAgreement {
    pub fn new() -> Self {
        Self::default()
    }

    /// The text of a new pass over the utterance so far (from its start).
    pub fn update(&mut self, pass: &str) -> Partial {
        let words: Vec<String> = pass.split_whitespace().map(String::from).collect();
        let agreed = words.iter().zip(&self.previous).take_while(|(a, b)| key(a) == key(b)).count();
        // What is committed stays committed, even if this pass disagrees with it.
        if agreed > self.committed.len() {
            self.committed = words[..agreed].to_vec();
        }
        let rest = if words.len() > self.committed.len() && words.iter().zip(&self.committed).all(|(a, b)| key(a) == key(b)) {
            words[self.committed.len()..].join(" ")
        } else {
            // The pass rewrote committed words: show it after the committed part, aligned by
            // the number of words.
            words.get(self.committed.len()..).map(|w| w.join(" ")).unwrap_or_default()
        };
        self.previous = words;
        Partial { committed: self.committed.join(" "), tentative: rest }
    }

    /// Words committed so far.
    pub fn committed_words(&self) -> usize {
        self.committed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agreed_prefix_is_committed_and_stays() {
        let mut p = PrefixAgreement::new();
        assert_eq!(p.update("And so my"), Partial { committed: "".into(), tentative: "And so my".into() });
        let second = p.update("And so my fellow American.");
        assert_eq!(second.committed, "And so my");
        assert_eq!(second.tentative, "fellow American.");
        let third = p.update("And so, my fellow Americans, ask");
        assert_eq!(third.committed, "And so, my fellow", "'American.' and 'Americans,' differ");
        assert_eq!(third.tentative, "Americans, ask");
        let fourth = p.update("And so, my fellow Americans, ask not");
        assert_eq!(fourth.committed, "And so, my fellow Americans, ask", "the latest spelling of agreed words");
        assert_eq!(fourth.text(), "And so, my fellow Americans, ask not");
        // A pass that loses words does not take back what was committed.
        let fifth = p.update("And so");
        assert_eq!(fifth.committed, "And so, my fellow Americans, ask");
        assert_eq!(p.committed_words(), 6);
    }
}
