//! The real SmolLM2 model (installed in `models/` by `make test`).

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use scrivo_llm::qgemm::{self, Kernel};
use scrivo_llm::{argmax_rows, Cache, Model};

fn model_path() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/smollm2-135m-instruct-q8_0.gguf");
    if !p.is_file() {
        eprintln!("SKIP: {} not installed (`make test` installs it)", p.display());
        return None;
    }
    Some(p)
}

/// The model, where this CPU runs the packed kernel.
fn packed_model_path() -> Option<PathBuf> {
    if !qgemm::available() {
        eprintln!("SKIP: this CPU has no AVX-512 VNNI (or SCRIVO_QGEMM=off): only candle's kernel runs, nothing is packed");
        return None;
    }
    model_path()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b).expect("same shape").abs().expect("abs").max_all().expect("max").to_scalar::<f32>().expect("scalar")
}

#[test]
fn tokenizer_matches_the_chat_template() {
    let Some(path) = model_path() else { return };
    let (_, tok) = Model::load(&path).expect("load");
    assert_eq!(tok.special("<|im_start|>"), Some(1));
    assert_eq!(tok.special("<|im_end|>"), Some(2));
    assert_eq!(tok.special("<|endoftext|>"), Some(0));
    let ids = tok.encode("<|im_start|>user\nHello<|im_end|>\n").expect("encode");
    assert_eq!(ids[0], 1);
    assert_eq!(ids[ids.len() - 2], 2);
    // No prefix space: "Hello" at the start is the token "Hello", not "ĠHello".
    let hello = tok.encode("Hello").expect("encode");
    assert_eq!(hello.len(), 1);
    assert_eq!(tok.token(hello[0]).as_deref(), Some("Hello"));
    // Digits one by one.
    assert_eq!(tok.encode("2024").expect("encode").len(), 4);
    let text = "Move it to Wednesday, no, Thursday at 9:45 — Anja's café.";
    assert_eq!(tok.decode(&tok.encode(text).expect("encode")).expect("decode"), text);
}

#[test]
fn every_position_logits_agree_with_candles_llama() {
    let Some(path) = model_path() else { return };
    // candle's kernel: the same arithmetic bit for bit (see the next test for the packed one).
    let (model, tok) = Model::load_with(&path, None, Kernel::Candle).expect("load");
    let ids = tok.encode("<|im_start|>user\nThe quick brown fox jumps over the lazy dog.<|im_end|>\n").expect("encode");
    let mut cache = model.new_cache();
    let ours = model.forward(&ids, &mut cache).expect("forward");
    assert_eq!(ours.dims(), &[ids.len(), model.config().vocab]);

    let mut file = std::fs::File::open(&path).expect("open");
    let content = candle_core::quantized::gguf_file::Content::read(&mut file).expect("gguf");
    let mut reference = candle_transformers::models::quantized_llama::ModelWeights::from_gguf(content, &mut file, &Device::Cpu).expect("reference");
    let input = Tensor::new(ids.as_slice(), &Device::Cpu).expect("ids").unsqueeze(0).expect("batch");
    let theirs = reference.forward(&input, 0).expect("forward").squeeze(0).expect("squeeze");
    let last = ours.get(ids.len() - 1).expect("last row");
    let diff = max_abs_diff(&last, &theirs);
    assert!(diff < 0.05, "last-position logits differ by {diff}");
    assert_eq!(argmax_rows(&last.unsqueeze(0).expect("row")).expect("argmax"), argmax_rows(&theirs.unsqueeze(0).expect("row")).expect("argmax"));
}

/// The packed kernel adds the same products in another order (about 1e-7 relative per
/// map), and the model's quantized inputs turn such differences into whole quantization
/// steps: scaling candle's query projection alone by 1 + 1e-7 moved this text's last logits
/// by 1.5. So the two kernels are compared as a reader of the logits would: the same most
/// likely token almost everywhere and nearly the same distribution.
#[test]
fn the_packed_kernel_predicts_as_candles_does() {
    let Some(path) = packed_model_path() else { return };
    let text = "<|im_start|>system\nYou clean up dictated text.<|im_end|>\n<|im_start|>user\nso um we we ship it on Tuesday, no, Wednesday, and then we tell the customers<|im_end|>\n";
    let mut logits = Vec::new();
    for kernel in [Kernel::Candle, Kernel::Packed] {
        let (model, tok) = Model::load_with(&path, None, kernel).expect("load");
        let ids = tok.encode(text).expect("encode");
        logits.push(candle_nn::ops::softmax_last_dim(&model.forward(&ids, &mut model.new_cache()).expect("forward")).expect("softmax"));
    }
    let (a, b) = (&logits[0], &logits[1]);
    let (top_a, top_b) = (argmax_rows(a).expect("argmax"), argmax_rows(b).expect("argmax"));
    let same = top_a.iter().zip(&top_b).filter(|(x, y)| x == y).count();
    let prob_gap = max_abs_diff(a, b);
    eprintln!("packed vs candle: top token the same at {same} of {} positions, largest probability difference {prob_gap}", top_a.len());
    assert!(same * 10 >= top_a.len() * 9, "top token the same at only {same} of {} positions", top_a.len());
    assert!(prob_gap < 0.1, "a probability differs by {prob_gap}");
}

