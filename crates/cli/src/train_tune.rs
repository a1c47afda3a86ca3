//! `scrivo train tune`: chooses a trained head's settings on k folds of its held-out training
//! pairs (see `scrivo_llm::tune`), never on a test set.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use scrivo_llm::tagger::{rule_bits, Decision, FeatureExtractor, FixedRules, TaggerHead};
use scrivo_llm::tune::{self, Judged, Tally};
use scrivo_models::store::ModelStore;
use scrivo_polish::{Polisher, RulePolisher};

use crate::train_cmd::{decision_cells, read_sourced_pairs, DECISION_HEADER};

#[derive(Args)]
pub struct TuneArgs {
    /// The trained head (with its adapters), as written by `scrivo train lora`.
    #[arg(long)]
    pub head: PathBuf,
    /// The training data, in the order given to `scrivo train lora`.
    #[arg(long = "data", required = true)]
    pub data: Vec<PathBuf>,
    /// Every this-many-th pair was held out of training (as in `scrivo train lora`).
    #[arg(long, default_value_t = 10)]
    pub holdout: usize,
    /// The held-out pairs are split into this many folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// The content words that may be lost on text the settings were not chosen on (the 90%
    /// upper bound of the out-of-fold loss of every source must stay within it).
    #[arg(long, default_value_t = 0.008)]
    pub content_target: f64,
    /// The head's logits for the held-out pairs: read from here when the file exists,
    /// written here otherwise (tuning again then needs no model).
    #[arg(long)]
    pub logits: Option<PathBuf>,
    /// Where the head with the chosen settings goes.
    #[arg(long)]
    pub out: PathBuf,
    /// Also print every held-out pair whose output this fixed rule (its name, as printed)
    /// changes under the chosen settings: the input, the fluent side, without and with it.
    #[arg(long, value_name = "RULE")]
    pub show_rule: Option<String>,
}

/// The budgets (share of content words) tried.
const BUDGETS: [f64; 9] = [0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.010];

