//! The whisper.cpp ggml model file: what whisper.cpp expects, a writer, and a validator that
//! checks a file completely (header, mel filters, vocabulary, every tensor's name, shape, type
//! and size) so a bad file is reported by name instead of aborting inside whisper.cpp.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Error, Result};

pub const MAGIC: u32 = 0x6767_6d6c;
/// whisper.cpp stores `ftype + QNT_VERSION_FACTOR * quantisation_version` for quantised files.
pub const QNT_VERSION_FACTOR: i32 = 1000;
pub const QNT_VERSION: i32 = 2;
pub const N_FFT: usize = 201;
/// Regular (non-special) tokens whisper.cpp reads from the file; it derives the rest.
pub const N_REGULAR_TOKENS: usize = 50257;

/// Tensor element types this crate reads and writes (ggml's numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
}

impl TensorType {
    pub fn code(self) -> i32 {
        match self {
            TensorType::F32 => 0,
            TensorType::F16 => 1,
            TensorType::Q4_0 => 2,
            TensorType::Q4_1 => 3,
            TensorType::Q5_0 => 6,
            TensorType::Q5_1 => 7,
            TensorType::Q8_0 => 8,
        }
    }

    pub fn from_code(code: i32) -> Option<TensorType> {
        [TensorType::F32, TensorType::F16, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0]
            .into_iter()
            .find(|t| t.code() == code)
    }

    /// (elements per block, bytes per block)
    pub fn block(self) -> (usize, usize) {
        match self {
            TensorType::F32 => (1, 4),
            TensorType::F16 => (1, 2),
            TensorType::Q4_0 => (32, 18),
            TensorType::Q4_1 => (32, 20),
            TensorType::Q5_0 => (32, 22),
            TensorType::Q5_1 => (32, 24),
            TensorType::Q8_0 => (32, 34),
        }
    }

    /// Bytes for `n` elements, or None when `n` is not a whole number of blocks.
    pub fn bytes_for(self, n: usize) -> Option<usize> {
        let (per, bytes) = self.block();
        n.is_multiple_of(per).then(|| n / per * bytes)
    }

    /// The file-level `ftype` (ggml_ftype) whose big tensors have this type.
    pub fn ftype(self) -> i32 {
        match self {
            TensorType::F32 => 0,
            TensorType::F16 => 1,
            TensorType::Q4_0 => 2,
            TensorType::Q4_1 => 3,
            TensorType::Q8_0 => 7,
            TensorType::Q5_0 => 8,
            TensorType::Q5_1 => 9,
        }
    }

    fn from_ftype(ftype: i32) -> Option<TensorType> {
        [TensorType::F32, TensorType::F16, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0]
            .into_iter()
            .find(|t| t.ftype() == ftype)
    }
}

/// The model dimensions stored in the file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

/// One tensor as whisper.cpp wants it: name, `ne` (the shape reversed) and element type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub ne: Vec<usize>,
    pub ttype: TensorType,
}

