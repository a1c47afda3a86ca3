//! An utterance transcribed while it is spoken, so that little is left to do when it ends.
//!
//! Two things happen as the audio grows:
//! - **Stretches are finished at pauses.** A voice detector with a short hangover finds the
//!   pauses; when one follows at least [`MIN_STRETCH`] of audio not yet finished (or a
//!   [`SHORT_PAUSE`] follows [`LONG_UNFINISHED`] of it), that audio is recognised (prompted
//!   with the text before it). With [`Design::Overlap`] (the default) it is recognised together
//!   with the stretch before it, whose text is then revised: the words at the start of a
//!   stretch are heard with the speech before them, as when recognising whole, and each stretch
//!   is decoded at most twice. [`Design::Alone`] decodes every stretch once, on its own.
//! - **Partial text.** A quick pass over the unfinished rest; the words two consecutive passes
//!   agree on are committed ([`PrefixAgreement`]).
//!
//! When the utterance ends, only the audio after the last finished stretch is recognised (with
//! that stretch, under [`Design::Overlap`], when the rest holds speech), then the whole text is
//! corrected with the biasing lists and polished as one.

use std::time::Duration;

use scrivo_audio::{VadSettings, VoiceDetector, VoiceEvent, SAMPLE_RATE};
use scrivo_transcript::{Partial, PrefixAgreement};

use crate::pipeline::{Finished, Pipeline};
use crate::Result;

/// Silence that makes a pause (a breath between phrases is shorter).
pub const PAUSE: Duration = Duration::from_millis(500);
/// A stretch recognised with fewer words than this per second of speech in it is not kept
/// (people say two to three words a second).
const MIN_WORDS_PER_SECOND: f64 = 1.2;
/// The shortest stretch finished on its own: shorter ones give the recogniser too little
/// context.
pub const MIN_STRETCH: Duration = Duration::from_secs(3);
/// A shorter pause (a breath between sentences of someone who speaks on) finishes a stretch
/// once this much audio is unfinished: without it a fluent speaker's whole utterance waited
/// for the end (joined clips 0.3 s apart: no stretch finished in 8 of 11 dictations, and the
/// final text came as late as recognising whole). 5 s cut more often and cost WER.
const LONG_UNFINISHED: Duration = Duration::from_secs(8);
/// The pause that may end a stretch once [`LONG_UNFINISHED`] audio waits (words inside a
/// sentence are 0.1 s apart or less).
const SHORT_PAUSE: Duration = Duration::from_millis(250);
/// The longest audio decoded as one piece when a stretch is recognised with the one before it
/// (the batch's piece size: whisper's window is 30 s); longer pairs are decoded apart.
const MAX_OVERLAPPED: Duration = Duration::from_secs(28);

/// How a stretch is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Design {
    /// On its own, prompted with the text before it.
    Alone,
    /// Together with the stretch before it (prompted with the text before both), whose text is
    /// replaced by the new decode's.
    #[default]
    Overlap,
}

fn seconds(samples: usize) -> f64 {
    samples as f64 / f64::from(SAMPLE_RATE)
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a} {b}"),
    }
}

/// The state of one utterance in progress.
pub struct LiveUtterance {
    design: Design,
    pauses: VoiceDetector,
    /// Finds [`SHORT_PAUSE`]s.
    short_pauses: VoiceDetector,
    /// Samples given to the pause detectors.
    heard: usize,
    /// Samples recognised (the end of the last finished stretch).
    finished: usize,
    /// The text of the stretches before the last one, final.
    settled: String,
    /// The last finished stretch: its first sample and its text (revised when the next
    /// stretch is recognised with it).
    last: Option<(usize, String)>,
    agreement: PrefixAgreement,
    stretches: usize,
}

impl Default for LiveUtterance {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveUtterance {
    pub fn new() -> Self {
        Self::with_design(Design::default())
    }

    pub fn with_design(design: Design) -> Self {
        LiveUtterance {
            design,
            pauses: VoiceDetector::new(VadSettings { hangover: PAUSE, ..VadSettings::default() }),
            short_pauses: VoiceDetector::new(VadSettings { hangover: SHORT_PAUSE, ..VadSettings::default() }),
            heard: 0,
            finished: 0,
            settled: String::new(),
            last: None,
            agreement: PrefixAgreement::new(),
            stretches: 0,
        }
    }

    /// The text of the finished stretches.
    fn text(&self) -> String {
        join(&self.settled, self.last.as_ref().map_or("", |(_, t)| t))
    }

    /// The last stretch's start when the audio from it to `end` may be decoded as one piece.
    fn overlap_from(&self, end: usize) -> Option<usize> {
        let (start, _) = self.last.as_ref()?;
        (self.design == Design::Overlap && seconds(end - start) <= MAX_OVERLAPPED.as_secs_f64()).then_some(*start)
    }

