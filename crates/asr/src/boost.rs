//! Biasing the recogniser toward listed terms while it decodes.
//!
//! Each term is split into the speech model's tokens (once as it would follow a space, once
//! at the start of the text) and the token sequences are kept as a prefix table. At every
//! decoding step, when the text decoded so far ends with the first tokens of a term, the
//! tokens that continue that term get `bonus` added to their logits; the first token of a
//! term gets `start_bonus`, kept small ([`DEFAULT_START_BONUS`]): a term's first piece is often
//! a common word, " Post" of "PostgreSQL", and favouring it much makes the recogniser start
//! terms that were never said. The acoustic evidence still decides: a bonus of a few logits
//! settles a close call between the term's next piece and a sound-alike, not a word that was
//! clearly said.
//!
//! whisper-rs offers the logits filter only as a raw C callback, so this module holds `unsafe`
//! code: the callback and its installation (the only other `unsafe` in Scrivo is the encoder
//! counter in `encodes`, the same kind of callback, and the one call to glibc's `malloc_trim`
//! in `scrivo_models::resident`).
#![allow(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use whisper_rs::{FullParams, WhisperContext, WhisperTokenData, WhisperTokenId};

/// Logits added to the tokens that continue a term already begun.
pub const DEFAULT_BONUS: f32 = 3.0;

/// Logits added to the first token of every term. Chosen on the espeak-ng audio check's seeds
/// 8-13 against real speech with a list of terms never said (ARCHITECTURE.md, "Biasing
/// lists"): the largest bonus tried that left the manifest's WER with such lists unchanged.
pub const DEFAULT_START_BONUS: f32 = 1.0;

/// Terms as token sequences, for [`crate::DecodeOptions::boost`].
#[derive(Debug, Clone, Default)]
pub struct TermBoost {
    /// The tokens that may follow each proper prefix of a term's token sequence.
    next: HashMap<Vec<WhisperTokenId>, HashSet<WhisperTokenId>>,
    /// The first token of each term.
    first: HashSet<WhisperTokenId>,
    /// The longest proper prefix, in tokens.
    longest: usize,
    /// Tokens from this id on are not text (end of text, timestamps, tasks).
    text_end: WhisperTokenId,
    /// The size of the logits array whisper.cpp passes.
    vocab: usize,
    bonus: f32,
    start_bonus: f32,
}

impl TermBoost {
    /// The boost for `terms` in `context`'s vocabulary; terms the tokenizer refuses are left out.
    pub(crate) fn new<'a>(context: &WhisperContext, terms: impl IntoIterator<Item = &'a str>, bonus: f32, start_bonus: f32) -> Self {
        let sequences = terms.into_iter().map(str::trim).filter(|t| !t.is_empty()).flat_map(|t| {
            [format!(" {t}"), t.to_owned()].into_iter().filter_map(|s| context.tokenize(&s, 64).ok()).collect::<Vec<_>>()
        });
        Self::from_sequences(sequences, context.token_eot(), context.n_vocab().max(0) as usize, bonus, start_bonus)
    }

    fn from_sequences(sequences: impl IntoIterator<Item = Vec<WhisperTokenId>>, text_end: WhisperTokenId, vocab: usize, bonus: f32, start_bonus: f32) -> Self {
        let mut boost = TermBoost { text_end, vocab, bonus, start_bonus, ..TermBoost::default() };
        for tokens in sequences {
            if tokens.is_empty() || tokens.iter().any(|&t| t < 0 || t >= text_end) {
                continue;
            }
            boost.first.insert(tokens[0]);
            for k in 1..tokens.len() {
                boost.next.entry(tokens[..k].to_vec()).or_default().insert(tokens[k]);
                boost.longest = boost.longest.max(k);
            }
        }
        boost
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// The bonus for a term's next token and for a term's first token.
    pub fn bonuses(&self) -> (f32, f32) {
        (self.bonus, self.start_bonus)
    }

    /// Adds the bonuses to `logits` for the next token after the text tokens `decoded`.
    pub fn apply(&self, decoded: &[WhisperTokenId], logits: &mut [f32]) {
        let mut boosted: HashSet<WhisperTokenId> = HashSet::new();
        for k in (1..=self.longest.min(decoded.len())).rev() {
            if let Some(next) = self.next.get(&decoded[decoded.len() - k..]) {
                boosted.extend(next);
            }
        }
        for &t in &boosted {
            if let Some(l) = logits.get_mut(t as usize) {
                *l += self.bonus;
            }
        }
        if self.start_bonus != 0.0 {
            for &t in self.first.difference(&boosted) {
                if let Some(l) = logits.get_mut(t as usize) {
                    *l += self.start_bonus;
                }
            }
        }
    }

    /// The text tokens of a decoder's sequence so far (timestamps and special tokens dropped).
    fn text_tokens(&self, tokens: &[WhisperTokenData]) -> Vec<WhisperTokenId> {
        tokens.iter().map(|t| t.id).filter(|&id| id >= 0 && id < self.text_end).collect()
    }
}