/// Every tensor whisper.cpp expects for `hp` when its large weights have type `wtype`, in the
/// order of OpenAI's PyTorch state dict (the order of the upstream ggml files).
pub fn expected_tensors(hp: &Hparams, wtype: TensorType) -> Vec<TensorSpec> {
    let conv = if wtype == TensorType::F32 { TensorType::F32 } else { TensorType::F16 };
    let f32 = TensorType::F32;
    let mut out = Vec::new();
    let mut push = |name: String, ne: &[usize], ttype| out.push(TensorSpec { name, ne: ne.to_vec(), ttype });
    let (a, t) = (hp.n_audio_state, hp.n_text_state);
    push("encoder.positional_embedding".into(), &[a, hp.n_audio_ctx], f32);
    push("encoder.conv1.weight".into(), &[3, hp.n_mels, a], conv);
    push("encoder.conv1.bias".into(), &[1, a], f32);
    push("encoder.conv2.weight".into(), &[3, a, a], conv);
    push("encoder.conv2.bias".into(), &[1, a], f32);
    let block = |push: &mut dyn FnMut(String, &[usize], TensorType), p: String, n: usize, cross: bool| {
        let attns: &[&str] = if cross { &["attn", "cross_attn"] } else { &["attn"] };
        for attn in attns {
            push(format!("{p}.{attn}.query.weight"), &[n, n], wtype);
            push(format!("{p}.{attn}.query.bias"), &[n], f32);
            push(format!("{p}.{attn}.key.weight"), &[n, n], wtype);
            push(format!("{p}.{attn}.value.weight"), &[n, n], wtype);
            push(format!("{p}.{attn}.value.bias"), &[n], f32);
            push(format!("{p}.{attn}.out.weight"), &[n, n], wtype);
            push(format!("{p}.{attn}.out.bias"), &[n], f32);
            push(format!("{p}.{attn}_ln.weight"), &[n], f32);
            push(format!("{p}.{attn}_ln.bias"), &[n], f32);
        }
        push(format!("{p}.mlp.0.weight"), &[n, 4 * n], wtype);
        push(format!("{p}.mlp.0.bias"), &[4 * n], f32);
        push(format!("{p}.mlp.2.weight"), &[4 * n, n], wtype);
        push(format!("{p}.mlp.2.bias"), &[n], f32);
        push(format!("{p}.mlp_ln.weight"), &[n], f32);
        push(format!("{p}.mlp_ln.bias"), &[n], f32);
    };
    for i in 0..hp.n_audio_layer {
        block(&mut push, format!("encoder.blocks.{i}"), a, false);
    }
    push("encoder.ln_post.weight".into(), &[a], f32);
    push("encoder.ln_post.bias".into(), &[a], f32);
    push("decoder.positional_embedding".into(), &[t, hp.n_text_ctx], f32);
    push("decoder.token_embedding.weight".into(), &[t, hp.n_vocab], wtype);
    for i in 0..hp.n_text_layer {
        block(&mut push, format!("decoder.blocks.{i}"), t, true);
    }
    push("decoder.ln.weight".into(), &[t], f32);
    push("decoder.ln.bias".into(), &[t], f32);
    out
}

/// Writes a whisper.cpp model file section by section.
pub struct GgmlWriter<W: Write> {
    out: W,
}

impl<W: Write> GgmlWriter<W> {
    /// Writes the magic and header. `wtype` decides the stored `ftype`.
    pub fn new(mut out: W, hp: &Hparams, wtype: TensorType) -> std::io::Result<Self> {
        let ftype = match wtype {
            TensorType::F32 | TensorType::F16 => wtype.ftype(),
            q => q.ftype() + QNT_VERSION_FACTOR * QNT_VERSION,
        };
        out.write_all(&MAGIC.to_le_bytes())?;
        for v in [
            hp.n_vocab,
            hp.n_audio_ctx,
            hp.n_audio_state,
            hp.n_audio_head,
            hp.n_audio_layer,
            hp.n_text_ctx,
            hp.n_text_state,
            hp.n_text_head,
            hp.n_text_layer,
            hp.n_mels,
        ] {
            out.write_all(&(v as i32).to_le_bytes())?;
        }
        out.write_all(&ftype.to_le_bytes())?;
        Ok(GgmlWriter { out })
    }

