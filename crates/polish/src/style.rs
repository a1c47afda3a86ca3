//! Polishing styles: how much of what was said the text keeps.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{render_kept, Polished, PolishError, Polisher};

/// What the polished text keeps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Style {
    /// Interjections, repetitions, false starts and self-corrections removed (the shipped head).
    #[default]
    Clean,
    /// Every word kept; only sentence casing is fixed.
    Verbatim,
    /// A clean style from another adapter file (written by `scrivo train lora`).
    Adapter(PathBuf),
}

impl Style {
    /// The names accepted besides a file path.
    pub const NAMES: [&'static str; 2] = ["clean", "verbatim"];
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Style::Clean => f.write_str("clean"),
            Style::Verbatim => f.write_str("verbatim"),
            Style::Adapter(p) => write!(f, "{}", p.display()),
        }
    }
}

impl FromStr for Style {
    type Err = String;

    /// `clean`, `verbatim`, or the path of an adapter file (`.safetensors`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "clean" => Ok(Style::Clean),
            "verbatim" => Ok(Style::Verbatim),
            p if p.ends_with(".safetensors") => Ok(Style::Adapter(PathBuf::from(p))),
            other => Err(format!("unknown style {other:?}: expected clean, verbatim or an adapter file (.safetensors)")),
        }
    }
}

/// The verbatim style: every word of the input in order, each sentence starting with a
/// capital. Nothing is removed, so nothing can be lost.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerbatimPolisher;

impl Polisher for VerbatimPolisher {
    fn polish(&mut self, raw: &str) -> Result<Polished, PolishError> {
        Ok(Polished { text: render_kept(raw, &[]), ..Polished::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_keeps_every_word() {
        let out = VerbatimPolisher.polish("um so I I think, uh, we ship. tuesday no wednesday").expect("polish");
        assert_eq!(out.text, "Um so I I think, uh, we ship. Tuesday no wednesday");
        assert!(out.edits.is_empty());
    }

    #[test]
    fn styles_parse_and_print() {
        assert_eq!("clean".parse::<Style>(), Ok(Style::Clean));
        assert_eq!(" verbatim".parse::<Style>(), Ok(Style::Verbatim));
        assert_eq!("my.safetensors".parse::<Style>(), Ok(Style::Adapter("my.safetensors".into())));
        let err = "loud".parse::<Style>().expect_err("unknown");
        assert!(err.contains("loud") && err.contains("verbatim"), "{err}");
        assert_eq!(Style::Verbatim.to_string(), "verbatim");
    }
}
