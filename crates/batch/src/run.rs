//! The worker pool.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use scrivo_asr::{AsrError, DecodeOptions, ProgressFn, Transcriber, WhisperEngine, WhisperModel};
use scrivo_bias::Corrector;
use scrivo_polish::Polisher;
use scrivo_transcript::{join, Document, DocumentSegment, Segment, Transcript};

use crate::{BatchError, Done};

/// How to run a batch.
#[derive(Clone)]
pub struct Settings {
    /// Recordings transcribed at once, each on its own decoding state.
    pub jobs: usize,
    /// Per-recording decoding (threads per job, language, prompt, cancel flag).
    pub decode: DecodeOptions,
    /// Recorded in each [`Document`].
    pub asr_model: String,
    /// The polishing engine's name, recorded in each [`Document`]; `None` when not polishing.
    pub polisher: Option<String>,
    /// The enabled biasing lists, applied to the recognised text before polishing.
    pub bias: Option<Arc<Corrector>>,
    /// Judges the lists' sound-alike changes by their context, when set.
    pub bias_context: Option<Arc<dyn scrivo_bias::ContextModel + Send + Sync>>,
    /// Lets the recogniser judge the lists' sound-alike changes against the audio
    /// ([`WhisperEngine::score_changes`]).
    pub bias_by_ear: bool,
    /// Decodes a piece again, prompted with the listed terms its text sounds near, when the
    /// lists' glossary did not get them written ([`refocus`]).
    pub bias_refocus: bool,
}

/// Progress of a batch, in the order things happen on each worker.
#[derive(Debug, Clone)]
pub enum Event {
    Started { index: usize, path: PathBuf },
    /// The share of the recording's decode done, 0..1.
    Progress { index: usize, fraction: f32 },
    Finished { index: usize, path: PathBuf, audio_seconds: f64, wall_seconds: f64 },
    /// `cancelled`: stopped by the cancel flag rather than failed.
    Failed { index: usize, path: PathBuf, error: String, cancelled: bool },
}

type Outcome<T> = Result<Done<T>, BatchError>;

/// Transcribes `inputs` on `settings.jobs` threads sharing `model`, polishes each (when
/// `make_polisher` gives a polisher; one is made per worker) and passes each [`Document`] to
/// `sink`. Returns one outcome per input, in input order. Only a failure to create the decoding
/// states is an error of the whole batch.
pub fn run<T: Send>(
    model: &WhisperModel,
    inputs: &[PathBuf],
    settings: &Settings,
    make_polisher: &(dyn Fn() -> Option<Box<dyn Polisher>> + Sync),
    on_event: &(dyn Fn(Event) + Sync),
    sink: &(dyn Fn(usize, &Document) -> Result<T, BatchError> + Sync),
) -> Result<Vec<Outcome<T>>, AsrError> {
    let workers = settings.jobs.clamp(1, inputs.len().max(1));
    let engines = (0..workers).map(|_| model.engine()).collect::<Result<Vec<_>, _>>()?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome<T>>>> = Mutex::new((0..inputs.len()).map(|_| None).collect());
    // Decode progress comes from whisper.cpp's threads: it is passed on to `on_event` here. The
    // channel never closes (whisper-rs keeps each progress closure, and its sender, for good),
    // so the forwarder stops on a flag once the workers are done.
    let (progress_tx, progress_rx) = mpsc::channel::<(usize, f32)>();
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let finished = &finished;
        scope.spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                if let Ok((index, fraction)) = progress_rx.recv_timeout(Duration::from_millis(100)) {
                    on_event(Event::Progress { index, fraction });
                }
            }
        });
        let workers: Vec<_> = engines
            .into_iter()
            .map(|mut engine| {
                let (next, results, progress_tx) = (&next, &results, progress_tx.clone());
                scope.spawn(move || {
                    let mut polisher = make_polisher();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = inputs.get(index) else { break };
                        let mut file = settings.clone();
                        let tx = progress_tx.clone();
                        file.decode.progress = Some(ProgressFn(Arc::new(move |fraction| {
                            let _ = tx.send((index, fraction));
                        })));
                        let outcome = one(&mut engine, &mut polisher, index, path, &file, on_event, sink);
                        if let Ok(mut slots) = results.lock() {
                            slots[index] = Some(outcome);
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            let _ = worker.join();
        }
        finished.store(true, Ordering::Relaxed);
    });
    let slots = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    Ok(slots
        .into_iter()
        .zip(inputs)
        .map(|(slot, path)| slot.unwrap_or_else(|| Err(BatchError::Input { path: path.clone(), detail: "a worker stopped before this file".into() })))
        .collect())
}

fn one<T>(
    engine: &mut WhisperEngine,
    polisher: &mut Option<Box<dyn Polisher>>,
    index: usize,
    path: &Path,
    settings: &Settings,
    on_event: &(dyn Fn(Event) + Sync),
    sink: &(dyn Fn(usize, &Document) -> Result<T, BatchError> + Sync),
) -> Outcome<T> {
    let started = Instant::now();
    let cancelled = settings.decode.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));
    let result = if cancelled {
        Err(BatchError::Cancelled { path: path.into() })
    } else {
        on_event(Event::Started { index, path: path.into() });
        transcribe(engine, polisher.as_deref_mut(), path, settings).and_then(|document| {
            let value = sink(index, &document)?;
            Ok(Done { index, audio_seconds: document.duration_seconds, value })
        })
    };
    match &result {
        Ok(done) => on_event(Event::Finished {
            index,
            path: path.into(),
            audio_seconds: done.audio_seconds,
            wall_seconds: started.elapsed().as_secs_f64(),
        }),
        Err(e) => on_event(Event::Failed { index, path: path.into(), error: e.to_string(), cancelled: matches!(e, BatchError::Cancelled { .. }) }),
    }
    result
}

