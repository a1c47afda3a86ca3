//! Audio in for Scrivo: everything the recogniser hears is 16 kHz mono f32 in [-1, 1].
//!
//! [`read_wav`] accepts PCM 8/16/24/32-bit integer and 32-bit float WAV files (plain or
//! `WAVE_FORMAT_EXTENSIBLE`), any sample rate and channel count; channels are averaged and the
//! rate converted with an FFT-based band-limited resampler (`rubato`), never by dropping samples.
//!
//! ```no_run
//! let audio = scrivo_audio::read_wav(std::path::Path::new("clip.wav"))?;
//! println!("{:.1} s at 16 kHz", audio.duration_seconds());
//! # Ok::<(), scrivo_audio::AudioError>(())
//! ```

mod resample;
mod silence;
pub mod vad;

use std::path::{Path, PathBuf};

pub use resample::{resample, to_mono, StreamResampler};
pub use silence::speech_bounds;
pub use vad::{speech_spans, trim_silence, VadSettings, VoiceDetector, VoiceEvent};

/// The rate whisper expects.
pub const SAMPLE_RATE: u32 = 16_000;

/// Decoded audio at [`SAMPLE_RATE`], mono.
#[derive(Debug, Clone)]
pub struct Audio {
    pub samples: Vec<f32>,
    /// What the file held before conversion.
    pub source_rate: u32,
    pub source_channels: u16,
}

impl Audio {
    pub fn duration_seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE)
    }
}

/// Why a file could not be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: is a directory, not a WAV file")]
    Directory { path: PathBuf },
    #[error("{path}: not a WAV file ({detail})")]
    NotWav { path: PathBuf, detail: String },
    #[error("{path}: unsupported WAV: {detail}")]
    Unsupported { path: PathBuf, detail: String },
    #[error("{path}: WAV header is invalid: {detail}")]
    BadHeader { path: PathBuf, detail: String },
    #[error("{path}: audio data is truncated ({detail})")]
    Truncated { path: PathBuf, detail: String },
    #[error("{path}: holds no audio samples")]
    Empty { path: PathBuf },
    #[error("{path}: cannot resample from {rate} Hz: {detail}")]
    Resample { path: PathBuf, rate: u32, detail: String },
}

const MAX_CHANNELS: u16 = 64;
const MIN_RATE: u32 = 1_000;
const MAX_RATE: u32 = 768_000;

/// Reads a WAV file and converts it to 16 kHz mono.
pub fn read_wav(path: &Path) -> Result<Audio, AudioError> {
    let mut wav = open_checked(path)?;
    let mut interleaved = Vec::with_capacity(usize::try_from(wav.declared).unwrap_or(0));
    decode_samples(path, &mut wav.reader, wav.spec, usize::MAX, &mut interleaved)?;
    if interleaved.is_empty() {
        return Err(AudioError::Empty { path: path.into() });
    }
    if (interleaved.len() as u64) < wav.declared {
        return Err(truncated(path, wav.declared, interleaved.len() as u64));
    }
    let mono = to_mono(&interleaved, usize::from(wav.spec.channels));
    let mut samples = resample(&mono, wav.spec.sample_rate, SAMPLE_RATE)
        .map_err(|detail| AudioError::Resample { path: path.into(), rate: wav.spec.sample_rate, detail })?;
    clamp_to_range(&mut samples);
    Ok(Audio { samples, source_rate: wav.spec.sample_rate, source_channels: wav.spec.channels })
}

/// An opened WAV file whose header passed the checks: channels, rate, and a data size the file
/// can hold (a header claiming more than the file's bytes is truncated, said before any sample is
/// read or any buffer of the claimed size is made).
struct CheckedWav {
    reader: hound::WavReader<std::io::BufReader<std::fs::File>>,
    spec: hound::WavSpec,
    /// Samples (all channels) the header declares.
    declared: u64,
}

