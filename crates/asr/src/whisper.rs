//! The whisper.cpp engine.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Once};

use scrivo_models::ggml::{self, GgmlModelInfo};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use crate::{filter, guard, AsrError, DecodeOptions, Segment, Transcriber, Transcript};

/// Encoder frames per second of audio (1500 frames cover 30 s).
const FRAMES_PER_SECOND: f64 = 50.0;
/// Extra frames beyond the clip. Smaller margins make whisper loop on short clips.
const CONTEXT_MARGIN: usize = 256;
const FULL_CONTEXT: usize = 1500;

/// Fewer words than this per second of speech from a prompted decode means the prompt sent
/// the decoder off (speech runs at 2-3 words a second; a pause inside the clip lowers it).
const MIN_PROMPTED_WORDS_PER_SECOND: f64 = 0.5;

/// Words (with a letter or digit) in decoded segments.
fn words(segments: &[(Segment, f32)]) -> usize {
    segments.iter().map(|(s, _)| s.text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()).sum()
}

fn joined_text(segments: &[(Segment, f32)]) -> String {
    crate::join(segments.iter().map(|(s, _)| s.text.as_str()))
}

/// Marks that only continue a list; no transcript starts with one.
const LIST_MARKS: [char; 3] = [',', ';', ':'];

/// Whether a prompted decode of `seconds` of speech looks sent off by its prompt: far too few
/// words, or a list going on (text that starts with a list mark and has a comma for every
/// three words or fewer: ", Macteen, Wamir, Lamut, Osambi").
fn sent_off(segments: &[(Segment, f32)], seconds: f64) -> bool {
    let (text, words) = (joined_text(segments), words(segments));
    let listing = text.trim_start().starts_with(LIST_MARKS) && text.matches(',').count() * 3 > words;
    listing || (words as f64) < MIN_PROMPTED_WORDS_PER_SECOND * seconds
}

/// The encoder context is a multiple of this: ggml's tiled matrix kernel (llamafile's sgemm)
/// takes a product only when its inner size is a multiple of 16 (AVX-512) and its rows a
/// multiple of 4, and the encoder's attention multiplies over the context on both sides.
/// Other sizes fell back to one dot product at a time (`ggml_vec_dot_f16`).
const CONTEXT_STEP: usize = 16;

/// The encoder context for a clip of `seconds`: `ceil(seconds * 50) + 256` rounded up to a
/// multiple of 16, at most 1500.
pub fn encoder_context_for(seconds: f64) -> usize {
    ((seconds * FRAMES_PER_SECOND).ceil() as usize + CONTEXT_MARGIN).next_multiple_of(CONTEXT_STEP).min(FULL_CONTEXT)
}

/// A loaded whisper model. Cheap to clone; every [`WhisperEngine`] made from it shares the
/// weights and has its own decoding state, so several can run on separate threads.
#[derive(Clone)]
pub struct WhisperModel {
    path: PathBuf,
    info: GgmlModelInfo,
    context: Arc<WhisperContext>,
}

static QUIET: Once = Once::new();

impl WhisperModel {
    /// Validates and loads the ggml model at `path`.
    pub fn load(path: &Path) -> Result<Self, AsrError> {
        let info = ggml::validate(path)?;
        QUIET.call_once(whisper_rs::install_logging_hooks);
        let path_str = path.to_str().ok_or_else(|| AsrError::Load { path: path.into(), detail: "path is not UTF-8".into() })?;
        // Flash attention measured slower on CPU at the context sizes used here (0.55 s vs
        // 0.44 s for an 11 s clip), so it stays off.
        let context = WhisperContext::new_with_params(path_str, WhisperContextParameters::default())
            .map_err(|e| AsrError::Load { path: path.into(), detail: e.to_string() })?;
        Ok(WhisperModel { path: path.into(), info, context: Arc::new(context) })
    }

    /// Sends whisper.cpp's own timing table (mel, encode, decode, per-token) to the log at
    /// INFO level (target `whisper_rs`), then resets it.
    pub fn log_timings(&self) {
        self.context.print_timings();
        self.context.reset_timings();
    }