/// Recordings are read this many seconds at a time (and each block's text polished as one), so
/// a three-hour file holds about 15 MB of samples, not 690 MB.
pub const BLOCK_SECONDS: usize = 240;
/// Each block is recognised in pieces of at most this many seconds, cut in pauses: whisper
/// decoding a long stretch by itself (its own 30 s windows, one after the other) lost 12% of the
/// words of three hours of read speech (WER 18.0%, against 4.3% clip by clip).
pub const PIECE_SECONDS: f64 = 28.0;
/// A piece is at least this long unless the recording ends.
const MIN_PIECE_SECONDS: f64 = 8.0;
/// Silence that counts as a pause to cut in.
const PAUSE: Duration = Duration::from_millis(200);
/// The words of the previous piece that prompt the next one (with the lists' glossary).
const CARRIED_WORDS: usize = 30;

/// Reads, transcribes and polishes one recording: read [`BLOCK_SECONDS`] at a time, each block
/// recognised in pieces of at most [`PIECE_SECONDS`] cut in pauses (each prompted with the end
/// of the one before), its segments moved to their place in the recording, corrected by the
/// lists and polished together. A recording up to [`PIECE_SECONDS`] is one piece.
pub fn transcribe(engine: &mut WhisperEngine, mut polisher: Option<&mut (dyn Polisher + '_)>, path: &Path, settings: &Settings) -> Result<Document, BatchError> {
    let rate = scrivo_audio::SAMPLE_RATE as usize;
    let mut wav = scrivo_audio::WavStream::open(path)?;
    let total_seconds = wav.seconds().max(f64::EPSILON);
    let mut pending: Vec<f32> = Vec::new();
    let mut offset = 0usize; // samples of the recording before `pending`
    let mut segments: Vec<DocumentSegment> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut ended = false;
    while !ended || !pending.is_empty() {
        let want = BLOCK_SECONDS * rate;
        let more = wav.next_piece(want)?;
        ended = more.as_ref().is_none_or(|m| m.len() < want);
        pending.extend(more.unwrap_or_default());
        // Recognise the pieces of this block; a rest shorter than a piece waits for the next.
        let mut block: Vec<Segment> = Vec::new();
        // The block's segments corrected by the lists, each right after its piece was
        // recognised (while the piece's audio is at hand for the recogniser to judge).
        let mut biased: Vec<String> = Vec::new();
        let mut at = 0;
        while at < pending.len() {
            let rest = &pending[at..];
            let cut = match piece_end(rest) {
                Some(cut) => cut,
                None if ended => rest.len(),
                None => break,
            };
            let start_seconds = (offset + at) as f64 / rate as f64;
            let mut decode = settings.decode.clone();
            let before = segments.iter().map(|s| s.raw_text.as_str()).chain(block.iter().map(|s| s.text.as_str()));
            decode.initial_prompt = piece_prompt(settings.decode.initial_prompt.as_deref(), before);
            if let Some(progress) = &settings.decode.progress {
                let (inner, share) = (Arc::clone(&progress.0), (cut as f64 / rate as f64 / total_seconds) as f32);
                let done = (start_seconds / total_seconds) as f32;
                decode.progress = Some(ProgressFn(Arc::new(move |f| inner((done + f * share).min(1.0)))));
            }
            let asr_error = |source| match source {
                AsrError::Cancelled => BatchError::Cancelled { path: path.into() },
                source => BatchError::Asr { path: path.into(), source },
            };
            let mut transcript = engine.transcribe(&rest[..cut], &decode).map_err(asr_error)?;
            if let Some(corrector) = settings.bias.as_deref().filter(|_| settings.bias_refocus) {
                let before = segments.iter().map(|s| s.raw_text.as_str()).chain(block.iter().map(|s| s.text.as_str()));
                transcript = refocus(engine, &rest[..cut], transcript, corrector, &decode, before).map_err(asr_error)?;
            }
            biased.extend(correct_piece(engine, &rest[..cut], &transcript.segments, settings, &decode));
            block.extend(transcript.segments.into_iter().map(|seg| Segment {
                start_seconds: start_seconds + seg.start_seconds,
                end_seconds: start_seconds + seg.end_seconds,
                text: seg.text,
            }));
            at += cut;
        }
        let (text, polished) = finish_block(polisher.as_deref_mut(), path, block, biased)?;
        texts.push(text);
        segments.extend(polished);
        offset += at;
        pending.drain(..at);
    }
    Ok(Document {
        source: path.display().to_string(),
        duration_seconds: offset as f64 / rate as f64,
        asr_model: settings.asr_model.clone(),
        polisher: settings.polisher.clone().filter(|_| polisher.is_some()),
        language: settings.decode.language.clone().unwrap_or_else(|| "auto".into()),
        text: join(texts.iter().map(String::as_str)),
        raw_text: join(segments.iter().map(|s| s.raw_text.as_str())),
        segments,
    })
}

/// A block's recognised segments, corrected by the lists and polished as one text: its polished
/// text and the document's segments.
fn finish_block(polisher: Option<&mut (dyn Polisher + '_)>, path: &Path, block: Vec<Segment>, biased: Vec<String>) -> Result<(String, Vec<DocumentSegment>), BatchError> {
    // The segments are polished as one text: a segment alone ("ask what you can do for your
    // country.") can look like a false start that the whole sentence shows it is not.
    let (text, polished) = match polisher {
        Some(p) => {
            let pieces: Vec<&str> = biased.iter().map(String::as_str).collect();
            let (whole, polished) = scrivo_polish::polish_pieces(p, &pieces).map_err(|source| BatchError::Polish { path: path.into(), source })?;
            (whole.text, polished)
        }
        None => (join(biased.iter().map(String::as_str)), biased),
    };
    let segments = block
        .into_iter()
        .zip(polished)
        .map(|(seg, text)| DocumentSegment { start_seconds: seg.start_seconds, end_seconds: seg.end_seconds, raw_text: seg.text, text })
        .collect();
    Ok((text, segments))
}

/// Sound-alike score from which a listed term is offered to [`refocus`]'s second decode, and
/// how many terms at most.
const REFOCUS_MIN_SCORE: f64 = 0.55;
const REFOCUS_TERMS: usize = 6;
/// A term is offered only when the recogniser was unsure of a word it heard in its place: one
/// of that span's words was written with a token of probability below this. Words it was sure
/// of are seldom a misheard term, and on real speech most spans near a term are such words.
/// Chosen on the audio check's tuning seeds against real speech with lists of terms never said
/// (ARCHITECTURE.md, "Biasing lists").
const REFOCUS_UNSURE: f32 = 0.6;
/// How much less likely (natural log) the recogniser, reading without a prompt, may find the
/// second decode's text than the first's for it to be kept. Chosen on the audio check's tuning
/// seeds against real speech with lists of terms never said (ARCHITECTURE.md, "Biasing lists").
const REFOCUS_MARGIN: f64 = -15.0;

/// The piece decoded again when its text sounds near listed terms it does not spell
/// ([`Corrector::sounds_near`]) where the recogniser was unsure ([`REFOCUS_UNSURE`]): prompted
/// with those terms alone (then the words carried from before) and boosted toward them only. A glossary of a long list holds about 50 terms, and a
/// term among them competes with all the others; the focused prompt gets a name written that
/// the first decode heard as "Time Blur". The second text is kept only when it spells one of
/// the offered terms and every term the first spelt ([`Corrector::prefers_refocused`]), and
/// when the recogniser, reading both without a prompt, finds it at most [`REFOCUS_MARGIN`]
/// less likely ([`WhisperEngine::score_changes`]).
fn refocus<'a>(
    engine: &mut WhisperEngine,
    audio: &[f32],
    first: Transcript,
    corrector: &Corrector,
    decode: &DecodeOptions,
    before: impl DoubleEndedIterator<Item = &'a str>,
) -> Result<Transcript, AsrError> {
    let text = first.text();
    let confidence = engine.word_confidence();
    // A word the decode does not list (written apart from how the corrector splits it) counts
    // as unsure.
    let sureness = |word: &str| confidence.iter().filter(|w| w.word == word).map(|w| w.probability).reduce(f32::min).unwrap_or(0.0);
    let near: Vec<&str> = corrector
        .sounds_near(&text, REFOCUS_MIN_SCORE, REFOCUS_TERMS)
        .into_iter()
        .filter(|n| n.heard.iter().any(|w| sureness(w) < REFOCUS_UNSURE))
        .map(|n| n.term)
        .collect();
    if near.is_empty() {
        return Ok(first);
    }
    let model = engine.model();
    let glossary = scrivo_bias::prompt::initial_prompt(&near, scrivo_bias::prompt::DEFAULT_TOKEN_BUDGET, |t| model.count_tokens(t));
    let (bonus, start_bonus) = decode.boost.as_ref().map_or((scrivo_asr::DEFAULT_BONUS, scrivo_asr::DEFAULT_START_BONUS), |b| b.bonuses());
    let boost = model.term_boost(near.iter().copied(), bonus, start_bonus);
    let mut focused = decode.clone();
    focused.initial_prompt = piece_prompt(glossary.as_deref(), before);
    focused.boost = Some(Arc::new(boost));
    let second = engine.transcribe(audio, &focused)?;
    let second_text = second.text();
    let preferred = corrector.prefers_refocused(&text, &second_text, &near);
    // The recogniser unprompted must not find the second text much less likely than the first.
    let heard = if preferred { engine.score_changes(audio, &text, std::slice::from_ref(&second_text), &[REFOCUS_MARGIN], decode).ok().and_then(|d| d.first().copied()) } else { None };
    let taken = heard.is_some_and(|d| d >= REFOCUS_MARGIN);
    tracing::debug!(offered = ?near, first = %text, second = %second_text, preferred, heard, taken, "biasing lists: piece decoded again");
    Ok(if taken { second } else { first })
}

/// One piece's recognised segments corrected by the lists (their text as recognised without
/// lists): the sound-alikes judged by their context and by the recogniser over the piece's
/// audio (unless `settings.bias_by_ear` is off).
fn correct_piece(engine: &mut WhisperEngine, audio: &[f32], segments: &[Segment], settings: &Settings, decode: &DecodeOptions) -> Vec<String> {
    let Some(corrector) = &settings.bias else { return segments.iter().map(|s| s.text.clone()).collect() };
    let context = settings.bias_context.as_deref().map(|m| m as &dyn scrivo_bias::ContextModel);
    let texts: Vec<String> = segments.iter().map(|s| s.text.clone()).collect();
    (0..texts.len())
        .map(|at| {
            if settings.bias_by_ear {
                let mut ear = PieceEar { engine: &mut *engine, audio, decode, texts: &texts, at };
                corrector.apply_heard(&texts[at], context, &mut ear).text
            } else {
                corrector.apply_with(&texts[at], context).text
            }
        })
        .collect()
}

/// The recogniser's judgement of one segment's texts: each read with the piece's other
/// segments around it, against the piece's audio.
struct PieceEar<'a> {
    engine: &'a mut WhisperEngine,
    audio: &'a [f32],
    decode: &'a DecodeOptions,
    texts: &'a [String],
    at: usize,
}

