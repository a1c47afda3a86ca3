//! `scrivo eval vad`: the voice activity detector on speech and on silence.
//!
//! Each clip of a manifest is put between `--pad` seconds of near-silence (white noise at
//! -60 dBFS, seeded) on both sides, so where the speech is is known to within the clip's own
//! leading and trailing pauses. Reported: the clips whose speech was found, voiced time
//! detected in the padding (false alarms), and how far the detected start and end lie from the
//! clip's edges. Then the same noise alone, and louder noise (-30 dBFS), with no speech at all.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use scrivo_audio::{speech_spans, VadSettings, SAMPLE_RATE};
use scrivo_eval::Table;
use serde::Serialize;

#[derive(Args)]
pub struct VadArgs {
    /// TSV with a `file` column (WAV paths relative to the manifest), e.g. ../shared/eval/asr/manifest.tsv.
    #[arg(long)]
    pub manifest: PathBuf,
    /// Seconds of near-silence before and after each clip.
    #[arg(long, default_value_t = 2.0)]
    pub pad: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct VadReport {
    clips: usize,
    /// Clips in which speech was detected.
    speech_found: usize,
    /// Voiced seconds detected in the padding, per minute of padding.
    false_alarm_seconds_per_minute: f64,
    /// Detected start minus the clip's start (seconds; the clips begin with a short pause).
    start_offset_median: f64,
    /// Detected end minus the clip's end (seconds; negative: ended inside the clip's trailing pause).
    end_offset_median: f64,
    /// Voiced seconds detected in one minute of -60 dBFS noise and of -30 dBFS noise.
    quiet_noise_voiced_seconds: f64,
    loud_noise_voiced_seconds: f64,
    seconds: f64,
}

/// White noise at `dbfs` (uniform, from a small linear congruential generator: seeded, so the
/// figures repeat).
fn noise(samples: usize, dbfs: f64, seed: &mut u64) -> Vec<f32> {
    let amp = 10f64.powf(dbfs / 20.0) * 3f64.sqrt();
    (0..samples)
        .map(|_| {
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (((*seed >> 33) as f64 / (1u64 << 31) as f64 * 2.0 - 1.0) * amp) as f32
        })
        .collect()
}

fn voiced_seconds(samples: &[f32]) -> f64 {
    speech_spans(samples, VadSettings::default()).iter().map(|(a, b)| (b - a) as f64).sum::<f64>().max(0.0) / f64::from(SAMPLE_RATE)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn vad(args: VadArgs) -> Result<i32> {
    let started = std::time::Instant::now();
    let table = Table::read(&args.manifest)?;
    table.require("file")?;
    let base = args.manifest.parent().unwrap_or(std::path::Path::new(".")).to_path_buf();
    let rate = f64::from(SAMPLE_RATE);
    let pad = (args.pad.max(0.0) * rate) as usize;
    let mut seed = 7u64;
    let (mut clips, mut found, mut false_alarm, mut padding) = (0, 0, 0.0, 0.0);
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    for row in table.rows() {
        let path = base.join(row.get("file")?);
        let audio = match scrivo_audio::read_wav(&path) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("skipped: {e}");
                continue;
            }
        };
        let clip = audio.samples.len();
        let mut signal = noise(pad, -60.0, &mut seed);
        signal.extend(audio.samples.iter().zip(noise(clip, -60.0, &mut seed)).map(|(s, n)| s + n));
        signal.extend(noise(pad, -60.0, &mut seed));
        let spans = speech_spans(&signal, VadSettings::default());
        clips += 1;
        padding += 2.0 * pad as f64 / rate;
        // Each span's samples outside the clip: its length less its overlap with the clip.
        let outside: usize = spans.iter().map(|&(a, b)| (b - a) - b.min(pad + clip).saturating_sub(a.max(pad))).sum();
        false_alarm += outside as f64 / rate;
        if let (Some(first), Some(last)) = (spans.iter().find(|&&(a, b)| b > pad && a < pad + clip), spans.iter().rev().find(|&&(a, b)| b > pad && a < pad + clip)) {
            found += 1;
            starts.push((first.0 as f64 - pad as f64) / rate);
            ends.push((last.1 as f64 - (pad + clip) as f64) / rate);
        }
    }
    let minute = SAMPLE_RATE as usize * 60;
    let report = VadReport {
        clips,
        speech_found: found,
        false_alarm_seconds_per_minute: if padding > 0.0 { false_alarm * 60.0 / padding } else { 0.0 },
        start_offset_median: median(starts),
        end_offset_median: median(ends),
        quiet_noise_voiced_seconds: voiced_seconds(&noise(minute, -60.0, &mut seed)),
        loud_noise_voiced_seconds: voiced_seconds(&noise(minute, -30.0, &mut seed)),
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{} clips between {:.1} s pads of -60 dBFS noise: speech found in {}", report.clips, args.pad, report.speech_found);
        println!("false alarms in the pads: {:.2} s per minute", report.false_alarm_seconds_per_minute);
        println!("detected start - clip start, median: {:+.2} s; detected end - clip end: {:+.2} s", report.start_offset_median, report.end_offset_median);
        println!("one minute of noise alone: {:.2} s voiced at -60 dBFS, {:.2} s at -30 dBFS", report.quiet_noise_voiced_seconds, report.loud_noise_voiced_seconds);
        println!("{:.1} s", report.seconds);
    }
    Ok(0)
}
