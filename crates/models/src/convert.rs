//! Converts a CTranslate2 whisper model directory (`model.bin`, `vocabulary.txt`) into a
//! whisper.cpp ggml file, f16 or q8_0. Every tensor is copied value for value (f16 stays
//! bit-identical; 1-D tensors, biases and positional embeddings become f32 as whisper.cpp wants).

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::atomic::AtomicFile;
use crate::ct2::{Ct2Model, DType, Variable};
use crate::error::{Error, Result};
use crate::ggml::{self, GgmlWriter, Hparams, TensorSpec, TensorType, N_REGULAR_TOKENS};
use crate::{mel, quant, vocab};

/// Which ggml type the large weight matrices get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightType {
    F16,
    Q8_0,
}

impl WeightType {
    fn tensor_type(self) -> TensorType {
        match self {
            WeightType::F16 => TensorType::F16,
            WeightType::Q8_0 => TensorType::Q8_0,
        }
    }
}

/// What a conversion produced.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub output: PathBuf,
    pub hparams: Hparams,
    pub tensors: usize,
    pub bytes: u64,
    pub seconds: f64,
}

/// Where a ggml tensor's values come from: a CT2 variable, optionally one of `parts` equal
/// slices along its first axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub part: usize,
    pub parts: usize,
}

fn whole(name: String) -> Source {
    Source { name, part: 0, parts: 1 }
}

fn norm_param(p: &str) -> &str {
    match p {
        "weight" => "gamma",
        "bias" => "beta",
        other => other,
    }
}

