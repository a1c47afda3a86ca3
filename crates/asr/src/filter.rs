//! Whisper's non-speech output: tags such as `[BLANK_AUDIO]` or `(music)` and the phrases it
//! invents on silence.

/// True when a segment's text carries no speech: only a bracketed tag, or empty.
pub fn is_non_speech(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return true;
    }
    let bracketed = |open: char, close: char| t.starts_with(open) && t.ends_with(close) && t[1..].find(close) == Some(t.len() - 2);
    bracketed('[', ']') || bracketed('(', ')') || bracketed('*', '*') || t.chars().all(|c| !c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::is_non_speech;

    #[test]
    fn tags_and_punctuation_are_not_speech() {
        for t in ["[BLANK_AUDIO]", " (music) ", "*coughs*", "...", ""] {
            assert!(is_non_speech(t), "{t:?}");
        }
        for t in ["And so, my fellow Americans", "[1] is a footnote and more"] {
            assert!(!is_non_speech(t), "{t:?}");
        }
    }
}
