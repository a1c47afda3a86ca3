//! A GGUF (v2/v3) reader and writer, enough to validate an LLM file before candle sees it and
//! to re-quantise its Q4_1 tensors to Q8_0 or Q4_0 (candle's Q4_1 kernel has no SIMD path).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::atomic::AtomicFile;
use crate::bytes::Reader;
use crate::error::{Error, Result};
use crate::quant;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: usize = 32;

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(String),
    Array(u32, Vec<Value>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl Value {
    fn type_code(&self) -> u32 {
        match self {
            Value::U8(_) => 0,
            Value::I8(_) => 1,
            Value::U16(_) => 2,
            Value::I16(_) => 3,
            Value::U32(_) => 4,
            Value::I32(_) => 5,
            Value::F32(_) => 6,
            Value::Bool(_) => 7,
            Value::Str(_) => 8,
            Value::Array(..) => 9,
            Value::U64(_) => 10,
            Value::I64(_) => 11,
            Value::F64(_) => 12,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// ggml tensor types as GGUF numbers them; `(elements per block, bytes per block)`.
pub fn type_block(code: u32) -> Option<(usize, usize)> {
    Some(match code {
        0 => (1, 4),
        1 => (1, 2),
        2 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        9 => (32, 36),
        10 => (256, 84),
        11 => (256, 110),
        12 => (256, 144),
        13 => (256, 176),
        14 => (256, 210),
        15 => (256, 292),
        30 => (1, 2),
        _ => return None,
    })
}

pub const TYPE_F32: u32 = 0;
pub const TYPE_Q4_0: u32 = 2;
pub const TYPE_Q4_1: u32 = 3;
pub const TYPE_Q8_0: u32 = 8;

#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` is the row length.
    pub dims: Vec<u64>,
    pub ttype: u32,
    pub offset: u64,
}

impl TensorInfo {
    /// The number of elements; `None` when the dimensions multiply past 2^64 (a file that
    /// lies: no tensor that large can be in it).
    pub fn elements(&self) -> Option<u64> {
        self.dims.iter().try_fold(1u64, |n, &d| n.checked_mul(d))
    }
}

/// A parsed GGUF file borrowing its tensor data from the file buffer.
#[derive(Debug)]
pub struct Gguf<'a> {
    pub version: u32,
    pub metadata: Vec<(String, Value)>,
    pub tensors: Vec<TensorInfo>,
    data: &'a [u8],
}

fn read_string(r: &mut Reader<'_>, what: &str) -> Result<String> {
    let len = r.u64(what)?;
    if len > 1 << 24 {
        return Err(Error::corrupt(r.path(), format!("{what} has absurd length {len}")));
    }
    let bytes = r.take(len as usize, what)?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn read_value(r: &mut Reader<'_>, code: u32, depth: u8) -> Result<Value> {
    Ok(match code {
        0 => Value::U8(r.u8("u8 value")?),
        1 => Value::I8(r.u8("i8 value")? as i8),
        2 => Value::U16(r.u16("u16 value")?),
        3 => Value::I16(r.u16("i16 value")? as i16),
        4 => Value::U32(r.u32("u32 value")?),
        5 => Value::I32(r.i32("i32 value")?),
        6 => Value::F32(f32::from_bits(r.u32("f32 value")?)),
        7 => Value::Bool(r.u8("bool value")? != 0),
        8 => Value::Str(read_string(r, "string value")?),
        9 if depth == 0 => {
            let inner = r.u32("array type")?;
            let n = r.u64("array length")?;
            if n > r.remaining() as u64 {
                return Err(Error::truncated(r.path(), format!("array of {n} items does not fit in the file")));
            }
            let mut items = Vec::with_capacity(n as usize);
            for _ in 0..n {
                items.push(read_value(r, inner, depth + 1)?);
            }
            Value::Array(inner, items)
        }
        10 => Value::U64(r.u64("u64 value")?),
        11 => Value::I64(r.u64("i64 value")? as i64),
        12 => Value::F64(f64::from_bits(r.u64("f64 value")?)),
        other => return Err(Error::corrupt(r.path(), format!("unknown metadata type {other}"))),
    })
}

fn align(n: usize, a: usize) -> usize {
    n.div_ceil(a) * a
}

impl<'a> Gguf<'a> {
    /// Parses and checks the whole file: header, metadata, every tensor's type, size and
    /// position inside the file.
    pub fn parse(bytes: &'a [u8], path: &'a Path) -> Result<Self> {
        let mut r = Reader::new(bytes, path);
        let magic = r.take(4, "magic").map_err(|_| Error::WrongKind {
            path: path.into(),
            expected: "GGUF model",
            detail: "shorter than a header".into(),
        })?;
        if magic != MAGIC {
            return Err(Error::WrongKind { path: path.into(), expected: "GGUF model", detail: format!("magic is {magic:02x?}") });
        }
        let version = r.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(Error::corrupt(path, format!("GGUF version {version} is not supported (2 or 3)")));
        }
        let n_tensors = r.u64("tensor count")?;
        let n_kv = r.u64("metadata count")?;
        if n_tensors > 100_000 || n_kv > 100_000 {
            return Err(Error::corrupt(path, format!("absurd counts: {n_tensors} tensors, {n_kv} metadata entries")));
        }
        let mut metadata = Vec::with_capacity(n_kv as usize);
        for _ in 0..n_kv {
            let key = read_string(&mut r, "metadata key")?;
            let code = r.u32("metadata type")?;
            let value = read_value(&mut r, code, 0)?;
            metadata.push((key, value));
        }
        let mut tensors = Vec::with_capacity(n_tensors as usize);
        for _ in 0..n_tensors {
            let name = read_string(&mut r, "tensor name")?;
            let n_dims = r.u32("tensor rank")?;
            if !(1..=4).contains(&n_dims) {
                return Err(Error::tensor(path, &name, format!("rank {n_dims}")));
            }
            let mut dims = Vec::new();
            for _ in 0..n_dims {
                dims.push(r.u64("tensor dimension")?);
            }
            let ttype = r.u32("tensor type")?;
            let offset = r.u64("tensor offset")?;
            tensors.push(TensorInfo { name, dims, ttype, offset });
        }
        let alignment = metadata
            .iter()
            .find(|(k, _)| k == "general.alignment")
            .and_then(|(_, v)| v.as_u64())
            .map_or(DEFAULT_ALIGNMENT, |a| a as usize);
        let data_start = align(r.pos(), alignment.max(1));
        let data = bytes.get(data_start..).unwrap_or(&[]);
        let gguf = Gguf { version, metadata, tensors, data };
        for t in &gguf.tensors {
            gguf.tensor_data(t, path)?;
        }
        Ok(gguf)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The bytes of tensor `t`, checked against its type and shape.
    pub fn tensor_data(&self, t: &TensorInfo, path: &Path) -> Result<&'a [u8]> {
        let (per, bytes) = type_block(t.ttype).ok_or_else(|| Error::tensor(path, &t.name, format!("unknown type {}", t.ttype)))?;
        let n = t.elements().ok_or_else(|| Error::tensor(path, &t.name, format!("dimensions {:?} multiply past 2^64", t.dims)))?;
        if n == 0 || n % per as u64 != 0 {
            return Err(Error::tensor(path, &t.name, format!("{n} elements do not fill whole blocks of {per}")));
        }
        let size = (n / per as u64).checked_mul(bytes as u64).ok_or_else(|| Error::tensor(path, &t.name, "size overflows"))?;
        let start = t.offset as usize;
        let end = t.offset.checked_add(size).ok_or_else(|| Error::tensor(path, &t.name, "offset overflows"))? as usize;
        self.data.get(start..end).ok_or_else(|| {
            Error::truncated(path, format!("tensor '{}' needs bytes {start}..{end} of the data section, which holds {}", t.name, self.data.len()))
        })
    }
}

fn write_string(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    w.write_all(&(s.len() as u64).to_le_bytes())?;
    w.write_all(s.as_bytes())
}

fn write_value(w: &mut impl Write, v: &Value) -> std::io::Result<()> {
    match v {
        Value::U8(x) => w.write_all(&[*x]),
        Value::I8(x) => w.write_all(&x.to_le_bytes()),
        Value::U16(x) => w.write_all(&x.to_le_bytes()),
        Value::I16(x) => w.write_all(&x.to_le_bytes()),
        Value::U32(x) => w.write_all(&x.to_le_bytes()),
        Value::I32(x) => w.write_all(&x.to_le_bytes()),
        Value::F32(x) => w.write_all(&x.to_le_bytes()),
        Value::Bool(x) => w.write_all(&[u8::from(*x)]),
        Value::Str(s) => write_string(w, s),
        Value::Array(code, items) => {
            w.write_all(&code.to_le_bytes())?;
            w.write_all(&(items.len() as u64).to_le_bytes())?;
            items.iter().try_for_each(|i| write_value(w, i))
        }
        Value::U64(x) => w.write_all(&x.to_le_bytes()),
        Value::I64(x) => w.write_all(&x.to_le_bytes()),
        Value::F64(x) => w.write_all(&x.to_le_bytes()),
    }
}

/// The target of [`requantize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requant {
    Q8_0,
    Q4_0,
}

#[derive(Debug, Clone)]
pub struct Requantized {
    pub output: PathBuf,
    pub tensors_changed: usize,
    pub bytes: u64,
    pub seconds: f64,
}

/// Rewrites `input` with every Q4_1 tensor converted to `target`; other tensors and all
/// metadata are copied unchanged (except `general.file_type`). Written atomically.
pub fn requantize(input: &Path, output: &Path, target: Requant) -> Result<Requantized> {
    let start = Instant::now();
    let bytes = std::fs::read(input).map_err(|e| Error::io(input, e))?;
    let g = Gguf::parse(&bytes, input)?;
    let (ttype, file_type) = match target {
        Requant::Q8_0 => (TYPE_Q8_0, 7u32),
        Requant::Q4_0 => (TYPE_Q4_0, 2u32),
    };
    let mut changed = 0;
    let mut blobs = Vec::with_capacity(g.tensors.len());
    let mut infos = Vec::with_capacity(g.tensors.len());
    let mut offset = 0usize;
    for t in &g.tensors {
        let data = g.tensor_data(t, input)?;
        let (new_type, blob) = if t.ttype == TYPE_Q4_1 {
            changed += 1;
            let values = quant::dequantize_q4_1(data);
            let q = match target {
                Requant::Q8_0 => quant::quantize_q8_0(&values),
                Requant::Q4_0 => quant::quantize_q4_0(&values),
            };
            (ttype, std::borrow::Cow::Owned(q))
        } else {
            (t.ttype, std::borrow::Cow::Borrowed(data))
        };
        infos.push(TensorInfo { ttype: new_type, offset: offset as u64, ..t.clone() });
        offset = align(offset + blob.len(), DEFAULT_ALIGNMENT);
        blobs.push(blob);
    }
    let file = AtomicFile::create(output)?;
    let io = |e| Error::io(output, e);
    {
        let mut w = BufWriter::new(file.handle());
        let mut header = Vec::new();
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&3u32.to_le_bytes());
        header.extend_from_slice(&(infos.len() as u64).to_le_bytes());
        header.extend_from_slice(&(g.metadata.len() as u64).to_le_bytes());
        for (k, v) in &g.metadata {
            let v = if k == "general.file_type" { Value::U32(file_type) } else { v.clone() };
            if k == "general.alignment" && v.as_u64() != Some(DEFAULT_ALIGNMENT as u64) {
                return Err(Error::corrupt(input, "only the default 32-byte alignment is supported"));
            }
            write_string(&mut header, k).map_err(io)?;
            header.extend_from_slice(&v.type_code().to_le_bytes());
            write_value(&mut header, &v).map_err(io)?;
        }
        for t in &infos {
            write_string(&mut header, &t.name).map_err(io)?;
            header.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            t.dims.iter().for_each(|d| header.extend_from_slice(&d.to_le_bytes()));
            header.extend_from_slice(&t.ttype.to_le_bytes());
            header.extend_from_slice(&t.offset.to_le_bytes());
        }
        header.resize(align(header.len(), DEFAULT_ALIGNMENT), 0);
        w.write_all(&header).map_err(io)?;
        for blob in &blobs {
            w.write_all(blob).map_err(io)?;
            let pad = align(blob.len(), DEFAULT_ALIGNMENT) - blob.len();
            w.write_all(&vec![0u8; pad]).map_err(io)?;
        }
        w.flush().map_err(io)?;
    }
    let bytes = file.commit()?;
    Ok(Requantized { output: output.to_path_buf(), tensors_changed: changed, bytes, seconds: start.elapsed().as_secs_f64() })
}

/// Checks that `path` is a complete GGUF file of a llama-family chat model with a tokenizer.
pub fn validate_llm(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let g = Gguf::parse(&bytes, path)?;
    let arch = g.get("general.architecture").and_then(Value::as_str).unwrap_or("");
    if arch != "llama" {
        return Err(Error::WrongKind { path: path.into(), expected: "llama-family GGUF", detail: format!("architecture is '{arch}'") });
    }
    for key in ["tokenizer.ggml.tokens", "tokenizer.ggml.merges", "llama.block_count", "llama.embedding_length"] {
        if g.get(key).is_none() {
            return Err(Error::corrupt(path, format!("metadata '{key}' is missing")));
        }
    }
    if !g.tensors.iter().any(|t| t.name == "token_embd.weight") {
        return Err(Error::corrupt(path, "tensor 'token_embd.weight' is missing"));
    }
    Ok(())
}