impl scrivo_bias::AcousticModel for PieceEar<'_> {
    fn log_prob_changes(&mut self, original: &str, changed: &[String], floors: &[f64]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
        let whole = |t: &str| join(self.texts.iter().enumerate().map(|(i, s)| if i == self.at { t } else { s.as_str() }));
        let changed: Vec<String> = changed.iter().map(|t| whole(t)).collect();
        Ok(self.engine.score_changes(self.audio, &whole(original), &changed, floors, self.decode)?)
    }
}

/// The prompt of a piece after the first: the lists' glossary, then the last words recognised.
fn piece_prompt<'a>(glossary: Option<&str>, before: impl DoubleEndedIterator<Item = &'a str>) -> Option<String> {
    let mut words: Vec<&str> = before.rev().flat_map(|t| t.split_whitespace().rev()).take(CARRIED_WORDS).collect();
    words.reverse();
    let carried = words.join(" ");
    match (glossary.filter(|g| !g.is_empty()), carried.is_empty()) {
        (Some(g), false) => Some(format!("{g} {carried}")),
        (Some(g), true) => Some(g.to_owned()),
        (None, false) => Some(carried),
        (None, true) => None,
    }
}

/// Where the piece at the start of `samples` ends, when they hold more than a piece: in the
/// last pause (the middle of a silence of at least [`PAUSE`]) between [`MIN_PIECE_SECONDS`] and
/// [`PIECE_SECONDS`], else at the quietest 50 ms there. `None` when `samples` fit in one piece.
fn piece_end(samples: &[f32]) -> Option<usize> {
    let rate = f64::from(scrivo_audio::SAMPLE_RATE);
    let (min, max, pause) = ((MIN_PIECE_SECONDS * rate) as usize, (PIECE_SECONDS * rate) as usize, (PAUSE.as_secs_f64() * rate) as usize);
    if samples.len() <= max {
        return None;
    }
    let window = &samples[..max];
    let spans = scrivo_audio::speech_spans(window, scrivo_audio::VadSettings { hangover: PAUSE, ..scrivo_audio::VadSettings::default() });
    // The silences: before the first speech, between two, after the last.
    let mut edges = vec![0];
    edges.extend(spans.iter().flat_map(|&(start, end)| [start, end]));
    edges.push(max);
    let cut = edges.chunks_exact(2).filter(|gap| gap[1] >= gap[0] + pause).map(|gap| (gap[0] + gap[1]) / 2).rfind(|&mid| mid >= min);
    Some(cut.unwrap_or_else(|| quiet_cut(window, max - min)))
}