    /// How many tokens `text` takes in this model's vocabulary (a rough estimate when the
    /// tokenizer refuses it).
    pub fn count_tokens(&self, text: &str) -> usize {
        match self.context.tokenize(text, 1024) {
            Ok(tokens) => tokens.len(),
            Err(_) => text.chars().count().div_ceil(3),
        }
    }

    /// `terms` as token sequences of this model, for [`DecodeOptions::boost`]: the tokens that
    /// continue a term already begun get `bonus` logits, a term's first token `start_bonus`.
    pub fn term_boost<'a>(&self, terms: impl IntoIterator<Item = &'a str>, bonus: f32, start_bonus: f32) -> crate::TermBoost {
        crate::TermBoost::new(&self.context, terms, bonus, start_bonus)
    }

    /// A decoding state on this model.
    pub fn engine(&self) -> Result<WhisperEngine, AsrError> {
        let state = self.context.create_state().map_err(|e| AsrError::Load { path: self.path.clone(), detail: e.to_string() })?;
        Ok(WhisperEngine { model: self.clone(), state, encoded: None, words: Vec::new() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn info(&self) -> &GgmlModelInfo {
        &self.info
    }

    pub fn is_multilingual(&self) -> bool {
        self.info.multilingual
    }
}

/// One decoding state on a [`WhisperModel`].
pub struct WhisperEngine {
    model: WhisperModel,
    state: WhisperState,
    /// The clip whose encoder output the state holds for scoring ([`ClipKey`]); cleared by
    /// every decode.
    encoded: Option<ClipKey>,
    /// The words of the last decode with the lowest probability of their tokens
    /// ([`WhisperEngine::word_confidence`]).
    words: Vec<WordConfidence>,
}

/// A recognised word and how sure the recogniser was of it: the lowest probability of the
/// tokens it was written with (after the biasing lists' boost). The word is lower case, its
/// marks dropped; one written word with a mark inside ("O'Reilly", "e-mail") gives one entry
/// per part, each with the whole word's probability.
#[derive(Debug, Clone, PartialEq)]
pub struct WordConfidence {
    pub word: String,
    pub probability: f32,
}

/// What identifies a clip the encoder ran over: where it is, its length, a checksum of its
/// samples and the encoder window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClipKey {
    at: usize,
    len: usize,
    sum: u64,
    context: usize,
}

impl ClipKey {
    fn of(audio: &[f32], context: usize) -> Self {
        let sum = audio.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| (h ^ u64::from(x.to_bits())).wrapping_mul(0x0100_0000_01b3));
        ClipKey { at: audio.as_ptr() as usize, len: audio.len(), sum, context }
    }
}

impl WhisperEngine {
    /// Validates and loads the ggml model at `path` with one decoding state.
    pub fn load(path: &Path) -> Result<Self, AsrError> {
        WhisperModel::load(path)?.engine()
    }

    pub fn model(&self) -> &WhisperModel {
        &self.model
    }

    pub fn path(&self) -> &Path {
        self.model.path()
    }

    pub fn info(&self) -> &GgmlModelInfo {
        self.model.info()
    }

    pub fn is_multilingual(&self) -> bool {
        self.model.is_multilingual()
    }