/// The CT2 source of the ggml tensor `name` (the mapping documented in ARCHITECTURE.md).
pub fn source_of(name: &str) -> Option<Source> {
    let fixed = match name {
        "encoder.positional_embedding" => Some("encoder/position_encodings/encodings".to_string()),
        "decoder.positional_embedding" => Some("decoder/position_encodings/encodings".to_string()),
        "decoder.token_embedding.weight" => Some("decoder/embeddings/weight".to_string()),
        "encoder.conv1.weight" | "encoder.conv1.bias" | "encoder.conv2.weight" | "encoder.conv2.bias" => {
            Some(name.replace('.', "/"))
        }
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(whole(f));
    }
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        ["encoder", "ln_post", p] => Some(whole(format!("encoder/layer_norm/{}", norm_param(p)))),
        ["decoder", "ln", p] => Some(whole(format!("decoder/layer_norm/{}", norm_param(p)))),
        [side, "blocks", i, rest @ ..] => {
            let base = format!("{side}/layer_{i}");
            match rest {
                ["mlp_ln", p] => Some(whole(format!("{base}/ffn/layer_norm/{}", norm_param(p)))),
                ["mlp", "0", p] => Some(whole(format!("{base}/ffn/linear_0/{p}"))),
                ["mlp", "2", p] => Some(whole(format!("{base}/ffn/linear_1/{p}"))),
                ["attn_ln", p] => Some(whole(format!("{base}/self_attention/layer_norm/{}", norm_param(p)))),
                ["cross_attn_ln", p] => Some(whole(format!("{base}/attention/layer_norm/{}", norm_param(p)))),
                ["attn", proj, p] => {
                    let sa = format!("{base}/self_attention");
                    match *proj {
                        "query" => Some(Source { name: format!("{sa}/linear_0/{p}"), part: 0, parts: 3 }),
                        "key" => Some(Source { name: format!("{sa}/linear_0/{p}"), part: 1, parts: 3 }),
                        "value" => Some(Source { name: format!("{sa}/linear_0/{p}"), part: 2, parts: 3 }),
                        "out" => Some(whole(format!("{sa}/linear_1/{p}"))),
                        _ => None,
                    }
                }
                ["cross_attn", proj, p] => {
                    let ca = format!("{base}/attention");
                    match *proj {
                        "query" => Some(whole(format!("{ca}/linear_0/{p}"))),
                        "key" => Some(Source { name: format!("{ca}/linear_1/{p}"), part: 0, parts: 2 }),
                        "value" => Some(Source { name: format!("{ca}/linear_1/{p}"), part: 1, parts: 2 }),
                        "out" => Some(whole(format!("{ca}/linear_2/{p}"))),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The values of `var` (dequantised when it is int8 with a `_scale` beside it).
fn values(model: &Ct2Model<'_>, name: &str, var: &Variable<'_>, path: &Path) -> Result<Vec<f32>> {
    let mut v = var.to_f32();
    if var.dtype == DType::I8 {
        let scale = model
            .get(&format!("{name}_scale"))
            .ok_or_else(|| Error::tensor(path, name, "int8 weight without a scale"))?
            .to_f32();
        let rows = scale.len().max(1);
        let per_row = v.len() / rows;
        for (r, chunk) in v.chunks_mut(per_row.max(1)).enumerate() {
            let s = scale.get(r).copied().unwrap_or(1.0);
            chunk.iter_mut().for_each(|x| *x /= s);
        }
    }
    Ok(v)
}

/// The slice of `source` that feeds one ggml tensor, as f32 values.
pub fn source_values(model: &Ct2Model<'_>, source: &Source, path: &Path) -> Result<Vec<f32>> {
    let var = model.get(&source.name).ok_or_else(|| Error::tensor(path, &source.name, "missing from model.bin"))?;
    let all = values(model, &source.name, var, path)?;
    let rows = var.shape.first().copied().unwrap_or(1);
    if rows % source.parts != 0 {
        return Err(Error::tensor(path, &source.name, format!("first axis {rows} does not split into {}", source.parts)));
    }
    let per_part = all.len() / source.parts;
    Ok(all[source.part * per_part..(source.part + 1) * per_part].to_vec())
}

fn scalar(model: &Ct2Model<'_>, name: &str) -> Option<usize> {
    model.get(name).and_then(|v| v.to_f32().first().map(|x| *x as usize))
}

fn shape_of(model: &Ct2Model<'_>, name: &str, path: &Path) -> Result<Vec<usize>> {
    Ok(model.get(name).ok_or_else(|| Error::tensor(path, name, "missing from model.bin"))?.shape.clone())
}

/// Reads the model dimensions from the CT2 variables.
pub fn hparams_of(model: &Ct2Model<'_>, path: &Path) -> Result<Hparams> {
    let enc_pos = shape_of(model, "encoder/position_encodings/encodings", path)?;
    let dec_pos = shape_of(model, "decoder/position_encodings/encodings", path)?;
    let emb = shape_of(model, "decoder/embeddings/weight", path)?;
    let conv1 = shape_of(model, "encoder/conv1/weight", path)?;
    if enc_pos.len() != 2 || dec_pos.len() != 2 || emb.len() != 2 || conv1.len() != 3 {
        return Err(Error::corrupt(path, "unexpected ranks for positional encodings, embeddings or conv1"));
    }
    let (a, t) = (enc_pos[1], dec_pos[1]);
    Ok(Hparams {
        n_vocab: emb[0],
        n_audio_ctx: enc_pos[0],
        n_audio_state: a,
        n_audio_head: scalar(model, "encoder/num_heads").unwrap_or(a / 64),
        n_audio_layer: model.layer_count("encoder"),
        n_text_ctx: dec_pos[0],
        n_text_state: t,
        n_text_head: scalar(model, "decoder/num_heads").unwrap_or(t / 64),
        n_text_layer: model.layer_count("decoder"),
        n_mels: conv1[1],
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Finds `model.bin` in `dir`, joining `model.bin.part1`, `part2`, ... when the model was
/// shipped in pieces.
fn read_model_bin(dir: &Path) -> Result<(PathBuf, Vec<u8>)> {
    let whole = dir.join("model.bin");
    if whole.exists() {
        return Ok((whole.clone(), read(&whole)?));
    }
    let mut data = Vec::new();
    let mut i = 1;
    while dir.join(format!("model.bin.part{i}")).exists() {
        data.extend(read(&dir.join(format!("model.bin.part{i}")))?);
        i += 1;
    }
    if i == 1 {
        return Err(Error::io(whole, std::io::Error::new(std::io::ErrorKind::NotFound, "no model.bin (or model.bin.part1) here")));
    }
    Ok((whole, data))
}

fn encode(values: &[f32], ttype: TensorType) -> Vec<u8> {
    match ttype {
        TensorType::F32 => quant::f32_bytes(values),
        TensorType::Q8_0 => quant::quantize_q8_0(values),
        _ => quant::f16_bytes(values),
    }
}

/// Converts the CTranslate2 whisper model in `dir` into the ggml file `output` (written
/// atomically: on any error nothing is left at `output`).
pub fn convert_ct2_dir(dir: &Path, output: &Path, weights: WeightType) -> Result<Conversion> {
    let start = Instant::now();
    let (bin_path, data) = read_model_bin(dir)?;
    let model = Ct2Model::parse(&data, &bin_path)?;
    if model.spec_name != "WhisperSpec" {
        return Err(Error::WrongKind {
            path: bin_path.clone(),
            expected: "CTranslate2 whisper model",
            detail: format!("spec is '{}'", model.spec_name),
        });
    }
    let hp = hparams_of(&model, &bin_path)?;
    let vocab_path = dir.join("vocabulary.txt");
    let vocab_text = String::from_utf8(read(&vocab_path)?).map_err(|_| Error::corrupt(&vocab_path, "not UTF-8"))?;
    let tokens = vocab::decode_vocabulary(&vocab_text, N_REGULAR_TOKENS)
        .map_err(|line| Error::corrupt(&vocab_path, format!("line {} is not a byte-level BPE token (or the file is short)", line + 1)))?;

    let wtype = weights.tensor_type();
    let specs = ggml::expected_tensors(&hp, wtype);
    let file = AtomicFile::create(output)?;
    let mut w = GgmlWriter::new(BufWriter::new(file.handle()), &hp, wtype).map_err(|e| Error::io(output, e))?;
    w.mel_filters(hp.n_mels, &mel::mel_filters(hp.n_mels)).map_err(|e| Error::io(output, e))?;
    w.vocabulary(&tokens).map_err(|e| Error::io(output, e))?;
    for spec in &specs {
        let data = tensor_data(&model, spec, &bin_path)?;
        w.tensor(spec, &data).map_err(|e| Error::io(output, e))?;
    }
    w.finish().map_err(|e| Error::io(output, e))?;
    let bytes = file.commit()?;
    Ok(Conversion { output: output.to_path_buf(), hparams: hp, tensors: specs.len(), bytes, seconds: start.elapsed().as_secs_f64() })
}

fn tensor_data(model: &Ct2Model<'_>, spec: &TensorSpec, path: &Path) -> Result<Vec<u8>> {
    let source = source_of(&spec.name).ok_or_else(|| Error::tensor(path, &spec.name, "no CTranslate2 source known"))?;
    let vals = source_values(model, &source, path)?;
    let n: usize = spec.ne.iter().product();
    if vals.len() != n {
        return Err(Error::tensor(path, &spec.name, format!("{} values in {}, expected {n}", vals.len(), source.name)));
    }
    // whisper.cpp has no key bias: CTranslate2 stores zeros there. Refuse a model where it is not.
    if spec.name.ends_with(".value.bias") {
        let key_part = Source { part: source.part - 1, ..source.clone() };
        if source_values(model, &key_part, path)?.iter().any(|v| *v != 0.0) {
            return Err(Error::tensor(path, &source.name, "key bias is not zero; whisper.cpp cannot represent it"));
        }
    }
    if spec.ttype.bytes_for(n).is_none() || !spec.ne[0].is_multiple_of(spec.ttype.block().0) {
        return Err(Error::tensor(path, &spec.name, format!("rows of {} do not split into {:?} blocks", spec.ne[0], spec.ttype)));
    }
    Ok(encode(&vals, spec.ttype))
}