/// The middle of the quietest 50 ms window among the last `search` samples (the end when they
/// are all of equal energy).
fn quiet_cut(samples: &[f32], search: usize) -> usize {
    const WINDOW: usize = 800; // 50 ms at 16 kHz
    let from = samples.len().saturating_sub(search);
    let mut best = (f32::INFINITY, samples.len());
    let mut at = from;
    while at + WINDOW <= samples.len() {
        let energy: f32 = samples[at..at + WINDOW].iter().map(|s| s * s).sum();
        if energy < best.0 {
            best = (energy, at + WINDOW / 2);
        }
        at += WINDOW;
    }
    best.1.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_pause_a_piece_ends_in_the_quietest_window_of_its_tail() {
        let mut samples = vec![0.5f32; 16_000 * 30];
        // A dip 25 s in (outside the searched tail) and a deeper one 27 s in (inside it).
        samples[16_000 * 25..16_000 * 25 + 1600].fill(0.02);
        samples[16_000 * 27..16_000 * 27 + 1600].fill(0.01);
        let cut = quiet_cut(&samples, 16_000 * 4);
        assert!((16_000 * 27..16_000 * 27 + 1600).contains(&cut), "{cut}");
        assert_eq!(quiet_cut(&[0.1; 10], 4), 10, "too short to search: the end");
    }

    #[test]
    fn a_recording_up_to_a_piece_is_one_piece_and_silence_is_cut_at_the_longest_piece() {
        let piece = (PIECE_SECONDS * 16_000.0) as usize;
        assert_eq!(piece_end(&vec![0.0; piece]), None);
        // No speech at all: the silence is one gap, cut in its middle (at least the shortest piece).
        let cut = piece_end(&vec![0.0; piece * 2]).expect("a cut");
        assert!(cut >= (MIN_PIECE_SECONDS * 16_000.0) as usize && cut <= piece, "{cut}");
    }

    #[test]
    fn a_later_piece_is_prompted_with_the_glossary_and_the_last_words() {
        assert_eq!(piece_prompt(None, std::iter::empty()), None);
        assert_eq!(piece_prompt(Some("Glossary: Kubernetes."), std::iter::empty()).as_deref(), Some("Glossary: Kubernetes."));
        let long: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let text = long.join(" ");
        let prompt = piece_prompt(Some("Glossary: X."), ["first segment", text.as_str()].into_iter()).expect("prompt");
        assert!(prompt.starts_with("Glossary: X. w10 w11"), "{prompt}");
        assert!(prompt.ends_with("w39"), "{prompt}");
        assert_eq!(prompt.split_whitespace().count(), 2 + CARRIED_WORDS);
    }
}