    fn language<'a>(&self, requested: Option<&'a str>) -> Result<&'a str, AsrError> {
        let multilingual = self.model.info.multilingual;
        match requested {
            None | Some("auto") if multilingual => Ok("auto"),
            None | Some("auto") | Some("en") => Ok("en"),
            Some(other) if multilingual => Ok(other),
            Some(other) => Err(AsrError::Language {
                language: other.to_owned(),
                detail: format!("{} is an English-only model", self.model.path.display()),
            }),
        }
    }

    /// One whisper.cpp pass over `audio` with an encoder window of `context` frames.
    fn decode(&mut self, audio: &[f32], language: &str, context: usize, options: &DecodeOptions) -> Result<Vec<(Segment, f32)>, AsrError> {
        let mut params = greedy_params(language, context, options.threads);
        if let Some(prompt) = options.initial_prompt.as_deref().filter(|p| !p.is_empty()) {
            params.set_initial_prompt(prompt);
        }
        if let Some(tokens) = guard::max_tokens(audio.len() as f64 / 16_000.0) {
            params.set_max_tokens(tokens as i32);
        }
        if let Some(boost) = options.boost.as_ref().filter(|b| !b.is_empty()) {
            // `options` keeps the boost alive until `full` below has returned.
            crate::boost::install(&mut params, boost);
        }
        if let Some(cancel) = options.cancel.clone() {
            // whisper-rs 0.16 boxes the closure twice but its trampoline reads the pointer as the
            // closure's own type, which is only right when that type is itself the boxed trait
            // object: pass exactly `Box<dyn FnMut() -> bool>` (a bare closure reads garbage and
            // makes whisper.cpp fail with -6 "failed to encode").
            let check: Box<dyn FnMut() -> bool> = Box::new(move || cancel.load(Ordering::Relaxed));
            params.set_abort_callback_safe::<_, Box<dyn FnMut() -> bool>>(check);
        }
        if let Some(progress) = options.progress.clone() {
            params.set_progress_callback_safe(move |percent: i32| (progress.0)(percent.clamp(0, 100) as f32 / 100.0));
        }
        // Whether the encoder ran once, over the clip from its start: then its output can score
        // other texts for the clip (`score_changes`) without running it again.
        let encodes = std::sync::atomic::AtomicUsize::new(0);
        crate::encodes::install(&mut params, &encodes);
        self.encoded = None;
        let result = self.state.full(params, audio);
        if result.is_ok() && encodes.load(Ordering::Relaxed) == 1 {
            self.encoded = Some(ClipKey::of(audio, context));
        }
        if options.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(AsrError::Cancelled);
        }
        result.map_err(|e| AsrError::Decode(e.to_string()))?;
        let seconds = audio.len() as f64 / 16_000.0;
        let mut segments = Vec::new();
        self.words.clear();
        let eot = self.model.context.token_eot();
        for segment in self.state.as_iter() {
            let tokens = (0..segment.n_tokens()).filter_map(|i| segment.get_token(i)).filter(|t| t.token_id() < eot);
            push_words(&mut self.words, tokens.filter_map(|t| Some((t.to_str_lossy().ok()?.into_owned(), t.token_probability()))));
            let text = segment.to_str_lossy().map_err(|e| AsrError::Decode(e.to_string()))?.trim().to_owned();
            let start = segment.start_timestamp() as f64 / 100.0;
            let end = (segment.end_timestamp() as f64 / 100.0).min(seconds);
            segments.push((Segment { start_seconds: start, end_seconds: end, text }, segment.no_speech_probability()));
        }
        Ok(segments)
    }
}

/// Words from decoded tokens (`text`, probability): a token that starts with a space starts a
/// word; each word's parts (runs of letters, digits and apostrophes) get its lowest probability.
fn push_words(out: &mut Vec<WordConfidence>, tokens: impl Iterator<Item = (String, f32)>) {
    let mut flush = |word: &mut String, lowest: &mut f32| {
        for part in word.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}')).filter(|p| p.chars().any(char::is_alphanumeric)) {
            out.push(WordConfidence { word: part.to_lowercase().replace('\u{2019}', "'"), probability: *lowest });
        }
        word.clear();
        *lowest = f32::INFINITY;
    };
    let (mut word, mut lowest) = (String::new(), f32::INFINITY);
    for (text, p) in tokens {
        if text.starts_with(char::is_whitespace) {
            flush(&mut word, &mut lowest);
        }
        word.push_str(&text);
        lowest = lowest.min(p);
    }
    flush(&mut word, &mut lowest);
}

/// Greedy decoding in `language` with an encoder window of `context` frames, on `threads`
/// threads: no context carried between calls, no temperature fallback, non-speech tokens
/// suppressed, nothing printed.
fn greedy_params(language: &str, context: usize, threads: usize) -> FullParams<'_, '_> {
    let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    params.set_n_threads(threads.max(1) as i32);
    params.set_language(Some(language));
    params.set_no_context(true);
    params.set_suppress_nst(true);
    // Retrying at higher temperatures costs seconds on short clips and does not cure loops.
    params.set_temperature_inc(0.0);
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    if context < FULL_CONTEXT {
        params.set_audio_ctx(context as i32);
    }
    params
}