/// Has whisper.cpp call [`TermBoost::apply`] at every decoding step of `params`' decode.
/// `boost` must outlive that decode (the caller keeps its `Arc` until `full` returns).
pub(crate) fn install(params: &mut FullParams, boost: &Arc<TermBoost>) {
    // SAFETY: `filter_logits` only reads the `TermBoost` behind the pointer, which the caller
    // keeps alive for the decode; whisper.cpp passes the pointer back unchanged.
    unsafe {
        params.set_filter_logits_callback(Some(filter_logits));
        params.set_filter_logits_callback_user_data(Arc::as_ptr(boost) as *mut std::ffi::c_void);
    }
}

/// whisper.cpp's logits filter: `user_data` is the `TermBoost` given to [`install`].
///
/// # Safety
/// whisper.cpp passes `n_tokens` valid token records and a logits array of the vocabulary's
/// size; `user_data` is the pointer [`install`] set, alive for the decode.
unsafe extern "C" fn filter_logits(
    _ctx: *mut whisper_rs::WhisperSysContext,
    _state: *mut whisper_rs::WhisperSysState,
    tokens: *const WhisperTokenData,
    n_tokens: std::os::raw::c_int,
    logits: *mut f32,
    user_data: *mut std::os::raw::c_void,
) {
    if user_data.is_null() || logits.is_null() {
        return;
    }
    // SAFETY: see the function's contract.
    let boost = unsafe { &*(user_data as *const TermBoost) };
    let tokens = if tokens.is_null() || n_tokens <= 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(tokens, n_tokens as usize) } };
    let logits = unsafe { std::slice::from_raw_parts_mut(logits, boost.vocab) };
    boost.apply(&boost.text_tokens(tokens), logits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_of_a_begun_term_are_boosted() {
        // Term A = [10, 11, 12], term B = [10, 20]; 100 is end of text.
        let boost = TermBoost::from_sequences([vec![10, 11, 12], vec![10, 20], vec![5, 100]], 100, 110, 2.0, 0.0);
        let mut logits = vec![0.0f32; 110];
        boost.apply(&[1, 2, 10], &mut logits);
        assert_eq!((logits[11], logits[20], logits[12], logits[10]), (2.0, 2.0, 0.0, 0.0));
        let mut logits = vec![0.0f32; 110];
        boost.apply(&[10, 11], &mut logits);
        assert_eq!((logits[12], logits[11]), (2.0, 0.0));
        // Nothing begun: only a start bonus, when there is one; a sequence with a special
        // token was left out.
        let mut logits = vec![0.0f32; 110];
        boost.apply(&[1, 2], &mut logits);
        assert!(logits.iter().all(|&l| l == 0.0));
        let starts = TermBoost::from_sequences([vec![10, 11]], 100, 110, 2.0, 0.5);
        let mut logits = vec![0.0f32; 110];
        starts.apply(&[1], &mut logits);
        assert_eq!((logits[10], logits[11]), (0.5, 0.0));
        assert!(!boost.is_empty() && TermBoost::from_sequences([vec![100]], 100, 110, 1.0, 0.0).is_empty());
    }
}