    /// `filters` is `n_mel` rows of [`N_FFT`] values.
    pub fn mel_filters(&mut self, n_mel: usize, filters: &[f32]) -> std::io::Result<()> {
        self.out.write_all(&(n_mel as i32).to_le_bytes())?;
        self.out.write_all(&(N_FFT as i32).to_le_bytes())?;
        for v in filters {
            self.out.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    }

    pub fn vocabulary(&mut self, tokens: &[Vec<u8>]) -> std::io::Result<()> {
        self.out.write_all(&(tokens.len() as i32).to_le_bytes())?;
        for t in tokens {
            self.out.write_all(&(t.len() as u32).to_le_bytes())?;
            self.out.write_all(t)?;
        }
        Ok(())
    }

    /// `data` is already encoded as `spec.ttype`.
    pub fn tensor(&mut self, spec: &TensorSpec, data: &[u8]) -> std::io::Result<()> {
        self.out.write_all(&(spec.ne.len() as i32).to_le_bytes())?;
        self.out.write_all(&(spec.name.len() as i32).to_le_bytes())?;
        self.out.write_all(&spec.ttype.code().to_le_bytes())?;
        for &n in &spec.ne {
            self.out.write_all(&(n as i32).to_le_bytes())?;
        }
        self.out.write_all(spec.name.as_bytes())?;
        self.out.write_all(data)
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// What a valid model file holds, as found by [`validate`].
#[derive(Debug, Clone)]
pub struct GgmlModelInfo {
    pub hparams: Hparams,
    pub wtype: TensorType,
    pub n_tensors: usize,
    pub multilingual: bool,
    pub file_size: u64,
}

struct Stream<'p> {
    inner: BufReader<File>,
    path: &'p Path,
    pos: u64,
    len: u64,
}

impl Stream<'_> {
    fn i32(&mut self, what: &str) -> Result<i32> {
        let mut b = [0u8; 4];
        self.bytes(&mut b, what)?;
        Ok(i32::from_le_bytes(b))
    }

    fn bytes(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        self.need(buf.len() as u64, what)?;
        self.inner.read_exact(buf).map_err(|e| Error::io(self.path, e))?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn need(&self, n: u64, what: &str) -> Result<()> {
        if n > self.len - self.pos {
            return Err(Error::truncated(
                self.path,
                format!("{what} needs {n} bytes at offset {}, only {} left", self.pos, self.len - self.pos),
            ));
        }
        Ok(())
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        self.need(n, what)?;
        self.inner.seek(SeekFrom::Current(n as i64)).map_err(|e| Error::io(self.path, e))?;
        self.pos += n;
        Ok(())
    }
}

fn check_hparams(path: &Path, h: &Hparams) -> Result<()> {
    let bad = |field: &str, v: usize| Err(Error::corrupt(path, format!("header field {field} = {v} is out of range")));
    if !(N_REGULAR_TOKENS..=60_000).contains(&h.n_vocab) {
        return bad("n_vocab", h.n_vocab);
    }
    if h.n_audio_ctx != 1500 {
        return bad("n_audio_ctx", h.n_audio_ctx);
    }
    if h.n_text_ctx != 448 {
        return bad("n_text_ctx", h.n_text_ctx);
    }
    if h.n_mels != 80 && h.n_mels != 128 {
        return bad("n_mels", h.n_mels);
    }
    for (field, state, head, layers) in [
        ("audio", h.n_audio_state, h.n_audio_head, h.n_audio_layer),
        ("text", h.n_text_state, h.n_text_head, h.n_text_layer),
    ] {
        if !(64..=2048).contains(&state) || state % 64 != 0 {
            return bad(&format!("n_{field}_state"), state);
        }
        if head == 0 || head > 64 || state % head != 0 {
            return bad(&format!("n_{field}_head"), head);
        }
        if layers == 0 || layers > 64 {
            return bad(&format!("n_{field}_layer"), layers);
        }
    }
    Ok(())
}

/// Checks the whole structure of the ggml file at `path` without loading its tensor data.
pub fn validate(path: &Path) -> Result<GgmlModelInfo> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::WrongKind { path: path.into(), expected: "whisper ggml model", detail: "it is a directory".into() });
    }
    let mut s = Stream { inner: BufReader::new(file), path, pos: 0, len: meta.len() };
    let magic = s.i32("magic")? as u32;
    if magic != MAGIC {
        let detail = if &magic.to_le_bytes() == b"GGUF" {
            "it is a GGUF file (an LLM?), whisper.cpp needs the ggml format".to_string()
        } else {
            format!("magic is {magic:#010x}, expected {MAGIC:#010x}")
        };
        return Err(Error::WrongKind { path: path.into(), expected: "whisper ggml model", detail });
    }
    let mut v = [0usize; 10];
    for (i, name) in ["n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer", "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels"]
        .iter()
        .enumerate()
    {
        let x = s.i32(name)?;
        v[i] = usize::try_from(x).map_err(|_| Error::corrupt(path, format!("header field {name} = {x} is negative")))?;
    }
    let hparams = Hparams {
        n_vocab: v[0],
        n_audio_ctx: v[1],
        n_audio_state: v[2],
        n_audio_head: v[3],
        n_audio_layer: v[4],
        n_text_ctx: v[5],
        n_text_state: v[6],
        n_text_head: v[7],
        n_text_layer: v[8],
        n_mels: v[9],
    };
    check_hparams(path, &hparams)?;
    let ftype = s.i32("ftype")?;
    let wtype = TensorType::from_ftype(ftype % QNT_VERSION_FACTOR)
        .ok_or_else(|| Error::corrupt(path, format!("unknown ftype {ftype}")))?;

    let n_mel = s.i32("mel filter rows")?;
    let n_fft = s.i32("mel filter columns")?;
    if n_mel as usize != hparams.n_mels || n_fft as usize != N_FFT {
        return Err(Error::corrupt(path, format!("mel filter table is {n_mel}x{n_fft}, expected {}x{N_FFT}", hparams.n_mels)));
    }
    s.skip((n_mel as u64) * (n_fft as u64) * 4, "mel filters")?;

    let n_words = s.i32("vocabulary size")?;
    if n_words < 0 || n_words as usize > hparams.n_vocab {
        return Err(Error::corrupt(path, format!("vocabulary holds {n_words} tokens, header n_vocab is {}", hparams.n_vocab)));
    }
    for i in 0..n_words {
        let len = s.i32("token length")?;
        if !(0..=1024).contains(&len) {
            return Err(Error::corrupt(path, format!("token {i} has absurd length {len}")));
        }
        s.skip(len as u64, "token bytes")?;
    }

    let expected: BTreeMap<String, TensorSpec> =
        expected_tensors(&hparams, wtype).into_iter().map(|t| (t.name.clone(), t)).collect();
    let mut seen = std::collections::BTreeSet::new();
    while s.pos < s.len {
        let n_dims = s.i32("tensor dimension count")?;
        let name_len = s.i32("tensor name length")?;
        let ttype = s.i32("tensor type")?;
        if !(1..=4).contains(&n_dims) || !(1..=256).contains(&name_len) {
            return Err(Error::corrupt(path, format!("bad tensor record at offset {} (dims {n_dims}, name length {name_len})", s.pos - 12)));
        }
        let mut ne = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            let d = s.i32("tensor dimension")?;
            ne.push(usize::try_from(d).map_err(|_| Error::corrupt(path, format!("negative tensor dimension {d}")))?);
        }
        let mut name = vec![0u8; name_len as usize];
        s.bytes(&mut name, "tensor name")?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let spec = expected.get(&name).ok_or_else(|| Error::tensor(path, &name, "unknown tensor for this model"))?;
        if !seen.insert(name.clone()) {
            return Err(Error::tensor(path, &name, "appears twice"));
        }
        if spec.ne != ne {
            return Err(Error::tensor(path, &name, format!("shape {ne:?}, expected {:?}", spec.ne)));
        }
        let ttype = TensorType::from_code(ttype).ok_or_else(|| Error::tensor(path, &name, format!("unknown type code {ttype}")))?;
        if ttype != spec.ttype {
            return Err(Error::tensor(path, &name, format!("type {ttype:?}, expected {:?}", spec.ttype)));
        }
        let n: usize = ne.iter().product();
        let bytes = ttype.bytes_for(n).ok_or_else(|| Error::tensor(path, &name, "size is not a whole number of blocks"))?;
        s.skip(bytes as u64, &format!("data of tensor '{name}'"))?;
    }
    if let Some(missing) = expected.keys().find(|k| !seen.contains(*k)) {
        return Err(Error::truncated(path, format!("tensor '{missing}' is missing ({} of {} present)", seen.len(), expected.len())));
    }
    Ok(GgmlModelInfo {
        hparams,
        wtype,
        n_tensors: seen.len(),
        multilingual: hparams.n_vocab >= 51865,
        file_size: s.len,
    })
}