fn open_checked(path: &Path) -> Result<CheckedWav, AudioError> {
    let meta = std::fs::metadata(path).map_err(|source| AudioError::Io { path: path.into(), source })?;
    if meta.is_dir() {
        return Err(AudioError::Directory { path: path.into() });
    }
    let reader = hound::WavReader::open(path).map_err(|e| header_error(path, e))?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.channels > MAX_CHANNELS {
        return Err(AudioError::BadHeader { path: path.into(), detail: format!("{} channels", spec.channels) });
    }
    if !(MIN_RATE..=MAX_RATE).contains(&spec.sample_rate) {
        return Err(AudioError::BadHeader { path: path.into(), detail: format!("sample rate {} Hz", spec.sample_rate) });
    }
    let declared = u64::from(reader.len());
    let bytes_per_sample = u64::from(spec.bits_per_sample).div_ceil(8).max(1);
    if declared.saturating_mul(bytes_per_sample) > meta.len() {
        let detail = format!("header declares {declared} samples of {bytes_per_sample} bytes, the whole file is {} bytes", meta.len());
        return Err(AudioError::Truncated { path: path.into(), detail });
    }
    Ok(CheckedWav { reader, spec, declared })
}

/// Band-limited resampling rings past full scale next to a loud edge (an 8-bit square wave at
/// 8 kHz reaches 1.09); the recogniser is promised [-1, 1].
fn clamp_to_range(samples: &mut [f32]) {
    for s in samples {
        *s = s.clamp(-1.0, 1.0);
    }
}

fn truncated(path: &Path, declared: u64, held: u64) -> AudioError {
    AudioError::Truncated { path: path.into(), detail: format!("header declares {declared} samples, file holds {held}") }
}

/// A WAV file read a piece at a time, as 16 kHz mono: what [`read_wav`] gives, without holding
/// the whole recording (a three-hour file is 690 MB of samples). The header is checked when it
/// is opened, the same way as by [`read_wav`].
///
/// ```no_run
/// let mut wav = scrivo_audio::WavStream::open(std::path::Path::new("long.wav"))?;
/// while let Some(piece) = wav.next_piece(60 * 16_000)? {
///     println!("{} samples", piece.len());
/// }
/// # Ok::<(), scrivo_audio::AudioError>(())
/// ```
pub struct WavStream {
    path: PathBuf,
    wav: CheckedWav,
    resampler: Option<StreamResampler>,
    /// Samples (all channels) read so far.
    read: u64,
    /// Output not yet handed out.
    pending: Vec<f32>,
}

impl WavStream {
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let wav = open_checked(path)?;
        let rate = wav.spec.sample_rate;
        let resampler = StreamResampler::new(rate, SAMPLE_RATE).map_err(|detail| AudioError::Resample { path: path.into(), rate, detail })?;
        Ok(WavStream { path: path.into(), wav, resampler: Some(resampler), read: 0, pending: Vec::new() })
    }

    /// The duration the header declares, in seconds.
    pub fn seconds(&self) -> f64 {
        let frames = self.wav.declared / u64::from(self.wav.spec.channels);
        frames as f64 / f64::from(self.wav.spec.sample_rate)
    }

    /// The next `max` samples or fewer at 16 kHz; `None` once the file is done. A file with no
    /// samples at all, or fewer than its header declares, is an error (as for [`read_wav`]).
    pub fn next_piece(&mut self, max: usize) -> Result<Option<Vec<f32>>, AudioError> {
        let max = max.max(1);
        let channels = usize::from(self.wav.spec.channels);
        let rate = self.wav.spec.sample_rate;
        let resample_error = |detail| AudioError::Resample { path: self.path.clone(), rate, detail };
        while self.pending.len() < max {
            let Some(resampler) = self.resampler.as_mut() else { break };
            // Enough source frames for what is still owed, in reads of at most a second or so.
            let frames = ((max - self.pending.len()) as u64 * u64::from(rate) / u64::from(SAMPLE_RATE)).clamp(1, u64::from(rate)) as usize;
            let mut interleaved = Vec::with_capacity(frames * channels);
            decode_samples(&self.path, &mut self.wav.reader, self.wav.spec, frames * channels, &mut interleaved)?;
            self.read += interleaved.len() as u64;
            if interleaved.is_empty() {
                if self.read == 0 {
                    return Err(AudioError::Empty { path: self.path.clone() });
                }
                if self.read < self.wav.declared {
                    return Err(truncated(&self.path, self.wav.declared, self.read));
                }
                let mut rest = self.resampler.take().map(StreamResampler::finish).transpose().map_err(resample_error)?.unwrap_or_default();
                clamp_to_range(&mut rest);
                self.pending.extend(rest);
                break;
            }
            let mono = to_mono(&interleaved, channels);
            let mut out = resampler.push(&mono).map_err(resample_error)?;
            clamp_to_range(&mut out);
            self.pending.extend(out);
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let rest = self.pending.split_off(self.pending.len().min(max));
        Ok(Some(std::mem::replace(&mut self.pending, rest)))
    }
}