/// Every position's logits of a fixed text, from the model at `path` on the packed kernel.
fn packed_logits(path: &Path) -> Tensor {
    let (model, tok) = Model::load_with(path, None, Kernel::Packed).expect("load");
    let ids = tok.encode("<|im_start|>user\nso um we ship it on Tuesday, no, Wednesday<|im_end|>\n").expect("encode");
    model.forward(&ids, &mut model.new_cache()).expect("forward")
}

#[cfg(unix)]
#[test]
fn the_packed_maps_are_written_once_then_mapped_and_remade_when_damaged() {
    let Some(path) = packed_model_path() else { return };
    let link = |dir: &Path| {
        let model = dir.join("model.gguf");
        std::os::unix::fs::symlink(&path, &model).expect("symlink");
        model
    };

    // Where the file cannot be made (a folder in its way), the model is packed in memory, and
    // this process does not try to make it there again.
    let blocked_dir = tempfile::tempdir().expect("temp dir");
    let blocked = link(blocked_dir.path());
    let in_the_way = scrivo_llm::packed_file::packed_path(&blocked);
    std::fs::create_dir(&in_the_way).expect("folder");
    let in_memory = packed_logits(&blocked);
    std::fs::remove_dir(&in_the_way).expect("remove folder");
    assert_eq!(max_abs_diff(&in_memory, &packed_logits(&blocked)), 0.0);
    assert!(!in_the_way.exists(), "made again by the process that failed to make it");

    let dir = tempfile::tempdir().expect("temp dir");
    let model = link(dir.path());
    let packed = scrivo_llm::packed_file::packed_path(&model);
    assert_eq!(packed, dir.path().join("model.gguf.q8tiles"));

    let made = packed_logits(&model);
    let written = std::fs::metadata(&packed).expect("packed file written");
    let mapped = packed_logits(&model);
    let after = std::fs::metadata(&packed).expect("packed file");
    assert_eq!(after.modified().expect("mtime"), written.modified().expect("mtime"), "a valid packed file was written again");
    assert_eq!(max_abs_diff(&in_memory, &made), 0.0);
    assert_eq!(max_abs_diff(&in_memory, &mapped), 0.0);

    // Cut short: made again, whole.
    std::fs::OpenOptions::new().write(true).open(&packed).expect("open").set_len(written.len() / 2).expect("truncate");
    assert_eq!(max_abs_diff(&in_memory, &packed_logits(&model)), 0.0);
    assert_eq!(std::fs::metadata(&packed).expect("remade").len(), written.len());

    // Not a packed file at all: made again, and what a killed load left half-written goes.
    std::fs::write(&packed, b"not tiles").expect("overwrite");
    let abandoned = dir.path().join(".model.gguf.q8tiles.999999999.tmp");
    std::fs::write(&abandoned, b"half").expect("abandoned temporary");
    assert_eq!(max_abs_diff(&in_memory, &packed_logits(&model)), 0.0);
    assert_eq!(std::fs::metadata(&packed).expect("remade").len(), written.len());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("list").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 2, "temporary files left: {leftovers:?}");
    assert!(!abandoned.exists());

    // A model newer than its packed file (a copy here, touched): the file is made again.
    let copied_dir = tempfile::tempdir().expect("temp dir");
    let copied = copied_dir.path().join("model.gguf");
    std::fs::copy(&path, &copied).expect("copy the model");
    assert_eq!(max_abs_diff(&in_memory, &packed_logits(&copied)), 0.0);
    let copied_packed = scrivo_llm::packed_file::packed_path(&copied);
    let first = std::fs::metadata(&copied_packed).expect("made").modified().expect("mtime");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options().write(true).open(&copied).expect("open").set_modified(later).expect("touch");
    assert_eq!(max_abs_diff(&in_memory, &packed_logits(&copied)), 0.0);
    assert_ne!(std::fs::metadata(&copied_packed).expect("remade").modified().expect("mtime"), first, "a stale packed file was used");
}

#[test]
fn the_last_position_alone_gives_the_same_logits() {
    let Some(path) = model_path() else { return };
    let (model, tok) = Model::load(&path).expect("load");
    let ids = tok.encode("<|endoftext|>The meeting moved to Wednesday because the").expect("encode");
    let all = model.forward(&ids, &mut model.new_cache()).expect("forward");
    let last = model.forward_last(&ids, &mut model.new_cache()).expect("forward_last");
    assert_eq!(last.dims(), &[model.config().vocab]);
    assert_eq!(max_abs_diff(&all.get(ids.len() - 1).expect("row"), &last), 0.0);
    assert!(model.forward_last(&[], &mut model.new_cache()).is_err());
}

