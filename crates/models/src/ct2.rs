//! Reader for CTranslate2 `model.bin` files (the format faster-whisper uses).
//!
//! Layout (binary version >= 4, little-endian): `u32 version`, `str spec_name`,
//! `u32 spec_revision`, `u32 n_variables`, then per variable `str name`, `u8 rank`,
//! `u32 dims[rank]`, `u8 dtype`, `u32 n_bytes`, raw data; then `u32 n_aliases` of
//! `str alias`, `str target`. A `str` is a `u16` length (counting a trailing NUL) and bytes.

use std::collections::BTreeMap;
use std::path::Path;

use crate::bytes::Reader;
use crate::error::{Error, Result};

/// Element type of a CTranslate2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_code(code: u8) -> Option<DType> {
        Some(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::BF16,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// One named tensor of the model, borrowing its bytes from the file buffer.
#[derive(Debug, Clone)]
pub struct Variable<'a> {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub data: &'a [u8],
}

impl Variable<'_> {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values widened to f32 (exact for f16, bf16 and the integer types).
    pub fn to_f32(&self) -> Vec<f32> {
        let d = self.data;
        match self.dtype {
            DType::F32 => d.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            DType::F16 => d.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            DType::BF16 => d.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            DType::I8 => d.iter().map(|&b| f32::from(b as i8)).collect(),
            DType::I16 => d.chunks_exact(2).map(|c| f32::from(i16::from_le_bytes([c[0], c[1]]))).collect(),
            DType::I32 => d.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32).collect(),
        }
    }
}

/// A parsed `model.bin`: its spec name and variables by name (aliases resolved).
#[derive(Debug)]
pub struct Ct2Model<'a> {
    pub version: u32,
    pub spec_name: String,
    pub variables: BTreeMap<String, Variable<'a>>,
    pub aliases: BTreeMap<String, String>,
}

fn read_str(r: &mut Reader<'_>, what: &str) -> Result<String> {
    let len = r.u16(what)? as usize;
    let bytes = r.take(len, what)?;
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::corrupt(r.path(), format!("{what} is not UTF-8")))
}

impl<'a> Ct2Model<'a> {
    /// Parses `data`, the full contents of the file at `path` (used in error messages).
    pub fn parse(data: &'a [u8], path: &'a Path) -> Result<Self> {
        let mut r = Reader::new(data, path);
        let version = r.u32("binary version")?;
        if !(1..=6).contains(&version) {
            return Err(Error::WrongKind {
                path: path.into(),
                expected: "CTranslate2 model.bin",
                detail: format!("binary version {version} is not 1..=6"),
            });
        }
        let spec_name = if version >= 2 { read_str(&mut r, "spec name")? } else { String::new() };
        let _spec_revision = if version >= 3 { r.u32("spec revision")? } else { 0 };
        let n_variables = r.u32("variable count")? as usize;
        if n_variables > 100_000 {
            return Err(Error::corrupt(path, format!("absurd variable count {n_variables}")));
        }
        let mut variables = BTreeMap::new();
        for _ in 0..n_variables {
            let name = read_str(&mut r, "variable name")?;
            let rank = r.u8("rank")? as usize;
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(r.u32("dimension")? as usize);
            }
            let (dtype, n_bytes) = if version >= 4 {
                let code = r.u8("dtype")?;
                let dtype = DType::from_code(code)
                    .ok_or_else(|| Error::tensor(path, &name, format!("unknown dtype code {code}")))?;
                (dtype, r.u32("byte count")? as usize)
            } else {
                let item = r.u8("item size")?;
                let count = r.u32("item count")? as usize;
                let dtype = match item {
                    4 => DType::F32,
                    2 => DType::I16,
                    1 => DType::I8,
                    _ => return Err(Error::tensor(path, &name, format!("unknown item size {item}"))),
                };
                (dtype, count * item as usize)
            };
            let expected = shape.iter().try_fold(dtype.size(), |n, &d| n.checked_mul(d));
            if expected != Some(n_bytes) {
                let expected = expected.map_or_else(|| "more than 2^64".to_string(), |e| e.to_string());
                return Err(Error::tensor(
                    path,
                    &name,
                    format!("shape {shape:?} of {dtype:?} needs {expected} bytes, header says {n_bytes}"),
                ));
            }
            let data = r.take(n_bytes, &format!("data of '{name}'"))?;
            variables.insert(name, Variable { shape, dtype, data });
        }
        let mut aliases = BTreeMap::new();
        if r.remaining() > 0 {
            let n_aliases = r.u32("alias count")? as usize;
            for _ in 0..n_aliases.min(100_000) {
                let alias = read_str(&mut r, "alias")?;
                let target = read_str(&mut r, "alias target")?;
                aliases.insert(alias, target);
            }
        }
        Ok(Ct2Model { version, spec_name, variables, aliases })
    }

    /// The variable called `name`, following an alias if there is one.
    pub fn get(&self, name: &str) -> Option<&Variable<'a>> {
        self.variables.get(name).or_else(|| self.aliases.get(name).and_then(|t| self.variables.get(t)))
    }

    /// Number of `layer_<digits>` blocks under `prefix` (e.g. "encoder").
    pub fn layer_count(&self, prefix: &str) -> usize {
        let start = format!("{prefix}/layer_");
        let mut max = None;
        for name in self.variables.keys() {
            if let Some(rest) = name.strip_prefix(&start) {
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                if !digits.is_empty() && rest[digits.len()..].starts_with('/') {
                    if let Ok(i) = digits.parse::<usize>() {
                        max = Some(max.map_or(i, |m: usize| m.max(i)));
                    }
                }
            }
        }
        max.map_or(0, |m| m + 1)
    }
}