    /// Recognises `audio[from..to]`, the audio after the last finished stretch: with that
    /// stretch when the design allows. (the last stretch's revised text when it was decoded
    /// again, the text of `from..to`)
    fn recognise(&self, pipeline: &mut Pipeline, audio: &[f32], from: usize, to: usize) -> Result<(Option<String>, String)> {
        if let Some(start) = self.overlap_from(to) {
            let both = pipeline.chunk(&audio[start..to], &self.settled)?;
            let before = self.last.as_ref().map_or("", |(_, t)| t.as_str());
            if let Some((revised, new)) = split_after(&both, before) {
                if skipped_words(before, &revised) {
                    // The joined decode heard the stretch's start as already said (its prompt
                    // ends just before it) and left words out: "ask what you can do for your
                    // country. And Mr. John Dashwood ..." came back as "country. And Mr. John
                    // Dashwood ...". The earlier text of the stretch stays; what follows it is
                    // taken.
                    tracing::debug!(%revised, %before, "the joined decode left out words of the last stretch; its earlier text is kept");
                    return Ok((None, new));
                }
                return Ok((Some(revised), new));
            }
            tracing::debug!(%both, %before, "the joined decode does not follow the last stretch's text; the stretch is recognised alone");
        }
        Ok((None, pipeline.chunk(&audio[from..to], &self.text())?))
    }

    /// Takes the utterance's audio so far (16 kHz mono, from its start; only what is new is
    /// read) and finishes the stretch before a pause when there is one. Returns whether it did.
    pub fn listen(&mut self, pipeline: &mut Pipeline, audio: &[f32]) -> Result<bool> {
        let new = &audio[self.heard.min(audio.len())..];
        self.heard = audio.len();
        let mut finished_one = false;
        // Where a stretch may end, in time order, with the unfinished audio it needs: the middle
        // of each pause (which is at least that long by now).
        let mut cuts: Vec<(usize, Duration)> = Vec::new();
        for (detector, pause, needs) in [(&mut self.pauses, PAUSE, MIN_STRETCH), (&mut self.short_pauses, SHORT_PAUSE, LONG_UNFINISHED)] {
            for event in detector.push(new) {
                if let VoiceEvent::Ended { at } = event {
                    cuts.push(((((at + pause.as_secs_f64() / 2.0) * f64::from(SAMPLE_RATE)) as usize).min(audio.len()), needs));
                }
            }
        }
        cuts.sort_by_key(|&(cut, _)| cut);
        for (cut, needs) in cuts {
            if seconds(cut.saturating_sub(self.finished)) < needs.as_secs_f64() {
                continue;
            }
            let stretch = &audio[self.finished..cut];
            let (revised, words) = self.recognise(pipeline, audio, self.finished, cut)?;
            // The recogniser sometimes stops after the first sentence of a stretch that holds a
            // pause: too few words for the speech in it means the stretch is left for the end.
            let voiced: usize = scrivo_audio::speech_spans(stretch, VadSettings::default()).iter().map(|(a, b)| b - a).sum();
            let count = words.split_whitespace().count();
            if (count as f64) < MIN_WORDS_PER_SECOND * seconds(voiced) {
                tracing::debug!(from = seconds(self.finished), to = seconds(cut), %words, voiced = seconds(voiced), "stretch not finished: too few words for its speech");
                continue;
            }
            tracing::debug!(from = seconds(self.finished), to = seconds(cut), %words, revised = ?revised, "stretch finished");
            if let Some((_, text)) = self.last.take() {
                self.settled = join(&self.settled, &revised.unwrap_or(text));
            }
            self.last = Some((self.finished, words));
            self.finished = cut;
            self.agreement = PrefixAgreement::new();
            self.stretches += 1;
            finished_one = true;
        }
        Ok(finished_one)
    }

    /// A quick pass over the unfinished rest of `audio`: the partial text of the whole
    /// utterance (finished stretches are committed).
    pub fn partial(&mut self, pipeline: &mut Pipeline, audio: &[f32]) -> Result<Partial> {
        let rest = &audio[self.finished.min(audio.len())..];
        let text = self.text();
        let pass = pipeline.partial(rest, &text)?;
        let p = self.agreement.update(&pass);
        Ok(Partial { committed: join(&text, &p.committed), tentative: p.tentative })
    }

    /// Stretches finished so far.
    pub fn stretches(&self) -> usize {
        self.stretches
    }

