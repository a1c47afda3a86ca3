//! `scrivo eval swap`: switching polishing styles at run time on one loaded model: how long a
//! swap takes and what each style makes of the same sentences.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use scrivo_eval::Table;
use scrivo_models::store::ModelStore;
use scrivo_polish::{Polisher, RulePolisher, Style, VerbatimPolisher};

use crate::eval_cmd::percentile;

#[derive(Args)]
pub struct SwapArgs {
    /// TSV with a `disfluent` column: the sentences polished after each swap.
    #[arg(long)]
    pub pairs: PathBuf,
    /// Sentences polished after each swap.
    #[arg(long, default_value_t = 3)]
    pub sentences: usize,
    /// Swaps through the styles, in order, this many times.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// The styles to swap between: `clean`, `verbatim`, `frozen` (the head of the frozen model,
    /// no adapter) or adapter files.
    #[arg(long, value_delimiter = ',', default_value = "clean,verbatim,frozen")]
    pub styles: Vec<String>,
}

fn head_for(name: &str) -> Result<Option<scrivo_llm::TaggerHead>> {
    if name == "frozen" {
        return Ok(Some(scrivo_llm::TaggerHead::frozen()?));
    }
    Ok(scrivo_llm::TaggerHead::for_style(&name.parse::<Style>().map_err(anyhow::Error::msg)?)?)
}

pub fn run(args: SwapArgs, store: &ModelStore) -> Result<i32> {
    let table = Table::read(&args.pairs)?;
    table.require("disfluent")?;
    let sentences: Vec<String> = table.rows().filter_map(|r| r.get("disfluent").ok().map(str::to_owned)).filter(|d| !d.contains("#VALUE!")).take(args.sentences.max(1)).collect();
    if sentences.is_empty() || args.styles.len() < 2 {
        bail!("need at least one sentence and two styles");
    }
    let model_path = crate::asr_setup::polishing_model_path(store)?;
    let heads: Vec<Option<scrivo_llm::TaggerHead>> = args.styles.iter().map(|s| head_for(s)).collect::<Result<_>>()?;
    let deepest = heads.iter().flatten().map(|h| h.block).max();
    let started = Instant::now();
    let (model, tokenizer) = scrivo_llm::Model::load_blocks(&model_path, deepest)?;
    let (model, tokenizer) = (Arc::new(model), Arc::new(tokenizer));
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let Some(first) = heads.iter().flatten().next().cloned() else { bail!("at least one style must use the model") };
    let mut tagger = scrivo_llm::TaggerPolisher::new(Arc::clone(&model), Arc::clone(&tokenizer), first, RulePolisher::english())?;
    let mut outputs: Vec<Vec<String>> = vec![Vec::new(); args.styles.len()];
    // The first swap to a style runs its prompt prefix; later ones reuse it.
    let (mut first_swaps, mut swaps) = (Vec::new(), Vec::new());
    let mut latency: Vec<Vec<f64>> = vec![Vec::new(); args.styles.len()];
    for round in 0..args.rounds.max(1) {
        for (k, name) in args.styles.iter().enumerate() {
            // A swap as the app does it: the style's adapter read from its file (or the
            // binary), then the prompt prefix run with it. The base model stays loaded.
            let t = Instant::now();
            let head = head_for(name)?;
            let verbatim = head.is_none();
            if let Some(head) = head {
                tagger.set_head(head, None)?;
            }
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if round == 0 { first_swaps.push(ms) } else { swaps.push(ms) }
            for s in &sentences {
                let t = Instant::now();
                let text = if verbatim { VerbatimPolisher.polish(s)?.text } else { tagger.polish(s)?.text };
                latency[k].push(t.elapsed().as_secs_f64() * 1000.0);
                if round == 0 {
                    outputs[k].push(text);
                }
            }
        }
    }
    swaps.sort_by(f64::total_cmp);
    println!("base model loaded once in {load_ms:.0} ms ({} blocks); {} swaps", model.loaded_blocks(), first_swaps.len() + swaps.len());
    // The polisher was built with the first style using the model, so that style's prefix was run before the clock.
    let built_with = heads.iter().position(Option::is_some);
    let firsts: Vec<String> = args.styles.iter().zip(&first_swaps).enumerate().map(|(k, (n, ms))| if Some(k) == built_with { format!("{n} {ms:.1} (built with it)") } else { format!("{n} {ms:.1}") }).collect();
    println!("first swap to each style ms (the prompt prefix run): {}", firsts.join(", "));
    println!("later swaps ms: p50 {:.1}, p95 {:.1}, max {:.1}", percentile(&swaps, 50.0), percentile(&swaps, 95.0), swaps.last().copied().unwrap_or(0.0));
    for (k, name) in args.styles.iter().enumerate() {
        latency[k].sort_by(f64::total_cmp);
        println!("{name}: polishing p50 {:.1} ms", percentile(&latency[k], 50.0));
        for (s, out) in sentences.iter().zip(&outputs[k]) {
            println!("  {s}\n  -> {out}");
        }
    }
    Ok(0)
}