/// The most tokens of one text [`WhisperEngine::score_changes`] reads (the decoder's context
/// is 448 tokens).
const MAX_SCORED_TOKENS: usize = 224;
/// Tokens read after the end of a change: further on, the text with the change and without it
/// go on alike.
const TOKENS_AFTER_CHANGE: usize = 3;

/// `ln p(token)` from the logits of one decoder step.
fn log_prob(logits: &[f32], token: usize) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    logits.get(token).map_or(f64::NEG_INFINITY, |&l| f64::from(l - max) - sum.ln())
}

/// Tokens at the start and at the end that `a` and `b` share (not overlapping).
fn shared_ends(a: &[i32], b: &[i32]) -> (usize, usize) {
    let start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let end = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count().min(a.len().min(b.len()) - start);
    (start, end)
}

impl WhisperEngine {
    /// The words of the last [`Transcriber::transcribe`], in order, with how sure the
    /// recogniser was of each (empty after silence; segments dropped as non-speech keep theirs).
    pub fn word_confidence(&self) -> &[WordConfidence] {
        &self.words
    }

    /// How much likelier the recogniser finds each of `changed` than `original` as what was
    /// said in `audio` (the clip as given to [`Transcriber::transcribe`], with the same
    /// options): the natural-log probability of the changed text minus the original's, each
    /// read without a prompt or timestamps, from the first token they differ in to
    /// [`TOKENS_AFTER_CHANGE`] past the last. A change whose score is known to fall below its
    /// entry in `floors` (a missing entry: no floor) stops being read there: its score is then
    /// that far. Costs one encoder pass per clip, unless the last decode was of the same clip
    /// in one window, and one decoder step per token read.
    pub fn score_changes(&mut self, audio: &[f32], original: &str, changed: &[String], floors: &[f64], options: &DecodeOptions) -> Result<Vec<f64>, AsrError> {
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let language = self.language(options.language.as_deref())?;
        let bounds = scrivo_audio::speech_bounds(audio);
        let audio = &audio[bounds];
        let seconds = audio.len() as f64 / 16_000.0;
        if audio.is_empty() || seconds * FRAMES_PER_SECOND >= FULL_CONTEXT as f64 {
            return Err(AsrError::Decode(format!("{seconds:.1} s of speech cannot be scored in one window")));
        }
        let threads = options.threads.max(1);
        let context = if options.fit_encoder_context { encoder_context_for(seconds) } else { FULL_CONTEXT };
        let key = ClipKey::of(audio, context);
        let clock = std::time::Instant::now();
        let encoded = self.encoded == Some(key);
        if !encoded {
            // The encoder over the clip: a decode of one token, which sets the window as
            // `transcribe` does.
            let mut params = greedy_params(language, context, threads);
            params.set_single_segment(true);
            params.set_max_tokens(1);
            self.encoded = None;
            self.state.full(params, audio).map_err(|e| AsrError::Decode(e.to_string()))?;
            self.encoded = Some(key);
        }
        let whisper = &self.model.context;
        let mut start = vec![whisper.token_sot()];
        if self.model.info.multilingual {
            start.push(whisper.token_lang(self.state.full_lang_id_from_state()));
            start.push(whisper.token_transcribe());
        }
        start.push(whisper.token_not());
        let sequence = |text: &str| -> Result<Vec<i32>, AsrError> {
            let tokens = whisper.tokenize(&format!(" {}", text.trim()), MAX_SCORED_TOKENS).map_err(|e| AsrError::Decode(format!("{text:?} cannot be tokenised: {e}")))?;
            Ok([start.as_slice(), &tokens, &[whisper.token_eot()]].concat())
        };
        let original = sequence(original)?;
        let changed = changed.iter().map(|t| sequence(t)).collect::<Result<Vec<_>, _>>()?;
        let ends: Vec<(usize, usize)> = changed.iter().map(|c| shared_ends(&original, c)).collect();
        // The original, read once from the first token any change touches to the last any
        // change needs: `before[j]` is the log-probability of its tokens before position `j`
        // from there on.
        let first = ends.iter().map(|&(s, _)| s).min().unwrap_or(original.len()).clamp(start.len(), original.len() - 1);
        let read_to = ends.iter().map(|&(_, tail)| (original.len() - tail + TOKENS_AFTER_CHANGE).min(original.len())).max().unwrap_or(original.len()).max(first + 1);
        let mut before = vec![0.0; original.len() + 1];
        self.state.decode(&original[..first - 1], 0, threads).map_err(|e| AsrError::Decode(e.to_string()))?;
        for at in first - 1..read_to - 1 {
            // One token at a time: whisper-rs reads the logits of the batch's first row, which
            // is the last token only for a batch of one.
            self.state.decode(&original[at..=at], at, threads).map_err(|e| AsrError::Decode(e.to_string()))?;
            let logits = self.state.get_logits().map_err(|e| AsrError::Decode(e.to_string()))?;
            before[at + 2] = before[at + 1] + log_prob(logits, original[at + 1] as usize);
        }
        // Each change goes on from where it leaves the original; the decoder's cache holds the
        // original's tokens before that, so the changes that leave it latest go first.
        let mut order: Vec<usize> = (0..changed.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ends[i].0));
        let mut scores = vec![0.0; changed.len()];
        for i in order {
            let (shared, tail) = ends[i];
            let c = &changed[i];
            if shared >= c.len() || shared >= original.len() {
                continue;
            }
            let shared = shared.max(start.len());
            let stop = (c.len() - tail + TOKENS_AFTER_CHANGE).min(c.len());
            let stop_original = (original.len() - tail + TOKENS_AFTER_CHANGE).min(original.len());
            // Log-probabilities only fall as tokens are read: once below the floor, it stays.
            let (theirs, floor) = (before[stop_original] - before[shared], floors.get(i).copied().unwrap_or(f64::NEG_INFINITY));
            let mut total = 0.0;
            for at in shared - 1..stop - 1 {
                self.state.decode(&c[at..=at], at, threads).map_err(|e| AsrError::Decode(e.to_string()))?;
                let logits = self.state.get_logits().map_err(|e| AsrError::Decode(e.to_string()))?;
                total += log_prob(logits, c[at + 1] as usize);
                if total - theirs < floor {
                    break;
                }
            }
            scores[i] = total - theirs;
        }
        tracing::debug!(seconds, changes = changed.len(), encoder_again = !encoded, took = ?clock.elapsed(), "changes scored");
        Ok(scores)
    }
}

