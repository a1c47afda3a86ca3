//! A cheap guard against whisper's decoding loops ("Go forward 10 meters." over and over),
//! which a shortened encoder window can provoke on short clips.

/// Speech rarely exceeds ~4 words a second; a loop fills the window far faster.
const MAX_WORDS_PER_SECOND: f64 = 6.0;
const SLACK_WORDS: f64 = 6.0;

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// How many consecutive copies of an n-gram make a loop: people say "no no no" or
/// "very very" but not the same phrase three times running.
fn loop_copies(n: usize) -> usize {
    match n {
        1 => 5,
        2 => 4,
        _ => 3,
    }
}

/// The first run of `n`-word phrases repeated back to back at least `loop_copies(n)` times:
/// `(start, n, copies)` in word positions.
fn find_run(words: &[String]) -> Option<(usize, usize, usize)> {
    for n in 1..=8 {
        for start in 0..words.len() {
            let mut copies = 1;
            while start + (copies + 1) * n <= words.len()
                && words[start..start + n] == words[start + copies * n..start + (copies + 1) * n]
            {
                copies += 1;
            }
            if copies >= loop_copies(n) {
                return Some((start, n, copies));
            }
        }
    }
    None
}

/// The most words `seconds` of speech can hold; more means the decoder looped.
fn word_ceiling(seconds: f64) -> f64 {
    MAX_WORDS_PER_SECOND * seconds + SLACK_WORDS
}

/// True when `text`, decoded from `seconds` of audio, looks like a decoding loop.
pub fn looks_looped(text: &str, seconds: f64) -> bool {
    let w = words(text);
    w.len() as f64 > word_ceiling(seconds) || find_run(&w).is_some()
}

/// Tokens a word can take on average over a window, generously (English averages about 1.3
/// with punctuation; a window of rare names stays under 3).
const TOKENS_PER_WORD: f64 = 3.0;
/// Room for the timestamp pairs and the end of text.
const SLACK_TOKENS: f64 = 8.0;

/// The most tokens worth decoding in one window of a clip of `seconds`: past the word ceiling
/// the text is a loop anyway, and decoding on costs seconds (a loop fills whisper.cpp's
/// 220-token window, and on a loaded machine every token is slow). Clips of 11 s and more get
/// whisper.cpp's own limit (`None`).
pub fn max_tokens(seconds: f64) -> Option<usize> {
    let tokens = (TOKENS_PER_WORD * word_ceiling(seconds) + SLACK_TOKENS).ceil() as usize;
    (tokens < WINDOW_TOKENS).then_some(tokens)
}

/// whisper.cpp decodes at most this many tokens in one window (`n_text_ctx / 2 - 4`).
const WINDOW_TOKENS: usize = 220;

/// Keeps one copy of each looped phrase in `text` (the last resort when re-decoding with the
/// full window still loops). Words keep their original spelling and punctuation.
pub fn collapse_loops(text: &str) -> String {
    let mut original: Vec<&str> = text.split_whitespace().collect();
    loop {
        let w = words(&original.join(" "));
        // Punctuation-only tokens have no normalised word; fall back to leaving the text alone.
        if w.len() != original.len() {
            return original.join(" ");
        }
        match find_run(&w) {
            Some((start, n, copies)) => {
                original.drain(start + n..start + copies * n);
            }
            None => return original.join(" "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_clips_get_a_token_budget_above_their_word_ceiling() {
        // 2.5 s: at most 21 words before it counts as a loop, 71 tokens.
        assert_eq!(max_tokens(2.5), Some(71));
        assert!(max_tokens(2.5).is_some_and(|t| t as f64 > 3.0 * word_ceiling(2.5)));
        assert_eq!(max_tokens(0.0), Some(26));
        assert_eq!(max_tokens(11.0), None);
        assert_eq!(max_tokens(30.0), None);
    }

    #[test]
    fn a_repeated_sentence_is_a_loop() {
        let looped = "Go forward 10 meters. Go forward 10 meters. Go forward 10 meters. Go forward 10 meters.";
        assert!(looks_looped(looped, 3.0));
        assert_eq!(collapse_loops(looped), "Go forward 10 meters.");
    }

    #[test]
    fn natural_repetition_is_not_a_loop() {
        assert!(!looks_looped("No, no, no, I said the the red one, very very red.", 4.0));
        assert!(!looks_looped("And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.", 11.0));
    }

    #[test]
    fn too_many_words_for_the_audio_is_a_loop() {
        let text = (0..40).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert!(looks_looped(&text, 2.0));
        assert!(!looks_looped(&text, 10.0));
    }

    #[test]
    fn collapse_keeps_the_rest() {
        assert_eq!(collapse_loops("Hi. la la la la la la la then bye"), "Hi. la then bye");
    }
}
