//! `scrivo devices` and `scrivo dictate`: the microphone to polished text.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use scrivo_asr::{DecodeOptions, Transcriber, WhisperModel};
use scrivo_capture::{CaptureEvent, Recording, TARGET_RATE};
use scrivo_models::store::ModelStore;

use crate::asr_setup::{biasing, resolve_model, split_cores, EngineArgs, PolisherMaker};

#[derive(Args)]
pub struct DictateArgs {
    /// Input device name (see `scrivo devices`); the default input otherwise.
    #[arg(long)]
    pub device: Option<String>,
    /// Seconds to record.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Speech model id or ggml file.
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Keep the recogniser's raw text only.
    #[arg(long)]
    pub no_polish: bool,
    /// Folder the recording is saved in before anything else runs (default: the user data
    /// dir, scrivo/dictations).
    #[arg(long, env = "SCRIVO_DICTATIONS_DIR")]
    pub save_dir: Option<PathBuf>,
    /// The folder of your biasing lists.
    #[arg(long, env = "SCRIVO_BIAS_DIR")]
    pub lists_dir: Option<PathBuf>,
    #[command(flatten)]
    pub bias_context: crate::bias_cmd::ContextArgs,
}

pub fn devices() -> Result<i32> {
    let devices = scrivo_capture::input_devices()?;
    if devices.is_empty() {
        println!("no input devices");
    }
    for d in devices {
        println!("{}{}", d.name, if d.is_default { "  (default)" } else { "" });
    }
    Ok(0)
}

/// Writes 16 kHz mono samples as 16-bit PCM, atomically.
fn save_wav(path: &Path, samples: &[f32]) -> Result<()> {
    let file = scrivo_models::AtomicFile::create(path)?;
    let spec = hound::WavSpec { channels: 1, sample_rate: TARGET_RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::new(std::io::BufWriter::new(file.handle()), spec).with_context(|| format!("writing {}", path.display()))?;
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * i16::MAX as f32) as i16).with_context(|| format!("writing {}", path.display()))?;
    }
    w.finalize().with_context(|| format!("writing {}", path.display()))?;
    file.commit()?;
    Ok(())
}

pub fn dictate(args: DictateArgs, models: &ModelStore) -> Result<i32> {
    // Load the models first, so the recording is not held up afterwards.
    let (model_path, _) = resolve_model(models, args.model.as_deref())?;
    let model = WhisperModel::load(&model_path)?;
    let (prompt, bias) = biasing(args.lists_dir.clone(), &[], &model, models)?;
    let terms: Vec<String> = bias.as_ref().map(|c| c.terms().map(String::from).collect()).unwrap_or_default();
    let context = bias.is_some() && !args.bias_context.no_bias_context;
    let polishers = (!args.no_polish).then(|| PolisherMaker::new(&args.engine, models, &terms, context)).transpose()?;
    let bias_context = crate::asr_setup::bias_context(&args.bias_context, bias.is_some(), polishers.as_ref(), models)?;
    let mut polisher = polishers.as_ref().map(PolisherMaker::make).transpose()?;

    let meter = std::io::IsTerminal::is_terminal(&std::io::stderr());
    eprintln!("recording {:.0} s ...", args.seconds);
    let recording: Recording = scrivo_capture::record_for(args.device.as_deref(), Duration::from_secs_f64(args.seconds.max(0.1)), move |event| {
        if meter {
            let CaptureEvent::Level { rms, .. } = event;
            let bars = ((rms * 60.0).sqrt() * 20.0).min(30.0) as usize;
            eprint!("\r[{:<30}]", "#".repeat(bars));
        }
    })?;
    if meter {
        eprintln!();
    }
    // Saved before anything else can fail.
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let wav = args.save_dir.unwrap_or_else(|| crate::paths::data("dictations")).join(format!("dictation-{stamp}.wav"));
    save_wav(&wav, &recording.samples)?;
    eprintln!("{:.1} s recorded ({} Hz, {} channel(s)), saved to {}", recording.seconds(), recording.native_rate, recording.native_channels, wav.display());
    if let Some(e) = &recording.error {
        eprintln!("warning: the input device failed during the recording ({e}); what was captured is kept and transcribed");
    }

    let (_, threads) = split_cores(Some(1), None);
    let options = DecodeOptions { threads, language: Some("en".into()), fit_encoder_context: true, initial_prompt: prompt, ..DecodeOptions::default() };
    let transcript = model.engine()?.transcribe(&recording.samples, &options)?;
    let raw = transcript.text();
    let biased = match (&bias, &bias_context) {
        (Some(c), Some(context)) => c.apply_in_context(&raw, context.as_ref()).text,
        (Some(c), None) => c.apply(&raw).text,
        (None, _) => raw.clone(),
    };
    let text = match polisher.as_mut() {
        Some(p) => p.polish(&biased)?.text,
        None => biased,
    };
    let mut out = std::io::stdout();
    writeln!(out, "{text}")?;
    Ok(0)
}