#[test]
fn a_cached_prefix_gives_the_same_logits_as_one_pass() {
    let Some(path) = model_path() else { return };
    let (model, tok) = Model::load(&path).expect("load");
    let ids = tok.encode("<|im_start|>system\nYou clean up dictated text.<|im_end|>\n<|im_start|>user\nso um we we ship it today<|im_end|>\n").expect("encode");
    let whole = model.forward(&ids, &mut model.new_cache()).expect("whole");
    let split = ids.len() / 2;
    let mut cache = model.new_cache();
    model.forward(&ids[..split], &mut cache).expect("prefix");
    let prefix_cache = cache.clone();
    let rest = model.forward(&ids[split..], &mut cache).expect("rest");
    let tail = whole.narrow(0, split, ids.len() - split).expect("rows");
    let diff = max_abs_diff(&tail, &rest);
    let (a, b) = (argmax_rows(&tail).expect("argmax"), argmax_rows(&rest).expect("argmax"));
    eprintln!("cached vs one pass: max logit difference {diff}, argmax {a:?} vs {b:?}");
    assert_eq!(a, b, "greedy choices differ");
    assert!(diff < 2.0, "cached run differs by {diff}");
    // The cloned prefix cache, and a truncated cache, are reusable.
    let mut again = prefix_cache.clone();
    let rest_again = model.forward(&ids[split..], &mut again).expect("again");
    assert!(max_abs_diff(&rest, &rest_again) < 1e-4);
    cache.truncate(split).expect("truncate");
    assert_eq!(cache.len(), split);
    let rest_truncated = model.forward(&ids[split..], &mut cache).expect("after truncate");
    assert!(max_abs_diff(&rest, &rest_truncated) < 1e-4);
}

#[test]
fn greedy_answer_is_sensible() {
    let Some(path) = model_path() else { return };
    let (model, tok) = Model::load(&path).expect("load");
    let prompt = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n";
    let mut cache = model.new_cache();
    let mut logits = model.forward(&tok.encode(prompt).expect("encode"), &mut cache).expect("prompt");
    let mut out = Vec::new();
    for _ in 0..16 {
        let last = logits.get(logits.dims()[0] - 1).expect("row").unsqueeze(0).expect("row");
        let next = argmax_rows(&last).expect("argmax")[0];
        if Some(next) == tok.special("<|im_end|>") {
            break;
        }
        out.push(next);
        logits = model.forward(&[next], &mut cache).expect("step");
    }
    let answer = tok.decode(&out).expect("decode");
    assert!(answer.contains("Paris"), "{answer}");
}

#[test]
fn a_prefix_from_the_base_run_equals_one_run_with_the_adapter() {
    let Some(path) = model_path() else { return };
    let (model, tok) = Model::load_blocks(&path, Some(18)).expect("load");
    let head = scrivo_llm::TaggerHead::shipped().expect("shipped head");
    let adapter = head.adapter.as_deref().expect("the clean style has adapters");
    let prefix = tok.encode(scrivo_llm::tagger::PREFIX).expect("encode");
    let text = tok.encode("so um we we ship it today").expect("encode");
    let blocks = [head.block];
    let after = |cache: &Cache, adapter| model.hidden_states_adapted(&text, &mut cache.clone(), &blocks, adapter).expect("after the prefix").remove(0);
    let (mut adapted, mut plain) = (model.new_cache(), model.new_cache());
    model.hidden_states_adapted(&prefix, &mut adapted, &blocks, Some(adapter)).expect("adapted prefix");
    model.hidden_states(&prefix, &mut plain, &blocks).expect("plain prefix");

    // The base run goes only as deep as the adapted prefix needs (below the adapter)...
    let mut base = model.base_run(&prefix, 0).expect("base run");
    let from_base = model.prefix_after(&mut base, head.block, Some(adapter)).expect("adapted from the base");
    assert_eq!(base.depth(), adapter.first - 1);
    assert_eq!(from_base.len(), prefix.len());
    let diff = max_abs_diff(&after(&adapted, Some(adapter)), &after(&from_base, Some(adapter)));
    assert!(diff < 1e-4, "adapted prefix differs by {diff}");
    // ...and deeper when a head without adapters needs it.
    let plain_from_base = model.prefix_after(&mut base, head.block, None).expect("plain from the base");
    assert_eq!(base.depth(), head.block);
    let diff = max_abs_diff(&after(&plain, None), &after(&plain_from_base, None));
    assert!(diff < 1e-4, "plain prefix differs by {diff}");
}

