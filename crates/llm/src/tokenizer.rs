//! The model's tokenizer, built from the GGUF metadata (`tokenizer.ggml.*`): byte-level BPE,
//! digits split one by one, no prefix space, the control tokens as special tokens.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, Tokenizer};

use crate::LlmError;

/// GGUF `token_type` of control tokens (`<|im_start|>`, `<|endoftext|>`, ...).
const CONTROL: i32 = 3;

/// Text to token ids and back.
pub struct TextTokenizer {
    inner: Tokenizer,
    specials: HashMap<String, u32>,
}

fn strings(content: &Content, key: &str, path: &Path) -> Result<Vec<String>, LlmError> {
    let bad = |detail: String| LlmError::Format { path: path.to_path_buf(), detail };
    let values = content.metadata.get(key).ok_or_else(|| bad(format!("no `{key}` in the metadata")))?;
    values
        .to_vec()
        .map_err(|e| bad(format!("`{key}`: {e}")))?
        .iter()
        .map(|v| v.to_string().cloned().map_err(|e| bad(format!("`{key}`: {e}"))))
        .collect()
}

impl TextTokenizer {
    /// Builds the tokenizer from GGUF metadata. `path` only labels errors.
    pub fn from_gguf(content: &Content, path: &Path) -> Result<Self, LlmError> {
        let bad = |detail: String| LlmError::Format { path: path.to_path_buf(), detail };
        let tokens = strings(content, "tokenizer.ggml.tokens", path)?;
        let merges: Vec<(String, String)> = strings(content, "tokenizer.ggml.merges", path)?
            .into_iter()
            .map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(|| bad(format!("merge {m:?} is not two tokens"))))
            .collect::<Result<_, _>>()?;
        let types: Vec<i32> = match content.metadata.get("tokenizer.ggml.token_type") {
            Some(Value::Array(values)) => values.iter().map(|v| v.to_i32().unwrap_or(1)).collect(),
            _ => vec![1; tokens.len()],
        };
        let vocab: Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| bad(format!("BPE: {e}")))?;
        let mut inner = Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(Sequence::new(vec![Digits::new(true).into(), ByteLevel::new(false, true, true).into()])));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        let mut specials = HashMap::new();
        let mut added = Vec::new();
        for (i, (token, kind)) in tokens.iter().zip(&types).enumerate() {
            if *kind == CONTROL {
                specials.insert(token.clone(), i as u32);
                added.push(AddedToken::from(token.clone(), true));
            }
        }
        inner.add_special_tokens(added).map_err(|e| LlmError::Tokenizer(e.to_string()))?;
        Ok(TextTokenizer { inner, specials })
    }

    /// Token ids of `text`; control tokens written in it (`<|im_start|>`) are recognised.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LlmError> {
        let encoding = self.inner.encode(text, false).map_err(|e| LlmError::Tokenizer(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The text of `ids`, control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String, LlmError> {
        self.inner.decode(ids, true).map_err(|e| LlmError::Tokenizer(e.to_string()))
    }

    /// The id of a control token such as `<|im_end|>`.
    pub fn special(&self, token: &str) -> Option<u32> {
        self.specials.get(token).copied()
    }

    /// The token's text as stored (byte-level: a leading space is written 'Ġ').
    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