impl Transcriber for WhisperEngine {
    fn transcribe(&mut self, audio: &[f32], options: &DecodeOptions) -> Result<Transcript, AsrError> {
        let language = self.language(options.language.as_deref())?;
        // Silence is never decoded: whisper invents "you" or "Thank you." on it.
        let bounds = scrivo_audio::speech_bounds(audio);
        if bounds.is_empty() {
            return Ok(Transcript::default());
        }
        let offset = bounds.start as f64 / 16_000.0;
        let audio = &audio[bounds];
        let seconds = audio.len() as f64 / 16_000.0;
        let fitted = if options.fit_encoder_context { encoder_context_for(seconds) } else { FULL_CONTEXT };
        let mut segments = self.decode(audio, language, fitted, options)?;
        // The options of the decode kept (without the prompt once it sent the decoder off).
        let mut kept = std::borrow::Cow::Borrowed(options);
        if options.initial_prompt.as_deref().is_some_and(|p| !p.is_empty()) && sent_off(&segments, seconds) {
            // A prompt can send the decoder off: a biasing list's glossary ("Glossary: A, B,
            // C.") made it answer "," for 3 s of "Ask the team whether Russia is ready for the
            // release.", or go on listing (", Macteen, Wamir, Lamut, ..."). Decoded again
            // without the prompt (the list's boost stays), which is kept unless it is empty.
            let bare = DecodeOptions { initial_prompt: None, ..options.clone() };
            let prompted_words = self.words.clone();
            let again = self.decode(audio, language, fitted, &bare)?;
            tracing::warn!(seconds, prompted = %joined_text(&segments), bare = %joined_text(&again), "the prompt sent the decoder off; decoded again without it");
            if words(&again) > 0 || words(&segments) == 0 {
                segments = again;
                kept = std::borrow::Cow::Owned(bare);
            } else {
                self.words = prompted_words;
            }
        }
        if guard::looks_looped(&joined_text(&segments), seconds) && fitted < FULL_CONTEXT {
            tracing::warn!(seconds, context = fitted, text = %joined_text(&segments), "decoding looped; decoding again with the full 30 s window");
            segments = self.decode(audio, language, FULL_CONTEXT, &kept)?;
        }
        // The prompt's last mark carried over (", He was not an ill-disposed young man?").
        if let Some((first, _)) = segments.first_mut() {
            first.text = first.text.trim_start_matches(|c: char| LIST_MARKS.contains(&c) || c.is_whitespace()).to_string();
        }
        let looped = guard::looks_looped(&joined_text(&segments), seconds);
        tracing::debug!(seconds, context = fitted, segments = ?segments.iter().map(|(s, p)| (s.text.as_str(), *p)).collect::<Vec<_>>(), "decoded");
        let mut out: Vec<Segment> = Vec::new();
        for (mut segment, no_speech) in segments {
            if filter::is_non_speech(&segment.text) || filter::is_silence_hallucination(&segment.text, no_speech) {
                continue;
            }
            if looped {
                if out.last().is_some_and(|prev| prev.text == segment.text) {
                    continue;
                }
                segment.text = guard::collapse_loops(&segment.text);
            }
            segment.start_seconds += offset;
            segment.end_seconds += offset;
            out.push(segment);
        }
        if looped {
            tracing::warn!(seconds, "decoding still looped at the full window; repeats were collapsed");
        }
        Ok(Transcript { segments: out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(texts: &[&str]) -> Vec<(Segment, f32)> {
        texts.iter().map(|t| (Segment { start_seconds: 0.0, end_seconds: 1.0, text: (*t).to_string() }, 0.0)).collect()
    }

    #[test]
    fn words_take_the_lowest_probability_of_their_tokens() {
        let tokens = [(" Time", 0.9), (" Bl", 0.4), ("ur", 0.7), (",", 0.95), (" O", 0.8), ("\u{2019}Re", 0.6), ("illy", 0.99), (".", 0.3)];
        let mut words = Vec::new();
        push_words(&mut words, tokens.iter().map(|(t, p)| ((*t).to_owned(), *p)));
        let got: Vec<(&str, f32)> = words.iter().map(|w| (w.word.as_str(), w.probability)).collect();
        assert_eq!(got, [("time", 0.9), ("blur", 0.4), ("o'reilly", 0.3)]);
    }

    #[test]
    fn a_prompt_that_sent_the_decoder_off_is_recognised() {
        // A lone mark for 3 s of speech, and a list going on.
        assert!(sent_off(&decoded(&[","]), 3.0));
        assert!(sent_off(&decoded(&[", Macteen, Wamir, Lamut, Osambi, Randy, Fermor, release."]), 4.0));
        assert!(sent_off(&decoded(&[", Go Forward, 10 meters, Go Forward, 10 meters,"]), 2.4));
        assert!(sent_off(&decoded(&["Okay."]), 6.0), "one word for 6 s of speech");
        // Text the prompt only left its last mark on, and ordinary speech, are not.
        assert!(!sent_off(&decoded(&[", He was not an ill-disposed young man?"]), 3.0));
        assert!(!sent_off(&decoded(&["And so, my fellow Americans, ask not", "what your country can do for you."]), 5.0));
        assert!(!sent_off(&decoded(&["Yes."]), 1.0));
    }

    #[test]
    fn the_encoder_window_is_a_whole_number_of_kernel_steps() {
        for seconds in [0.5, 1.0, 2.97, 6.35, 11.0, 20.0] {
            let context = encoder_context_for(seconds);
            assert_eq!(context % CONTEXT_STEP, 0, "{seconds} s -> {context}");
            assert!(context >= (seconds * FRAMES_PER_SECOND).ceil() as usize + CONTEXT_MARGIN);
            assert!(context < (seconds * FRAMES_PER_SECOND).ceil() as usize + CONTEXT_MARGIN + CONTEXT_STEP);
        }
        // Near 30 s the whole window, which is not a multiple of 16.
        assert_eq!(encoder_context_for(24.9), FULL_CONTEXT);
        assert_eq!(encoder_context_for(29.0), FULL_CONTEXT);
    }
}