pub fn run(args: TuneArgs, store: &ModelStore) -> Result<i32> {
    let started = Instant::now();
    let shown_rule = args.show_rule.as_deref().map(rule_named).transpose()?;
    let head = TaggerHead::load(&args.head)?;
    let names: Vec<String> = args.data.iter().map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()).collect();
    let holdout = args.holdout.max(2);
    let held: Vec<(usize, String, String)> = read_sourced_pairs(&args.data, None)?.into_iter().enumerate().filter(|(k, _)| k % holdout == 0).map(|(_, p)| p).collect();
    let logits = match args.logits.as_deref().filter(|p| p.is_file()) {
        Some(path) => read_logits(path, held.len())?,
        None => {
            let logits = judge(&head, &held, store)?;
            if let Some(path) = &args.logits {
                write_logits(path, &logits)?;
            }
            logits
        }
    };
    let mut rules = RulePolisher::english();
    let pairs: Vec<Judged> = held.iter().zip(logits).map(|((source, d, f), l)| Judged::new(*source, d, f, l, &mut rules)).collect::<Result<_, _>>()?;
    let sources = names.len();
    let folds = args.folds.max(2);
    println!("{} held-out pairs (every {holdout}th of the training data), {folds} folds", pairs.len());

    // Calibration.
    let all: Vec<&Judged> = pairs.iter().collect();
    let fitted = tune::fit_temperature(&all);
    let (mut before, mut after) = (0.0, 0.0);
    for f in 0..folds {
        let in_fold = |want: bool| pairs.iter().enumerate().filter(|(i, _)| (i % folds == f) == want).map(|(_, j)| j).collect::<Vec<&Judged>>();
        let (left, rest) = (in_fold(true), in_fold(false));
        before += tune::calibration_error(&left, 1.0) / folds as f64;
        after += tune::calibration_error(&left, tune::fit_temperature(&rest)) / folds as f64;
    }
    // Like the fixed rules, the temperature is kept only where the left-out folds show it helps.
    let temperature = if after < before { fitted } else { 1.0 };
    println!("fitted temperature {fitted:.3}: calibration error on the left-out folds {before:.4} without, {after:.4} with; using {temperature:.3}");

    // The fixed rules, then the budget and the settings.
    let cv = |mask: FixedRules| -> (Vec<Vec<Tally>>, Option<(f64, Vec<Tally>)>) {
        let settings = tune::grid(temperature, mask);
        let scores = tune::score(&pairs, &settings);
        let best = BUDGETS
            .iter()
            .rev()
            .filter_map(|&b| tune::out_of_fold(&pairs, &scores, folds, sources, b).map(|t| (b, t)))
            .find(|(_, t)| tune::worst_loss_bound(t) <= args.content_target && tune::pooled(t).inserted == 0);
        (scores, best)
    };
    let describe = |t: &[Tally]| {
        let p = tune::pooled(t);
        format!("wer {:.4}, content lost {:.4} (worst source {:.4}, 90% bound {:.4}), inserted {}", p.wer(), p.content_lost(), tune::worst_loss(t), tune::worst_loss_bound(t), p.inserted)
    };
    // Stepwise selection: each round drops the rule whose absence the left-out folds like best,
    // while one does as well without (or makes a set that meets no budget meet one); then the
    // dropped rules are tried back (below).
    let (mut mask, (mut scores, mut best)) = (FixedRules::ALL, cv(FixedRules::ALL));
    println!("all fixed rules, out of fold: {}", best.as_ref().map_or("no budget meets the target".into(), |(b, t)| format!("budget {b}: {}", describe(t))));
    for (rule, name) in FixedRules::EACH {
        if FixedRules::ALWAYS.has(rule) {
            println!("{name:<33} kept always: it keeps meaning, not word errors");
        }
    }
    let wer_of = |b: &Option<(f64, Vec<Tally>)>| b.as_ref().map(|(_, t)| tune::pooled(t).wer());
    // Whether `candidate` is chosen over `current`: it meets a budget, with no more word errors
    // (`ties`) or strictly fewer.
    let beats = |candidate: &Option<(f64, Vec<Tally>)>, current: &Option<(f64, Vec<Tally>)>, ties: bool| match (wer_of(candidate), wer_of(current)) {
        (Some(w), Some(kept)) => w < kept || (ties && w <= kept),
        (Some(_), None) => true,
        _ => false,
    };
    // Stepwise: rules are dropped one at a time while the folds do as well without one, then
    // each dropped rule is tried back, since a rule may only help once another is gone; one
    // that the folds like better back is added, and dropping starts again.
    let mut dropped: Vec<FixedRules> = Vec::new();
    loop {
        loop {
            let mut round = Vec::new();
            for (rule, name) in FixedRules::EACH {
                if FixedRules::ALWAYS.has(rule) || !mask.has(rule) {
                    continue;
                }
                let without = mask.without(rule);
                let (s, b) = cv(without);
                println!("without {name:<25} out of fold: {}", b.as_ref().map_or("no budget meets the target".into(), |(b, t)| format!("budget {b}: {}", describe(t))));
                round.push((without, rule, name, s, b));
            }
            // The best candidate: one that meets a budget, with the fewest word errors.
            let pick = round.into_iter().filter(|c| c.4.is_some()).min_by(|a, b| wer_of(&a.4).partial_cmp(&wer_of(&b.4)).unwrap_or(std::cmp::Ordering::Equal));
            let Some((without, rule, name, s, b)) = pick else { break };
            if !beats(&b, &best, true) {
                break;
            }
            println!("  dropped {name}: the folds do as well without it");
            dropped.push(rule);
            (mask, scores, best) = (without, s, b);
        }
        let mut back = Vec::new();
        for (rule, name) in FixedRules::EACH {
            if !dropped.contains(&rule) || mask.has(rule) {
                continue;
            }
            let with = FixedRules(mask.0 | rule.0);
            let (s, b) = cv(with);
            println!("with {name:<28} out of fold: {}", b.as_ref().map_or("no budget meets the target".into(), |(b, t)| format!("budget {b}: {}", describe(t))));
            back.push((with, name, s, b));
        }
        let pick = back.into_iter().filter(|c| c.3.is_some()).min_by(|a, b| wer_of(&a.3).partial_cmp(&wer_of(&b.3)).unwrap_or(std::cmp::Ordering::Equal));
        let Some((with, name, s, b)) = pick else { break };
        if !beats(&b, &best, false) {
            break;
        }
        println!("  added back {name}: the folds do better with it");
        (mask, scores, best) = (with, s, b);
    }
    println!("kept: {}", FixedRules::EACH.iter().filter(|(r, _)| mask.has(*r)).map(|(_, n)| *n).collect::<Vec<_>>().join(", "));
    let Some((budget, oof)) = best else { bail!("no setting keeps the out-of-fold content loss within {}", args.content_target) };
    let members: Vec<usize> = (0..pairs.len()).collect();
    let settings = tune::grid(temperature, mask);
    let k = tune::choose(&pairs, &scores, &members, sources, budget).context("no setting within the budget on all held-out pairs")?;
    let decision = Decision { ..settings[k] };
    println!("\nchosen: budget {budget}, temperature {temperature:.3}, fixed rules {:#06b}", mask.0);
    println!("{DECISION_HEADER}");
    println!("{}", decision_cells(decision));
    println!("\nper source                pairs  out-of-fold wer  content lost  inserted | all folds wer  content lost");
    let chosen = tune::by_source(&pairs, &scores[k], &members, sources);
    for (i, name) in names.iter().enumerate() {
        let (o, c) = (oof[i], chosen[i]);
        println!("{name:<26}{:<7}{:<17.4}{:<14.4}{:<9}| {:<14.4}{:.4}", o.pairs, o.wer(), o.content_lost(), o.inserted, c.wer(), c.content_lost());
    }
    let (o, c) = (tune::pooled(&oof), tune::pooled(&chosen));
    println!("{:<26}{:<7}{:<17.4}{:<14.4}{:<9}| {:<14.4}{:.4}", "all", o.pairs, o.wer(), o.content_lost(), o.inserted, c.wer(), c.content_lost());
    TaggerHead { decision, ..head }.save(&args.out)?;
    println!("wrote {} in {:.0} s", args.out.display(), started.elapsed().as_secs_f64());
    if let Some((rule, name)) = shown_rule {
        show_rule_changes(&pairs, decision, rule, name);
    }
    Ok(0)
}