/// The duration a WAV header declares, in seconds, without decoding (for progress totals);
/// `None` when the header cannot be read (reading the file will then say why).
pub fn probe_seconds(path: &Path) -> Option<f64> {
    let reader = hound::WavReader::open(path).ok()?;
    let rate = reader.spec().sample_rate;
    (rate > 0).then(|| f64::from(reader.duration()) / f64::from(rate))
}

fn header_error(path: &Path, e: hound::Error) -> AudioError {
    let path = path.to_path_buf();
    match e {
        hound::Error::IoError(source) if matches!(source.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::Other) => {
            AudioError::Truncated { path, detail: "file ends inside the header".into() }
        }
        hound::Error::IoError(source) => AudioError::Io { path, source },
        hound::Error::FormatError(detail) => AudioError::NotWav { path, detail: detail.into() },
        hound::Error::Unsupported => AudioError::Unsupported { path, detail: "encoding is not PCM integer or 32-bit float".into() },
        hound::Error::InvalidSampleFormat => AudioError::BadHeader { path, detail: "invalid sample format".into() },
        other => AudioError::BadHeader { path, detail: other.to_string() },
    }
}

/// Samples as f32 in [-1, 1], stopping (without error) where the data ends early so the
/// caller can tell a truncated file from a complete one.
/// At most `limit` samples are added to `out`.
fn decode_samples<R: std::io::Read>(path: &Path, reader: &mut hound::WavReader<R>, spec: hound::WavSpec, limit: usize, out: &mut Vec<f32>) -> Result<(), AudioError> {
    let push_err = |e: hound::Error| -> Result<(), AudioError> {
        match e {
            // hound reports a data chunk that ends early as UnexpectedEof or as "Failed to read
            // enough bytes"; the caller compares the count with the header and says "truncated".
            hound::Error::IoError(ref io) if matches!(io.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::Other) => Ok(()),
            hound::Error::IoError(source) => Err(AudioError::Io { path: path.into(), source }),
            other => Err(AudioError::BadHeader { path: path.into(), detail: other.to_string() }),
        }
    };
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => {
            for s in reader.samples::<f32>().take(limit) {
                match s {
                    Ok(v) => out.push(if v.is_finite() { v.clamp(-1.0, 1.0) } else { 0.0 }),
                    Err(e) => {
                        push_err(e)?;
                        break;
                    }
                }
            }
        }
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            for s in reader.samples::<i32>().take(limit) {
                match s {
                    Ok(v) => out.push(v as f32 * scale),
                    Err(e) => {
                        push_err(e)?;
                        break;
                    }
                }
            }
        }
        (format, bits) => {
            return Err(AudioError::Unsupported { path: path.into(), detail: format!("{bits}-bit {format:?} samples") });
        }
    }
    Ok(())
}
