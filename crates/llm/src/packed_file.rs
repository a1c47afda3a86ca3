//! The model's packed maps kept on disk beside it (`<model>.q8tiles`) and memory-mapped at
//! load.
//!
//! Packing the GGUF's Q8_0 matrices for [`crate::qgemm`] means reading and rearranging every
//! byte of them at each load. Under a memory budget too small for both models the polishing
//! model is let go after every utterance and loaded again for the next, so that cost was paid
//! each time. The first load writes the packed tiles of every Q8_0 matrix to this file; later
//! loads map each matrix from it, prefaulted from the page cache, which keeps the pages after
//! the model is let go. Two processes on one model (the app and a batch) share those pages.
//!
//! The file is a cache: made again whenever it is missing, unreadable, from another layout
//! version, or older or newer than the model (length and modification time differ from those
//! recorded), and written to a temporary name, synced and renamed, so a mapping never sees it
//! change. Where it cannot be written (a read-only folder), the model is packed in memory.
//!
//! Layout (little-endian): magic, layout version, entry count, the model's length and
//! modification time, then per entry its name, `n`, `k` and the offset of its tiles, each on a
//! page boundary so it can be mapped alone.

#![allow(unsafe_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::GgmlDType;
use candle_core::Device;

use scrivo_models::AtomicFile;

use crate::qgemm::PackedQ8;
use crate::LlmError;

const MAGIC: &[u8; 8] = b"SCRVQ8TL";
/// Bumped whenever the tile layout or this file's layout changes.
const VERSION: u32 = 1;
/// Every entry's tiles start on a page, for [`memmap2::MmapOptions::offset`].
const PAGE: u64 = 4096;

/// Where the packed file of the model at `model` lives.
pub fn packed_path(model: &Path) -> PathBuf {
    let mut name = model.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".q8tiles");
    model.with_file_name(name)
}

/// What the packed file was made from: the model's length and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Source {
    len: u64,
    secs: u64,
    nanos: u32,
}

impl Source {
    fn of(model: &Path) -> std::io::Result<Source> {
        let meta = std::fs::metadata(model)?;
        let since = meta.modified()?.duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok(Source { len: meta.len(), secs: since.as_secs(), nanos: since.subsec_nanos() })
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    n: usize,
    k: usize,
    offset: u64,
}

/// An open packed file: maps its matrices on request.
pub struct PackedFile {
    path: PathBuf,
    file: File,
    entries: HashMap<String, Entry>,
}

/// The model's matrices this file holds: every Q8_0 matrix whose rows are whole blocks, by
/// name, in name order.
fn packable(content: &Content) -> Vec<(String, usize, usize)> {
    let mut out: Vec<(String, usize, usize)> = content
        .tensor_infos
        .iter()
        .filter(|(_, info)| info.ggml_dtype == GgmlDType::Q8_0)
        .filter_map(|(name, info)| info.shape.dims2().ok().map(|(n, k)| (name.clone(), n, k)))
        .filter(|&(_, n, k)| n > 0 && k > 0 && k.is_multiple_of(32))
        .collect();
    out.sort();
    out
}

impl PackedFile {
    /// The packed file of the model at `model` (whose GGUF header is `content`, read from
    /// `reader`), made first if it is missing or stale.
    pub fn open_or_make<R: Read + Seek>(model: &Path, content: &Content, reader: &mut R) -> Result<PackedFile, LlmError> {
        let path = packed_path(model);
        let source = Source::of(model).map_err(|e| LlmError::Io { path: model.to_path_buf(), source: e })?;
        let wanted = packable(content);
        match Self::open(&path, source, &wanted) {
            Ok(file) => return Ok(file),
            Err(why) => tracing::info!(path = %path.display(), %why, "packing the polishing model's maps"),
        }
        // A file that could not be made once (a read-only folder) is not tried again by this
        // process: each load would pay for packing every matrix twice.
        static UNWRITABLE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
        let unwritable = || UNWRITABLE.lock().unwrap_or_else(|p| p.into_inner());
        if unwritable().contains(&path) {
            return Err(LlmError::Format { path, detail: "could not be made earlier in this process".into() });
        }
        // One load at a time makes it; one that waited finds it made.
        static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _making = MAKING.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(file) = Self::open(&path, source, &wanted) {
            return Ok(file);
        }
        let started = std::time::Instant::now();
        // Making the file takes about a second: a temporary untouched for ten minutes, or whose
        // process is gone, was left by a load killed while writing.
        let removed = AtomicFile::remove_abandoned(&path, std::time::Duration::from_secs(600));
        if removed > 0 {
            tracing::info!(removed, "removed packed files a killed load left half-written");
        }
        if let Err(e) = Self::make(&path, source, &wanted, content, reader) {
            unwritable().push(path);
            return Err(e);
        }
        tracing::info!(path = %path.display(), seconds = started.elapsed().as_secs_f64(), "packed maps written");
        Self::open(&path, source, &wanted).map_err(|why| LlmError::Format { path: path.clone(), detail: format!("just written, but {why}") })
    }