/// The head's logits for every held-out pair, through the run-time path.
fn judge(head: &TaggerHead, held: &[(usize, String, String)], store: &ModelStore) -> Result<Vec<Vec<f32>>> {
    let model_path = crate::asr_setup::polishing_model_path(store)?;
    let (model, tokenizer) = scrivo_llm::Model::load_blocks(&model_path, Some(head.block))?;
    let features = FeatureExtractor::adapted(Arc::new(model), Arc::new(tokenizer), vec![head.block], head.adapter.clone(), None)?;
    let mut rules = RulePolisher::english();
    let mut out = Vec::with_capacity(held.len());
    let started = Instant::now();
    for (i, (_, disfluent, _)) in held.iter().enumerate() {
        let words: Vec<&str> = disfluent.split_whitespace().collect();
        let draft = rules.polish(disfluent)?;
        out.push(tune::word_logits(&features, head, &words, &rule_bits(&rules, &words, &draft))?);
        if (i + 1) % 250 == 0 {
            eprintln!("judged {}/{} held-out pairs ({:.0} s)", i + 1, held.len(), started.elapsed().as_secs_f64());
        }
    }
    Ok(out)
}

/// One line per pair: its logits, separated by spaces.
fn write_logits(path: &Path, logits: &[Vec<f32>]) -> Result<()> {
    let text: String = logits.iter().map(|l| l.iter().map(|x| format!("{x:.6}")).collect::<Vec<_>>().join(" ") + "\n").collect();
    scrivo_batch::write_atomically(path, &text)?;
    Ok(())
}

fn read_logits(path: &Path, pairs: usize) -> Result<Vec<Vec<f32>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let out: Vec<Vec<f32>> = text
        .lines()
        .enumerate()
        .map(|(i, l)| l.split_whitespace().map(|x| x.parse::<f32>().with_context(|| format!("{}:{}: {x:?} is not a number", path.display(), i + 1))).collect())
        .collect::<Result<_>>()?;
    if out.len() != pairs {
        bail!("{}: {} lines of logits for {pairs} held-out pairs: remove it to judge them again", path.display(), out.len());
    }
    Ok(out)
}

/// The fixed rule printed under `name` (`--show-rule`).
fn rule_named(name: &str) -> Result<(FixedRules, &'static str)> {
    match FixedRules::EACH.into_iter().find(|(_, n)| *n == name) {
        Some(found) => Ok(found),
        None => {
            let names: Vec<&str> = FixedRules::EACH.iter().map(|(_, n)| *n).collect();
            bail!("--show-rule: no fixed rule is named {name:?} (the rules: {})", names.join(", "))
        }
    }
}

/// Prints the held-out pairs whose output `rule` changes under `decision`.
fn show_rule_changes(pairs: &[Judged], decision: Decision, rule: FixedRules, name: &str) {
    let (without, with) = (Decision { rules: decision.rules.without(rule), ..decision }, Decision { rules: FixedRules(decision.rules.0 | rule.0), ..decision });
    let mut changed = 0;
    for j in pairs {
        let (a, b) = (j.output(without), j.output(with));
        if a != b {
            changed += 1;
            let (ta, tb) = (j.tally(without), j.tally(with));
            println!("\ninput:   {}\nfluent:  {}\nwithout: {a}  ({} errors, {} lost)\nwith:    {b}  ({} errors, {} lost)", j.input, j.fluent, ta.errors, ta.lost, tb.errors, tb.lost);
        }
    }
    println!("\n{name}: {changed} of {} held-out pairs change", pairs.len());
}
