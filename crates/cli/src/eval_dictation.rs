//! `scrivo eval dictation`: the dictation pipeline on simulated input, for memory over a long
//! session (the soak), under a budget, and after the idle unload.
//!
//! A WAV clip is dictated again and again, faster than real time: each utterance goes through
//! the voice activity detector a second of audio at a time, with a partial pass each second
//! once speech has started (as `scrivo dictate` does live), then the final pass, the lists
//! and polishing. The process's resident memory is sampled after every utterance. At the end
//! the models are left idle for the idle timeout and unloaded, and memory is read again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use scrivo_audio::{VadSettings, VoiceDetector, VoiceEvent, SAMPLE_RATE};
use scrivo_models::resident::resident_set_bytes;
use scrivo_models::store::ModelStore;
use serde::Serialize;

use crate::asr_setup::{Pipeline, PipelineArgs};
use scrivo_session::live::LiveUtterance;

#[derive(Args)]
pub struct DictationArgs {
    /// The clip to dictate (any WAV).
    #[arg(long)]
    pub wav: PathBuf,
    /// Minutes of audio to dictate in all.
    #[arg(long, default_value_t = 60.0)]
    pub minutes: f64,
    /// The model manager's budget for both models, in MB.
    #[arg(long, default_value_t = scrivo_session::settings::DEFAULT_BUDGET_MB)]
    pub budget_mb: u64,
    /// Seconds without use after which the models are unloaded.
    #[arg(long, default_value_t = 5)]
    pub idle_seconds: u64,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct DictationReport {
    utterances: usize,
    audio_minutes: f64,
    wall_seconds: f64,
    budget_mb: u64,
    /// Resident memory after the first utterance, the largest sampled, and after the last.
    rss_first_mb: f64,
    rss_max_mb: f64,
    rss_last_mb: f64,
    /// Least-squares slope of resident memory over the session, MB per hour of audio.
    rss_slope_mb_per_hour: f64,
    /// The process's peak resident memory (VmHWM).
    peak_mb: f64,
    /// After the idle timeout and the unload.
    rss_after_idle_mb: f64,
    /// Seconds from the end of an utterance's audio to its final polished text (the final
    /// pass, the lists and polishing; models resident as the budget allows), median.
    final_seconds_p50: f64,
    /// The last utterance's text (to see the pipeline worked).
    last_text: String,
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// The process's peak resident memory (`VmHWM` in `/proc/self/status`), bytes.
fn peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let var: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if var == 0.0 {
        0.0
    } else {
        points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / var
    }
}

pub fn dictation(args: DictationArgs, models: &ModelStore) -> Result<i32> {
    let clip = scrivo_audio::read_wav(&args.wav)?.samples;
    anyhow::ensure!(!clip.is_empty(), "{}: no audio", args.wav.display());
    let resident = Arc::new(scrivo_models::resident::Resident::new(args.budget_mb << 20, Duration::from_secs(args.idle_seconds)));
    let mut pipeline = Pipeline::load(&args.pipeline.config(), models, Arc::clone(&resident))?;
    let started = Instant::now();
    let second = SAMPLE_RATE as usize;
    let (mut utterances, mut audio_seconds) = (0usize, 0.0f64);
    let mut samples: Vec<(f64, f64)> = Vec::new();
    let mut last_text = String::new();
    let mut finals: Vec<f64> = Vec::new();
    let mut stretches = 0usize;
    while audio_seconds < args.minutes * 60.0 {
        pipeline.preload()?;
        let mut vad = VoiceDetector::new(VadSettings::default());
        let mut live = LiveUtterance::new();
        let mut speaking = false;
        let mut heard = 0;
        // The clip arrives a second at a time. The clock starts when its last piece arrives
        // (the key is released): the work that piece causes counts.
        let mut finished = Instant::now();
        loop {
            let end = (heard + second).min(clip.len());
            let last = end == clip.len();
            if last {
                finished = Instant::now();
            }
            let so_far = &clip[..end];
            for e in vad.push(&so_far[heard..]) {
                if let VoiceEvent::Started { .. } = e {
                    speaking = true;
                }
            }
            heard = end;
            if speaking {
                live.listen(&mut pipeline, so_far).context("finishing a stretch")?;
                if !last {
                    live.partial(&mut pipeline, so_far).context("partial pass")?;
                }
            }
            if last {
                break;
            }
        }
        stretches += live.stretches();
        let text = live.finish(&mut pipeline, &clip)?.text;
        finals.push(finished.elapsed().as_secs_f64());
        last_text = text;
        utterances += 1;
        audio_seconds += clip.len() as f64 / f64::from(SAMPLE_RATE);
        samples.push((audio_seconds / 3600.0, mb(resident_set_bytes().unwrap_or(0))));
    }
    let wall = started.elapsed().as_secs_f64();
    drop(pipeline);
    std::thread::sleep(Duration::from_secs(args.idle_seconds) + Duration::from_millis(200));
    resident.unload_idle();
    let report = DictationReport {
        utterances,
        audio_minutes: audio_seconds / 60.0,
        wall_seconds: wall,
        budget_mb: args.budget_mb,
        rss_first_mb: samples.first().map_or(0.0, |s| s.1),
        rss_max_mb: samples.iter().map(|s| s.1).fold(0.0, f64::max),
        rss_last_mb: samples.last().map_or(0.0, |s| s.1),
        rss_slope_mb_per_hour: slope(&samples),
        peak_mb: mb(peak_bytes().unwrap_or(0)),
        rss_after_idle_mb: mb(resident_set_bytes().unwrap_or(0)),
        final_seconds_p50: {
            finals.sort_by(f64::total_cmp);
            finals.get(finals.len() / 2).copied().unwrap_or(0.0)
        },
        last_text,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let r = &report;
        println!("{} utterances, {:.1} min of audio in {:.0} s, budget {} MB", r.utterances, r.audio_minutes, r.wall_seconds, r.budget_mb);
        println!("RSS after the first {:.0} MB, max {:.0} MB, last {:.0} MB; slope {:+.1} MB per hour of audio", r.rss_first_mb, r.rss_max_mb, r.rss_last_mb, r.rss_slope_mb_per_hour);
        println!("peak RSS {:.0} MB; after {} s idle and the unload {:.0} MB", r.peak_mb, args.idle_seconds, r.rss_after_idle_mb);
        println!("final text {:.3} s after the end of an utterance (median)", r.final_seconds_p50);
        println!("stretches finished while speaking: {:.1} per utterance", stretches as f64 / r.utterances.max(1) as f64);
        println!("last text: {}", r.last_text);
    }
    Ok(0)
}