/// A whole ggml file in memory: for tests and tools that compare tensors.
#[derive(Debug)]
pub struct GgmlFile {
    pub hparams: Hparams,
    pub wtype: TensorType,
    pub mel_filters: Vec<f32>,
    pub vocabulary: Vec<Vec<u8>>,
    pub tensors: Vec<(TensorSpec, Vec<u8>)>,
}

/// Validates, then reads everything in `path`.
pub fn read(path: &Path) -> Result<GgmlFile> {
    let info = validate(path)?;
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut r = crate::bytes::Reader::new(&bytes, path);
    r.take(4 * 12, "header")?;
    let n_mel = r.i32("mel rows")? as usize;
    let n_fft = r.i32("mel columns")? as usize;
    let mel_filters = r.take(n_mel * n_fft * 4, "mel filters")?.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let n_words = r.i32("vocabulary size")? as usize;
    let mut vocabulary = Vec::with_capacity(n_words);
    for _ in 0..n_words {
        let len = r.u32("token length")? as usize;
        vocabulary.push(r.take(len, "token")?.to_vec());
    }
    let mut tensors = Vec::new();
    while r.remaining() > 0 {
        let n_dims = r.i32("dims")? as usize;
        let name_len = r.i32("name length")? as usize;
        let ttype = TensorType::from_code(r.i32("type")?).ok_or_else(|| Error::corrupt(path, "tensor type"))?;
        let mut ne = Vec::with_capacity(n_dims);
        for _ in 0..n_dims {
            ne.push(r.i32("dim")? as usize);
        }
        let name = String::from_utf8_lossy(r.take(name_len, "name")?).into_owned();
        let n: usize = ne.iter().product();
        let size = ttype.bytes_for(n).ok_or_else(|| Error::tensor(path, &name, "partial block"))?;
        let data = r.take(size, "tensor data")?.to_vec();
        tensors.push((TensorSpec { name, ne, ttype }, data));
    }
    Ok(GgmlFile { hparams: info.hparams, wtype: info.wtype, mel_filters, vocabulary, tensors })
}