    /// Opens the file if it holds `wanted` made from `source`; why not otherwise.
    fn open(path: &Path, source: Source, wanted: &[(String, usize, usize)]) -> Result<PackedFile, String> {
        let mut file = File::open(path).map_err(|e| e.to_string())?;
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        let mut reader = std::io::BufReader::new(&mut file);
        let mut magic = [0u8; 8];
        reader.read_exact(&mut magic).map_err(|e| e.to_string())?;
        if &magic != MAGIC {
            return Err("not a packed file".into());
        }
        let version = read_u32(&mut reader)?;
        if version != VERSION {
            return Err(format!("layout version {version}, not {VERSION}"));
        }
        let count = read_u32(&mut reader)? as usize;
        let made_from = Source { len: read_u64(&mut reader)?, secs: read_u64(&mut reader)?, nanos: read_u32(&mut reader)? };
        if made_from != source {
            return Err("made from another version of the model".into());
        }
        if count != wanted.len() {
            return Err(format!("{count} matrices, the model has {}", wanted.len()));
        }
        let mut entries = HashMap::with_capacity(count);
        for _ in 0..count {
            let name_len = read_u32(&mut reader)? as usize;
            if name_len > 1024 {
                return Err(format!("a name of {name_len} bytes"));
            }
            let mut name = vec![0u8; name_len];
            reader.read_exact(&mut name).map_err(|e| e.to_string())?;
            let name = String::from_utf8(name).map_err(|_| "a name that is not UTF-8".to_string())?;
            let (n, k, offset) = (read_u64(&mut reader)? as usize, read_u64(&mut reader)? as usize, read_u64(&mut reader)?);
            let end = offset.checked_add(PackedQ8::packed_len(n, k) as u64);
            if !offset.is_multiple_of(PAGE) || end.is_none_or(|end| end > len) {
                return Err(format!("`{name}` lies outside the file"));
            }
            entries.insert(name, Entry { n, k, offset });
        }
        drop(reader);
        for (name, n, k) in wanted {
            match entries.get(name) {
                Some(e) if e.n == *n && e.k == *k => {}
                _ => return Err(format!("`{name}` missing or of another shape")),
            }
        }
        Ok(PackedFile { path: path.to_path_buf(), file, entries })
    }

    /// Packs `wanted` from the model into a new file at `path`.
    fn make<R: Read + Seek>(path: &Path, source: Source, wanted: &[(String, usize, usize)], content: &Content, reader: &mut R) -> Result<(), LlmError> {
        let header_len = 8 + 4 + 4 + 8 + 8 + 4 + wanted.iter().map(|(name, _, _)| 4 + name.len() as u64 + 24).sum::<u64>();
        let mut offsets = Vec::with_capacity(wanted.len());
        let mut at = header_len.next_multiple_of(PAGE);
        for (_, n, k) in wanted {
            offsets.push(at);
            at = (at + PackedQ8::packed_len(*n, *k) as u64).next_multiple_of(PAGE);
        }
        // Written beside it and renamed into place once synced; removed if anything fails.
        let file = AtomicFile::create(path)?;
        let io = |e: std::io::Error| LlmError::Io { path: path.to_path_buf(), source: e };
        let mut out = BufWriter::with_capacity(1 << 20, file.handle());
        out.write_all(MAGIC).map_err(io)?;
        out.write_all(&VERSION.to_le_bytes()).map_err(io)?;
        out.write_all(&(wanted.len() as u32).to_le_bytes()).map_err(io)?;
        out.write_all(&source.len.to_le_bytes()).map_err(io)?;
        out.write_all(&source.secs.to_le_bytes()).map_err(io)?;
        out.write_all(&source.nanos.to_le_bytes()).map_err(io)?;
        for ((name, n, k), offset) in wanted.iter().zip(&offsets) {
            out.write_all(&(name.len() as u32).to_le_bytes()).map_err(io)?;
            out.write_all(name.as_bytes()).map_err(io)?;
            for v in [*n as u64, *k as u64, *offset] {
                out.write_all(&v.to_le_bytes()).map_err(io)?;
            }
        }
        for ((name, _, _), offset) in wanted.iter().zip(&offsets) {
            let tensor = content.tensor(reader, name, &Device::Cpu).map_err(|e| LlmError::Format { path: path.to_path_buf(), detail: format!("tensor `{name}`: {e}") })?;
            let packed = PackedQ8::pack(&tensor)?.ok_or_else(|| LlmError::Format { path: path.to_path_buf(), detail: format!("`{name}` cannot be packed") })?;
            out.seek(SeekFrom::Start(*offset)).map_err(io)?;
            out.write_all(packed.as_bytes()).map_err(io)?;
        }
        out.flush().map_err(io)?;
        drop(out);
        // A whole number of pages, the last entry's padding included.
        file.handle().set_len(at).map_err(io)?;
        file.commit()?;
        Ok(())
    }

    /// The matrix `name` mapped from the file, its pages faulted in (so the model manager,
    /// which measures resident memory around a load, counts them); `None` if the file does
    /// not hold it.
    pub fn map(&self, name: &str) -> Result<Option<PackedQ8>, LlmError> {
        let Some(e) = self.entries.get(name) else { return Ok(None) };
        let len = PackedQ8::packed_len(e.n, e.k);
        // SAFETY: the file is only ever replaced by a rename, never written in place, so the
        // mapped bytes do not change while mapped (another program truncating it would fault,
        // as with any mapped model file). `open` checked that the range lies in the file.
        let map = unsafe { memmap2::MmapOptions::new().offset(e.offset).len(len).populate().map(&self.file) }.map_err(|source| LlmError::Io { path: self.path.clone(), source })?;
        Ok(Some(PackedQ8::from_map(e.n, e.k, map)?))
    }
}

fn read_u32<R: Read>(r: &mut R) -> Result<u32, String> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).map_err(|e| e.to_string())?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64<R: Read>(r: &mut R) -> Result<u64, String> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b).map_err(|e| e.to_string())?;
    Ok(u64::from_le_bytes(b))
}
