//! `scrivo eval live`: what recognising an utterance while it is spoken costs in accuracy and
//! saves in latency, against recognising it whole when it ends.
//!
//! Consecutive clips of a manifest are joined into longer dictations (`--group` clips with
//! `--gap` seconds of -60 dBFS noise between them, as a speaker pausing between sentences).
//! Each dictation is recognised two ways, on the same pipeline (lists, polishing):
//! - **whole**: [`Pipeline::run`] after the last sample, as without streaming;
//! - **live**: fed a second at a time to a [`LiveUtterance`] (stretches finished at pauses),
//!   then finished.
//!
//! Reported: the raw text's WER against the joined references (English normalisation), and
//! the time from the last sample to the final text, median.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use scrivo_audio::SAMPLE_RATE;
use scrivo_eval::{Table, WordErrors};
use scrivo_models::store::ModelStore;
use scrivo_session::live::{Design, LiveUtterance};
use serde::Serialize;

use crate::asr_setup::{Pipeline, PipelineArgs};

#[derive(Args)]
pub struct LiveArgs {
    /// TSV with `file` (WAV paths relative to the manifest) and `reference` columns.
    #[arg(long)]
    pub manifest: PathBuf,
    /// Clips joined into one dictation.
    #[arg(long, default_value_t = 3)]
    pub group: usize,
    /// Seconds of near-silence between the joined clips.
    #[arg(long, default_value_t = 0.7)]
    pub gap: f64,
    /// At most this many dictations.
    #[arg(long)]
    pub limit: Option<usize>,
    /// How stretches are recognised while the user speaks: `overlap` (with the stretch before,
    /// whose text is revised; what dictation uses) or `alone`.
    #[arg(long, value_enum, default_value_t = LiveDesign::Overlap)]
    pub design: LiveDesign,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LiveDesign {
    Overlap,
    Alone,
}

impl From<LiveDesign> for Design {
    fn from(d: LiveDesign) -> Self {
        match d {
            LiveDesign::Overlap => Design::Overlap,
            LiveDesign::Alone => Design::Alone,
        }
    }
}

#[derive(Serialize)]
struct LiveReport {
    dictations: usize,
    audio_seconds: f64,
    wer_whole: f64,
    wer_live: f64,
    /// From the last sample to the final (polished) text, median, seconds.
    latency_whole_p50: f64,
    latency_live_p50: f64,
    stretches_per_dictation: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn noise(samples: usize, seed: &mut u64) -> impl Iterator<Item = f32> + '_ {
    let amp = 10f64.powf(-60.0 / 20.0) * 3f64.sqrt();
    (0..samples).map(move |_| {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (((*seed >> 33) as f64 / (1u64 << 31) as f64 * 2.0 - 1.0) * amp) as f32
    })
}

/// Feeds `audio` a second at a time, then finishes: (raw text, seconds from the last piece to
/// the final text, stretches finished ahead).
fn live(pipeline: &mut Pipeline, audio: &[f32], design: Design) -> Result<(String, f64, usize)> {
    let second = SAMPLE_RATE as usize;
    let mut utterance = LiveUtterance::with_design(design);
    let mut end = 0;
    loop {
        end = (end + second).min(audio.len());
        if end == audio.len() {
            let clock = Instant::now();
            utterance.listen(pipeline, audio)?;
            let stretches = utterance.stretches();
            let raw = utterance.finish(pipeline, audio)?.raw;
            return Ok((raw, clock.elapsed().as_secs_f64(), stretches));
        }
        utterance.listen(pipeline, &audio[..end])?;
    }
}

pub fn run(args: LiveArgs, models: &ModelStore) -> Result<i32> {
    let table = Table::read(&args.manifest)?;
    table.require("file")?;
    table.require("reference")?;
    let base = args.manifest.parent().unwrap_or(std::path::Path::new(".")).to_path_buf();
    let resident = Arc::new(scrivo_session::settings::Settings::load().resident(None));
    let mut pipeline = Pipeline::load(&args.pipeline.config(), models, resident)?;
    pipeline.preload()?;
    let rows: Vec<_> = table.rows().collect();
    let gap = (args.gap.max(0.0) * f64::from(SAMPLE_RATE)) as usize;
    let mut seed = 11u64;
    let (mut whole_errors, mut live_errors, mut words) = (0usize, 0usize, 0usize);
    let (mut whole_latency, mut live_latency) = (Vec::new(), Vec::new());
    let (mut dictations, mut audio_seconds, mut stretches) = (0usize, 0.0, 0usize);
    for group in rows.chunks(args.group.max(1)).take(args.limit.unwrap_or(usize::MAX)) {
        let mut audio = Vec::new();
        let mut reference = Vec::new();
        for row in group {
            let path = base.join(row.get("file")?);
            let clip = scrivo_audio::read_wav(&path).with_context(|| format!("reading {}", path.display()))?;
            if !audio.is_empty() {
                audio.extend(noise(gap, &mut seed));
            }
            audio.extend(clip.samples);
            reference.push(row.get("reference")?.to_string());
        }
        let reference = reference.join(" ");
        let clock = Instant::now();
        let whole = pipeline.run(&audio)?.raw;
        whole_latency.push(clock.elapsed().as_secs_f64());
        pipeline.preload()?;
        let (streamed, latency, n) = live(&mut pipeline, &audio, args.design.into())?;
        pipeline.preload()?;
        live_latency.push(latency);
        stretches += n;
        let (w, l) = (WordErrors::english(&reference, &whole), WordErrors::english(&reference, &streamed));
        whole_errors += w.errors();
        live_errors += l.errors();
        words += w.reference_words;
        dictations += 1;
        audio_seconds += audio.len() as f64 / f64::from(SAMPLE_RATE);
        tracing::info!(whole = %whole, live = %streamed, "dictation {dictations}");
    }
    let rate = |e: usize| if words == 0 { 0.0 } else { e as f64 / words as f64 };
    let report = LiveReport {
        dictations,
        audio_seconds,
        wer_whole: rate(whole_errors),
        wer_live: rate(live_errors),
        latency_whole_p50: median(whole_latency),
        latency_live_p50: median(live_latency),
        stretches_per_dictation: stretches as f64 / dictations.max(1) as f64,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let r = &report;
        println!("{} dictations of {} clips ({:.0} s of audio, {:.1} s gaps)", r.dictations, args.group, r.audio_seconds, args.gap);
        println!("WER: whole {:.2}%, live {:.2}%", 100.0 * r.wer_whole, 100.0 * r.wer_live);
        println!("last sample -> final text, median: whole {:.3} s, live {:.3} s", r.latency_whole_p50, r.latency_live_p50);
        println!("stretches finished ahead: {:.1} per dictation", r.stretches_per_dictation);
    }
    Ok(0)
}