/// The token vocabulary of the ggml file at `path` (raw bytes of each token), read without
/// touching the tensors. Whole-word tokens start with a space.
pub fn vocabulary(path: &Path) -> Result<Vec<Vec<u8>>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut s = Stream { inner: BufReader::new(file), path, pos: 0, len };
    if s.i32("magic")? as u32 != MAGIC {
        return Err(Error::WrongKind { path: path.into(), expected: "whisper ggml model", detail: "bad magic".into() });
    }
    s.skip(11 * 4, "header")?;
    let n_mel = s.i32("mel filter rows")?;
    let n_fft = s.i32("mel filter columns")?;
    if !(0..=256).contains(&n_mel) || !(0..=1024).contains(&n_fft) {
        return Err(Error::corrupt(path, format!("mel filter table is {n_mel}x{n_fft}")));
    }
    s.skip((n_mel as u64) * (n_fft as u64) * 4, "mel filters")?;
    let n_words = s.i32("vocabulary size")?;
    if !(0..=100_000).contains(&n_words) {
        return Err(Error::corrupt(path, format!("vocabulary size {n_words}")));
    }
    let mut out = Vec::with_capacity(n_words as usize);
    for i in 0..n_words {
        let n = s.i32("token length")?;
        if !(0..=1024).contains(&n) {
            return Err(Error::corrupt(path, format!("token {i} has absurd length {n}")));
        }
        let mut token = vec![0u8; n as usize];
        s.bytes(&mut token, "token bytes")?;
        out.push(token);
    }
    Ok(out)
}
