//! The language model as a judge of biasing-list changes: how likely the words around a
//! sound-alike are with the term and with the recognised words
//! ([`scrivo_bias::ContextModel`]).
//!
//! The text is read as plain text after `<|endoftext|>` (no chat template): the model's
//! pre-training distribution, where "pull the lever" is likelier than "pull the lover". The
//! prefix runs once; each continuation runs on a clone of its key/value cache.

use std::sync::Arc;

use candle_core::D;

use crate::{LlmError, Model, TextTokenizer};

/// Log-probabilities of text continuations under the full model (every block loaded).
pub struct ContextScorer {
    model: Arc<Model>,
    tokenizer: Arc<TextTokenizer>,
    start: u32,
}

impl ContextScorer {
    /// A scorer over `model`, which must have all its blocks loaded.
    pub fn new(model: Arc<Model>, tokenizer: Arc<TextTokenizer>) -> Result<Self, LlmError> {
        if model.loaded_blocks() < model.config().layers {
            return Err(LlmError::Input(format!(
                "the context scorer needs all {} blocks of {}; {} are loaded",
                model.config().layers,
                model.path().display(),
                model.loaded_blocks()
            )));
        }
        let start = tokenizer.special("<|endoftext|>").unwrap_or(0);
        Ok(ContextScorer { model, tokenizer, start })
    }

    /// The summed natural-log probability of each of `continuations` after `prefix`.
    pub fn log_probs(&self, prefix: &str, continuations: &[String]) -> Result<Vec<f64>, LlmError> {
        let mut ids = vec![self.start];
        ids.extend(self.tokenizer.encode(prefix)?);
        let mut cache = self.model.new_cache();
        let logits = self.model.forward_last(&ids, &mut cache)?;
        let after_prefix = candle_nn::ops::log_softmax(&logits, D::Minus1)?.to_vec1::<f32>()?;
        let mut out = Vec::with_capacity(continuations.len());
        for text in continuations {
            let next = self.tokenizer.encode(text)?;
            let Some(&first) = next.first() else {
                out.push(0.0);
                continue;
            };
            let mut total = f64::from(after_prefix.get(first as usize).copied().unwrap_or(f32::NEG_INFINITY));
            if next.len() > 1 {
                let mut c = cache.clone();
                let logits = self.model.forward(&next[..next.len() - 1], &mut c)?;
                let rows = candle_nn::ops::log_softmax(&logits, D::Minus1)?.to_vec2::<f32>()?;
                for (row, &id) in rows.iter().zip(&next[1..]) {
                    total += f64::from(row.get(id as usize).copied().unwrap_or(f32::NEG_INFINITY));
                }
            }
            out.push(total);
        }
        Ok(out)
    }
}

impl scrivo_bias::ContextModel for ContextScorer {
    fn log_probs(&self, prefix: &str, continuations: &[String]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContextScorer::log_probs(self, prefix, continuations)?)
    }
}
