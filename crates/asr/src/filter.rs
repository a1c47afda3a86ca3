//! Whisper's non-speech output: tags such as `[BLANK_AUDIO]` or `(music)`, and the phrases it
//! invents on silence or noise.

/// True when a segment's text carries no speech: only a bracketed tag, or empty.
pub fn is_non_speech(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return true;
    }
    let bracketed = |open: char, close: char| t.starts_with(open) && t.ends_with(close) && t[1..].find(close) == Some(t.len() - 2);
    bracketed('[', ']') || bracketed('(', ')') || bracketed('*', '*') || t.chars().all(|c| !c.is_alphanumeric())
}

/// Phrases whisper is known to produce from silence and noise (its training data's subtitle
/// credits and sign-offs).
const SILENCE_PHRASES: &[&str] = &[
    "thank you",
    "thank you very much",
    "thanks for watching",
    "thank you for watching",
    "thank you so much for watching",
    "please subscribe",
    "subscribe to my channel",
    "you",
    "bye",
    "so",
    "subtitles by the amaraorg community",
];

/// Above this no-speech probability a stock phrase is taken for a hallucination.
pub const HALLUCINATION_NO_SPEECH: f32 = 0.4;

/// True when `text` is one of whisper's silence phrases and the model itself doubted there was
/// speech (`no_speech_probability`). A user who really says "Thank you." is kept: real speech
/// gets a low no-speech probability.
pub fn is_silence_hallucination(text: &str, no_speech_probability: f32) -> bool {
    let key: String = text.chars().filter(|c| c.is_alphanumeric() || c.is_whitespace()).collect::<String>().to_lowercase();
    let key = key.split_whitespace().collect::<Vec<_>>().join(" ");
    no_speech_probability > HALLUCINATION_NO_SPEECH && SILENCE_PHRASES.contains(&key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_punctuation_are_not_speech() {
        for t in ["[BLANK_AUDIO]", " (music) ", "*coughs*", "...", ""] {
            assert!(is_non_speech(t), "{t:?}");
        }
        for t in ["And so, my fellow Americans", "[1] is a footnote and more"] {
            assert!(!is_non_speech(t), "{t:?}");
        }
    }

    #[test]
    fn stock_phrases_are_dropped_only_when_whisper_doubts_speech() {
        assert!(is_silence_hallucination(" Thank you.", 0.8));
        assert!(is_silence_hallucination("Thanks for watching!", 0.5));
        assert!(!is_silence_hallucination(" Thank you.", 0.05));
        assert!(!is_silence_hallucination("Thank you for the report.", 0.9));
    }
}