    /// Ends the utterance (`audio` is all of it): recognises the rest, then corrects and
    /// polishes the whole.
    pub fn finish(self, pipeline: &mut Pipeline, audio: &[f32]) -> Result<Finished> {
        let from = self.finished.min(audio.len());
        let clock = std::time::Instant::now();
        // Silence after the last stretch (the hands-free stop) is not worth decoding again.
        let speech_after = !scrivo_audio::speech_spans(&audio[from..], VadSettings::default()).is_empty();
        let whole = if !speech_after {
            self.text()
        } else {
            let (revised, words) = self.recognise(pipeline, audio, from, audio.len())?;
            let last = revised.or_else(|| self.last.as_ref().map(|(_, t)| t.clone())).unwrap_or_default();
            join(&join(&self.settled, &last), &words)
        };
        let rest = &audio[from..];
        let recognised = clock.elapsed();
        let out = pipeline.finish(whole);
        tracing::debug!(rest = seconds(rest.len()), recognised = ?recognised, polished = ?(clock.elapsed() - recognised), "utterance finished");
        out
    }
}

/// Words at the start of a stretch a revision may leave out: the joined decode may merge two
/// words the earlier one split ("am I" -> "my").
const MAX_MERGED_WORDS: usize = 1;

/// Whether `revised` (a stretch's text from a joined decode) left out the start of `before`
/// (its text from the earlier decode): it is shorter and begins with a word that `before` has
/// only further on. Words lost at the end are not counted: there the joined decode often
/// merges the stretch's last words into the next stretch's first ("there for." -> "therefore").
fn skipped_words(before: &str, revised: &str) -> bool {
    let keys = |t: &str| t.split_whitespace().map(key).filter(|k| !k.is_empty()).collect::<Vec<_>>();
    let (before, revised) = (keys(before), keys(revised));
    let Some(first) = revised.first() else { return !before.is_empty() };
    revised.len() < before.len() && before.iter().position(|k| k == first).is_some_and(|at| at > MAX_MERGED_WORDS)
}

/// A word compared without case or punctuation.
fn key(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()
}

/// Splits `both`, the text of two stretches decoded as one, after the words that stand for
/// `before` (the first stretch's text from an earlier decode): the prefix closest to `before`
/// by word edit distance (the shortest on a tie). `None` when even that prefix differs from
/// `before` in more than half its words (the joined decode went its own way) or nothing
/// follows it.
fn split_after(both: &str, before: &str) -> Option<(String, String)> {
    let words: Vec<&str> = both.split_whitespace().collect();
    let keys: Vec<String> = words.iter().map(|w| key(w)).collect();
    let target: Vec<String> = before.split_whitespace().map(key).filter(|k| !k.is_empty()).collect();
    // distance[j]: edit distance between the first i words of `both` and the first j of `before`.
    let mut distance: Vec<usize> = (0..=target.len()).collect();
    let mut best = (distance[target.len()], 0);
    for (i, k) in keys.iter().enumerate() {
        if k.is_empty() {
            continue; // punctuation on its own belongs to the word before it
        }
        let mut next = vec![distance[0] + 1; target.len() + 1];
        for j in 1..=target.len() {
            let substitute = distance[j - 1] + usize::from(*k != target[j - 1]);
            next[j] = substitute.min(distance[j] + 1).min(next[j - 1] + 1);
        }
        distance = next;
        if distance[target.len()] < best.0 {
            best = (distance[target.len()], i + 1);
        }
    }
    let (cost, mut at) = best;
    if cost * 2 > target.len().max(1) {
        return None;
    }
    // Punctuation-only tokens right after the split stay with the words before it.
    while at < words.len() && keys[at].is_empty() {
        at += 1;
    }
    (at < words.len()).then(|| (words[..at].join(" "), words[at..].join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_joined_text_splits_after_the_words_of_the_first_stretch() {
        let (revised, new) = split_after("And so my fellow Americans, ask not what your country can do for you.", "And so am I fellow Americans.").unwrap();
        assert_eq!(revised, "And so my fellow Americans,");
        assert_eq!(new, "ask not what your country can do for you.");
    }

    #[test]
    fn a_revision_that_left_out_words_is_not_taken() {
        let before = "ask what you can do for your country. And Mr. John Dashwood had then leisure";
        let (revised, new) = split_after("country. And Mr. John Dashwood had then leisure to consider how much", before).unwrap();
        assert_eq!(new, "to consider how much");
        assert!(skipped_words(before, &revised));
        // A merge of two words and a change of words are revisions.
        assert!(!skipped_words("And so am I fellow Americans.", "And so my fellow Americans,"));
        assert!(!skipped_words("1, 2, 3, 4 A bottle", "one two three four a bottle"));
        // Words lost at the end went into the next stretch's first word.
        assert!(!skipped_words("it was natural there for.", "it was natural"));
    }

    #[test]
    fn a_tie_splits_at_the_shortest_prefix() {
        // "ask" could stand for "am" or be the first word of the new stretch: both are kept
        // either way, and the new stretch keeps it.
        let (revised, new) = split_after("so ask not", "so am").unwrap();
        assert_eq!((revised.as_str(), new.as_str()), ("so", "ask not"));
    }

    #[test]
    fn a_joined_decode_that_went_its_own_way_is_not_split() {
        assert_eq!(split_after("Thank you. Thank you.", "And so my fellow Americans."), None);
        assert_eq!(split_after("And so my fellow Americans.", "And so my fellow Americans."), None);
    }

    #[test]
    fn the_first_stretch_text_may_be_empty() {
        assert_eq!(split_after("ask not", ""), Some((String::new(), "ask not".to_string())));
    }
}
